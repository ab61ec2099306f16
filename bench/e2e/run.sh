#!/usr/bin/env bash
# End-to-end benchmark on a real Kafka broker (issue #8): Vigil against the raw librdkafka
# ceiling and against the same topology written with Kafka Streams.
#
#   bash bench/e2e/run.sh            # build what is missing, run, rewrite the section
#                                    # "End-to-end on real Kafka (issue #8)" of docs/performance.md
#                                    # and docs/img/e2e-bench.png
#
# What it does:
#   1. builds vigil-detector, vigil-replay, write_corpus and e2e_kafka (release preset, -j2) and
#      the Kafka Streams peer (mvn package in bench/peers/kafka-streams) when they are missing;
#   2. starts a throwaway broker (deploy/kafka/kafka-local.sh), writes E2E_RECORDS corpus records
#      (bench/corpus: six platforms, 10 % positives) and pre-loads them into the six raw topics
#      (E2E_PARTITIONS partitions each) with vigil-replay;
#   3. measures, one after the other on the same pre-loaded topics: (a) the raw librdkafka ceiling
#      (bench/e2e/e2e_kafka raw), (b) vigil-detector with state.enabled=false (stage A),
#      (c) vigil-detector end to end (stage A + stage B, exactly-once transactions),
#      (d) the Kafka Streams peer (exactly_once_v2): sustained records/s and MB/s, CPU seconds
#      per million records (/proc/<pid>/stat), peak RSS (VmHWM), flag counts by category;
#   4. for (c) and (d), a latency run on fresh topics fed by vigil-replay --rate at 50 % of the
#      peak just measured, stamping records when sent: event -> flag p50/p99/max, as seen by a
#      read_committed consumer of the flag topics;
#   5. writes the Markdown table into docs/performance.md (between the e2e markers) and the PNG.
#
# Knobs (environment):
#   E2E_RECORDS=300000        records of the load (the 20-minute budget; 1000000+ for a longer run)
#   E2E_PARTITIONS=2          partitions of each raw topic, of vigil.observations and the peer's
#                             repartition topic
#   E2E_LATENCY_SECONDS=30    length of each rate-limited latency run (0: skip them)
#   E2E_LATENCY_RATE=N        records/s of the latency runs (default: 50 % of each one's peak)
#   E2E_PEER_HEAP=512m        the peer's -Xmx (-Xms64m: the heap grows only as far as it needs)
#   E2E_PEER_THREADS=2        the peer's num.stream.threads
#   E2E_PEER_PROPS=k=v,...    extra StreamsConfig properties for the peer (e.g.
#                             consumer.fetch.max.wait.ms=20)
#   E2E_VIGIL_BATCH, E2E_VIGIL_STATE_BATCH, E2E_VIGIL_CONSUMER=k=v,...   the detector's
#                             batch.max_records, state.batch_max_records, kafka_consumer extras
#   E2E_VIGIL_METRICS=127.0.0.1:PORT   the latency run serves /metrics there; scraped at its end
#                             into vigillat.metrics in the work directory (keep it: E2E_KEEP=1)
#   E2E_PERF=stage_a,vigil    profile those throughput runs (perf record -g attached to the
#                             detector) into perf.<phase>.data in the work directory (E2E_KEEP=1)
#   E2E_ONLY=raw,stage_a,vigil,peer   run only these phases (then the docs are not rewritten)
#   E2E_NO_DOCS=1             do not touch docs/ (results stay in the work directory)
#   E2E_BUILD=build/release   build directory; VIGIL_KAFKA_BOOTSTRAP: use that broker instead
#
# Not part of CI (.ci/run). Needs Java 17+, Maven, cmake/ninja and /usr/bin/python3 with
# matplotlib (python3-matplotlib).
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
cd "$root"
export E2E_ROOT=$root
export E2E_BUILD=${E2E_BUILD:-$root/build/release}
export E2E_RECORDS=${E2E_RECORDS:-300000}
export E2E_PARTITIONS=${E2E_PARTITIONS:-2}
PY=/usr/bin/python3
started=$(date +%s)

# ---- 1. build
need=()
for t in services/detector/vigil-detector services/replay/vigil-replay bench/write_corpus bench/e2e_kafka; do
  [[ -x $E2E_BUILD/$t ]] || need+=("$(basename "$t")")
done
if ((${#need[@]})) || [[ ${E2E_REBUILD:-0} == 1 ]]; then
  [[ -f $E2E_BUILD/build.ninja ]] || cmake --preset release >/dev/null
  echo "e2e: building ${need[*]:-all} (-j2)" >&2
  cmake --build "$E2E_BUILD" -j2 --target vigil-detector vigil-replay write_corpus e2e_kafka >&2
fi
if [[ ! -f bench/peers/kafka-streams/target/vigil-peer.jar || ${E2E_REBUILD:-0} == 1 ]]; then
  echo "e2e: building the Kafka Streams peer (mvn package)" >&2
  (cd bench/peers/kafka-streams && mvn -q -B package >&2)
fi

# ---- 2. broker and load
export E2E_WORK=$(mktemp -d /tmp/vigil-e2e.XXXXXX)
state=""
cleanup() {
  [[ -n $state ]] && deploy/kafka/kafka-local.sh stop --state-dir "$state" >/dev/null 2>&1 || true
  [[ ${E2E_KEEP:-0} == 1 ]] || rm -rf "$E2E_WORK"
}
trap cleanup EXIT
if [[ -z ${VIGIL_KAFKA_BOOTSTRAP:-} ]]; then
  state=$E2E_WORK/kafka
  line=$(deploy/kafka/kafka-local.sh start --state-dir "$state" | tail -n 1)
  VIGIL_KAFKA_BOOTSTRAP=${line#BOOTSTRAP=}
fi
export E2E_BOOTSTRAP=$VIGIL_KAFKA_BOOTSTRAP
"$E2E_BUILD/bench/write_corpus" "$E2E_RECORDS" "$E2E_WORK/corpus.jsonl" >/dev/null

# ---- 3, 4. measure
results=$("$PY" bench/e2e/driver.py)

# ---- 5. report
"$PY" bench/e2e/report.py "$results" "$(( $(date +%s) - started ))"
