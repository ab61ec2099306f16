#!/usr/bin/env bash
# Runs the ```sh blocks of a Markdown page in order, as one script, the way a reader would
# type them: in an empty directory, with $BROKER (a fresh local Kafka broker, stopped at the
# end), $VIGIL_SOURCE (the repository) and the built tools on PATH. Fails on the first
# failing command and prints the blocks with their output.
# Usage: run_walkthroughs.sh PAGE.md BUILD_DIR
set -euo pipefail
page=$1
build=$(cd "$2" && pwd)
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
work=$(mktemp -d /tmp/vigil-walkthrough.XXXXXX)
state=$(mktemp -d /tmp/vigil-walkthrough-kafka.XXXXXX)
cleanup() {
  "$root/deploy/kafka/kafka-local.sh" stop --state-dir "$state" >/dev/null 2>&1 || true
  rm -rf "$work"
}
trap cleanup EXIT

script=$work/walkthrough.sh
{
  echo 'set -euxo pipefail'
  awk '/^```sh$/ {inside=1; next} /^```$/ {inside=0; next} inside {print}' "$page"
} >"$script"
blocks=$(grep -c '^```sh$' "$page" || true)
[[ $blocks -gt 0 ]] || { echo "run_walkthroughs: no sh blocks in $page" >&2; exit 1; }

line=$("$root/deploy/kafka/kafka-local.sh" start --state-dir "$state" | tail -n 1)
export BROKER=${line#BOOTSTRAP=}
export VIGIL_SOURCE=$root
export PATH=$build/services/detector:$build/services/replay:$build/services/archive:$build/services/tail:$PATH
echo "run_walkthroughs: $blocks blocks of $page against $BROKER"
cd "$work"
bash "$script"
echo "run_walkthroughs: all $blocks blocks of $page passed"
