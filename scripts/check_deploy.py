#!/usr/bin/env python3
"""Consistency checks of rendered Kubernetes manifests against virtplane itself.

    check_deploy.py check [--as-root RENDERED.yaml]... RENDERED.yaml...
        Each file is one rendered overlay (kubectl kustomize output). Checks that the
        configuration the pod assembles parses, uses only keys the service knows, and
        agrees with the DaemonSet (ports, probes, mounts, Secrets, security context,
        grace period), the Service, the NetworkPolicy and the image's Dockerfile.
    check_deploy.py self-test RENDERED.yaml
        Breaks a good rendering in one way at a time and proves that each check fails.
    check_deploy.py render --library LIB KUSTOMIZATION_DIR
        Renders with kustomize's Go library (libpykustomize.so from the PyPI package
        pykustomize), for machines without kubectl or kustomize.

Needs PyYAML; Python 3.11+ (tomllib) or the tomli package.
"""

from __future__ import annotations

import argparse
import base64
import copy
import ctypes
import fnmatch
import ipaddress
import posixpath
import re
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable

import yaml

try:
    import tomllib
except ModuleNotFoundError:  # Python < 3.11
    import tomli as tomllib  # type: ignore[no-redef]

REPO = Path(__file__).resolve().parent.parent
DOCKERFILE = REPO / "deploy" / "Dockerfile"
CONFIG_SOURCES = sorted((REPO / "src" / "config").glob("*.rs"))
DOMAIN_PROTO = REPO / "proto" / "virtplane" / "v1" / "domain.proto"
HEALTH_SOURCE = REPO / "src" / "grpc" / "health.rs"

MAIN_CONTAINER = "virtplane"
CONFIG_PATH_FALLBACK = "/etc/virtplane/config.toml"
READINESS_SERVICE = "virtplane.v1.DomainService"
# Keys whose values are files the service reads at start.
FILE_KEYS = {"token_file", "url_file", "secret_file", "passphrase_file", "ca_file",
             "cert", "key", "client_ca"}
# Keys of a kubernetes.io/tls Secret (cert-manager adds ca.crt).
TLS_SECRET_KEYS = {"tls.crt", "tls.key", "ca.crt"}

# Which Rust struct (deserialized with deny_unknown_fields) reads each table of the
# TOML file. "*" is any key of a map, "[]" every element of an array of tables.
CONFIG_SCHEMA = {
    (): "FileConfig",
    ("libvirt",): "FileLibvirt",
    ("database",): "FileDatabase",
    ("events",): "FileEvents",
    ("requests",): "FileRequests",
    ("brokers", "*"): "FileBroker",
    ("amqp",): "FileAmqp",
    ("notifications",): "FileNotifications",
    ("http",): "FileHttp",
    ("webhooks", "[]"): "FileWebhook",
    ("auth",): "FileAuth",
    ("auth", "tokens", "[]"): "FileToken",
    ("tls",): "FileTls",
    ("health",): "FileListen",
    ("metrics",): "FileListen",
    ("telemetry",): "FileTelemetry",
}


# --------------------------------------------------------------------------- the service


@dataclass
class ServiceFacts:
    """What the service's own sources say, read from src/ and proto/."""

    default_listen: str
    default_libvirt_uri: str
    default_database_url: str
    default_shutdown_ms: int
    structs: dict[str, list[str] | None]
    readiness_service_exists: bool
    # The name the health server reports libvirt's state under (src/grpc/health.rs).
    health_domain_service: str | None
    dockerfile: "DockerfileFacts"

    @staticmethod
    def load() -> "ServiceFacts":
        src = "\n".join(p.read_text() for p in CONFIG_SOURCES if p.exists())

        def const(name: str) -> str:
            m = re.search(rf'const\s+{name}\s*:\s*&str\s*=\s*"([^"]*)"', src)
            if not m:
                raise SystemExit(f"check_deploy: {name} not found in src/config/; "
                                 "update scripts/check_deploy.py")
            return m.group(1)

        m = re.search(r'millis\(\s*"shutdown_grace_period_ms",\s*\w+,\s*([\d_]+)\s*\)', src)
        if not m:
            raise SystemExit("check_deploy: the shutdown_grace_period_ms default was not "
                             "found in src/config/; update scripts/check_deploy.py")
        structs: dict[str, list[str] | None] = {}
        for sm in re.finditer(r"^(?:pub(?:\([^)]*\))?\s+)?struct\s+(\w+)\s*\{(.*?)^\}",
                              src, re.M | re.S):
            body = sm.group(2)
            if re.search(r"serde\([^)]*\b(rename|flatten|alias)\b", body):
                structs[sm.group(1)] = None  # renamed fields: not checked by name
                continue
            fields = []
            for line in body.splitlines():
                line = line.strip()
                if line.startswith(("#", "//")):
                    continue
                fm = re.match(r"(?:pub(?:\([^)]*\))?\s+)?(?:r#)?(\w+)\s*:", line)
                if fm:
                    fields.append(fm.group(1))
            structs[sm.group(1)] = fields
        proto = DOMAIN_PROTO.read_text() if DOMAIN_PROTO.exists() else ""
        package, _, service = READINESS_SERVICE.rpartition(".")
        exists = (re.search(rf"^package\s+{re.escape(package)}\s*;", proto, re.M) is not None
                  and re.search(rf"^service\s+{service}\s*\{{", proto, re.M) is not None)
        health = HEALTH_SOURCE.read_text() if HEALTH_SOURCE.exists() else ""
        hm = re.search(r'const\s+DOMAIN_SERVICE\s*:\s*&str\s*=\s*"([^"]*)"', health)
        return ServiceFacts(
            health_domain_service=hm.group(1) if hm else None,
            default_listen=const("DEFAULT_LISTEN"),
            default_libvirt_uri=const("DEFAULT_LIBVIRT_URI"),
            default_database_url=const("DEFAULT_DATABASE_URL"),
            default_shutdown_ms=int(m.group(1).replace("_", "")),
            structs=structs,
            readiness_service_exists=exists,
            dockerfile=DockerfileFacts.load(DOCKERFILE),
        )


@dataclass
class DockerfileFacts:
    exposed: set[int]
    config_path: str | None

    @staticmethod
    def load(path: Path) -> "DockerfileFacts":
        # Only the final stage's EXPOSE and CMD matter here; check_dockerfile.py does
        # the rest.
        text = path.read_text() if path.exists() else ""
        joined = re.sub(r"\\\n", " ", text)
        final = re.split(r"^FROM\s", joined, flags=re.M | re.I)[-1]
        exposed = set()
        for m in re.finditer(r"^EXPOSE\s+(.+)$", final, re.M | re.I):
            exposed |= {int(p.split("/")[0]) for p in m.group(1).split()}
        config_path = None
        m = re.search(r'^CMD\s+(\[.*\])\s*$', final, re.M | re.I)
        if m:
            args = yaml.safe_load(m.group(1))
            if "--config" in args and args.index("--config") + 1 < len(args):
                config_path = args[args.index("--config") + 1]
        return DockerfileFacts(exposed=exposed, config_path=config_path)


# ----------------------------------------------------------------------- the rendering


@dataclass
class Rendering:
    name: str
    docs: list[dict[str, Any]]

    def of_kind(self, kind: str) -> list[dict[str, Any]]:
        return [d for d in self.docs if d.get("kind") == kind]

    def one(self, kind: str) -> dict[str, Any]:
        found = self.of_kind(kind)
        if len(found) != 1:
            raise CheckError(f"expected exactly one {kind}, found {len(found)}")
        return found[0]

    @property
    def daemonset(self) -> dict[str, Any]:
        return self.one("DaemonSet")

    @property
    def pod(self) -> dict[str, Any]:
        return self.daemonset["spec"]["template"]["spec"]

    def containers(self, init: bool = True) -> list[dict[str, Any]]:
        found = list(self.pod.get("containers", []))
        return found + list(self.pod.get("initContainers", [])) if init else found

    @property
    def main(self) -> dict[str, Any]:
        for c in self.pod.get("containers", []):
            if c.get("name") == MAIN_CONTAINER:
                return c
        raise CheckError(f"no container named {MAIN_CONTAINER!r}")

    def volume(self, name: str) -> dict[str, Any] | None:
        return next((v for v in self.pod.get("volumes", []) if v.get("name") == name), None)

    def secret_or_configmap(self, kind: str, name: str) -> dict[str, Any] | None:
        return next((d for d in self.of_kind(kind) if d["metadata"]["name"] == name), None)


class CheckError(Exception):
    pass


@dataclass
class Report:
    failures: list[tuple[str, str]] = field(default_factory=list)
    passed: list[str] = field(default_factory=list)


def mount_for(container: dict[str, Any], path: str) -> dict[str, Any] | None:
    """The volumeMount whose mountPath holds `path` (the deepest one)."""
    best = None
    for m in container.get("volumeMounts", []):
        mp = m["mountPath"].rstrip("/") or "/"
        if path == mp or path.startswith(mp + "/"):
            if best is None or len(mp) > len(best["mountPath"].rstrip("/")):
                best = m
    return best


def port_of(addr: str) -> int:
    return int(addr.rsplit(":", 1)[1])


def is_loopback(addr: str) -> bool:
    host = addr.rsplit(":", 1)[0].strip("[]")
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return host == "localhost"


def container_port(container: dict[str, Any], name: str) -> int | None:
    for p in container.get("ports", []):
        if p.get("name") == name:
            return p.get("containerPort")
    return None


def env_of(container: dict[str, Any], name: str) -> dict[str, Any] | None:
    return next((e for e in container.get("env", []) if e.get("name") == name), None)


# ------------------------------------------------------------------- assembling config


def config_mount(r: Rendering, facts: ServiceFacts) -> tuple[str, str]:
    """(the path the service reads, the emptyDir volume that holds it)."""
    args = list(r.main.get("command", [])) + list(r.main.get("args", []))
    path = facts.dockerfile.config_path or CONFIG_PATH_FALLBACK
    if "--config" in args:
        path = args[args.index("--config") + 1]
    m = mount_for(r.main, path)
    if m is None:
        raise CheckError(f"nothing is mounted at the configuration file {path}")
    return path, m["name"]


def assemble_config(r: Rendering, facts: ServiceFacts) -> tuple[dict[str, Any], str]:
    """The configuration the service reads, assembled as the init container does."""
    path, volume_name = config_mount(r, facts)
    volume = r.volume(volume_name)
    main_mount = mount_for(r.main, path)
    if volume is None:
        raise CheckError(f"volume {volume_name!r} is not defined")
    if "configMap" in volume:  # the whole file straight from a ConfigMap
        cm = r.secret_or_configmap("ConfigMap", volume["configMap"]["name"])
        if cm is None:
            raise CheckError(f"ConfigMap {volume['configMap']['name']} is not rendered")
        key = main_mount.get("subPath") or posixpath.basename(path)
        text = cm.get("data", {}).get(key)
        if text is None:
            raise CheckError(f"ConfigMap {cm['metadata']['name']} has no key {key}")
        return parse_toml(text, key), text
    if "emptyDir" not in volume:
        raise CheckError(f"{path} comes from volume {volume_name!r}, neither a ConfigMap "
                         "nor an emptyDir filled by an init container")
    # An init container writes it: find the one that mounts the same volume and runs
    # `cat <dir>/*.toml` into it.
    target_in_volume = main_mount.get("subPath") or posixpath.relpath(path, main_mount["mountPath"])
    for init in r.pod.get("initContainers", []):
        out = next((m for m in init.get("volumeMounts", []) if m["name"] == volume_name), None)
        if out is None:
            continue
        script = " ".join(init.get("command", []) + init.get("args", []))
        written = posixpath.join(out["mountPath"], target_in_volume)
        m = re.search(r'for f in (\S+)/\*\.toml; do cat "\$f"; echo; done\s*>\s*(\S+)', script)
        if not m or m.group(2) != written:
            raise CheckError(f"init container {init['name']} mounts {volume_name!r} but does "
                             f"not assemble {written} from *.toml fragments")
        frag_mount = mount_for(init, m.group(1) + "/x")
        frag_volume = frag_mount and r.volume(frag_mount["name"])
        if not frag_volume or "configMap" not in frag_volume:
            raise CheckError(f"{m.group(1)} in init container {init['name']} is not a ConfigMap")
        cm = r.secret_or_configmap("ConfigMap", frag_volume["configMap"]["name"])
        if cm is None:
            raise CheckError(f"ConfigMap {frag_volume['configMap']['name']} is not rendered")
        keys = sorted(k for k in cm.get("data", {}) if fnmatch.fnmatch(k, "*.toml"))
        if not keys:
            raise CheckError(f"ConfigMap {cm['metadata']['name']} has no *.toml fragment")
        for k in keys:  # each fragment must parse on its own too (clearer errors)
            parse_toml(cm["data"][k], k)
        text = "".join(cm["data"][k] + "\n" for k in keys)
        return parse_toml(text, "+".join(keys)), text
    raise CheckError(f"no init container writes {path} (volume {volume_name!r})")


def parse_toml(text: str, name: str) -> dict[str, Any]:
    try:
        return tomllib.loads(text)
    except tomllib.TOMLDecodeError as e:
        raise CheckError(f"{name} is not valid TOML: {e}") from None


def file_references(config: dict[str, Any], prefix: str = "") -> list[tuple[str, str]]:
    """(key, path) for every file the configuration names."""
    found = []
    if isinstance(config, dict):
        for k, v in config.items():
            key = f"{prefix}.{k}" if prefix else k
            if isinstance(v, str) and k in FILE_KEYS:
                found.append((key, v))
            else:
                found += file_references(v, key)
    elif isinstance(config, list):
        for i, v in enumerate(config):
            found += file_references(v, f"{prefix}[{i}]")
    return found


def sqlite_path(url: str) -> str | None:
    if not url.startswith("sqlite:"):
        return None
    path = re.sub(r"^sqlite:(//)?", "", url).split("?", 1)[0]
    return path if path.startswith("/") else None


# ------------------------------------------------------------------------------ checks


class Checker:
    def __init__(self, r: Rendering, facts: ServiceFacts, allow_root: bool = False):
        self.r = r
        self.facts = facts
        self.allow_root = allow_root
        self._config: dict[str, Any] | None = None

    @property
    def config(self) -> dict[str, Any]:
        if self._config is None:
            self._config, _ = assemble_config(self.r, self.facts)
        return self._config

    def listen(self) -> str:
        return self.config.get("listen", self.facts.default_listen)

    def checks(self) -> list[tuple[str, str, Callable[[], list[str]]]]:
        return [
            ("objects", "one Namespace, ServiceAccount, ConfigMap, Secret, DaemonSet, "
                        "Service, NetworkPolicy; all in the namespace", self.check_objects),
            ("config", "assembled config.toml parses, keys known to src/config/, "
                       "no fixed hostname", self.check_config),
            ("ports", "container ports = listen, health, metrics ports = Dockerfile EXPOSE",
             self.check_ports),
            ("probes", "startup/liveness/readiness are gRPC on the health port; readiness "
                       f"asks {READINESS_SERVICE}", self.check_probes),
            ("files", "every file the config names is mounted and provided by its Secret",
             self.check_files),
            ("database", "SQLite, when used, is on a writable node path owned by the agent",
             self.check_database),
            ("libvirt", "libvirt's socket folder is mounted from the node", self.check_libvirt),
            ("security", "non-root, read-only root fs, no escalation, caps dropped, "
                         "seccomp, no host namespaces", self.check_security),
            ("exposure", "a non-loopback API is guarded by tokens or TLS, never --insecure",
             self.check_exposure),
            ("resources", "requests and limits on every container", self.check_resources),
            ("environment", "VIRTPLANE_HOSTNAME from spec.nodeName, JSON logs",
             self.check_environment),
            ("shutdown", "terminationGracePeriodSeconds exceeds the drain period",
             self.check_shutdown),
            ("image", "one pinned image for every container", self.check_image),
            ("service", "Service and NetworkPolicy select the pods and open the right ports",
             self.check_service),
            ("metrics", "scrape annotations name the metrics port and /metrics",
             self.check_metrics),
        ]

    # Each returns a list of problems.

    def check_objects(self) -> list[str]:
        errors = []
        for kind in ("Namespace", "ServiceAccount", "ConfigMap", "Secret", "DaemonSet",
                     "Service", "NetworkPolicy"):
            # The monitoring component's dashboard is scripts/monitoring.py's business.
            n = len([d for d in self.r.of_kind(kind)
                     if d["metadata"].get("labels", {}).get("grafana_dashboard") != "1"])
            if n != 1:
                errors.append(f"{n} {kind} objects (expected 1)")
        ns = self.r.of_kind("Namespace")
        if ns:
            name = ns[0]["metadata"]["name"]
            for d in self.r.docs:
                if d["kind"] != "Namespace" and d["metadata"].get("namespace") != name:
                    errors.append(f"{d['kind']}/{d['metadata']['name']} is not in {name}")
            labels = ns[0]["metadata"].get("labels", {})
            has_hostpath = any("hostPath" in v for v in self.r.pod.get("volumes", []))
            if has_hostpath and labels.get("pod-security.kubernetes.io/enforce") != "privileged":
                errors.append("hostPath volumes need pod-security.kubernetes.io/enforce="
                              "privileged on the namespace")
        sa = self.r.pod.get("serviceAccountName")
        if sa not in [d["metadata"]["name"] for d in self.r.of_kind("ServiceAccount")]:
            errors.append(f"serviceAccountName {sa!r} is not rendered")
        return errors

    def check_config(self) -> list[str]:
        errors = []
        config = self.config

        def walk(table: dict[str, Any], path: tuple[str, ...], schema: tuple[str, ...]):
            struct = CONFIG_SCHEMA.get(schema)
            where = ".".join(path) or "the top level"
            if struct is None:
                errors.append(f"[{where}]: no known struct reads this table; add it to "
                              "CONFIG_SCHEMA in scripts/check_deploy.py")
                return
            fields = self.facts.structs.get(struct, [])
            if struct not in self.facts.structs:
                errors.append(f"struct {struct} (reads [{where}]) not found in src/config/")
                return
            for key, value in table.items():
                if fields is not None and key not in fields:
                    errors.append(f"unknown key {key!r} in {where} (struct {struct} has "
                                  f"{', '.join(fields)})")
                    continue
                if isinstance(value, dict):
                    if schema + (key, "*") in CONFIG_SCHEMA:
                        for name, sub in value.items():
                            walk(sub, path + (key, name), schema + (key, "*"))
                    else:
                        walk(value, path + (key,), schema + (key,))
                elif isinstance(value, list) and value and all(isinstance(v, dict) for v in value):
                    for i, sub in enumerate(value):
                        walk(sub, path + (f"{key}[{i}]",), schema + (key, "[]"))

        walk(config, (), ())
        if "hostname" in config:
            errors.append("the file sets `hostname`: every node would record the same name "
                          "(VIRTPLANE_HOSTNAME from spec.nodeName sets it per node)")
        return errors

    def check_ports(self) -> list[str]:
        errors = []
        config = self.config
        wanted = {"grpc": self.listen(),
                  "health": config.get("health", {}).get("listen"),
                  "metrics": config.get("metrics", {}).get("listen")}
        for name, addr in wanted.items():
            if addr is None:
                errors.append(f"the configuration has no {name} listener")
                continue
            if is_loopback(addr):
                errors.append(f"{name} listens on {addr}: loopback is unreachable from the "
                              "kubelet and other pods (the service's default is "
                              f"{self.facts.default_listen})")
            got = container_port(self.r.main, name)
            if got != port_of(addr):
                errors.append(f"container port {name!r} is {got}, the configuration "
                              f"listens on {addr}")
        declared = {p["containerPort"] for p in self.r.main.get("ports", [])}
        config_ports = {port_of(a) for a in wanted.values() if a}
        if declared != config_ports:
            errors.append(f"container ports {sorted(declared)} != configured {sorted(config_ports)}")
        if self.facts.dockerfile.exposed != config_ports:
            errors.append(f"Dockerfile EXPOSE {sorted(self.facts.dockerfile.exposed)} != "
                          f"configured {sorted(config_ports)}")
        return errors

    def check_probes(self) -> list[str]:
        errors = []
        health = self.config.get("health", {}).get("listen")
        if health is None:
            return ["no [health] listener: gRPC probes have nothing to ask"]
        hp = port_of(health)
        for kind, service in (("startupProbe", None), ("livenessProbe", ""),
                              ("readinessProbe", READINESS_SERVICE)):
            probe = self.r.main.get(kind)
            if probe is None:
                errors.append(f"no {kind}")
                continue
            grpc = probe.get("grpc")
            if grpc is None:
                errors.append(f"{kind} is not a gRPC probe")
                continue
            if grpc.get("port") != hp:
                errors.append(f"{kind} asks port {grpc.get('port')}, health listens on {hp}")
            if service is not None and grpc.get("service", "") != service:
                errors.append(f"{kind} asks service {grpc.get('service', '')!r}, "
                              f"expected {service!r}")
        if not self.facts.readiness_service_exists:
            errors.append(f"{READINESS_SERVICE} is not a service in {DOMAIN_PROTO.name}")
        reported = self.facts.health_domain_service
        if reported is not None and reported != READINESS_SERVICE:
            errors.append(f"src/grpc/health.rs reports libvirt's state as {reported!r}, "
                          f"the readiness probe asks {READINESS_SERVICE!r}")
        return errors

    def check_files(self) -> list[str]:
        errors = []
        main = self.r.main
        for key, path in file_references(self.config):
            m = mount_for(main, path)
            if m is None:
                errors.append(f"{key} = {path}: no volume is mounted there")
                continue
            volume = self.r.volume(m["name"])
            if volume is None:
                errors.append(f"{key}: volume {m['name']!r} is not defined")
                continue
            rel = posixpath.relpath(path, m["mountPath"])
            if "secret" in volume or "configMap" in volume:
                kind = "Secret" if "secret" in volume else "ConfigMap"
                src = volume.get("secret") or volume.get("configMap")
                name = src.get("secretName") or src.get("name")
                items = src.get("items")
                if items:
                    by_path = {i["path"]: i["key"] for i in items}
                    if rel not in by_path:
                        errors.append(f"{key}: {rel} is not among the items of {kind} {name}")
                        continue
                    rel = by_path[rel]
                obj = self.r.secret_or_configmap(kind, name)
                if obj is None:
                    # Made outside these manifests: only the TLS Secret may be.
                    if kind == "Secret" and rel in TLS_SECRET_KEYS:
                        if src.get("optional"):
                            errors.append(f"{key} needs Secret {name}, mounted optional: "
                                          "the pod would start and fail on the missing file")
                    else:
                        errors.append(f"{key}: {kind} {name} is not rendered")
                    continue
                data = {k: base64.b64decode(v).decode("utf-8", "replace")
                        for k, v in obj.get("data", {}).items()} if kind == "Secret" \
                    else dict(obj.get("data", {}))
                data.update(obj.get("stringData", {}))
                value = data.get(rel, "").rstrip("\r\n")
                if rel not in data:
                    errors.append(f"{key}: {kind} {name} has no key {rel!r}")
                elif not value:
                    errors.append(f"{key}: {kind} {name} key {rel!r} is empty")
                elif key.endswith("token_file") and not (
                        len(value) >= 16 and all(33 <= ord(ch) <= 126 for ch in value)):
                    # The service's check_token: 16+ printable ASCII, no spaces.
                    errors.append(f"{key}: the token in {kind} {name} key {rel!r} is not 16+ "
                                  "printable ASCII characters without spaces")
            elif "hostPath" not in volume and "persistentVolumeClaim" not in volume:
                errors.append(f"{key} = {path} is on volume {m['name']!r}, which holds no "
                              "such file")
        return errors

    def check_database(self) -> list[str]:
        db = self.config.get("database", {})
        url = db.get("url") or (None if db.get("url_file") else self.facts.default_database_url)
        if url is None:
            return []  # from a file: checked by `files`
        path = sqlite_path(url)
        if path is None:
            return [] if not url.startswith("sqlite:") else [f"SQLite path in {url} is not absolute"]
        folder = posixpath.dirname(path)
        m = mount_for(self.r.main, path)
        if m is None:
            return [f"SQLite's folder {folder} is not mounted: the root filesystem is "
                    "read-only and the state would not survive a restart"]
        errors = []
        if m.get("readOnly"):
            errors.append(f"SQLite's folder {folder} is mounted read-only")
        volume = self.r.volume(m["name"]) or {}
        if "hostPath" not in volume and "persistentVolumeClaim" not in volume:
            errors.append(f"SQLite's folder {folder} is on a {'/'.join(volume) or 'missing'} "
                          "volume: state lost with the pod")
        if self.r.main.get("securityContext", {}).get("runAsUser", self.r.pod.get(
                "securityContext", {}).get("runAsUser")) != 0 and "hostPath" in volume:
            # The kubelet creates a missing hostPath folder owned by root.
            owners = [c for c in self.r.pod.get("initContainers", [])
                      if any(vm["name"] == m["name"] for vm in c.get("volumeMounts", []))
                      and "chown" in " ".join(c.get("command", []) + c.get("args", []))]
            if not owners:
                errors.append(f"nothing hands the node's {folder} to the non-root user")
        return errors

    def check_libvirt(self) -> list[str]:
        uri = self.config.get("libvirt", {}).get("uri", self.facts.default_libvirt_uri)
        if not re.match(r"^[a-z0-9+]+:///", uri):
            return []  # a remote URI needs no socket from the node
        m = mount_for(self.r.main, "/var/run/libvirt/libvirt-sock") or \
            mount_for(self.r.main, "/run/libvirt/libvirt-sock")
        if m is None or m["mountPath"].rstrip("/") not in ("/var/run/libvirt", "/run/libvirt"):
            return [f"{uri} needs the node's /var/run/libvirt mounted at /var/run/libvirt"]
        hp = (self.r.volume(m["name"]) or {}).get("hostPath")
        if not hp or hp.get("path", "").rstrip("/") not in ("/var/run/libvirt", "/run/libvirt"):
            return [f"{m['mountPath']} is not the node's /var/run/libvirt"]
        errors = []
        if hp.get("type") not in ("Directory",):
            errors.append("libvirt's hostPath should be type Directory (no libvirt: no pod)")
        if self.r.pod.get("nodeSelector", {}).get("virtplane.io/hypervisor") != "true":
            errors.append("no nodeSelector virtplane.io/hypervisor=true")
        return errors

    def check_security(self) -> list[str]:
        errors = []
        pod = self.r.pod
        psc = pod.get("securityContext", {})
        for flag in ("hostNetwork", "hostPID", "hostIPC"):
            if pod.get(flag):
                errors.append(f"{flag} is set")
        if pod.get("automountServiceAccountToken") is not False:
            errors.append("automountServiceAccountToken is not false")
        if psc.get("seccompProfile", {}).get("type") != "RuntimeDefault":
            errors.append("pod seccompProfile is not RuntimeDefault")
        for c in self.r.containers():
            sc = c.get("securityContext", {})
            who = f"container {c['name']}"
            if sc.get("readOnlyRootFilesystem") is not True:
                errors.append(f"{who}: readOnlyRootFilesystem is not true")
            if sc.get("allowPrivilegeEscalation") is not False:
                errors.append(f"{who}: allowPrivilegeEscalation is not false")
            if sc.get("privileged"):
                errors.append(f"{who}: privileged")
            if "ALL" not in sc.get("capabilities", {}).get("drop", []):
                errors.append(f"{who}: capabilities do not drop ALL")
            added = sc.get("capabilities", {}).get("add", [])
            init = c not in pod.get("containers", [])
            if added and not (init and set(added) <= {"CHOWN"}):
                errors.append(f"{who}: adds capabilities {added}")
            if "seccompProfile" in sc and sc["seccompProfile"].get("type") != "RuntimeDefault":
                errors.append(f"{who}: seccompProfile is not RuntimeDefault")
            uid = sc.get("runAsUser", psc.get("runAsUser"))
            non_root = sc.get("runAsNonRoot", psc.get("runAsNonRoot"))
            if c["name"] == MAIN_CONTAINER and not self.allow_root:
                if non_root is not True or uid in (None, 0):
                    errors.append(f"{who}: not runAsNonRoot with a non-zero runAsUser")
            if not init and c["name"] != MAIN_CONTAINER and (non_root is not True or uid == 0):
                errors.append(f"{who}: runs as root")
        if not self.allow_root and not psc.get("supplementalGroups"):
            errors.append("no supplementalGroups: the non-root agent needs the host's "
                          "libvirt group for the read-write socket")
        return errors

    def check_exposure(self) -> list[str]:
        errors = []
        args = self.r.main.get("command", []) + self.r.main.get("args", [])
        if "--insecure" in args or env_of(self.r.main, "VIRTPLANE_INSECURE"):
            errors.append("--insecure / VIRTPLANE_INSECURE: the API would accept anyone")
        guarded = bool(self.config.get("auth", {}).get("tokens")) or bool(
            self.config.get("tls", {}).get("cert"))
        if not is_loopback(self.listen()) and not guarded:
            errors.append(f"listen = {self.listen()} with neither [[auth.tokens]] nor [tls]: "
                          "the service refuses to start")
        return errors

    def check_resources(self) -> list[str]:
        errors = []
        for c in self.r.containers():
            res = c.get("resources", {})
            for part in ("requests", "limits"):
                for what in ("cpu", "memory"):
                    if what not in res.get(part, {}):
                        errors.append(f"container {c['name']}: no {part}.{what}")
        return errors

    def check_environment(self) -> list[str]:
        errors = []
        host = env_of(self.r.main, "VIRTPLANE_HOSTNAME")
        if not host or host.get("valueFrom", {}).get("fieldRef", {}).get("fieldPath") != "spec.nodeName":
            errors.append("VIRTPLANE_HOSTNAME does not come from spec.nodeName")
        fmt = env_of(self.r.main, "VIRTPLANE_LOG_FORMAT")
        if (fmt or {}).get("value", self.config.get("log_format")) != "json":
            errors.append("logs are not JSON (VIRTPLANE_LOG_FORMAT=json)")
        return errors

    def check_shutdown(self) -> list[str]:
        drain_ms = self.config.get("shutdown_grace_period_ms", self.facts.default_shutdown_ms)
        grace = self.r.pod.get("terminationGracePeriodSeconds", 30)
        if grace * 1000 <= drain_ms:
            return [f"terminationGracePeriodSeconds {grace} does not exceed "
                    f"shutdown_grace_period_ms {drain_ms}: the kubelet kills mid-drain"]
        strategy = self.r.daemonset["spec"].get("updateStrategy", {})
        if strategy.get("type", "RollingUpdate") != "RollingUpdate":
            return ["updateStrategy is not RollingUpdate"]
        return []

    def check_image(self) -> list[str]:
        images = {c["image"] for c in self.r.containers()}
        errors = []
        if len(images) != 1:
            errors.append(f"containers use different images: {sorted(images)}")
        for image in images:
            ref = image.split("@", 1)[0]
            tag = ref.rsplit(":", 1)[1] if ":" in ref.rsplit("/", 1)[-1] else None
            if "@" not in image and (tag is None or tag == "latest"):
                errors.append(f"image {image} is not pinned to a tag or digest")
            if "/" not in ref:
                errors.append(f"image {image} names no registry (set `images:` in the overlay)")
        return errors

    def check_service(self) -> list[str]:
        errors = []
        labels = self.r.daemonset["spec"]["template"]["metadata"].get("labels", {})
        selector = self.r.daemonset["spec"]["selector"].get("matchLabels", {})
        if any(labels.get(k) != v for k, v in selector.items()):
            errors.append("the DaemonSet's selector does not match its pod labels")
        svc = self.r.one("Service")["spec"]
        if any(labels.get(k) != v for k, v in svc.get("selector", {}).items()) or not svc.get("selector"):
            errors.append("the Service does not select the agent's pods")
        ports = {p.get("name"): p for p in svc.get("ports", [])}
        for name in ("grpc", "metrics"):
            p = ports.get(name)
            want = container_port(self.r.main, name)
            if p is None:
                errors.append(f"the Service has no {name!r} port")
                continue
            target = p.get("targetPort", p["port"])
            if target != name and target != want:
                errors.append(f"Service port {name!r} targets {target}, the container's "
                              f"{name} port is {want}")
        if svc.get("internalTrafficPolicy") != "Local":
            errors.append("the Service's internalTrafficPolicy is not Local (a client would "
                          "reach another node's agent)")
        np = self.r.one("NetworkPolicy")["spec"]
        if any(labels.get(k) != v for k, v in np.get("podSelector", {}).get("matchLabels", {}).items()):
            errors.append("the NetworkPolicy does not select the agent's pods")
        if "Ingress" in np.get("policyTypes", ["Ingress"]):
            opened: dict[int, bool] = {}
            for rule in np.get("ingress", []):
                anywhere = not rule.get("from")
                for p in rule.get("ports", []) or [{"port": None}]:
                    port = p.get("port")
                    if isinstance(port, str):
                        port = container_port(self.r.main, port)
                    opened[port] = opened.get(port, False) or anywhere
            for name in ("grpc", "metrics", "health"):
                port = container_port(self.r.main, name)
                if port not in opened and None not in opened:
                    errors.append(f"the NetworkPolicy admits nobody to {name} ({port})")
            health = container_port(self.r.main, "health")
            if not (opened.get(health) or opened.get(None)):
                errors.append(f"the NetworkPolicy must admit the kubelet's probes to {health} "
                              "from anywhere")
        return errors

    def check_metrics(self) -> list[str]:
        ann = self.r.daemonset["spec"]["template"]["metadata"].get("annotations", {})
        errors = []
        if ann.get("prometheus.io/scrape") != "true":
            errors.append("no prometheus.io/scrape: \"true\"")
        if ann.get("prometheus.io/port") != str(container_port(self.r.main, "metrics")):
            errors.append(f"prometheus.io/port {ann.get('prometheus.io/port')!r} is not the "
                          "metrics port")
        if ann.get("prometheus.io/path", "/metrics") != "/metrics":
            errors.append("prometheus.io/path is not /metrics")
        return errors

    def run(self, report: Report, quiet: bool = False) -> None:
        passed = []
        for name, _what, fn in self.checks():
            try:
                problems = fn()
            except (CheckError, KeyError, TypeError, ValueError, IndexError) as e:
                problems = [f"{type(e).__name__}: {e}"]
            if problems:
                for p in problems:
                    report.failures.append((name, p))
                    if not quiet:
                        print(f"  FAIL {self.r.name}: {name}: {p}")
            else:
                passed.append(name)
        report.passed += passed
        if not quiet and len(passed) == len(self.checks()):
            print(f"  ok   {self.r.name}: all {len(passed)} checks")
        elif not quiet:
            print(f"  ..   {self.r.name}: passed {', '.join(passed) or 'none'}")


def load_rendering(path: Path) -> Rendering:
    docs = [d for d in yaml.safe_load_all(path.read_text()) if d]
    return Rendering(name=path.stem, docs=docs)


# --------------------------------------------------------------------------- self-test


def _cm(docs):
    return next(d for d in docs if d["kind"] == "ConfigMap")


def _main(docs):
    ds = next(d for d in docs if d["kind"] == "DaemonSet")
    return next(c for c in ds["spec"]["template"]["spec"]["containers"] if c["name"] == MAIN_CONTAINER)


def _pod(docs):
    return next(d for d in docs if d["kind"] == "DaemonSet")["spec"]["template"]["spec"]


def _first_fragment(docs):
    cm = _cm(docs)
    return cm["data"], sorted(k for k in cm["data"] if k.endswith(".toml"))[0]


def _edit_config(docs, old, new):
    data, key = _first_fragment(docs)
    assert old in data[key], old
    data[key] = data[key].replace(old, new, 1)


def _cut_config(docs, marker):
    data, key = _first_fragment(docs)
    assert marker in data[key], marker
    data[key] = data[key][:data[key].index(marker)]


def _drop(items, name):
    items[:] = [i for i in items if i.get("name") != name]


MUTATIONS: list[tuple[str, str, Callable[[list], None]]] = [
    ("objects", "Service removed",
     lambda d: d.remove(next(x for x in d if x["kind"] == "Service"))),
    ("config", "unknown key in the file",
     lambda d: _edit_config(d, "[health]", "[health]\nlisten_addr = \"0.0.0.0:1\"")),
    ("config", "broken TOML", lambda d: _edit_config(d, "[health]", "[health")),
    ("config", "fixed hostname", lambda d: _edit_config(d, "[libvirt]", 'hostname = "hv"\n[libvirt]')),
    ("ports", "health container port differs from [health] listen",
     lambda d: next(p for p in _main(d)["ports"] if p["name"] == "health").update(containerPort=50053)),
    ("ports", "API on loopback", lambda d: _edit_config(d, 'listen = "0.0.0.0:50051"', 'listen = "127.0.0.1:50051"')),
    ("probes", "readiness asks the whole server",
     lambda d: _main(d)["readinessProbe"]["grpc"].pop("service")),
    ("probes", "liveness over HTTP",
     lambda d: _main(d).update(livenessProbe={"httpGet": {"port": 50052, "path": "/"}})),
    ("probes", "no startup probe", lambda d: _main(d).pop("startupProbe")),
    ("files", "Secret lacks a token file",
     lambda d: next(x for x in d if x["kind"] == "Secret")["data"].pop("admin-token")),
    ("files", "token too short",
     lambda d: next(x for x in d if x["kind"] == "Secret")["data"].update(
         {"reader-token": base64.b64encode(b"short\n").decode()})),
    ("files", "secrets not mounted", lambda d: _drop(_main(d)["volumeMounts"], "secrets")),
    ("database", "SQLite folder not mounted",
     lambda d: _main(d).update(volumeMounts=[m for m in _main(d)["volumeMounts"]
                                             if m["mountPath"] != "/var/lib/virtplane"])),
    ("libvirt", "libvirt socket folder not mounted",
     lambda d: _drop(_main(d)["volumeMounts"], "libvirt-run")),
    ("security", "writable root filesystem",
     lambda d: _main(d)["securityContext"].update(readOnlyRootFilesystem=False)),
    ("security", "runs as root",
     lambda d: _main(d)["securityContext"].update(runAsNonRoot=False, runAsUser=0)),
    ("security", "privilege escalation",
     lambda d: _main(d)["securityContext"].update(allowPrivilegeEscalation=True)),
    ("security", "a capability added",
     lambda d: _main(d)["securityContext"]["capabilities"].update(add=["NET_ADMIN"])),
    ("security", "no libvirt group", lambda d: _pod(d)["securityContext"].pop("supplementalGroups")),
    ("exposure", "no tokens", lambda d: _cut_config(d, "\n[auth]\n")),
    ("exposure", "--insecure",
     lambda d: _main(d).setdefault("env", []).append({"name": "VIRTPLANE_INSECURE", "value": "true"})),
    ("resources", "no memory limit", lambda d: _main(d)["resources"]["limits"].pop("memory")),
    ("environment", "hostname not from the node",
     lambda d: _drop(_main(d)["env"], "VIRTPLANE_HOSTNAME")),
    ("shutdown", "grace period shorter than the drain",
     lambda d: _pod(d).update(terminationGracePeriodSeconds=5)),
    ("image", "latest tag",
     lambda d: [c.update(image="registry.example.com/virtplane:latest")
                for c in _pod(d)["containers"] + _pod(d).get("initContainers", [])]),
    ("service", "Service targets the wrong port",
     lambda d: next(x for x in d if x["kind"] == "Service")["spec"]["ports"][0].update(targetPort=50052)),
    ("service", "NetworkPolicy forgets the probes",
     lambda d: next(x for x in d if x["kind"] == "NetworkPolicy")["spec"].update(
         ingress=[r for r in next(x for x in d if x["kind"] == "NetworkPolicy")["spec"]["ingress"]
                  if r.get("from")])),
    ("metrics", "scrape annotation on the wrong port",
     lambda d: next(x for x in d if x["kind"] == "DaemonSet")["spec"]["template"]["metadata"]
     ["annotations"].update({"prometheus.io/port": "50051"})),
]


def self_test(path: Path, facts: ServiceFacts) -> int:
    good = load_rendering(path)
    report = Report()
    Checker(good, facts).run(report, quiet=True)
    if report.failures:
        print(f"  FAIL self-test: {path.name} does not pass to begin with: {report.failures}")
        return 1
    bad = 0
    for check, what, mutate in MUTATIONS:
        docs = copy.deepcopy(good.docs)
        mutate(docs)
        report = Report()
        Checker(Rendering(good.name, docs), facts).run(report, quiet=True)
        caught = [msg for name, msg in report.failures if name == check]
        if caught:
            print(f"  ok   self-test: {what} -> {check} fails ({caught[0][:90]})")
        else:
            bad += 1
            print(f"  FAIL self-test: {what} was not caught by {check} "
                  f"(failures: {report.failures})")
    return 1 if bad else 0


# ------------------------------------------------------------------------ render (FFI)


def render_with_library(library: str, directory: str) -> int:
    """kustomize build through libpykustomize's C ABI (no cffi needed)."""
    lib = ctypes.CDLL(library)
    lib.pykustomize_last_error.restype = ctypes.c_void_p
    lib.pykustomize_build.argtypes = [ctypes.c_char_p, ctypes.c_char_p,
                                      ctypes.POINTER(ctypes.c_void_p)]
    lib.pykustomize_build.restype = ctypes.c_int
    lib.pykustomize_free.argtypes = [ctypes.c_void_p]
    out = ctypes.c_void_p()
    options = b'{"load_restrictions": 0, "reorder": "unspecified"}'  # 0: root only
    rc = lib.pykustomize_build(str(Path(directory).resolve()).encode(), options, ctypes.byref(out))
    if rc != 0:
        err = lib.pykustomize_last_error()
        print(ctypes.string_at(err).decode() if err else "kustomize build failed", file=sys.stderr)
        return 1
    sys.stdout.write(ctypes.string_at(out.value).decode())
    lib.pykustomize_free(out)
    return 0


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = parser.add_subparsers(dest="cmd", required=True)
    check = sub.add_parser("check")
    check.add_argument("--as-root", action="append", type=Path, default=[], metavar="RENDERED",
                       help="also check this rendering, which runs the agent as root "
                            "(components/run-as-root)")
    check.add_argument("files", nargs="*", type=Path)
    st = sub.add_parser("self-test")
    st.add_argument("file", type=Path)
    render = sub.add_parser("render")
    render.add_argument("--library", required=True)
    render.add_argument("directory")
    args = parser.parse_args()

    if args.cmd == "render":
        return render_with_library(args.library, args.directory)
    facts = ServiceFacts.load()
    if args.cmd == "self-test":
        return self_test(args.file, facts)
    report = Report()
    dummy = Checker(Rendering("", []), facts)
    width = max(len(n) for n, _, _ in dummy.checks())
    for name, what, _ in dummy.checks():
        print(f"  {name:<{width}}  {what}")
    for f in args.files:
        Checker(load_rendering(f), facts).run(report)
    for f in args.as_root:
        Checker(load_rendering(f), facts, allow_root=True).run(report)
    return 1 if report.failures else 0


if __name__ == "__main__":
    sys.exit(main())
