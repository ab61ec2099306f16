#!/usr/bin/python3
"""Renders bench/e2e/driver.py's results.json: the Markdown section of docs/performance.md
(between the e2e markers, replaced on every run) and docs/img/e2e-bench.png.

Usage: report.py RESULTS.json [SCRIPT_SECONDS]   ($E2E_NO_DOCS=1: print the section only)
"""
import json
import os
import re
import subprocess
import sys
import time

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
DOC = os.path.join(ROOT, "docs/performance.md")
PNG = os.path.join(ROOT, "docs/img/e2e-bench.png")
BEGIN = "<!-- e2e:begin (written by bench/e2e/run.sh; edits between these markers are replaced) -->"
END = "<!-- e2e:end -->"
CATS = ["fraud_link", "personal_data", "scam", "fraud_ring"]


def machine():
    lscpu = subprocess.run(["lscpu"], capture_output=True, text=True).stdout
    info = dict(re.findall(r"^([^:]+):\s+(.*)$", lscpu, re.M))
    mem = subprocess.run(["free", "-g"], capture_output=True, text=True).stdout.split("\n")[1].split()[1]
    kernel = os.uname().release
    return (f"{info.get('Model name', '?')}, {info.get('CPU(s)', '?')} vCPU "
            f"({info.get('Thread(s) per core', '?')} thread(s) per core), {mem} GiB RAM, Linux {kernel}; "
            f"broker, load generator and the measured process share these cores")


def fmt(x, d=0):
    return f"{x:,.{d}f}"


def flags_cell(f):
    parts = []
    for c in CATS:
        v = f.get(c, {"records": 0, "updates": 0, "distinct": 0})
        dup = v["records"] - v["updates"] - v.get("distinct", 0)
        parts.append(f"{v['records']:,}" + (f" ({v['updates']:,} upd." + (f", {dup:,} repeated ids" if dup else "") + ")"
                                            if v["updates"] or dup else ""))
    return " / ".join(parts)


def section(r, script_seconds):
    mb = r.get("bytes", 0) / r["records"] / 1e6  # MB per record (values)
    raw, a, v, p = r["raw"], r["stage_a"], r["vigil"], r["peer"]
    per_core = v["records_per_cpu_s"] / p["records_per_cpu_s"]
    mem = v["vm_hwm_kb"] / p["vm_hwm_kb"]
    a_raw = a["records_per_s"] / raw["records_per_s"]
    vl, pl = v.get("latency", {}), p.get("latency", {})

    def ok(b):
        return "**met**" if b else "**missed**"

    out = [BEGIN, "", "## End-to-end on real Kafka (issue #8)", ""]
    out.append(f"`bash bench/e2e/run.sh` (one run, {time.strftime('%Y-%m-%d')}, {script_seconds} s for the whole "
               f"script): {r['records']:,} corpus records (`bench/corpus`: six platforms, 10 % positives, "
               f"{mb * 1e6:,.0f} bytes per record on average, {r.get('bytes', 0) / 1e6:,.1f} MB) pre-loaded into six "
               f"raw topics of {r['partitions']} partitions on a local single-node broker, then each system in "
               f"turn reads them from the start. Machine: {machine()}.")
    out += ["", "Ratios (targets of issue #8):", "",
            "| measure | Vigil | Kafka Streams peer | ratio | target | |",
            "|---|---|---|---|---|---|",
            f"| throughput per core, end to end (records per CPU second) | {fmt(v['records_per_cpu_s'])} | "
            f"{fmt(p['records_per_cpu_s'])} | **{per_core:.2f}×** | ≥ 3× | {ok(per_core >= 3)} |",
            f"| peak RSS (VmHWM), end to end | {fmt(v['vm_hwm_kb'] / 1024)} MiB | {fmt(p['vm_hwm_kb'] / 1024)} MiB | "
            f"**{mem:.2f}** | ≤ 0.25 | {ok(mem <= 0.25)} |",
            f"| stage A alone vs the raw librdkafka consumer (records/s) | {fmt(a['records_per_s'])} | "
            f"raw: {fmt(raw['records_per_s'])} | **{a_raw * 100:.1f} %** | ≥ 60 % | {ok(a_raw >= 0.6)} |"]
    if vl:
        out.append(f"| p99 event → flag at 50 % of the measured peak, all flags | {fmt(vl['p99_ms'])} ms | "
                   f"{fmt(pl.get('p99_ms', -1))} ms | | < 250 ms | {ok(vl['p99_ms'] < 250)} |")
        out.append(f"| the same, content flags (stage A) only | {fmt(vl['content_p99_ms'])} ms | "
                   f"{fmt(pl.get('content_p99_ms', -1))} ms | | | |")
    out += ["", "Absolute numbers (wall time from the group's first committed offset to all input committed, "
                "stage B or the repartition topic included; CPU of the process over the same span):", "",
            "| run | records/s | MB/s | CPU s per million records | records per CPU second | cores used | peak RSS | "
            "flags: fraud_link / personal_data / scam / fraud_ring |",
            "|---|---|---|---|---|---|---|---|"]
    rows = [("(a) raw librdkafka consumer, to nowhere", raw, None),
            ("(b) Vigil stage A (`state.enabled: false`), transactions", a, a.get("flags")),
            ("(c) Vigil end to end (stage A + B), exactly-once", v, v.get("flags")),
            ("(d) Kafka Streams peer, exactly_once_v2", p, p.get("flags"))]
    for name, m, f in rows:
        cores = m.get("cores_used", m["cpu_seconds"] / m["seconds"])
        rpc = m["records"] / m["cpu_seconds"] if m["cpu_seconds"] > 0 else float("nan")
        out.append(f"| {name} | {fmt(m['records_per_s'])} | {fmt(m['records_per_s'] * mb, 1)} | "
                   f"{fmt(m['cpu_s_per_m'], 1)} | {fmt(rpc)} | {cores:.2f} | {fmt(m['vm_hwm_kb'] / 1024)} MiB | "
                   f"{flags_cell(f) if f else '–'} |")
    if vl:
        out += ["", "Latency: fresh topics, the system started first, then `vigil-replay --rate R --restamp now` "
                    "(record timestamp = the moment it is sent); latency = when a `read_committed` consumer of the "
                    "flag topics receives the flag − the timestamp of the flag's source record "
                    f"(`source.topic/partition/offset`). The first third of each run is warm-up and left out.", "",
                "| system | rate (50 % of its peak) | records | flags measured | p50 | p99 | max | "
                "content flags p50 / p99 | stateful flags p50 / p99 | peak RSS |",
                "|---|---|---|---|---|---|---|---|---|---|"]
        for name, l in (("Vigil end to end", vl), ("Kafka Streams peer", pl)):
            if l:
                out.append(f"| {name} | {fmt(l['rate'])}/s | {fmt(l['records'])} | {fmt(l['measured'])} | "
                           f"{fmt(l['p50_ms'])} ms | {fmt(l['p99_ms'])} ms | {fmt(l['max_ms'])} ms | "
                           f"{fmt(l['content_p50_ms'])} / {fmt(l['content_p99_ms'])} ms ({fmt(l['content'])}) | "
                           f"{fmt(l['stateful_p50_ms'])} / {fmt(l['stateful_p99_ms'])} ms ({fmt(l['stateful'])}) | "
                           f"{fmt(l['vm_hwm_kb'] / 1024)} MiB |")
    out += ["", "![e2e benchmark](img/e2e-bench.png)", "", END]
    return "\n".join(out)


def plot(r):
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    names = ["raw\nlibrdkafka", "Vigil\nstage A", "Vigil\nend to end", "Kafka Streams\npeer"]
    runs = [r["raw"], r["stage_a"], r["vigil"], r["peer"]]
    fig, ax = plt.subplots(1, 2, figsize=(12, 4.5))
    x = range(len(runs))
    rps = [m["records_per_s"] for m in runs]
    rpc = [m["records"] / m["cpu_seconds"] for m in runs]
    ax[0].bar([i - 0.2 for i in x], rps, 0.4, label="records/s (wall)")
    ax[0].bar([i + 0.2 for i in x], rpc, 0.4, label="records per CPU second")
    ax[0].set_yscale("log")
    ax[0].set_xticks(list(x), names)
    ax[0].set_title(f"throughput, {r['records']:,} records pre-loaded (log scale)")
    ax[0].legend()
    for i, (a, b) in enumerate(zip(rps, rpc)):
        ax[0].text(i - 0.2, a, f"{a:,.0f}", ha="center", va="bottom", fontsize=7)
        ax[0].text(i + 0.2, b, f"{b:,.0f}", ha="center", va="bottom", fontsize=7)
    lat = [(n, r[k].get("latency")) for n, k in (("Vigil", "vigil"), ("Kafka Streams", "peer"))]
    lat = [(n, l) for n, l in lat if l]
    if lat:
        for j, q in enumerate(("p50_ms", "p99_ms", "max_ms")):
            vals = [l[q] for _, l in lat]
            ax[1].bar([i + (j - 1) * 0.27 for i in range(len(lat))], vals, 0.27, label=q[:-3])
            for i, val in enumerate(vals):
                ax[1].text(i + (j - 1) * 0.27, val, f"{val:,}", ha="center", va="bottom", fontsize=7)
        ax[1].axhline(250, color="red", linestyle="--", linewidth=1, label="target p99 250 ms")
        ax[1].set_xticks(range(len(lat)), [f"{n}\n@ {l['rate']:,.0f}/s" for n, l in lat])
        ax[1].set_yscale("log")
        ax[1].set_title("event → flag latency at 50 % of peak (ms, log scale)")
        ax[1].legend()
    fig.tight_layout()
    os.makedirs(os.path.dirname(PNG), exist_ok=True)
    fig.savefig(PNG, dpi=80)


def main():
    r = json.load(open(sys.argv[1]))
    secs = int(sys.argv[2]) if len(sys.argv) > 2 else 0
    if not all(k in r for k in ("raw", "stage_a", "vigil", "peer")) or os.environ.get("E2E_NO_DOCS") == "1":
        print(json.dumps({k: {x: y for x, y in v.items() if x != "timeline"} if isinstance(v, dict) else v
                          for k, v in r.items()}, indent=1))
        return
    text = section(r, secs)
    doc = open(DOC).read()
    if BEGIN in doc and END in doc:
        doc = doc[:doc.index(BEGIN)] + text + doc[doc.index(END) + len(END):]
    else:
        doc = doc.rstrip("\n") + "\n\n" + text + "\n"
    open(DOC, "w").write(doc)
    try:
        plot(r)
    except ImportError:
        print("e2e: no matplotlib for /usr/bin/python3 (apt-get install python3-matplotlib): PNG not written",
              file=sys.stderr)
    print(text)


if __name__ == "__main__":
    main()
