#!/usr/bin/env bash
# Replay and archive throughput of vigil-replay / vigil-archive against kcat doing the same
# job on the same broker in the same run (issue #6):
#   replay:  an archive of N corpus records -> a topic    (kcat -P -l VALUES.txt)
#   archive: that topic -> zstd envelope files on disk    (kcat -C -J -e | zstd)
# Usage: bash bench/tools_bench.sh [RECORDS] [BUILD_DIR]   (defaults 200000, build/release)
# Uses $VIGIL_KAFKA_BOOTSTRAP when set, else starts a local broker and stops it at the end.
# Prints a Markdown table; ratios are vigil/kcat (>1: Vigil faster). One run, noisy machine.
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
records=${1:-200000}
build=${2:-$root/build/release}
for bin in services/replay/vigil-replay services/archive/vigil-archive bench/write_corpus; do
  [[ -x $build/$bin ]] || { echo "tools_bench: $build/$bin missing; build the release preset first" >&2; exit 2; }
done
command -v kcat >/dev/null || { echo "tools_bench: kcat missing (apt-get install kcat)" >&2; exit 2; }
command -v zstd >/dev/null || { echo "tools_bench: zstd missing (apt-get install zstd)" >&2; exit 2; }

work=$(mktemp -d /tmp/vigil-tools-bench.XXXXXX)
state=""
cleanup() {
  [[ -n $state ]] && "$root/deploy/kafka/kafka-local.sh" stop --state-dir "$state" >/dev/null 2>&1 || true
  rm -rf "$work"
}
trap cleanup EXIT
if [[ -z ${VIGIL_KAFKA_BOOTSTRAP:-} ]]; then
  state=$(mktemp -d /tmp/vigil-bench-kafka.XXXXXX)
  line=$("$root/deploy/kafka/kafka-local.sh" start --state-dir "$state" | tail -n 1)
  VIGIL_KAFKA_BOOTSTRAP=${line#BOOTSTRAP=}
fi
B=$VIGIL_KAFKA_BOOTSTRAP
run=$$

"$build/bench/write_corpus" "$records" "$work/corpus.jsonl" "$work/values.txt" >/dev/null
bytes=$(stat -c %s "$work/values.txt")
mb=$(awk -v b="$bytes" 'BEGIN{printf "%.1f", b/1e6}')

now() { date +%s.%N; }
secs() { awk -v a="$1" -v b="$2" 'BEGIN{printf "%.3f\n", b-a}'; }
rate() { awk -v n="$1" -v s="$2" 'BEGIN{printf "%.0f", n/s}'; }
mbs() { awk -v n="$1" -v s="$2" 'BEGIN{printf "%.1f", n/1e6/s}'; }
ratio() { awk -v v="$1" -v k="$2" 'BEGIN{printf "%.2f", k/v}'; }  # seconds: kcat/vigil
count() { kcat -b "$B" -Q -t "$1:0:-1" 2>/dev/null | awk '{print $NF}'; }  # end offset of partition 0

median() { sort -g | awk '{a[NR]=$1} END{print a[int((NR+1)/2)]}'; }
reps=${VIGIL_BENCH_REPS:-3}
roll=50000
(( records % roll == 0 )) || roll=$records
archived() {
  local n=0 f first last
  for f in "$1"/*.jsonl.zst; do
    [[ -e $f ]] || continue
    f=${f##*+}; first=${f%%-*}; last=${f#*-}; last=${last%%.*}
    n=$(( n + 10#$last - 10#$first + 1 ))
  done
  echo $n
}
: >"$work/rv"; : >"$work/rk"; : >"$work/av"; : >"$work/ak"
# The broker shares the two cores, so each tool runs $reps times, alternating, and the
# median is reported.
for rep in $(seq 1 "$reps"); do
  topic_v=bench.replay.vigil.$run.$rep
  topic_k=bench.replay.kcat.$run.$rep
  # --- replay: archive -> topic (topics auto-created with one partition)
  t0=$(now)
  "$build/services/replay/vigil-replay" -b "$B" --topic "$topic_v" --format envelope --no-progress \
    "$work/corpus.jsonl" >"$work/replay.log" 2>&1
  t1=$(now)
  kcat -b "$B" -P -t "$topic_k" -l "$work/values.txt"
  t2=$(now)
  secs "$t0" "$t1" >>"$work/rv"; secs "$t1" "$t2" >>"$work/rk"
  nv=$(count "$topic_v"); nk=$(count "$topic_k")
  [[ $nv == "$records" && $nk == "$records" ]] || { echo "tools_bench: replay counts $nv/$nk != $records" >&2; exit 1; }

  # --- archive: topic -> zstd files. One partition; the archiver rolls every 50 000
  # records, so with RECORDS a multiple of 50 000 its last file closes with the last record.
  dir=$work/archive.$rep
  t3=$(now)
  "$build/services/archive/vigil-archive" -b "$B" -d "$dir" -t "$topic_v" -G "bench.archive.$run.$rep" \
    --max-records "$roll" --max-age 1h >"$work/archive.log" 2>&1 &
  apid=$!
  while (( $(archived "$dir/$topic_v") < records )); do sleep 0.02; done
  t4=$(now)
  kill -INT $apid; wait $apid || true
  kcat -b "$B" -C -t "$topic_v" -J -e -q | zstd -q -3 -f -o "$work/kcat-archive.jsonl.zst"
  t5=$(now)
  secs "$t3" "$t4" >>"$work/av"; secs "$t4" "$t5" >>"$work/ak"
  kl=$(zstd -dc "$work/kcat-archive.jsonl.zst" | wc -l)
  [[ $kl == "$records" ]] || { echo "tools_bench: kcat archived $kl != $records" >&2; exit 1; }
  vz=$(du -cb "$dir/$topic_v"/*.jsonl.zst | tail -1 | cut -f1); kz=$(stat -c %s "$work/kcat-archive.jsonl.zst")
  rm -rf "$dir"
done
rv=$(median <"$work/rv"); rk=$(median <"$work/rk"); av=$(median <"$work/av"); ak=$(median <"$work/ak")

echo "Tools bench: $records corpus records, $mb MB of values, broker $B, $(nproc) cores, median of $reps alternating runs"
echo
echo "| job | tool | seconds | records/s | MB/s (values) | vigil vs kcat |"
echo "|---|---|---|---|---|---|"
echo "| replay archive -> topic | vigil-replay (envelopes) | $rv | $(rate "$records" "$rv") | $(mbs "$bytes" "$rv") | $(ratio "$rv" "$rk")x |"
echo "| | kcat -P (value lines) | $rk | $(rate "$records" "$rk") | $(mbs "$bytes" "$rk") | |"
echo "| archive topic -> zstd | vigil-archive (fsync, commit) | $av | $(rate "$records" "$av") | $(mbs "$bytes" "$av") | $(ratio "$av" "$ak")x |"
echo "| | kcat -C -J -e \| zstd -3 | $ak | $(rate "$records" "$ak") | $(mbs "$bytes" "$ak") | |"
echo
echo "archive sizes: vigil $vz bytes, kcat|zstd $kz bytes"
