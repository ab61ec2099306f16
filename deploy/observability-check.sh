#!/usr/bin/env bash
# Checks the deploy artefacts that cannot be run here (no Docker engine, no Grafana):
#   - alert rules: promtool check rules, promtool test rules (deploy/prometheus/)
#   - the compose stack's Prometheus config: promtool check config (rule_files must resolve)
#   - the compose file and the YAML it mounts (tests/deploy/check_compose.py)
#   - the compose detector config loads in vigil-detector (when built)
#   - the Grafana dashboard (tests/deploy/check_dashboard.py; its exprs parsed by promtool)
#   - the Dockerfile (tests/deploy/check_dockerfile.py; ldd of the built binaries)
#
#   bash deploy/observability-check.sh [BUILD_DIR]     (default build/release; ctest deploy.observability)
#
# promtool: $PROMTOOL, else promtool on PATH, else extracted from Debian's prometheus package
# into ~/.cache/vigil/promtool (apt-get download + dpkg-deb -x: the package is not installed,
# so no Prometheus service is started and nothing listens).
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
build=${1:-$root/build/release}
cd "$root"

failures=()
step() {  # step NAME COMMAND...: runs it, records a failure, carries on
  local name=$1; shift
  echo "--- $name"
  if "$@"; then echo "ok: $name"; else echo "FAILED: $name"; failures+=("$name"); fi
}

find_promtool() {
  if [ -n "${PROMTOOL:-}" ]; then echo "$PROMTOOL"; return; fi
  if command -v promtool >/dev/null 2>&1; then command -v promtool; return; fi
  local cache=${XDG_CACHE_HOME:-$HOME/.cache}/vigil/promtool
  if [ -x "$cache/promtool" ]; then echo "$cache/promtool"; return; fi
  echo "observability-check: extracting promtool from Debian's prometheus package into $cache" >&2
  local tmp; tmp=$(mktemp -d)
  chmod 755 "$tmp"  # lets apt's _apt user write the download
  if ! (cd "$tmp" && apt-get download prometheus >"$tmp/apt.log" 2>&1); then
    cat "$tmp/apt.log" >&2
    echo "observability-check: apt-get download prometheus failed (run apt-get update?)" >&2
    rm -rf "$tmp"; return 1
  fi
  dpkg-deb -x "$tmp"/prometheus_*.deb "$tmp/x"
  mkdir -p "$cache"
  install -m 755 "$tmp/x/usr/bin/promtool" "$cache/promtool"
  rm -rf "$tmp"
  echo "$cache/promtool"
}

promtool=$(find_promtool)
echo "observability-check: $("$promtool" --version 2>&1 | head -n 1)"

step "promtool check rules" "$promtool" check rules deploy/prometheus/vigil-alerts.yml
step "promtool test rules" "$promtool" test rules deploy/prometheus/vigil-alerts.test.yml
step "promtool check config (compose)" "$promtool" check config deploy/compose/prometheus.yml
step "compose stack" python3 tests/deploy/check_compose.py

detector=$build/services/detector/vigil-detector
if [ -x "$detector" ]; then
  check_detector_config() {  # the compose config must load; offline mode parses all of it
    local out; out=$(mktemp -d)
    "$detector" --config deploy/compose/detector.yaml --input samples/sample-stream.jsonl \
      --output "$out/flags.jsonl" --metrics-listen off >"$out/log" 2>&1 || { cat "$out/log"; rm -rf "$out"; return 1; }
    rm -rf "$out"
  }
  step "compose detector.yaml loads" check_detector_config
else
  echo "--- compose detector.yaml loads: SKIP (no $detector; build the release preset)"
fi

step "grafana dashboard" python3 tests/deploy/check_dashboard.py \
  --dashboard deploy/grafana/vigil-dashboard.json --rules deploy/prometheus/vigil-alerts.yml --promtool "$promtool"
step "dockerfile" python3 tests/deploy/check_dockerfile.py --build-dir "$build"

if [ ${#failures[@]} -gt 0 ]; then
  echo "observability-check: FAILED: ${failures[*]}"
  exit 1
fi
echo "observability-check: all checks passed"
