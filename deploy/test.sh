#!/usr/bin/env bash
# README command 2: install what is missing, fetch the Kafka broker jars, build, start a real
# local broker, run the whole test suite (unit + integration) and end with the ctest summary.
# The broker is stopped on exit, also when tests fail.
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$root"
preset=${VIGIL_PRESET:-release}

bash deploy/install-deps.sh
deploy/kafka/kafka-local.sh fetch
# The security test runs a Kafka 3.9 broker (SCRAM with Debian's librdkafka; docs/operations.md).
VIGIL_KAFKA_VERSION=3.9.1 deploy/kafka/kafka-local.sh fetch
echo "test: building ($preset preset)..."
bash deploy/build.sh "$preset"

state=$(mktemp -d /tmp/vigil-ci-kafka.XXXXXX)
cleanup() { deploy/kafka/kafka-local.sh stop --state-dir "$state" >/dev/null 2>&1 || true; }
trap cleanup EXIT INT TERM
bootstrap=$(deploy/kafka/kafka-local.sh start --state-dir "$state" | tail -n 1)
export VIGIL_KAFKA_BOOTSTRAP=${bootstrap#BOOTSTRAP=}
echo "test: Kafka broker at $VIGIL_KAFKA_BOOTSTRAP"

ctest --preset "$preset" -j2
