#!/usr/bin/python3
"""A real run, rendered from the detector's own /metrics.

Starts vigil-detector online against a real broker, replays RECORDS corpus records into its
raw topics at RATE records/s (stamped now, so event-to-flag latency means something), scrapes
/metrics every second, and draws what the Grafana dashboard's first rows show: records in/s,
flags/s by category, consumer lag, batch and event-to-flag p99. Writes a PNG (and the raw
samples as JSON Lines beside it).

Usage: bench/metrics_run.py [--records N] [--rate R] [--build DIR] [--out docs/img/metrics-run.png]
Uses $VIGIL_KAFKA_BOOTSTRAP when set, else starts a local broker (deploy/kafka/kafka-local.sh).
Needs python3-matplotlib.
"""
import argparse
import json
import os
import re
import subprocess
import sys
import tempfile
import time
import urllib.request

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
PLATFORMS = {"facebook": "facebook", "tiktok": "tiktok", "telegram": "telegram", "zalo": "zalo",
             "reports": "report", "canonical": "canonical"}
SAMPLE = re.compile(r'^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{[^}]*\})? ([0-9.eE+-]+|NaN|\+Inf)$')


def scrape(port):
    text = urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=5).read().decode()
    out = []
    for line in text.splitlines():
        m = SAMPLE.match(line)
        if m:
            labels = dict(re.findall(r'(\w+)="([^"]*)"', m.group(2) or ""))
            out.append((m.group(1), labels, float(m.group(3))))
    return out


def total(samples, name, **match):
    return sum(v for n, l, v in samples if n == name and all(l.get(k) == x for k, x in match.items()))


def quantile(prev, cur, name, q):
    """q-quantile of the observations between two scrapes, from the histogram's buckets."""
    def buckets(samples):
        return {float(l["le"]) if l["le"] != "+Inf" else float("inf"): v
                for n, l, v in samples if n == name + "_bucket"}
    a, b = buckets(prev), buckets(cur)
    edges = sorted(b)
    counts = [b[e] - a.get(e, 0.0) for e in edges]
    if not counts or counts[-1] <= 0:
        return None
    want = q * counts[-1]
    lower, below = 0.0, 0.0
    for edge, c in zip(edges, counts):
        if c >= want:
            if edge == float("inf"):
                return lower
            return lower + (edge - lower) * ((want - below) / max(c - below, 1e-9))
        lower, below = edge, c
    return None


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--records", type=int, default=60000)
    ap.add_argument("--rate", type=int, default=2000)
    ap.add_argument("--build", default=os.path.join(ROOT, "build/release"))
    ap.add_argument("--out", default=os.path.join(ROOT, "docs/img/metrics-run.png"))
    args = ap.parse_args()
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    work = tempfile.mkdtemp(prefix="vigil-metrics-run.")
    state = None
    bootstrap = os.environ.get("VIGIL_KAFKA_BOOTSTRAP")
    procs = []
    try:
        if not bootstrap:
            state = os.path.join(work, "kafka")
            line = subprocess.run([os.path.join(ROOT, "deploy/kafka/kafka-local.sh"), "start", "--state-dir", state],
                                  check=True, capture_output=True, text=True).stdout.strip().splitlines()[-1]
            bootstrap = line.split("=", 1)[1]
        prefix = f"run{os.getpid()}"
        corpus = os.path.join(work, "corpus.jsonl")
        subprocess.run([os.path.join(args.build, "bench/write_corpus"), str(args.records), corpus], check=True,
                       capture_output=True)
        config = os.path.join(work, "detector.yaml")
        with open(config, "w") as f:
            f.write(f"kafka:\n  bootstrap.servers: {bootstrap}\n")
            f.write(f"kafka_consumer:\n  group.id: {prefix}.detector\n  statistics.interval.ms: 1000\n")
            f.write(f"kafka_producer:\n  transactional.id: {prefix}.txn\ninputs:\n")
            for topic, adapter in PLATFORMS.items():
                f.write(f"  - {{topic: {prefix}.raw.{topic}, adapter: {adapter}}}\n")
            f.write(f"outputs:\n  flags_topic_prefix: {prefix}.flags.\n  dlq_topic: {prefix}.dlq\n")
            f.write("metrics:\n  listen: 127.0.0.1:0\n")
        log = open(os.path.join(work, "detector.log"), "w")
        detector = subprocess.Popen([os.path.join(args.build, "services/detector/vigil-detector"), "--config", config],
                                    stdout=log, stderr=subprocess.STDOUT)
        procs.append(detector)
        port = None
        for _ in range(200):
            m = re.search(r"metrics on port (\d+)", open(log.name).read())
            if m:
                port = int(m.group(1))
                break
            time.sleep(0.05)
        if port is None:
            sys.exit("metrics_run: the detector did not start: " + open(log.name).read())
        replay_cmd = [os.path.join(args.build, "services/replay/vigil-replay"), "-b", bootstrap, "--no-progress",
                      "--rate", str(args.rate), "--restamp", "now", corpus]
        for topic in PLATFORMS:
            replay_cmd[1:1] = ["--topic-map", f"raw.{topic}={prefix}.raw.{topic}"]
        time.sleep(2)
        replay = subprocess.Popen(replay_cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        procs.append(replay)
        series = []
        start = time.time()
        done_at = None
        while True:
            time.sleep(1)
            series.append((time.time() - start, scrape(port)))
            if replay.poll() is not None and done_at is None:
                done_at = time.time()
            if done_at is not None and time.time() - done_at > 8:
                break
        detector.terminate()
        detector.wait(timeout=60)
    finally:
        for p in procs:
            if p.poll() is None:
                p.kill()
        if state:
            subprocess.run([os.path.join(ROOT, "deploy/kafka/kafka-local.sh"), "stop", "--state-dir", state],
                           capture_output=True)

    os.makedirs(os.path.dirname(args.out), exist_ok=True)
    with open(os.path.splitext(args.out)[0] + ".samples.jsonl", "w") as f:
        for t, samples in series:
            f.write(json.dumps({"t": round(t, 2), "samples": samples}) + "\n")
    ts, rin, lag, fl_pd, fl_fl, p99_batch, p99_e2f = [], [], [], [], [], [], []
    for (t0, a), (t1, b) in zip(series, series[1:]):
        dt = t1 - t0
        ts.append(t1)
        rin.append((total(b, "vigil_records_in_total") - total(a, "vigil_records_in_total")) / dt)
        fl_pd.append((total(b, "vigil_flags_total", category="personal_data") -
                      total(a, "vigil_flags_total", category="personal_data")) / dt)
        fl_fl.append((total(b, "vigil_flags_total", category="fraud_link") -
                      total(a, "vigil_flags_total", category="fraud_link")) / dt)
        lag.append(total(b, "vigil_consumer_lag"))
        p99_batch.append(quantile(a, b, "vigil_batch_seconds", 0.99))
        p99_e2f.append(quantile(a, b, "vigil_event_to_flag_seconds", 0.99))
    fig, ax = plt.subplots(2, 2, figsize=(12, 7), sharex=True)
    fig.suptitle(f"vigil-detector, one real run: {args.records:,} corpus records replayed at {args.rate:,}/s "
                 f"(scraped from /metrics every second)")
    ax[0][0].plot(ts, rin)
    ax[0][0].set_title("records in / s")
    ax[0][1].plot(ts, fl_pd, label="personal_data")
    ax[0][1].plot(ts, fl_fl, label="fraud_link")
    ax[0][1].legend()
    ax[0][1].set_title("flags / s by category")
    ax[1][0].plot(ts, lag)
    ax[1][0].set_title("consumer lag (records, all partitions)")
    ax[1][1].plot(ts, [v * 1000 if v is not None else None for v in p99_batch], label="batch p99")
    ax[1][1].plot(ts, [v * 1000 if v is not None else None for v in p99_e2f], label="event→flag p99")
    ax[1][1].set_title("latency (ms)")
    ax[1][1].legend()
    for a in ax[1]:
        a.set_xlabel("seconds")
    fig.tight_layout()
    fig.savefig(args.out, dpi=80)
    final = series[-1][1]
    print(f"metrics_run: {args.out}: records in {total(final, 'vigil_records_in_total'):.0f}, "
          f"flags {total(final, 'vigil_flags_total'):.0f}, "
          f"dead letters {total(final, 'vigil_dead_letters_total'):.0f}")


if __name__ == "__main__":
    main()
