#!/usr/bin/env bash
# Builds the fuzz preset and runs each target for SECONDS (default 20) from its seed corpus.
# Usage: fuzz/run.sh [SECONDS]
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$root"
seconds=${1:-20}
names=(adapters envelope text time flag tool_args blocklist observation)
# Only the fuzz targets and what they link: the tools' executables are not needed here.
cmake --preset fuzz >/dev/null
cmake --build --preset fuzz --target "${names[@]/%/_fuzz}" -- -j"$(nproc)"
for name in "${names[@]}"; do
  work=$(mktemp -d)
  cp -r "fuzz/corpus/$name/." "$work/"
  echo "fuzz: $name for ${seconds}s"
  "build/fuzz/fuzz/${name}_fuzz" -max_total_time="$seconds" -max_len=4096 -timeout=10 "$work" 2>&1 | tail -n 2
  rm -rf "$work"
done
