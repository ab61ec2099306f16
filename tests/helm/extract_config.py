#!/usr/bin/env python3
"""Writes the detector config of a `helm template` render to OUTDIR/detector.yaml so that the real
vigil-detector can load it outside a pod: paths under /etc/vigil/ are moved under OUTDIR/etc/, and
every file the config references (${file:...} secrets, ssl.*.location) is created with a
placeholder. Usage: extract_config.py RENDERED.yaml OUTDIR
"""
import os
import re
import sys

import yaml


def main():
    rendered, outdir = sys.argv[1], os.path.abspath(sys.argv[2])
    text = None
    for doc in yaml.safe_load_all(open(rendered)):
        if isinstance(doc, dict) and doc.get("kind") == "ConfigMap" and "detector.yaml" in (doc.get("data") or {}):
            text = doc["data"]["detector.yaml"]
    if text is None:
        print(f"{rendered}: no ConfigMap with detector.yaml", file=sys.stderr)
        return 1
    text = text.replace("/etc/vigil/", f"{outdir}/etc/")
    config = yaml.safe_load(text)
    for section in ("kafka", "kafka_consumer", "kafka_producer"):
        for key, value in (config.get(section) or {}).items():
            m = re.match(r"^\$\{file:(.+)\}$", str(value))
            path = m.group(1) if m else (str(value) if key.endswith(".location") else None)
            if path and path.startswith(outdir):
                os.makedirs(os.path.dirname(path), exist_ok=True)
                with open(path, "w") as fh:
                    fh.write("placeholder\n")
    os.makedirs(outdir, exist_ok=True)
    with open(os.path.join(outdir, "detector.yaml"), "w") as fh:
        fh.write(text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
