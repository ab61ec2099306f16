#!/usr/bin/env python3
"""Checks that every flag the detector writes for the samples matches schemas/flag.schema.json.

Usage: validate_flags.py DETECTOR SOURCE_DIR WORK_DIR
Runs the detector offline on samples/sample-stream.jsonl (once plain, once with a known-bad feed)
and on tests/data/state/ring.jsonl (a fraud ring),
then validates each flag payload and checks that its score_breakdown adds up.
Fails if there are no flags, if any flag is invalid, or if the detector fails.
"""
import json
import os
import subprocess
import sys

import jsonschema


def breakdown_problems(flag: dict) -> list:
    """What does not add up in score_breakdown: an analyst must be able to recompute the score."""
    b = flag.get("score_breakdown")
    if not isinstance(b, dict):
        return []  # the schema reports it
    problems = []
    listed = [(s["rule"], s["weight"]) for s in b["signals"] + b["counter_signals"]]
    rules = [(r["id"], r["weight"]) for r in flag["rules"]]
    if sorted(listed) != sorted(rules):
        problems.append(f"breakdown lists {listed}, rules[] has {rules}")
    if sum(w for _, w in listed) != b["raw_sum"]:
        problems.append(f"raw_sum {b['raw_sum']} is not the sum of the weights")
    if min(max(b["raw_sum"], b["min"]), b["max"]) != b["score"] or b["score"] != flag["score"]:
        problems.append(f"score {flag['score']} is not raw_sum {b['raw_sum']} clamped to {b['min']}..{b['max']}")
    # Stateful flags (stage B, with a window) fire on their rule's own count threshold.
    if "window" not in flag and b["score"] < b["threshold"]:
        problems.append(f"score {b['score']} is below the threshold {b['threshold']}")
    return problems


def main() -> int:
    detector, source_dir, work_dir = sys.argv[1:4]
    os.makedirs(work_dir, exist_ok=True)
    samples = os.path.join(source_dir, "samples/sample-stream.jsonl")
    plain = os.path.join(work_dir, "schema-flags.jsonl")
    subprocess.run([detector, "--input", samples, "--output", plain], check=True, stdout=subprocess.DEVNULL)
    # Again with a known-bad feed listing a sample domain, so flags with feeds are checked too.
    with open(os.path.join(work_dir, "feed.hosts"), "w", encoding="utf-8") as f:
        f.write("0.0.0.0 momo247.top\n")
    config = os.path.join(work_dir, "schema-detector.yaml")
    with open(config, "w", encoding="utf-8") as f:
        f.write("intel:\n  feeds:\n    - {name: schema-test, path: feed.hosts, format: hosts}\n")
    fed = os.path.join(work_dir, "schema-flags-feed.jsonl")
    subprocess.run([detector, "--config", config, "--input", samples, "--output", fed], check=True,
                   stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    # A few posts that share contacts: stage B's fraud_ring flag and its update.
    ring = os.path.join(work_dir, "schema-flags-ring.jsonl")
    subprocess.run([detector, "--input", os.path.join(source_dir, "tests/data/state/ring.jsonl"), "--output", ring],
                   check=True, stdout=subprocess.DEVNULL)
    with open(os.path.join(source_dir, "schemas/flag.schema.json"), encoding="utf-8") as f:
        schema = json.load(f)
    validator = jsonschema.Draft202012Validator(schema, format_checker=jsonschema.FormatChecker())
    count = 0
    failures = 0
    feeds_seen = 0
    rings_seen = 0
    for out in (plain, fed, ring):
        with open(out, encoding="utf-8") as f:
            for line in f:
                envelope = json.loads(line)
                flag = json.loads(envelope["payload"])
                count += 1
                where = f"{os.path.basename(out)} {envelope['topic']}@{envelope['offset']}"
                for error in validator.iter_errors(flag):
                    failures += 1
                    print(f"{where}: {error.json_path}: {error.message}")
                for problem in breakdown_problems(flag):
                    failures += 1
                    print(f"{where}: score_breakdown: {problem}")
                if envelope["topic"] != "flags." + flag["category"]:
                    failures += 1
                    print(f"{where}: topic does not match category {flag['category']}")
                feeds_seen += sum(1 for r in flag["rules"] if "feeds" in r)
                rings_seen += flag["category"] == "fraud_ring"
    if rings_seen == 0:
        failures += 1
        print("no fraud_ring flag in the run over tests/data/state/ring.jsonl")
    if feeds_seen == 0:
        failures += 1
        print("no flag named a feed in the run with a blocklist")
    print(f"{count} flags checked, {failures} problems")
    return 0 if count > 0 and failures == 0 else 1


if __name__ == "__main__":
    sys.exit(main())
