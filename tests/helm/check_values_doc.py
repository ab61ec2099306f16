#!/usr/bin/env python3
"""Every value of helm/vigil/values.yaml is documented: a `# -- ` comment above it in values.yaml
and a row in the README's values table, and the README names no value that does not exist.

Usage: check_values_doc.py CHART_DIR. A value is a key with a `# -- ` comment; keys without
one are groups whose children are values. Prints one line per problem; exit 1 if any.
"""
import re
import sys

import yaml


def documented_keys(path):
    keys, stack, commented, problems = [], [], False, []
    with open(path) as fh:
        lines = fh.read().splitlines()
    for i, line in enumerate(lines):
        c = re.match(r"^\s*# ?(.*)$", line)
        if c:
            commented = commented or c.group(1).startswith("-- ")
            continue
        m = re.match(r"^(\s*)([A-Za-z0-9_.]+):(.*)$", line)
        if not m:
            continue
        indent = len(m.group(1))
        while stack and stack[-1][0] >= indent:
            stack.pop()
        key = ".".join([s[1] for s in stack] + [m.group(2)])
        stack.append((indent, m.group(2), commented))
        if commented:
            keys.append(key)
        elif m.group(3).strip() not in ("",) and not any(s[2] for s in stack[:-1]):
            problems.append(f"values.yaml:{i + 1}: {key} has no '# -- ' comment")
        commented = False
    return keys, problems


def main():
    chart = sys.argv[1]
    keys, problems = documented_keys(f"{chart}/values.yaml")
    yaml.safe_load(open(f"{chart}/values.yaml"))  # and it parses
    readme = open(f"{chart}/README.md").read()
    rows = set(re.findall(r"^\| `([A-Za-z0-9_.]+)` \|", readme, re.M))
    for k in keys:
        if k not in rows:
            problems.append(f"README.md: no row for value {k}")
    for r in sorted(rows - set(keys)):
        problems.append(f"README.md: row {r} is not a value of values.yaml")
    for p in problems:
        print(f"FAIL {p}")
    if not problems:
        print(f"ok   {len(keys)} values documented in values.yaml and README.md")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
