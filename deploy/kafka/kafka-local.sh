#!/usr/bin/env bash
# kafka-local.sh - run a throwaway single-node Apache Kafka 4.x broker (KRaft,
# combined broker+controller) on 127.0.0.1 without Docker, using jars fetched
# from Maven Central (deploy/kafka/pom.xml). See deploy/kafka/README.md.
set -euo pipefail

SCRIPT_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
POM="$SCRIPT_DIR/pom.xml"
LOG4J_CONF="$SCRIPT_DIR/log4j2.xml"

KAFKA_VERSION="${VIGIL_KAFKA_VERSION:-4.1.1}"
CACHE_DIR="${VIGIL_KAFKA_CACHE:-$HOME/.cache/vigil/kafka/$KAFKA_VERSION}"
LIBS_DIR="$CACHE_DIR/libs"
MARKER="$CACHE_DIR/.complete"
JAVA="${VIGIL_KAFKA_JAVA:-${JAVA_HOME:+$JAVA_HOME/bin/}java}"
MVN="${VIGIL_KAFKA_MVN:-mvn}"
HEAP_OPTS="${VIGIL_KAFKA_HEAP_OPTS:--Xms256m -Xmx768m}"
START_TIMEOUT="${VIGIL_KAFKA_START_TIMEOUT:-90}"
STOP_TIMEOUT="${VIGIL_KAFKA_STOP_TIMEOUT:-30}"
HOST=127.0.0.1
STATE_MARKER=".vigil-kafka-state"   # only dirs containing this are ever rm -rf'd

log() { printf 'kafka-local: %s\n' "$*" >&2; }
die() { log "error: $*"; exit 1; }

usage() {
  cat <<EOF
Usage: $(basename "$0") <command> [options]

Run a throwaway single-node Apache Kafka $KAFKA_VERSION broker (KRaft) on $HOST.

Commands:
  fetch                      Download broker jars into the cache (idempotent).
  start [--state-dir DIR]    Fetch if needed, format storage, start the broker in
                             the background and wait until it answers metadata
                             requests. Last stdout line: BOOTSTRAP=$HOST:<port>
                             DIR defaults to a new mktemp -d /tmp/vigil-kafka.XXXXXX
                             (its path is printed to stderr and saved as DIR/bootstrap,
                             DIR/pid, DIR/broker.log). Any old data in DIR is wiped.
        [--sasl-ssl CERTDIR --scram-user NAME:PASSWORD]
                             Also open a SASL_SSL listener (TLS with CERTDIR/server.pem,
                             the certificate chain, and CERTDIR/server.key, an unencrypted
                             PKCS#8 key) accepting SCRAM-SHA-512, SCRAM-SHA-256 and PLAIN for
                             user NAME; printed as SASL_SSL_BOOTSTRAP=$HOST:<port> before
                             the BOOTSTRAP line.
  stop --state-dir DIR       SIGTERM the broker (SIGKILL after ${STOP_TIMEOUT}s), remove DIR.
                             Idempotent.
  status --state-dir DIR     Exit 0 if the broker is running and answering.
  -h, --help                 This help.

Environment:
  VIGIL_KAFKA_VERSION        Kafka version (default 4.1.1)
  VIGIL_KAFKA_CACHE          jar cache dir (default ~/.cache/vigil/kafka/<version>)
  VIGIL_KAFKA_JAVA           java binary (default \$JAVA_HOME/bin/java or java)
  VIGIL_KAFKA_MVN            mvn binary (default mvn)
  VIGIL_KAFKA_HEAP_OPTS      broker heap flags (default "-Xms256m -Xmx768m")
  VIGIL_KAFKA_START_TIMEOUT  seconds to wait for readiness (default 90)
  VIGIL_KAFKA_STOP_TIMEOUT   seconds to wait after SIGTERM (default 30)
EOF
}

# ---------------------------------------------------------------- fetch ----

fetch_signature() {
  # Cache is valid for this exact pom + version.
  { cat "$POM"; echo "version=$KAFKA_VERSION"; } | sha256sum | cut -d' ' -f1
}

cache_ok() {
  [[ -f "$MARKER" && "$(cat "$MARKER" 2>/dev/null)" == "$(fetch_signature)" ]] \
    && compgen -G "$LIBS_DIR/kafka_2.13-*.jar" >/dev/null
}

cmd_fetch() {
  if cache_ok; then
    log "jars already cached in $LIBS_DIR"
    return 0
  fi
  command -v "$MVN" >/dev/null || die "mvn not found (set VIGIL_KAFKA_MVN)"
  mkdir -p "$CACHE_DIR"
  # Serialise concurrent fetches (parallel test runs share the cache).
  exec 9>"$CACHE_DIR/.lock"
  flock 9
  if cache_ok; then
    exec 9>&-
    log "jars already cached in $LIBS_DIR"
    return 0
  fi
  log "fetching Kafka $KAFKA_VERSION jars from Maven Central into $LIBS_DIR ..."
  local tmp="$CACHE_DIR/libs.tmp.$$"
  rm -rf "$tmp"
  if ! "$MVN" -q -B -Dstyle.color=never -f "$POM" -Dkafka.version="$KAFKA_VERSION" \
        dependency:copy-dependencies -DoutputDirectory="$tmp" >&2; then
    rm -rf "$tmp"
    exec 9>&-
    die "mvn dependency:copy-dependencies failed"
  fi
  rm -rf "$LIBS_DIR"
  mv "$tmp" "$LIBS_DIR"
  fetch_signature >"$MARKER"
  exec 9>&-
  log "fetched $(find "$LIBS_DIR" -name '*.jar' | wc -l) jars"
}

# ---------------------------------------------------------------- helpers ----

free_ports() {  # prints N distinct free TCP ports on $HOST, one per line
  local n="$1"
  if command -v python3 >/dev/null; then
    python3 - "$n" "$HOST" <<'PY'
import socket, sys
n, host = int(sys.argv[1]), sys.argv[2]
socks = []
for _ in range(n):
    s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    s.bind((host, 0))
    socks.append(s)
for s in socks:
    print(s.getsockname()[1])
    s.close()
PY
  else
    local got=() p
    while ((${#got[@]} < n)); do
      p=$((20000 + RANDOM % 30000))
      [[ " ${got[*]-} " == *" $p "* ]] && continue
      # Connection refused => nothing listening.
      if ! (exec 3<>"/dev/tcp/$HOST/$p") 2>/dev/null; then got+=("$p"); fi
    done
    printf '%s\n' "${got[@]}"
  fi
}

random_cluster_id() {  # 16 random bytes, base64url without padding (Kafka Uuid format)
  local id
  while :; do
    id="$(head -c16 /dev/urandom | base64 | tr '+/' '-_' | tr -d '=\n')"
    [[ "$id" != -* ]] && { echo "$id"; return; }
  done
}

pid_is_ours() {  # pid is alive and is a java process for this state dir
  local pid="$1" dir="$2"
  [[ "$pid" =~ ^[0-9]+$ ]] || return 1
  kill -0 "$pid" 2>/dev/null || return 1
  [[ -r "/proc/$pid/cmdline" ]] || return 0   # no procfs: trust kill -0
  tr '\0' ' ' <"/proc/$pid/cmdline" | grep -qF -- "$dir/server.properties"
}

broker_answers() {  # bootstrap state_dir
  local bs="$1" state="$2"
  # Cheap checks first: the listener accepts TCP connections and the broker has
  # logged startup (log4j2.xml keeps kafka.server.KafkaRaftServer at INFO). This
  # avoids kcat blocking for its whole metadata timeout while the broker boots.
  (exec 3<>"/dev/tcp/${bs%:*}/${bs##*:}") 2>/dev/null || return 1
  grep -q "Kafka Server started" "$state/broker.log" 2>/dev/null || return 1
  if command -v kcat >/dev/null; then
    kcat -L -b "$bs" -m 5 >/dev/null 2>&1   # a real metadata round trip
  fi
}

parse_state_dir() {  # sets STATE_DIR (and the secure-listener options) from the args
  STATE_DIR=""
  SASL_SSL_CERTS=""
  SCRAM_USER=""
  while (($#)); do
    case "$1" in
      --state-dir) [[ $# -ge 2 ]] || die "--state-dir needs a value"; STATE_DIR="$2"; shift 2 ;;
      --state-dir=*) STATE_DIR="${1#*=}"; shift ;;
      --sasl-ssl) [[ $# -ge 2 ]] || die "--sasl-ssl needs a directory"; SASL_SSL_CERTS="$2"; shift 2 ;;
      --scram-user) [[ $# -ge 2 ]] || die "--scram-user needs NAME:PASSWORD"; SCRAM_USER="$2"; shift 2 ;;
      -h|--help) usage; exit 0 ;;
      *) die "unknown argument: $1" ;;
    esac
  done
  if [[ -n "$STATE_DIR" && -d "$STATE_DIR" ]]; then
    STATE_DIR="$(cd "$STATE_DIR" && pwd)"
  fi
}

java_cp() { echo "$LIBS_DIR/*"; }

# ---------------------------------------------------------------- start ----

cmd_start() {
  parse_state_dir "$@"
  command -v "$JAVA" >/dev/null || die "java not found (set VIGIL_KAFKA_JAVA or JAVA_HOME)"
  cmd_fetch

  local created_state=0
  if [[ -z "$STATE_DIR" ]]; then
    STATE_DIR="$(mktemp -d /tmp/vigil-kafka.XXXXXX)"
    created_state=1
  else
    mkdir -p "$STATE_DIR"
    STATE_DIR="$(cd "$STATE_DIR" && pwd)"
    if [[ -f "$STATE_DIR/pid" ]] && pid_is_ours "$(cat "$STATE_DIR/pid")" "$STATE_DIR"; then
      die "a broker is already running for $STATE_DIR (pid $(cat "$STATE_DIR/pid"))"
    fi
    if [[ -n "$(ls -A "$STATE_DIR")" && ! -f "$STATE_DIR/$STATE_MARKER" ]]; then
      die "$STATE_DIR is not empty and not a kafka-local state dir; refusing to use it"
    fi
  fi
  touch "$STATE_DIR/$STATE_MARKER"
  rm -rf "$STATE_DIR/data" "$STATE_DIR/pid" "$STATE_DIR/bootstrap" "$STATE_DIR/broker.log"
  log "state dir: $STATE_DIR"

  local ports port cport sport
  mapfile -t ports < <(free_ports 3)
  port="${ports[0]}"; cport="${ports[1]}"; sport="${ports[2]}"
  local bootstrap="$HOST:$port"
  local listeners="PLAINTEXT://$HOST:$port,CONTROLLER://$HOST:$cport"
  local advertised="PLAINTEXT://$HOST:$port"
  local protocols="PLAINTEXT:PLAINTEXT,CONTROLLER:PLAINTEXT"
  if [[ -n "$SASL_SSL_CERTS" ]]; then
    [[ -n "$SCRAM_USER" && "$SCRAM_USER" == *:* ]] || die "--sasl-ssl needs --scram-user NAME:PASSWORD"
    [[ -f "$SASL_SSL_CERTS/server.pem" && -f "$SASL_SSL_CERTS/server.key" ]] \
      || die "--sasl-ssl $SASL_SSL_CERTS: expected server.pem and server.key there"
    SASL_SSL_CERTS="$(cd "$SASL_SSL_CERTS" && pwd)"
    listeners="$listeners,SASL_SSL://$HOST:$sport"
    advertised="$advertised,SASL_SSL://$HOST:$sport"
    protocols="$protocols,SASL_SSL:SASL_SSL"
  fi

  cat >"$STATE_DIR/server.properties" <<EOF
# Generated by kafka-local.sh
process.roles=broker,controller
node.id=1
controller.quorum.voters=1@$HOST:$cport
listeners=$listeners
advertised.listeners=$advertised
controller.listener.names=CONTROLLER
inter.broker.listener.name=PLAINTEXT
listener.security.protocol.map=$protocols
log.dirs=$STATE_DIR/data
num.partitions=1
default.replication.factor=1
auto.create.topics.enable=true
offsets.topic.replication.factor=1
offsets.topic.num.partitions=1
transaction.state.log.replication.factor=1
transaction.state.log.min.isr=1
transaction.state.log.num.partitions=1
share.coordinator.state.topic.replication.factor=1
share.coordinator.state.topic.min.isr=1
min.insync.replicas=1
group.initial.rebalance.delay.ms=0
num.network.threads=2
num.io.threads=4
log.segment.bytes=16777216
log.retention.check.interval.ms=300000
# Archived streams are replayed with their original (old) timestamps; time-based retention
# would delete them minutes after they are written. A test broker keeps everything.
log.retention.ms=-1
EOF
  local scram_args=()
  if [[ -n "$SASL_SSL_CERTS" ]]; then
    local user="${SCRAM_USER%%:*}" password="${SCRAM_USER#*:}"
    # Kafka's PEM key store wants the key and the certificate chain in one file.
    cat "$SASL_SSL_CERTS/server.key" "$SASL_SSL_CERTS/server.pem" >"$STATE_DIR/server.keystore.pem"
    {
      echo "# SASL_SSL listener: TLS from PEM, SCRAM users in the cluster metadata, PLAIN from JAAS."
      echo "sasl.enabled.mechanisms=SCRAM-SHA-512,SCRAM-SHA-256,PLAIN"
      echo "listener.name.sasl_ssl.ssl.keystore.type=PEM"
      echo "listener.name.sasl_ssl.ssl.keystore.location=$STATE_DIR/server.keystore.pem"
      echo "listener.name.sasl_ssl.scram-sha-512.sasl.jaas.config=org.apache.kafka.common.security.scram.ScramLoginModule required;"
      echo "listener.name.sasl_ssl.scram-sha-256.sasl.jaas.config=org.apache.kafka.common.security.scram.ScramLoginModule required;"
      echo "listener.name.sasl_ssl.plain.sasl.jaas.config=org.apache.kafka.common.security.plain.PlainLoginModule required user_$user=\"$password\";"
    } >>"$STATE_DIR/server.properties"
    scram_args=(--add-scram "SCRAM-SHA-512=[name=\"$user\",password=\"$password\"]"
                --add-scram "SCRAM-SHA-256=[name=\"$user\",password=\"$password\"]")
  fi

  local log4j_opts=(-Dlog4j2.configurationFile="$LOG4J_CONF" -Dkafka.logs.dir="$STATE_DIR")
  local cluster_id
  cluster_id="$(random_cluster_id)"
  log "formatting KRaft storage (cluster id $cluster_id) ..."
  if ! "$JAVA" -Xmx256m -XX:+UseSerialGC -XX:TieredStopAtLevel=1 "${log4j_opts[@]}" \
        -cp "$(java_cp)" kafka.tools.StorageTool format \
        -t "$cluster_id" -c "$STATE_DIR/server.properties" "${scram_args[@]}" \
        >"$STATE_DIR/format.log" 2>&1; then
    cat "$STATE_DIR/format.log" >&2
    ((created_state)) && rm -rf "$STATE_DIR"
    die "kafka storage format failed"
  fi

  log "starting broker on $bootstrap (controller $HOST:$cport) ..."
  # shellcheck disable=SC2086
  nohup "$JAVA" $HEAP_OPTS -server -XX:+UseG1GC -XX:MaxGCPauseMillis=20 \
    -XX:InitiatingHeapOccupancyPercent=35 -XX:+ExplicitGCInvokesConcurrent \
    -Djava.awt.headless=true "${log4j_opts[@]}" \
    -cp "$(java_cp)" kafka.Kafka "$STATE_DIR/server.properties" \
    >"$STATE_DIR/broker.log" 2>&1 </dev/null &
  local pid=$!
  echo "$pid" >"$STATE_DIR/pid"
  echo "$bootstrap" >"$STATE_DIR/bootstrap"

  local deadline=$((SECONDS + START_TIMEOUT))
  while :; do
    if ! kill -0 "$pid" 2>/dev/null; then
      start_failed "$pid" "broker process exited during startup" "$created_state"
    fi
    if broker_answers "$bootstrap" "$STATE_DIR"; then
      break
    fi
    if ((SECONDS >= deadline)); then
      start_failed "$pid" "broker not ready after ${START_TIMEOUT}s" "$created_state"
    fi
    sleep 0.2
  done
  log "broker ready (pid $pid); stop with: $0 stop --state-dir $STATE_DIR"
  if [[ -n "$SASL_SSL_CERTS" ]]; then echo "SASL_SSL_BOOTSTRAP=$HOST:$sport"; fi
  echo "BOOTSTRAP=$bootstrap"
}

start_failed() {  # pid msg created_state
  local pid="$1" msg="$2" created="$3"
  log "error: $msg; last lines of $STATE_DIR/broker.log:"
  tail -n 40 "$STATE_DIR/broker.log" >&2 || true
  kill_broker "$pid"
  if ((created)); then rm -rf "$STATE_DIR"; else rm -f "$STATE_DIR/pid"; fi
  exit 1
}

kill_broker() {  # pid: TERM, wait, KILL
  local pid="$1"
  kill -0 "$pid" 2>/dev/null || return 0
  kill -TERM "$pid" 2>/dev/null || true
  local deadline=$((SECONDS + STOP_TIMEOUT))
  while kill -0 "$pid" 2>/dev/null; do
    if ((SECONDS >= deadline)); then
      log "broker pid $pid did not exit after ${STOP_TIMEOUT}s; sending SIGKILL"
      kill -KILL "$pid" 2>/dev/null || true
      sleep 0.2
      break
    fi
    sleep 0.2
  done
  # Reap if it is our child (only when called from start); ignore otherwise.
  wait "$pid" 2>/dev/null || true
}

# ---------------------------------------------------------------- stop/status ----

cmd_stop() {
  parse_state_dir "$@"
  [[ -n "$STATE_DIR" ]] || die "stop requires --state-dir DIR"
  [[ -d "$STATE_DIR" ]] || { log "nothing to stop ($STATE_DIR does not exist)"; return 0; }
  if [[ -f "$STATE_DIR/pid" ]]; then
    local pid
    pid="$(cat "$STATE_DIR/pid")"
    if pid_is_ours "$pid" "$STATE_DIR"; then
      log "stopping broker pid $pid ..."
      kill_broker "$pid"
    fi
  fi
  if [[ -f "$STATE_DIR/$STATE_MARKER" ]]; then
    rm -rf "$STATE_DIR"
    log "removed $STATE_DIR"
  elif [[ -z "$(ls -A "$STATE_DIR")" ]]; then
    rmdir "$STATE_DIR"
  else
    log "warning: $STATE_DIR is not a kafka-local state dir; not removing it"
  fi
}

cmd_status() {
  parse_state_dir "$@"
  [[ -n "$STATE_DIR" ]] || die "status requires --state-dir DIR"
  [[ -f "$STATE_DIR/pid" && -f "$STATE_DIR/bootstrap" ]] || { log "not running"; return 1; }
  local pid bs
  pid="$(cat "$STATE_DIR/pid")"; bs="$(cat "$STATE_DIR/bootstrap")"
  pid_is_ours "$pid" "$STATE_DIR" || { log "not running"; return 1; }
  if broker_answers "$bs" "$STATE_DIR"; then
    log "running (pid $pid) at $bs"
    return 0
  fi
  log "process $pid alive but $bs not answering"
  return 1
}

# ---------------------------------------------------------------- main ----

main() {
  (($#)) || { usage >&2; exit 2; }
  local cmd="$1"; shift
  case "$cmd" in
    fetch) (($# == 0)) || die "fetch takes no arguments"; cmd_fetch ;;
    start) cmd_start "$@" ;;
    stop) cmd_stop "$@" ;;
    status) cmd_status "$@" ;;
    -h|--help|help) usage ;;
    *) usage >&2; exit 2 ;;
  esac
}

main "$@"
