#!/usr/bin/env python3
"""Lints deploy/Dockerfile against the rules in deploy/README.md ("Image rules").

    check_dockerfile.py [--ports-from CONFIG.toml] [DOCKERFILE]
    check_dockerfile.py --self-test [DOCKERFILE]

--self-test breaks the Dockerfile in one way per rule (in memory) and proves that the
rule fails. Exits non-zero on any failure.
"""

from __future__ import annotations

import argparse
import json
import re
import shlex
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

try:
    import tomllib
except ModuleNotFoundError:  # Python < 3.11
    import tomli as tomllib  # type: ignore[no-redef]

REPO = Path(__file__).resolve().parent.parent
DEFAULT_DOCKERFILE = REPO / "deploy" / "Dockerfile"
DEFAULT_CONFIG = REPO / "deploy" / "kubernetes" / "base" / "config.toml"


@dataclass
class Instruction:
    line: int
    keyword: str
    args: str


def parse(text: str) -> tuple[list[str], list[Instruction]]:
    """Parser directives, then instructions with continuation lines joined."""
    lines = text.splitlines()
    directives = []
    i = 0
    while i < len(lines) and re.match(r"^#\s*\w+\s*=", lines[i]):
        directives.append(lines[i])
        i += 1
    instructions = []
    current, start = "", 0
    for n, raw in enumerate(lines[i:], start=i + 1):
        stripped = raw.strip()
        if not current and (not stripped or stripped.startswith("#")):
            continue
        if current and stripped.startswith("#"):
            continue  # comment lines inside a continuation are dropped
        if not current:
            start = n
        if stripped.endswith("\\"):
            current += stripped[:-1] + " "
            continue
        current += stripped
        keyword, _, args = current.partition(" ")
        instructions.append(Instruction(start, keyword.upper(), args.strip()))
        current = ""
    return directives, instructions


def stages(instructions: list[Instruction]) -> list[list[Instruction]]:
    out: list[list[Instruction]] = []
    for ins in instructions:
        if ins.keyword == "FROM":
            out.append([])
        if out:
            out[-1].append(ins)
    return out


def expected_ports(config: Path) -> set[int]:
    cfg = tomllib.loads(config.read_text())
    addrs = [cfg.get("listen"), cfg.get("health", {}).get("listen"),
             cfg.get("metrics", {}).get("listen")]
    return {int(a.rsplit(":", 1)[1]) for a in addrs if a}


def check(text: str, ports: set[int]) -> list[tuple[str, str]]:
    """(rule, problem) for every broken rule."""
    directives, instructions = parse(text)
    problems: list[tuple[str, str]] = []

    def fail(rule: str, msg: str) -> None:
        problems.append((rule, msg))

    if not any(re.match(r"^#\s*syntax\s*=\s*\S+", d) for d in directives):
        fail("syntax", "no `# syntax=` parser directive on the first line (BuildKit "
                       "features such as RUN --mount need it)")
    all_stages = stages(instructions)
    if len(all_stages) < 2:
        fail("multi-stage", f"{len(all_stages)} FROM: build and runtime must be separate stages")
    stage_names = set()
    for st in all_stages:
        words = st[0].args.split()
        words = [w for w in words if not w.startswith("--platform")]
        image = words[0] if words else ""
        if len(words) >= 3 and words[1].upper() == "AS":
            stage_names.add(words[2].lower())
        if image.lower() in stage_names or image == "scratch":
            continue
        name = image.split("@", 1)[0]
        tag = name.rsplit(":", 1)[1] if ":" in name.rsplit("/", 1)[-1] else None
        if "$" in image:
            fail("pinned", f"line {st[0].line}: FROM {image} uses a variable; write the pin")
        elif "@sha256:" not in image and (tag is None or tag == "latest"):
            fail("pinned", f"line {st[0].line}: FROM {image} is not pinned to a tag or digest")
    for ins in instructions:
        install = r"\bapt-get\b([^;&|]*?)(?<![-\w])install(?![-\w])([^;&|]*)"
        if ins.keyword == "RUN" and re.search(install, ins.args):
            for m in re.finditer(install, ins.args):
                if "--no-install-recommends" not in m.group(1) + m.group(2):
                    fail("apt", f"line {ins.line}: apt-get install without --no-install-recommends")
            if not re.search(r"rm\s+-(rf|fr|r)\s+/var/lib/apt/lists", ins.args):
                fail("apt", f"line {ins.line}: apt-get install without rm -rf /var/lib/apt/lists/* "
                            "in the same RUN")
            if "apt-get update" not in ins.args:
                fail("apt", f"line {ins.line}: apt-get install without apt-get update in the same "
                            "RUN (a stale cached index)")
        if ins.keyword == "ADD" and re.search(r"(^|\s)(https?|git)://|\S+\.git(\s|$)", ins.args):
            fail("add-remote", f"line {ins.line}: ADD of a remote source; download in a RUN "
                               "with a checksum, or COPY")
        if ins.keyword == "RUN" and re.search(r"\bcargo\s+(build|install)\b", ins.args) \
                and "--locked" not in ins.args:
            fail("cargo-locked", f"line {ins.line}: cargo without --locked (Cargo.lock ignored)")
        if ins.keyword == "RUN" and re.search(r"\bcurl\b[^|]*\|\s*(ba)?sh", ins.args):
            fail("add-remote", f"line {ins.line}: a script piped from the network into a shell")
    if not any(i.keyword == "RUN" and re.search(r"\bcargo\s+build\b", i.args) for i in instructions):
        fail("cargo-locked", "no cargo build")
    final = all_stages[-1] if all_stages else []
    users = [i for i in final if i.keyword == "USER"]
    if not users:
        fail("user", "the final stage has no USER: the container would run as root")
    else:
        user = users[-1].args.split(":")[0]
        if user in ("0", "root"):
            fail("user", f"line {users[-1].line}: USER {users[-1].args} is root")
        elif not user.isdigit():
            fail("user", f"line {users[-1].line}: USER {users[-1].args}: use a numeric uid so "
                         "runAsNonRoot can verify it")
    for kw in ("ENTRYPOINT", "CMD"):
        found = [i for i in final if i.keyword == kw]
        if not found:
            if kw == "ENTRYPOINT":
                fail("exec-form", "the final stage has no ENTRYPOINT")
            continue
        try:
            value = json.loads(found[-1].args)
            ok = isinstance(value, list) and all(isinstance(v, str) for v in value)
        except json.JSONDecodeError:
            ok = False
        if not ok:
            fail("exec-form", f"line {found[-1].line}: {kw} is not in exec (JSON array) form: "
                              "signals would go to a shell, not the service")
    exposed: set[int] = set()
    for ins in final:
        if ins.keyword == "EXPOSE":
            for p in shlex.split(ins.args):
                exposed.add(int(p.split("/")[0]))
    if exposed != ports:
        fail("expose", f"EXPOSE {sorted(exposed)} != the configured ports {sorted(ports)}")
    labels = " ".join(i.args for i in final if i.keyword == "LABEL")
    for key in ("org.opencontainers.image.title", "org.opencontainers.image.version",
                "org.opencontainers.image.licenses"):
        if key not in labels:
            fail("labels", f"no {key} label on the final stage")
    return problems


RULES = {
    "syntax": "a `# syntax=` parser directive on the first line",
    "multi-stage": "at least two stages (FROM)",
    "pinned": "every FROM pinned to a tag or digest, never :latest",
    "apt": "apt-get update + install --no-install-recommends + rm -rf /var/lib/apt/lists in one RUN",
    "add-remote": "no ADD of URLs or git, no curl | sh",
    "cargo-locked": "cargo build --locked",
    "user": "the final stage runs as a numeric non-root USER",
    "exec-form": "ENTRYPOINT (and CMD) in exec form",
    "expose": "EXPOSE = the ports of listen, [health] and [metrics] in the base config",
    "labels": "OCI labels title, version and licenses",
}

MUTATIONS: list[tuple[str, str, Callable[[str], str]]] = [
    ("syntax", "syntax directive removed", lambda t: re.sub(r"^# syntax=.*\n", "", t)),
    ("multi-stage", "single stage",
     lambda t: t[t.index("FROM debian"):].replace("COPY --from=builder /out/virtplane",
                                                  "COPY target/release/virtplane")),
    ("pinned", "runtime on :latest", lambda t: t.replace("debian:bookworm-slim", "debian:latest", 1)),
    ("pinned", "builder without tag", lambda t: t.replace("rust:1.95-bookworm", "rust", 1)),
    ("apt", "recommends installed", lambda t: t.replace("--no-install-recommends ", "", 1)),
    ("apt", "apt lists kept", lambda t: t.replace("rm -rf /var/lib/apt/lists/*", "true", 1)),
    ("add-remote", "ADD from a URL",
     lambda t: t.replace("WORKDIR /src", "ADD https://example.com/x.tar.gz /tmp/\nWORKDIR /src", 1)),
    ("cargo-locked", "cargo build without --locked", lambda t: t.replace("--locked", "", 1)),
    ("user", "USER root", lambda t: t.replace("USER 65532:65532", "USER root", 1)),
    ("user", "no USER", lambda t: t.replace("USER 65532:65532\n", "", 1)),
    ("exec-form", "shell-form ENTRYPOINT",
     lambda t: t.replace('ENTRYPOINT ["/usr/local/bin/virtplane"]',
                         "ENTRYPOINT /usr/local/bin/virtplane", 1)),
    ("expose", "metrics port not exposed", lambda t: t.replace("EXPOSE 50051 50052 9090", "EXPOSE 50051 50052", 1)),
    ("labels", "no OCI labels", lambda t: re.sub(r"org\.opencontainers\.image\.title", "title", t)),
]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("dockerfile", nargs="?", type=Path, default=DEFAULT_DOCKERFILE)
    parser.add_argument("--ports-from", type=Path, default=DEFAULT_CONFIG,
                        help="the config.toml whose listen ports EXPOSE must equal")
    parser.add_argument("--self-test", action="store_true")
    args = parser.parse_args()
    text = args.dockerfile.read_text()
    ports = expected_ports(args.ports_from)
    name = args.dockerfile.relative_to(REPO) if args.dockerfile.is_relative_to(REPO) else args.dockerfile

    if args.self_test:
        if check(text, ports):
            print(f"  FAIL self-test: {name} does not pass to begin with")
            return 1
        bad = 0
        for rule, what, mutate in MUTATIONS:
            broken = mutate(text)
            assert broken != text, what
            caught = [msg for r, msg in check(broken, ports) if r == rule]
            if caught:
                print(f"  ok   self-test: {what} -> {rule} fails ({caught[0][:80]})")
            else:
                bad += 1
                print(f"  FAIL self-test: {what} was not caught by {rule}")
        return 1 if bad else 0

    problems = check(text, ports)
    for rule, desc in RULES.items():
        mine = [msg for r, msg in problems if r == rule]
        for msg in mine:
            print(f"  FAIL {name}: {rule}: {msg}")
        if not mine:
            print(f"  ok   {name}: {rule}: {desc}")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
