#!/usr/bin/env bash
# Configures and builds one CMake preset (default: release). Used by the README commands and CI.
set -euo pipefail
preset=${1:-release}
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$root"
cmake --preset "$preset" >/dev/null
cmake --build --preset "$preset" -- -j"$(nproc)"
