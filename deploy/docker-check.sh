#!/usr/bin/env bash
# Builds deploy/Dockerfile and checks the image the way Kubernetes will run it: as uid 10001,
# with a read-only root filesystem and all capabilities dropped, state on a mounted volume.
# It runs an offline detection of samples/sample-stream.jsonl with the state stage on, and the
# other tools' --help, inside the image.
#
# Not part of CI (the image compiles Vigil once more, about 10 minutes on 2 cores); run by
# hand after changing the Dockerfile or the libraries the binaries link:
#
#   bash deploy/docker-check.sh            # needs a running Docker daemon
#   VIGIL_IMAGE=vigil:dev VIGIL_SKIP_BUILD=1 bash deploy/docker-check.sh   # check a built image
#
# Machines without access to Docker Hub (like the development VMs) have no debian:12 image:
# with VIGIL_DEBOOTSTRAP=1 the script makes debian:12 and debian:12-slim from Debian's own
# packages (debootstrap --variant=minbase bookworm) and imports them first. That base is
# close to, not the same as, the official images; use the real ones where you can.
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
image=${VIGIL_IMAGE:-vigil:check}
log() { echo "docker-check: $*" >&2; }

command -v docker >/dev/null || { log "docker missing (Debian: apt-get install docker.io)"; exit 2; }
docker info >/dev/null 2>&1 || { log "no Docker daemon answers (start dockerd)"; exit 2; }

if [[ ${VIGIL_DEBOOTSTRAP:-0} == 1 ]] && ! docker image inspect debian:12 >/dev/null 2>&1; then
  command -v debootstrap >/dev/null || { log "debootstrap missing (apt-get install debootstrap)"; exit 2; }
  rootfs=$(mktemp -d /tmp/vigil-rootfs.XXXXXX)
  log "debootstrap bookworm into $rootfs ..."
  debootstrap --variant=minbase bookworm "$rootfs" http://deb.debian.org/debian >/dev/null
  tar -C "$rootfs" -c . | docker import - debian:12 >/dev/null
  docker tag debian:12 debian:12-slim
  rm -rf "$rootfs"
fi

if [[ ${VIGIL_SKIP_BUILD:-0} == 1 ]]; then
  docker image inspect "$image" >/dev/null 2>&1 || { log "VIGIL_SKIP_BUILD=1 but no image $image"; exit 2; }
else
  log "building $image ..."
  docker build -q -f "$root/deploy/Dockerfile" -t "$image" "$root" >/dev/null
fi

work=$(mktemp -d /tmp/vigil-docker-check.XXXXXX)
trap 'rm -rf "$work"' EXIT
cp "$root/samples/sample-stream.jsonl" "$work/in.jsonl"
cat >"$work/detector.yaml" <<'EOF'
rule_pack: /usr/local/share/vigil/rules/vn-core.yaml   # the pack the image bundles
state:
  dir: /var/lib/vigil/state
EOF
mkdir -p "$work/state" "$work/out"
chmod 777 "$work/state" "$work/out"

run() {
  docker run --rm --read-only --cap-drop ALL --security-opt no-new-privileges \
    -v "$work/detector.yaml:/etc/vigil/detector.yaml:ro" \
    -v "$work/in.jsonl:/in/in.jsonl:ro" -v "$work/out:/out" -v "$work/state:/var/lib/vigil" "$@"
}

fail=0
check() {  # check NAME COMMAND...: runs it, reports, remembers a failure
  local name=$1
  shift
  if "$@"; then log "ok: $name"; else log "FAILED: $name"; fail=1; fi
}

check "runs as uid 10001, not root" \
  bash -c "[[ \$(docker run --rm --entrypoint id '$image' -u) == 10001 ]]"
for tool in vigil-detector vigil-replay vigil-archive vigil-tail; do
  check "$tool --help" bash -c "docker run --rm --entrypoint /usr/local/bin/$tool '$image' --help >/dev/null"
done
check "offline detection with state, read-only root, no capabilities" \
  run "$image" --config /etc/vigil/detector.yaml --input /in/in.jsonl --output /out/flags.jsonl \
  --state-dir /var/lib/vigil/state
check "it flagged something" test -s "$work/out/flags.jsonl"
check "state written to the volume" bash -c "ls '$work/state/state' | grep -q CURRENT"
check "every flag names its rule pack" \
  bash -c "test -s '$work/out/flags.jsonl' && ! grep -v 'rule_pack' '$work/out/flags.jsonl' | grep -q ."
# Offline runs without --state-dir take a scratch directory under /tmp: with a read-only root
# that needs a writable /tmp (an emptyDir in Kubernetes, a tmpfs here).
check "offline detection with a scratch state directory on a tmpfs /tmp" \
  run --tmpfs /tmp "$image" --config /etc/vigil/detector.yaml --input /in/in.jsonl --output /out/flags2.jsonl
check "the same flags either way" bash -c "[[ \$(wc -l <'$work/out/flags.jsonl') == \$(wc -l <'$work/out/flags2.jsonl') ]]"
# Online, when a broker is given (VIGIL_KAFKA_BOOTSTRAP, e.g. from deploy/kafka/kafka-local.sh,
# which listens on 127.0.0.1: the container shares the host's network): the detector joins its
# groups, restores, and /readyz turns 200 on its metrics port.
if [[ -n ${VIGIL_KAFKA_BOOTSTRAP:-} ]]; then
  port=$(/usr/bin/python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
  suffix=docker-check-$$
  cat >"$work/online.yaml" <<EOF
kafka: {bootstrap.servers: "$VIGIL_KAFKA_BOOTSTRAP"}
kafka_consumer: {group.id: "$suffix"}
inputs: [{topic: "$suffix.raw.telegram", adapter: telegram}]
outputs: {flags_topic_prefix: "$suffix.flags.", dlq_topic: "$suffix.dlq"}
metrics: {listen: "127.0.0.1:$port"}
state: {observations_topic: "$suffix.observations", changelog_topic: "$suffix.changelog", dir: /var/lib/vigil/online, partitions: 2}
EOF
  # The input topic must exist for the group to get an assignment: one record that is not a
  # Telegram update creates it (and must end up in the dead-letter topic).
  echo '{"not":"an update"}' | kcat -b "$VIGIL_KAFKA_BOOTSTRAP" -t "$suffix.raw.telegram" -P
  cid=$(docker run -d --rm --network host --read-only --tmpfs /tmp --cap-drop ALL --security-opt no-new-privileges \
    -v "$work/online.yaml:/etc/vigil/detector.yaml:ro" -v "$work/state:/var/lib/vigil" "$image")
  ready=0
  for _ in $(seq 1 120); do
    if curl -fsS "http://127.0.0.1:$port/readyz" >/dev/null 2>&1; then ready=1; break; fi
    sleep 0.5
  done
  check "online: /readyz 200 against $VIGIL_KAFKA_BOOTSTRAP" test "$ready" = 1
  check "online: /metrics serves vigil_ready 1" bash -c "curl -fsS http://127.0.0.1:$port/metrics | grep -q '^vigil_ready 1'"
  check "online: the bad record reached the dead-letter topic" \
    bash -c "kcat -b '$VIGIL_KAFKA_BOOTSTRAP' -t '$suffix.dlq' -C -e -o beginning -q -X isolation.level=read_committed 2>/dev/null | grep -q 'an update'"
  [[ $ready == 1 ]] || docker logs "$cid" 2>&1 | tail -20 >&2
  docker stop -t 30 "$cid" >/dev/null || true
fi

log "image size: $(docker image inspect -f '{{.Size}}' "$image" | awk '{printf "%.0f MB", $1/1e6}')"
exit "$fail"
