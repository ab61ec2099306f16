#!/usr/bin/env python3
"""Checks deploy/docker-compose.yml and the files it mounts (no Docker needed).

- every YAML file of the stack parses (compose file, detector config, Prometheus config,
  Grafana provisioning);
- the services exist: kafka, kafka-init, two or more detectors, prometheus, grafana;
- detectors are built from deploy/Dockerfile, have distinct VIGIL_INSTANCE_IDs, mount
  compose/detector.yaml and a state volume at /var/lib/vigil, and their config listens on
  0.0.0.0:9464;
- every published port binds 127.0.0.1 (nothing on all interfaces of the host);
- every bind-mounted file or directory exists, and named volumes are declared;
- Prometheus scrapes every detector in job vigil-detector; Grafana's dashboard provider path
  is where the dashboard JSON is mounted, and its datasource is Prometheus.

Exit 0 when all pass, 1 with one line per problem otherwise.
"""
import argparse
import glob
import os
import sys

import yaml  # python3-yaml

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))


def load(path, problems):
    try:
        with open(path, encoding="utf-8") as f:
            return yaml.safe_load(f)
    except (OSError, yaml.YAMLError) as e:
        problems.append(f"{os.path.relpath(path, ROOT)}: {e}")
        return None


def mounts(service):
    """[(source, target)] of the service's short-syntax volumes."""
    out = []
    for v in service.get("volumes", []) or []:
        parts = v.split(":") if isinstance(v, str) else [v.get("source", ""), v.get("target", "")]
        out.append((parts[0], parts[1] if len(parts) > 1 else ""))
    return out


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--compose", default=os.path.join(ROOT, "deploy", "docker-compose.yml"))
    args = ap.parse_args()
    problems = []
    base = os.path.dirname(os.path.abspath(args.compose))

    yaml_files = [args.compose] + sorted(
        glob.glob(os.path.join(base, "compose", "**", "*.y*ml"), recursive=True))
    docs = {p: load(p, problems) for p in yaml_files}
    compose = docs[args.compose]
    if not isinstance(compose, dict) or "services" not in compose:
        problems.append(f"{args.compose}: no services")
        return report(problems, yaml_files)
    services = compose["services"]
    declared_volumes = set((compose.get("volumes") or {}).keys())

    for name in ("kafka", "kafka-init", "prometheus", "grafana"):
        if name not in services:
            problems.append(f"service {name} missing")
    detectors = {n: s for n, s in services.items()
                 if isinstance(s.get("build"), dict) and s["build"].get("dockerfile") == "deploy/Dockerfile"
                 and "VIGIL_INSTANCE_ID" in (s.get("environment") or {})}
    if len(detectors) < 2:
        problems.append(f"expected two detectors built from deploy/Dockerfile with VIGIL_INSTANCE_ID, found {sorted(detectors)}")
    ids = [s["environment"]["VIGIL_INSTANCE_ID"] for s in detectors.values()]
    if len(set(ids)) != len(ids):
        problems.append(f"detectors share a VIGIL_INSTANCE_ID (transactional.id would fence): {ids}")

    for name, s in services.items():
        for port in s.get("ports", []) or []:
            if not str(port).startswith("127.0.0.1:"):
                problems.append(f"service {name}: port {port} is not bound to 127.0.0.1")
        for src, dst in mounts(s):
            if src.startswith(".") or src.startswith("/"):
                path = os.path.normpath(os.path.join(base, src))
                if not os.path.exists(path):
                    problems.append(f"service {name}: bind mount {src} does not exist ({path})")
            elif src and src not in declared_volumes:
                problems.append(f"service {name}: volume {src} is not declared under volumes:")

    for name, s in detectors.items():
        targets = dict((dst, src) for src, dst in mounts(s))
        cfg_src = targets.get("/etc/vigil/detector.yaml")
        if not cfg_src:
            problems.append(f"detector {name}: no config mounted at /etc/vigil/detector.yaml")
        else:
            cfg = docs.get(os.path.normpath(os.path.join(base, cfg_src))) or {}
            if (cfg.get("metrics") or {}).get("listen") != "0.0.0.0:9464":
                problems.append(f"detector {name}: {cfg_src} metrics.listen is not 0.0.0.0:9464")
        if "/var/lib/vigil" not in targets:
            problems.append(f"detector {name}: no state volume at /var/lib/vigil")

    prom = services.get("prometheus", {})
    prom_mounts = dict((dst, src) for src, dst in mounts(prom))
    cfg_flag = next((a.split("=", 1)[1] for a in prom.get("command", []) or []
                     if str(a).startswith("--config.file=")), None)
    if cfg_flag not in prom_mounts:
        problems.append(f"prometheus: --config.file {cfg_flag} is not a mounted file")
    else:
        pcfg = docs.get(os.path.normpath(os.path.join(base, prom_mounts[cfg_flag]))) or {}
        jobs = {j.get("job_name"): j for j in pcfg.get("scrape_configs", [])}
        job = jobs.get("vigil-detector")
        if not job:
            problems.append("prometheus: no scrape job vigil-detector")
        else:
            scraped = {t for sc in job.get("static_configs", []) for t in sc.get("targets", [])}
            for name in detectors:
                if f"{name}:9464" not in scraped:
                    problems.append(f"prometheus: job vigil-detector does not scrape {name}:9464")
        for rf in pcfg.get("rule_files", []):
            in_container = os.path.normpath(os.path.join(os.path.dirname(cfg_flag), rf))
            mounted = [(dst, src) for dst, src in prom_mounts.items()
                       if in_container == dst or in_container.startswith(dst.rstrip("/") + "/")]
            if not mounted:
                problems.append(f"prometheus: rule file {rf} ({in_container}) is not inside a mount")
            else:
                dst, src = mounted[0]
                local = os.path.normpath(os.path.join(base, src, os.path.relpath(in_container, dst)))
                if not os.path.isfile(local):
                    problems.append(f"prometheus: rule file {rf} maps to {local}, which does not exist")

    graf = services.get("grafana", {})
    graf_mounts = dict((dst, src) for src, dst in mounts(graf))
    dash_targets = [dst for dst, src in graf_mounts.items() if src.endswith("vigil-dashboard.json")]
    prov = docs.get(os.path.join(base, "compose", "grafana", "provisioning", "dashboards", "vigil.yml")) or {}
    paths = [(p.get("options") or {}).get("path") for p in prov.get("providers", [])]
    if not dash_targets:
        problems.append("grafana: the dashboard JSON is not mounted")
    elif not any(os.path.dirname(dash_targets[0]) == p for p in paths):
        problems.append(f"grafana: dashboard mounted at {dash_targets[0]} but the provider reads {paths}")
    dsdoc = docs.get(os.path.join(base, "compose", "grafana", "provisioning", "datasources", "prometheus.yml")) or {}
    dss = dsdoc.get("datasources", [])
    if not any(d.get("type") == "prometheus" and "prometheus:9090" in d.get("url", "") for d in dss):
        problems.append("grafana: no provisioned prometheus datasource at http://prometheus:9090")

    return report(problems, yaml_files, detectors)


def report(problems, yaml_files, detectors=()):
    print(f"compose: {len(yaml_files)} YAML files, detectors {', '.join(sorted(detectors)) or '-'}")
    for p in problems:
        print(f"FAIL: {p}")
    if problems:
        return 1
    print("compose: OK")
    return 0


if __name__ == "__main__":
    sys.exit(main())
