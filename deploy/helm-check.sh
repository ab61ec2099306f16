#!/usr/bin/env bash
# CI check of the Helm chart helm/vigil: `helm lint` and `helm template` with every value set in
# helm/vigil/ci/*.yaml, the invariants test tests/helm/check_rendered.py on each render, renders
# the chart must refuse, and mutations of a good render that the invariants test must catch.
#
# helm is built from its Go module through the Go module proxy (Debian has no helm package) and
# cached in ~/.cache/vigil/helm/<version>/helm; later runs take seconds. Works as root on a fresh
# Debian 12 machine (installs golang-go and python3-yaml with apt when missing) and is idempotent.
#
# Argument (optional): a built vigil-detector; each rendered detector config is then loaded by it
# (offline run on samples/sample-stream.jsonl), so a key the detector rejects fails here too.
# Environment: HELM=/path/to/helm uses that binary instead; VIGIL_GO=/path/to/go the Go to build it with; VIGIL_HELM_VERSION picks another v3
# release (default below); KEEP_RENDERED=DIR keeps the renders there.
set -euo pipefail

HELM_VERSION=${VIGIL_HELM_VERSION:-v3.19.5}
# helm v3.19's go.mod says `go 1.24.0`; a local Go older than that gets this toolchain from the
# Go module proxy (module golang.org/toolchain), the way GOTOOLCHAIN does it.
GO_NEEDED=1.24
GO_TOOLCHAIN=go1.24.6
# Kubernetes version the chart is linted and rendered for (a helm built by `go install` without
# the Makefile's ldflags would assume 1.20).
KUBE_VERSION=${VIGIL_KUBE_VERSION:-1.30.0}

DETECTOR=${1:-}
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
CHART=$ROOT/helm/vigil
CACHE_ROOT=${XDG_CACHE_HOME:-$HOME/.cache}/vigil
log() { echo "helm-check: $*" >&2; }
die() { log "$*"; exit 1; }

SUDO=""
if [ "$(id -u)" -ne 0 ]; then SUDO="sudo"; fi
apt_updated=""
apt_install() {
  export DEBIAN_FRONTEND=noninteractive
  if [ -z "$apt_updated" ]; then $SUDO apt-get update -qq; apt_updated=1; fi
  log "apt-get install $*"
  $SUDO apt-get install -y -qq --no-install-recommends "$@" >/dev/null
}

# ---- Python 3 with PyYAML (Debian's python3-yaml serves /usr/bin/python3) ----
PYTHON=""
for p in python3 /usr/bin/python3; do
  if command -v "$p" >/dev/null && "$p" -c 'import yaml' 2>/dev/null; then PYTHON=$p; break; fi
done
if [ -z "$PYTHON" ]; then
  apt_install python3 python3-yaml
  PYTHON=/usr/bin/python3
fi

# ---- Go: version >= GO_NEEDED, else a toolchain from the Go module proxy ----
go_minor() { "$1" env GOVERSION 2>/dev/null | sed -n 's/^go1\.\([0-9]*\).*/\1/p'; }
find_go() {
  local g
  for g in "$(command -v go || true)" /usr/local/go/bin/go /usr/lib/go/bin/go; do
    if [ -n "$g" ] && [ -x "$g" ]; then echo "$g"; return 0; fi
  done
  return 1
}
# A Go toolchain from the proxy, unpacked once into the cache (exec bits restored: module zips
# carry none). Needs only `go mod download`, so Debian 12's Go 1.19 can bootstrap it.
fetch_toolchain() {
  local bootstrap=$1 dir=$CACHE_ROOT/go/$GO_TOOLCHAIN arch mod
  if [ -x "$dir/bin/go" ]; then echo "$dir/bin/go"; return 0; fi
  case "$(uname -m)" in x86_64) arch=amd64 ;; aarch64) arch=arm64 ;; *) die "no Go toolchain for $(uname -m)" ;; esac
  log "fetching Go $GO_TOOLCHAIN from the Go module proxy"
  mod=$(cd "$(mktemp -d)" && GOFLAGS= GOTOOLCHAIN=local "$bootstrap" mod download -json \
        "golang.org/toolchain@v0.0.1-$GO_TOOLCHAIN.linux-$arch" | sed -n 's/^\s*"Dir": "\(.*\)",$/\1/p')
  [ -n "$mod" ] && [ -d "$mod/bin" ] || die "could not download golang.org/toolchain@v0.0.1-$GO_TOOLCHAIN.linux-$arch"
  rm -rf "$dir.tmp" && mkdir -p "$(dirname "$dir")"
  cp -r "$mod" "$dir.tmp" && chmod -R u+w "$dir.tmp"
  chmod +x "$dir.tmp"/bin/* "$dir.tmp"/pkg/tool/*/*
  mv "$dir.tmp" "$dir"
  echo "$dir/bin/go"
}
ensure_go() {
  local g minor
  g=${VIGIL_GO:-}
  [ -n "$g" ] || g=$(find_go) || { apt_install golang-go ca-certificates git; g=$(find_go) || die "no go after installing golang-go"; }
  minor=$(go_minor "$g")
  if [ -n "$minor" ] && [ "$minor" -ge "${GO_NEEDED#1.}" ]; then echo "$g"; return 0; fi
  log "$("$g" version) is older than go$GO_NEEDED (helm $HELM_VERSION's go.mod)"
  fetch_toolchain "$g"
}

# ---- helm, built once per version ----
if [ -z "${HELM:-}" ]; then
  HELM=$CACHE_ROOT/helm/$HELM_VERSION/helm
  if ! [ -x "$HELM" ] || ! "$HELM" version --short >/dev/null 2>&1; then
    GO=$(ensure_go)
    log "building helm $HELM_VERSION with $("$GO" version) (once; cached in $(dirname "$HELM"))"
    started=$(date +%s)
    bin=$(mktemp -d)
    # -p 2: the machine's 2 cores are shared.
    GOBIN=$bin GOTOOLCHAIN=local GOFLAGS=-buildvcs=false CGO_ENABLED=0 \
      "$GO" install -p 2 -trimpath \
      -ldflags "-s -w -X helm.sh/helm/v3/internal/version.version=$HELM_VERSION -X helm.sh/helm/v3/internal/version.gitTreeState=clean" \
      "helm.sh/helm/v3/cmd/helm@$HELM_VERSION"
    mkdir -p "$(dirname "$HELM")"
    mv "$bin/helm" "$HELM.tmp" && mv "$HELM.tmp" "$HELM"
    rm -rf "$bin"
    log "built helm in $(( $(date +%s) - started )) s"
  fi
fi
log "using $HELM ($("$HELM" version --short))"

# ---- lint, render, check ----
out=${KEEP_RENDERED:-$(mktemp -d)}
mkdir -p "$out"
[ -n "${KEEP_RENDERED:-}" ] || trap 'rm -rf "$out"' EXIT
export HELM_CACHE_HOME=$out/.helm/cache HELM_CONFIG_HOME=$out/.helm/config HELM_DATA_HOME=$out/.helm/data
passed=0
failed=0
pass() { passed=$((passed + 1)); echo "ok   $*"; }
fail() { failed=$((failed + 1)); echo "FAIL $*"; }
check() {  # check NAME VALUES...: lint, template, invariants
  local name=$1; shift
  local vargs=() vfiles=(--values "$CHART/values.yaml") f
  for f in "$@"; do vargs+=(-f "$f"); vfiles+=(--values "$f"); done
  if "$HELM" lint --strict --kube-version "$KUBE_VERSION" "$CHART" "${vargs[@]}" >"$out/$name.lint" 2>&1; then
    pass "helm lint --strict ($name)"
  else
    fail "helm lint --strict ($name)"; cat "$out/$name.lint"
  fi
  if "$HELM" template vigil "$CHART" --namespace vigil --kube-version "$KUBE_VERSION" "${vargs[@]}" >"$out/$name.yaml" 2>"$out/$name.err"; then
    pass "helm template ($name)"
  else
    fail "helm template ($name)"; cat "$out/$name.err"; return 0
  fi
  if "$PYTHON" "$ROOT/tests/helm/check_rendered.py" "$out/$name.yaml" "${vfiles[@]}"; then
    pass "invariants ($name)"
  else
    fail "invariants ($name)"
  fi
  if [ -n "$DETECTOR" ] && grep -q 'detector.yaml: |' "$out/$name.yaml"; then
    # The rule pack is the repository's (a custom one in the values is only a placeholder).
    if "$PYTHON" "$ROOT/tests/helm/extract_config.py" "$out/$name.yaml" "$out/$name.cfg" &&
       VIGIL_INSTANCE_ID=vigil-detector-0 "$DETECTOR" --config "$out/$name.cfg/detector.yaml" \
         --rule-pack "$ROOT/rules/vn-core.yaml" --metrics-listen off --input "$ROOT/samples/sample-stream.jsonl" \
         --output "$out/$name.cfg/flags.jsonl" >"$out/$name.cfg/run.log" 2>&1; then
      pass "vigil-detector loads the rendered config ($name)"
    else
      fail "vigil-detector loads the rendered config ($name)"; cat "$out/$name.cfg/run.log"
    fi
  fi
}

if "$PYTHON" "$ROOT/tests/helm/check_values_doc.py" "$CHART"; then
  pass "every value documented (values.yaml comments, README table)"
else
  fail "every value documented (values.yaml comments, README table)"
fi
check defaults
for f in "$CHART"/ci/*.yaml; do
  check "$(basename "$f" .yaml)" "$f"
done

# Value combinations the chart must refuse, with the message it must give.
refuse() {  # refuse WHAT EXPECTED_MESSAGE --set ...
  local what=$1 expect=$2; shift 2
  if "$HELM" template vigil "$CHART" --kube-version "$KUBE_VERSION" "$@" >/dev/null 2>"$out/refuse.err"; then
    fail "refuses $what (it rendered)"
  elif grep -q -- "$expect" "$out/refuse.err"; then
    pass "refuses $what"
  else
    fail "refuses $what (wrong message)"; cat "$out/refuse.err"
  fi
}
refuse "KEDA and HPA together" "exclusive" --set autoscaling.keda.enabled=true --set autoscaling.hpa.enabled=true
refuse "maxReplicaCount above the partitions" "above detector.partitions" \
  --set autoscaling.keda.enabled=true --set detector.partitions=4 --set autoscaling.keda.maxReplicaCount=5
refuse "HPA maxReplicas above the partitions" "above detector.partitions" \
  --set autoscaling.hpa.enabled=true --set detector.partitions=4 --set autoscaling.hpa.maxReplicas=8
refuse "SASL without a Secret" "sasl.existingSecret" --set kafka.security.protocol=SASL_SSL
refuse "group.instance.id set by hand" "set by the chart" --set-string 'detector.consumerProperties.group\.instance\.id=x'
refuse "a replay without inputs" "replay.inputs" --set replay.enabled=true

# The invariants test must catch broken renders: each mutation of a good render must fail it.
mutant() {  # mutant WHAT BASE_RENDER VALUES_FILE SED_EXPR
  local what=$1 base=$2 values=$3 expr=$4
  sed -e "$expr" "$out/$base.yaml" >"$out/mutant.yaml"
  if cmp -s "$out/$base.yaml" "$out/mutant.yaml"; then fail "mutation '$what' changed nothing"; return 0; fi
  if "$PYTHON" "$ROOT/tests/helm/check_rendered.py" "$out/mutant.yaml" --values "$CHART/values.yaml" \
       --values "$values" >"$out/mutant.out"; then
    fail "invariants catch: $what (they passed)"
  else
    pass "invariants catch: $what ($(grep -m1 FAIL "$out/mutant.out" | sed 's/^FAIL [^:]*: //'))"
  fi
}
ci=$CHART/ci
mutant "probe port not declared" default-values "$ci/default-values.yaml" 's/port: metrics$/port: 8080/'
mutant "container port != metrics.listen" default-values "$ci/default-values.yaml" 's/containerPort: 9464/containerPort: 9465/'
mutant "metrics on loopback" default-values "$ci/default-values.yaml" 's/listen: 0.0.0.0:9464/listen: 127.0.0.1:9464/'
mutant "writable root filesystem" default-values "$ci/default-values.yaml" 's/readOnlyRootFilesystem: true/readOnlyRootFilesystem: false/'
mutant "capabilities kept" default-values "$ci/default-values.yaml" 's/- ALL$/- NET_RAW/'
mutant "runs as root" default-values "$ci/default-values.yaml" 's/runAsUser: 10001/runAsUser: 0/'
mutant "state not on the PVC" default-values "$ci/default-values.yaml" 's#mountPath: /var/lib/vigil$#mountPath: /var/lib/vigil-data#'
mutant "instance id not from the pod name" default-values "$ci/default-values.yaml" 's/fieldPath: metadata.name/fieldPath: metadata.namespace/'
mutant "short grace period" default-values "$ci/default-values.yaml" 's/terminationGracePeriodSeconds: 60/terminationGracePeriodSeconds: 5/'
mutant "password literal in the ConfigMap" security-values "$ci/security-values.yaml" 's/sasl.password: .*/sasl.password: hunter2/'
mutant "secret file not mounted" security-values "$ci/security-values.yaml" 's#secrets/sasl/password#secrets/other/password#'
mutant "archive metrics on loopback" tools-values "$ci/tools-values.yaml" 's/- 0.0.0.0:9464$/- 127.0.0.1:9464/'
mutant "maxReplicaCount above partitions" keda-values "$ci/keda-values.yaml" 's/maxReplicaCount: 12/maxReplicaCount: 13/'
cat "$out/hpa-values.yaml" "$out/keda-values.yaml" >"$out/both.yaml"
if "$PYTHON" "$ROOT/tests/helm/check_rendered.py" "$out/both.yaml" --values "$CHART/values.yaml" \
     --values "$ci/keda-values.yaml" >/dev/null; then
  fail "invariants catch: KEDA and HPA both rendered (they passed)"
else
  pass "invariants catch: KEDA and HPA both rendered"
fi

echo "helm-check: $passed passed, $failed failed"
[ "$failed" -eq 0 ]
