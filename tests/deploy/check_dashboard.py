#!/usr/bin/env python3
"""Checks the Grafana dashboard (and the metric names of the alert rules) against Vigil's metrics.

  check_dashboard.py [--dashboard JSON] [--rules YAML]... [--promtool PATH]

Dashboard:
- valid JSON with unique integer panel ids, every panel placed inside the 24-column grid and no
  two panels overlapping;
- a `datasource` variable of type datasource (prometheus) and an `instance` variable; every
  panel, target and query variable uses the datasource {"type": "prometheus", "uid": "${datasource}"};
- every panel other than rows has at least one target with an expr;
- every metric an expr names is a Vigil metric (METRICS below, with the _bucket/_sum/_count
  series of histograms), and every vigil_* selector filters by job="$job" and instance=~"$instance";
- every $variable an expr uses is defined;
- with --promtool: every expr, with the Grafana variables replaced, parses as PromQL
  (`promtool check rules` on a temporary rule file).
Rules (--rules): every metric the alert expressions name is a Vigil metric or `up`; every alert
has a severity, summary, description and a runbook whose docs/observability.md#anchor exists.

Exit 0 when all pass, 1 with one line per problem otherwise.
"""
import argparse
import json
import os
import re
import subprocess
import sys
import tempfile

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))

# name: (type, labels, status). Keep in step with docs/observability.md.
METRICS = {
    "vigil_records_in_total": ("counter", "topic", "exists"),
    "vigil_events_total": ("counter", "", "exists"),
    "vigil_records_skipped_total": ("counter", "", "exists"),
    "vigil_flags_total": ("counter", "category, severity", "exists"),
    "vigil_dead_letters_total": ("counter", "reason", "exists"),
    "vigil_batches_total": ("counter", "result", "exists"),
    "vigil_batch_seconds": ("histogram", "", "exists"),
    "vigil_last_commit_timestamp_seconds": ("gauge", "", "exists"),
    "vigil_ready": ("gauge", "", "exists"),
    "vigil_consumer_lag": ("gauge", "topic, partition", "exists"),
    "vigil_rule_pack_info": ("gauge", "version", "exists"),
    "vigil_rule_hits_total": ("counter", "rule", "exists"),
    "vigil_event_to_flag_seconds": ("histogram", "", "exists"),
    "vigil_transaction_commit_seconds": ("histogram", "", "exists"),
    "vigil_rebalances_total": ("counter", "", "exists"),
    "vigil_assigned_partitions": ("gauge", "", "exists"),
    "vigil_restoring_partitions": ("gauge", "", "exists"),
    "vigil_restore_seconds": ("histogram", "", "exists"),
    "vigil_rule_pack_reload_failures_total": ("counter", "", "exists"),
    "vigil_blocklist_entries": ("gauge", "feed, source", "exists"),
    "vigil_blocklist_hits_total": ("counter", "feed", "exists"),
    "vigil_blocklist_malformed_lines": ("gauge", "feed", "exists"),
    "vigil_blocklist_malformed_records_total": ("counter", "", "exists"),
    "vigil_blocklist_reload_failures_total": ("counter", "", "exists"),
    "vigil_blocklist_topic_up": ("gauge", "", "exists"),
    "vigil_rocksdb_live_bytes": ("gauge", "", "exists"),
    "vigil_rocksdb_pending_compaction_bytes": ("gauge", "", "exists"),
    "vigil_rocksdb_block_cache_usage_bytes": ("gauge", "", "exists"),
}
PROMETHEUS_BUILTIN = {"up"}  # allowed in alert rules only

DS = {"type": "prometheus", "uid": "${datasource}"}

# PromQL words that are not metric names.
KEYWORDS = {
    "by", "without", "on", "ignoring", "group_left", "group_right", "and", "or", "unless", "bool",
    "offset", "atan2", "inf", "nan",
}


def series_names():
    names = {}
    for name, (kind, _, _) in METRICS.items():
        names[name] = name
        if kind == "histogram":
            for suffix in ("_bucket", "_sum", "_count"):
                names[name + suffix] = name
    return names


def substitute(expr):
    """Grafana variables -> values PromQL accepts."""
    expr = expr.replace("$__rate_interval", "1m").replace("$__interval", "1m").replace("$__range", "1h")
    expr = re.sub(r"\$\{?instance\}?", ".*", expr)
    return re.sub(r"\$\{?(\w+)\}?", r"x", expr)


def metric_names(expr):
    """Metric names referenced by a PromQL expression (a small lexer, enough for our exprs)."""
    e = re.sub(r'"(?:[^"\\]|\\.)*"|\'(?:[^\'\\]|\\.)*\'', '""', expr)  # strings
    e = re.sub(r"\{[^}]*\}", " ", e)                                   # label matchers
    e = re.sub(r"\[[^\]]*\]", " ", e)                                  # ranges, subqueries
    e = re.sub(r"\b(by|without|on|ignoring|group_left|group_right)\s*\([^)]*\)", " ", e)  # label lists
    names = []
    for m in re.finditer(r"[A-Za-z_:][A-Za-z0-9_:]*", e):
        word = m.group(0)
        rest = e[m.end():].lstrip()
        if rest.startswith("("):
            continue  # function or aggregation
        if word.lower() in KEYWORDS:
            continue
        if m.start() > 0 and (e[m.start() - 1].isdigit() or e[m.start() - 1] == "."):
            continue  # 1e3, 5m
        names.append(word)
    return names


def walk_panels(panels):
    for p in panels:
        yield p
        yield from walk_panels(p.get("panels", []))


def check_dashboard(path, problems):
    try:
        with open(path, encoding="utf-8") as f:
            dash = json.load(f)
    except (OSError, ValueError) as e:
        problems.append(f"{path}: not valid JSON: {e}")
        return [], set()
    variables = {v.get("name"): v for v in dash.get("templating", {}).get("list", [])}
    ds_var = variables.get("datasource")
    if not ds_var or ds_var.get("type") != "datasource" or ds_var.get("query") != "prometheus":
        problems.append("no `datasource` variable of type datasource with query prometheus")
    if "instance" not in variables:
        problems.append("no `instance` variable")
    for name, v in variables.items():
        if v.get("type") == "query" and v.get("datasource") != DS:
            problems.append(f"variable {name}: datasource {v.get('datasource')} is not {DS}")

    ids, exprs, cells = {}, [], {}
    names = series_names()
    used = set()
    for p in walk_panels(dash.get("panels", [])):
        title = p.get("title", "?")
        pid = p.get("id")
        if not isinstance(pid, int):
            problems.append(f"panel {title!r}: id {pid!r} is not an integer")
        elif pid in ids:
            problems.append(f"panel {title!r}: id {pid} already used by {ids[pid]!r}")
        else:
            ids[pid] = title
        g = p.get("gridPos", {})
        try:
            x, y, w, h = (int(g[k]) for k in ("x", "y", "w", "h"))
        except (KeyError, TypeError, ValueError):
            problems.append(f"panel {title!r}: gridPos {g} lacks x, y, w or h")
        else:
            if x < 0 or w <= 0 or h <= 0 or x + w > 24:
                problems.append(f"panel {title!r}: gridPos {g} is outside the 24-column grid")
            for cx in range(x, x + w):
                for cy in range(y, y + h):
                    if (cx, cy) in cells:
                        problems.append(f"panel {title!r} overlaps panel {cells[(cx, cy)]!r} at x={cx} y={cy}")
                        break
                    cells[(cx, cy)] = title
                else:
                    continue
                break
        if p.get("type") == "row":
            continue
        if p.get("datasource") != DS:
            problems.append(f"panel {title!r}: datasource {p.get('datasource')} is not {DS}")
        targets = [t for t in p.get("targets", []) if t.get("expr", "").strip()]
        if not targets:
            problems.append(f"panel {title!r}: no target with an expr")
        for t in p.get("targets", []):
            if t.get("datasource", DS) != DS:
                problems.append(f"panel {title!r} target {t.get('refId')}: datasource {t.get('datasource')} is not {DS}")
        for t in targets:
            expr = t["expr"]
            exprs.append((title, expr))
            for n in metric_names(expr):
                if n not in names:
                    problems.append(f"panel {title!r}: unknown metric {n} in {expr}")
                else:
                    used.add(names[n])
            for m in re.finditer(r"\b(vigil_[A-Za-z0-9_]+)\s*(\{[^}]*\})?", expr):
                sel = m.group(2) or ""
                if 'instance=~"$instance"' not in sel or 'job="$job"' not in sel:
                    problems.append(f"panel {title!r}: selector of {m.group(1)} lacks "
                                    f'job="$job" and instance=~"$instance": {expr}')
            for v in re.findall(r"\$\{?(\w+)", expr):
                if not v.startswith("__") and v not in variables:
                    problems.append(f"panel {title!r}: undefined variable ${v} in {expr}")
    return exprs, used


def check_promql(promtool, exprs, problems):
    with tempfile.TemporaryDirectory() as tmp:
        path = os.path.join(tmp, "dashboard-exprs.yml")
        with open(path, "w", encoding="utf-8") as f:
            f.write("groups:\n  - name: dashboard\n    rules:\n")
            for i, (_, expr) in enumerate(exprs):
                f.write(f"      - record: dashboard:expr_{i}\n        expr: {json.dumps(substitute(expr))}\n")
        r = subprocess.run([promtool, "check", "rules", path], stdout=subprocess.PIPE,
                           stderr=subprocess.STDOUT, text=True)
        if r.returncode != 0:
            problems.append("dashboard exprs do not all parse as PromQL:\n" + r.stdout.strip())


def doc_anchors(path):
    """GitHub-style anchors of the Markdown headings in path (None when it is missing)."""
    if not os.path.isfile(path):
        return None
    out = set()
    for line in open(path, encoding="utf-8"):
        m = re.match(r"#+\s+(.*)", line)
        if m:
            out.add(re.sub(r"[^\w\- ]", "", m.group(1).strip().lower()).replace(" ", "-"))
    return out


def check_rules(path, problems, anchors):
    import yaml  # python3-yaml
    with open(path, encoding="utf-8") as f:
        doc = yaml.safe_load(f)
    names = series_names()
    n = 0
    for group in doc.get("groups", []):
        for rule in group.get("rules", []):
            n += 1
            for m in metric_names(rule.get("expr", "")):
                if m not in names and m not in PROMETHEUS_BUILTIN:
                    problems.append(f"{os.path.basename(path)}: rule {rule.get('alert') or rule.get('record')}: unknown metric {m}")
            if "alert" in rule:
                runbook = rule.get("annotations", {}).get("runbook", "")
                anchor = re.search(r"observability\.md#([\w-]+)", runbook)
                if anchor and anchors is not None and anchor.group(1) not in anchors:
                    problems.append(f"{os.path.basename(path)}: alert {rule['alert']}: runbook anchor "
                                    f"#{anchor.group(1)} is no heading of docs/observability.md")
                for key in ("summary", "description", "runbook"):
                    if not rule.get("annotations", {}).get(key):
                        problems.append(f"{os.path.basename(path)}: alert {rule['alert']} has no {key} annotation")
                if rule.get("labels", {}).get("severity") not in ("critical", "warning", "info"):
                    problems.append(f"{os.path.basename(path)}: alert {rule['alert']} has no severity critical|warning|info")
    return n


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--dashboard", default=os.path.join(ROOT, "deploy", "grafana", "vigil-dashboard.json"))
    ap.add_argument("--rules", action="append", default=[])
    ap.add_argument("--promtool", help="also parse every dashboard expr with this promtool")
    args = ap.parse_args()

    problems = []
    exprs, used = check_dashboard(args.dashboard, problems)
    if args.promtool and exprs:
        check_promql(args.promtool, exprs, problems)
    print(f"dashboard: {len(exprs)} exprs, {len(used)} of {len(METRICS)} Vigil metrics shown")
    unused = sorted(set(METRICS) - used)
    if unused:
        print(f"dashboard: not shown: {', '.join(unused)}")
    for path in args.rules:
        anchors = doc_anchors(os.path.join(ROOT, "docs", "observability.md"))
        print(f"rules: {os.path.basename(path)}: {check_rules(path, problems, anchors)} rules")
    for p in problems:
        print(f"FAIL: {p}")
    if problems:
        return 1
    print("dashboard: OK")
    return 0


if __name__ == "__main__":
    sys.exit(main())
