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

log "building $image ..."
docker build -q -f "$root/deploy/Dockerfile" -t "$image" "$root" >/dev/null

work=$(mktemp -d /tmp/vigil-docker-check.XXXXXX)
trap 'rm -rf "$work"' EXIT
cp "$root/samples/sample-stream.jsonl" "$work/in.jsonl"
cat >"$work/detector.yaml" <<'EOF'
rule_pack: /etc/vigil/rules/vn-core.yaml
state:
  dir: /var/lib/vigil/state
EOF
mkdir -p "$work/state" "$work/out"
chmod 777 "$work/state" "$work/out"

run() {
  docker run --rm --read-only --cap-drop ALL --security-opt no-new-privileges \
    -v "$work/detector.yaml:/etc/vigil/detector.yaml:ro" -v "$root/rules:/etc/vigil/rules:ro" \
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
  run "$image" --config /etc/vigil/detector.yaml --input /in/in.jsonl --output /out/flags.jsonl
check "it flagged something" test -s "$work/out/flags.jsonl"
check "state written to the volume" bash -c "ls '$work/state/state' | grep -q CURRENT"
check "every flag names its rule pack" bash -c "! grep -v '\"rule_pack\"' '$work/out/flags.jsonl' | grep -q ."
log "image size: $(docker image inspect -f '{{.Size}}' "$image" | awk '{printf "%.0f MB", $1/1e6}')"
exit "$fail"
