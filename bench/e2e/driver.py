#!/usr/bin/python3
"""Driver of the end-to-end benchmark on real Kafka (issue #8). Started by bench/e2e/run.sh,
which builds what it needs, starts the broker and passes everything in the environment.

Phases (one broker, the same pre-loaded raw topics for every throughput run):
  raw      e2e_kafka raw: plain librdkafka consumer, detector's consumer settings, to nowhere
  stage_a  vigil-detector, state.enabled=false (stage A, transactions)
  vigil    vigil-detector with stage B, exactly-once transactions (end to end)
  peer     the Kafka Streams application (bench/peers/kafka-streams), exactly_once_v2
then, for vigil and peer, a latency run on fresh topics fed at 50 % of that system's measured
peak by vigil-replay --rate --restamp now (event time = produce time, ms).

Throughput is measured from the first committed offset of the group to the moment all input
is committed (stage B / the repartition topic included where there is one), sampled every
~100 ms; CPU from /proc/<pid>/stat over the same span, peak RSS = VmHWM at the end.
Writes $E2E_OUT/results.json, the Markdown section and the PNG.
"""
import json
import os
import subprocess
import sys
import threading
import time

E = os.environ
ROOT = E["E2E_ROOT"]
BUILD = E["E2E_BUILD"]
B = E["E2E_BOOTSTRAP"]
WORK = E["E2E_WORK"]
RECORDS = int(E["E2E_RECORDS"])
PARTS = int(E.get("E2E_PARTITIONS", "2"))
LAT_SECONDS = float(E.get("E2E_LATENCY_SECONDS", "30"))
PEER_HEAP = E.get("E2E_PEER_HEAP", "512m")
PEER_THREADS = E.get("E2E_PEER_THREADS", "2")
ONLY = set(filter(None, E.get("E2E_ONLY", "").split(",")))
TOOL = os.path.join(BUILD, "bench/e2e_kafka")
DETECTOR = os.path.join(BUILD, "services/detector/vigil-detector")
REPLAY = os.path.join(BUILD, "services/replay/vigil-replay")
PEER_DIR = os.path.join(ROOT, "bench/peers/kafka-streams")
PLATFORMS = [("facebook", "facebook"), ("tiktok", "tiktok"), ("telegram", "telegram"), ("zalo", "zalo"),
             ("reports", "report"), ("canonical", "canonical")]
CATEGORIES = ["fraud_link", "personal_data", "scam", "fraud_ring"]
TICK = os.sysconf("SC_CLK_TCK")


def log(*a):
    print("e2e:", *a, file=sys.stderr, flush=True)


def raw_topics(prefix):
    return [f"{prefix}.raw.{p}" for p, _ in PLATFORMS]


def tool(*args, **kw):
    return subprocess.run([TOOL, args[0], "-b", B, *args[1:]], check=True, capture_output=True, text=True, **kw).stdout


def cpu_seconds(pid):
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / TICK  # utime, stime


def vm_hwm_kb(pid):
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmHWM:"):
                return int(line.split()[1])
    return 0


class Progress:
    """A running `e2e_kafka progress` for one group: latest (ms, committed, end)."""

    def __init__(self, group, topics):
        self.proc = subprocess.Popen([TOOL, "progress", "-b", B, "-g", group, *topics], stdin=subprocess.PIPE,
                                     stdout=subprocess.PIPE, text=True)
        self.last = (0, 0, 0, 0)
        self.thread = threading.Thread(target=self._read, daemon=True)
        self.thread.start()

    def _read(self):
        for line in self.proc.stdout:
            self.last = tuple(map(int, line.split()))

    def close(self):
        self.proc.stdin.close()
        self.proc.wait(timeout=30)


def measure(name, proc, watches, total, timeout=900):
    """Samples until every watch is done: watches[0] (the raw topics' group) has committed
    `total`, the others have committed their end offsets. Returns the measurement."""
    first = None
    done_at = None
    start = time.time()
    samples = []
    while True:
        time.sleep(0.1)
        if proc.poll() is not None:
            raise SystemExit(f"e2e: {name}: the process exited early (code {proc.returncode}); see {WORK}/{name}.log")
        c0 = watches[0].last[1]
        now = time.time()
        cpu = cpu_seconds(proc.pid)
        samples.append((now - start, c0, cpu))
        if first is None and c0 > 0:
            first = (now, c0, cpu)
        raw_done = c0 >= total
        # Topics written in transactions: a committed position may stop before the last commit
        # marker of each partition (librdkafka), hence "- partitions". Only read once the raw
        # input is all committed, when those topics no longer grow.
        rest_done = all(w.last[2] > 0 and w.last[1] >= w.last[2] - w.last[3] for w in watches[1:])
        if raw_done and rest_done:
            done_at = (now, c0, cpu)
            break
        if now - start > timeout:
            raise SystemExit(f"e2e: {name}: not done after {timeout} s (committed {c0}/{total})")
    hwm = vm_hwm_kb(proc.pid)
    # (A latency run calls this only to wait for the end: first and done may be one sample.)
    secs = max(done_at[0] - first[0], 1e-3)
    n = max(total - first[1], 1)
    cpu = done_at[2] - first[2]
    return {"records": n, "seconds": secs, "records_per_s": n / secs, "cpu_seconds": cpu,
            "cpu_s_per_m": cpu / n * 1e6, "records_per_cpu_s": n / cpu if cpu > 0 else None,
            "cores_used": cpu / secs, "vm_hwm_kb": hwm, "timeline": samples[::5]}


def stop(proc):
    if proc.poll() is None:
        proc.terminate()
        try:
            proc.wait(timeout=60)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


def detector_config(path, prefix, group, state, obs_parts):
    with open(path, "w") as f:
        f.write(f"rule_pack: {ROOT}/rules/vn-core.yaml\n")
        f.write(f"kafka:\n  bootstrap.servers: {B}\n")
        f.write(f"kafka_consumer:\n  group.id: {group}\n")
        for kv in filter(None, E.get("E2E_VIGIL_CONSUMER", "").split(",")):
            k, v = kv.split("=", 1)
            f.write(f"  {k}: {v}\n")
        f.write(f"kafka_producer:\n  transactional.id: {group}.txn\n")
        f.write("inputs:\n")
        for p, adapter in PLATFORMS:
            f.write(f"  - {{topic: {prefix}.raw.{p}, adapter: {adapter}}}\n")
        f.write(f"outputs:\n  flags_topic_prefix: {group}.flags.\n  dlq_topic: {group}.dlq\n")
        f.write("metrics:\n  listen: \"off\"\n")
        if E.get("E2E_VIGIL_BATCH"):
            f.write(f"batch:\n  max_records: {E['E2E_VIGIL_BATCH']}\n")
        f.write("intel:\n  blocklist_topic: \"\"\n")
        f.write(f"state:\n  enabled: {'true' if state else 'false'}\n")
        f.write(f"  observations_topic: {group}.observations\n  changelog_topic: {group}.changelog\n")
        f.write(f"  dir: {WORK}/{group}.state\n  partitions: {obs_parts}\n")
        if E.get("E2E_VIGIL_STATE_BATCH"):
            f.write(f"  batch_max_records: {E['E2E_VIGIL_STATE_BATCH']}\n")


def start_vigil(name, prefix, state):
    group = f"{name}.{os.getpid()}"
    cfg = os.path.join(WORK, f"{name}.yaml")
    detector_config(cfg, prefix, group, state, PARTS)
    tool("create", "-p", "1", *[f"{group}.flags.{c}" for c in CATEGORIES], f"{group}.dlq")
    logf = open(os.path.join(WORK, f"{name}.log"), "w")
    # The latency run may serve its metrics (E2E_VIGIL_METRICS=127.0.0.1:PORT), scraped at its end.
    listen = E.get("E2E_VIGIL_METRICS", "off") if name == "vigillat" else "off"
    proc = subprocess.Popen([DETECTOR, "--config", cfg, "--metrics-listen", listen], stdout=logf, stderr=subprocess.STDOUT,
                            env={**E, "VIGIL_INSTANCE_ID": name})
    watches = [Progress(group, raw_topics(prefix))]
    if state:
        watches.append(Progress(f"{group}-state", [f"{group}.observations"]))
    return group, proc, watches, f"{group}.flags."


def start_peer(name, prefix):
    app = f"{name}-{os.getpid()}"
    flags = f"{app}.flags."
    tool("create", "-p", "1", *[f"{flags}{c}" for c in CATEGORIES])
    logf = open(os.path.join(WORK, f"{name}.log"), "w")
    cp = os.path.join(PEER_DIR, "target/vigil-peer.jar") + ":" + os.path.join(PEER_DIR, "target/lib/*")
    proc = subprocess.Popen(["java", "-Xms64m", f"-Xmx{PEER_HEAP}", "-Dorg.slf4j.simpleLogger.defaultLogLevel=warn",
                             f"-Dpeer.props={E.get('E2E_PEER_PROPS', '')}",
                             "-cp", cp, "dev.vigil.peer.PeerApp", B, app, os.path.join(ROOT, "rules/vn-core.yaml"),
                             os.path.join(WORK, f"{app}.state"), PEER_THREADS, f"{prefix}.", flags],
                            stdout=logf, stderr=subprocess.STDOUT)
    watches = [Progress(app, raw_topics(prefix)), Progress(app, [f"{app}-obs-repartition"])]
    return app, proc, watches, flags


def flag_counts(flags_prefix):
    out = json.loads(tool("count", *[f"{flags_prefix}{c}" for c in CATEGORIES]))
    return {t[len(flags_prefix):]: v for t, v in out.items()}


def throughput(kind, prefix, total):
    log(f"throughput: {kind}")
    if kind == "peer":
        group, proc, watches, flags = start_peer("peer", prefix)
    else:
        group, proc, watches, flags = start_vigil(kind, prefix, kind == "vigil")
    # E2E_PERF=stage_a,vigil: a CPU profile of that throughput run (perf record -g, attached to
    # the process) in $E2E_WORK/perf.<kind>.data; read it with perf report -i (keep: E2E_KEEP=1).
    profiler = None
    if kind in set(filter(None, E.get("E2E_PERF", "").split(","))):
        profiler = subprocess.Popen(["perf", "record", *E.get("E2E_PERF_ARGS", "-g").split(), "-p", str(proc.pid), "-o",
                                     os.path.join(WORK, f"perf.{kind}.data")],
                                    stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        m = measure(kind, proc, watches, total)
    finally:
        if profiler is not None:
            profiler.send_signal(2)  # SIGINT: perf writes its file and exits
            profiler.wait(timeout=120)
        stop(proc)
        for w in watches:
            w.close()
    m["flags"] = flag_counts(flags)
    log(f"{kind}: {m['records_per_s']:.0f} records/s, {m['cpu_s_per_m']:.1f} CPU s per M, "
        f"VmHWM {m['vm_hwm_kb'] / 1024:.0f} MiB, flags {m['flags']}")
    return m


def latency(kind, rate, corpus):
    """Fresh topics, the processor started first, then vigil-replay at `rate` stamping now."""
    prefix = f"lat{kind}{os.getpid()}"
    tool("create", "-p", str(PARTS), *raw_topics(prefix))
    n = min(RECORDS, max(1000, int(rate * LAT_SECONDS)))
    log(f"latency: {kind} at {rate:.0f} records/s, {n} records")
    if kind == "peer":
        group, proc, watches, flags = start_peer("peerlat", prefix)
    else:
        group, proc, watches, flags = start_vigil("vigillat", prefix, True)
    lat = subprocess.Popen([TOOL, "latency", "-b", B, "-r", ",".join(raw_topics(prefix)),
                            "-f", ",".join(f"{flags}{c}" for c in CATEGORIES),
                            "--skip-ms", str(int(LAT_SECONDS * 1000 / 3)),
                            # The measuring consumer fetches without waiting (a parked fetch would
                            # add up to fetch.wait.max.ms to what the systems are measured for).
                            "-X", "fetch.wait.max.ms=5"],
                           stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    lat.stdout.readline()  # ready
    try:
        # Wait until the processor has joined its group (the peer: RUNNING), so start-up is not latency.
        time.sleep(8 if kind == "peer" else 3)
        maps = []
        for p, _ in PLATFORMS:
            maps += ["--topic-map", f"raw.{p}={prefix}.raw.{p}"]
        subprocess.run([REPLAY, "-b", B, *maps, "--no-progress", "--rate", str(int(rate)), "--restamp", "now",
                        "-X", "linger.ms=5", corpus + f".{n}"], check=True, capture_output=True)
        m = measure(kind + "-latency", proc, watches, n, timeout=300)
        time.sleep(1)
        if kind != "peer" and E.get("E2E_VIGIL_METRICS"):
            import urllib.request
            with urllib.request.urlopen(f"http://{E['E2E_VIGIL_METRICS']}/metrics", timeout=5) as page, \
                    open(os.path.join(WORK, "vigillat.metrics"), "wb") as f:
                f.write(page.read())
    finally:
        lat.stdin.close()
        out = lat.stdout.read()
        lat.wait()
        stop(proc)
        for w in watches:
            w.close()
    r = json.loads(out.strip().splitlines()[-1])
    r.update({"rate": rate, "records": n, "vm_hwm_kb": m["vm_hwm_kb"]})
    log(f"latency {kind}: {r}")
    return r


def main():
    corpus = os.path.join(WORK, "corpus.jsonl")
    results = {"records": RECORDS, "partitions": PARTS}
    prefix = f"e2e{os.getpid()}"
    # Pre-load the raw topics once.
    tool("create", "-p", str(PARTS), *raw_topics(prefix))
    maps = []
    for p, _ in PLATFORMS:
        maps += ["--topic-map", f"raw.{p}={prefix}.raw.{p}"]
    t = time.time()
    subprocess.run([REPLAY, "-b", B, *maps, "--no-progress", corpus], check=True, capture_output=True)
    log(f"loaded {RECORDS} records in {time.time() - t:.1f} s")

    if not ONLY or "raw" in ONLY:
        log("throughput: raw")
        r = json.loads(tool("raw", "-g", f"raw.{os.getpid()}", *raw_topics(prefix)))
        r.update({"records_per_s": r["records"] / r["seconds"], "cpu_s_per_m": r["cpu_seconds"] / r["records"] * 1e6,
                  "vm_hwm_kb": r["vm_hwm_kb"]})
        results["bytes"] = r["bytes"]
        results["raw"] = r
        log(f"raw: {r}")
    for kind in ("stage_a", "vigil", "peer"):
        if not ONLY or kind in ONLY:
            results[kind] = throughput(kind, prefix, RECORDS)
    for kind in ("vigil", "peer"):
        if (not ONLY or kind in ONLY) and LAT_SECONDS > 0:
            # E2E_LATENCY_RATE compares builds at the same load instead of half their own peak.
            rate = float(E.get("E2E_LATENCY_RATE") or results[kind]["records_per_s"] * 0.5)
            n = min(RECORDS, max(1000, int(rate * LAT_SECONDS)))
            # The first n records of the corpus, as their own archive.
            with open(corpus) as src, open(corpus + f".{n}", "w") as dst:
                for i, line in enumerate(src):
                    if i >= n:
                        break
                    dst.write(line)
            results[kind]["latency"] = latency(kind, rate, corpus)
    with open(os.path.join(WORK, "results.json"), "w") as f:
        json.dump(results, f, indent=1)
    print(os.path.join(WORK, "results.json"))


if __name__ == "__main__":
    main()
