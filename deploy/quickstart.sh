#!/usr/bin/env bash
# README command 1: install what is missing, build, and run the detector offline on the
# bundled sample stream. Prints what was flagged and where the flags were written.
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$root"
bash deploy/install-deps.sh
echo "quickstart: building (release preset)..."
bash deploy/build.sh release >/tmp/vigil-quickstart-build.log 2>&1 || { tail -50 /tmp/vigil-quickstart-build.log; exit 1; }
mkdir -p out
./build/release/services/detector/vigil-detector \
  --input samples/sample-stream.jsonl --output out/flags.jsonl --state-dir out/state
echo
echo "Each line of out/flags.jsonl is one Kafka record (kcat -J envelope) whose payload is a flag;"
echo "dead letters are in out/flags.dlq.jsonl. Field reference: docs/flags.md"
