#!/usr/bin/env python3
"""Checks that every flag the detector writes for the samples matches schemas/flag.schema.json.

Usage: validate_flags.py DETECTOR SOURCE_DIR WORK_DIR
Runs the detector offline on samples/sample-stream.jsonl, then validates each flag payload.
Fails if there are no flags, if any flag is invalid, or if the detector fails.
"""
import json
import os
import subprocess
import sys

import jsonschema


def main() -> int:
    detector, source_dir, work_dir = sys.argv[1:4]
    os.makedirs(work_dir, exist_ok=True)
    out = os.path.join(work_dir, "schema-flags.jsonl")
    subprocess.run([detector, "--input", os.path.join(source_dir, "samples/sample-stream.jsonl"), "--output", out],
                   check=True, stdout=subprocess.DEVNULL)
    with open(os.path.join(source_dir, "schemas/flag.schema.json"), encoding="utf-8") as f:
        schema = json.load(f)
    validator = jsonschema.Draft202012Validator(schema, format_checker=jsonschema.FormatChecker())
    count = 0
    failures = 0
    with open(out, encoding="utf-8") as f:
        for line in f:
            envelope = json.loads(line)
            flag = json.loads(envelope["payload"])
            count += 1
            for error in validator.iter_errors(flag):
                failures += 1
                print(f"{envelope['topic']}@{envelope['offset']}: {error.json_path}: {error.message}")
            if envelope["topic"] != "flags." + flag["category"]:
                failures += 1
                print(f"{envelope['topic']}@{envelope['offset']}: topic does not match category {flag['category']}")
    print(f"{count} flags checked, {failures} problems")
    return 0 if count > 0 and failures == 0 else 1


if __name__ == "__main__":
    sys.exit(main())
