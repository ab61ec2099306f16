#!/usr/bin/env python3
"""Invariants of the vigil Helm chart, checked on `helm template` output.

Usage: check_rendered.py RENDERED.yaml [--values FILE]...

RENDERED.yaml is one `helm template` run (all documents); the --values files are the chart's
values.yaml then the value set that run used, merged in that order (needed only for the values
the manifests cannot show, such as detector.partitions). Prints one line per violation and exits
1 if there is any, 0 otherwise.
"""

import argparse
import re
import sys

import yaml

STATE_DIR = "/var/lib/vigil"
MIN_GRACE_SECONDS = 30
UID = 10001
WORKLOAD_KINDS = {"StatefulSet", "Deployment", "DaemonSet", "Job", "CronJob"}
SECRET_REF = re.compile(r"^\$\{(file|env):(.+)\}$")
SECRETISH_KEY = re.compile(r"(password|secret|token|credential|private)", re.I)


def merge(base, over):
    if isinstance(base, dict) and isinstance(over, dict):
        out = dict(base)
        for k, v in over.items():
            out[k] = merge(base.get(k), v) if k in base else v
        return out
    return over


class Checker:
    def __init__(self, docs, values):
        self.docs = [d for d in docs if isinstance(d, dict) and d.get("kind")]
        self.values = values
        self.errors = []

    def error(self, where, what):
        self.errors.append(f"{where}: {what}")

    def of_kind(self, kind):
        return [d for d in self.docs if d["kind"] == kind]

    def name(self, doc):
        return f"{doc['kind']}/{doc['metadata']['name']}"

    # ---- helpers over pod specs ----

    @staticmethod
    def pod_spec(doc):
        spec = doc["spec"]
        if doc["kind"] == "CronJob":
            spec = spec["jobTemplate"]["spec"]
        return spec["template"]["spec"]

    @staticmethod
    def containers(pod):
        return list(pod.get("initContainers") or []) + list(pod.get("containers") or [])

    def config_maps(self):
        return {d["metadata"]["name"]: d for d in self.of_kind("ConfigMap")}

    def mounted_file(self, doc, container, path):
        """Content of the file at `path` in `container` when it comes from a rendered ConfigMap."""
        pod = self.pod_spec(doc)
        volumes = {v["name"]: v for v in pod.get("volumes") or []}
        for m in container.get("volumeMounts") or []:
            root = m["mountPath"].rstrip("/") + "/"
            if not path.startswith(root):
                continue
            rel = path[len(root):]
            vol = volumes.get(m["name"], {})
            if "configMap" not in vol:
                return None
            cm = self.config_maps().get(vol["configMap"]["name"])
            if cm is None:
                return None
            key = rel
            for item in vol["configMap"].get("items") or []:
                if item["path"] == rel:
                    key = item["key"]
            return (cm.get("data") or {}).get(key)
        return None

    @staticmethod
    def arg_after(args, *flags):
        for i, a in enumerate(args):
            if a in flags and i + 1 < len(args):
                return args[i + 1]
        return None

    @staticmethod
    def env_from_pod_name(container):
        """Names of env vars set from the pod's metadata.name (downward API)."""
        names = set()
        for e in container.get("env") or []:
            ref = ((e.get("valueFrom") or {}).get("fieldRef") or {}).get("fieldPath")
            if ref == "metadata.name":
                names.add(e["name"])
        return names

    def secret_mount_files(self, doc, container):
        """Paths under which Secret volumes are mounted: {mountPath: set(keys) or None for all}."""
        pod = self.pod_spec(doc)
        volumes = {v["name"]: v for v in pod.get("volumes") or []}
        out = {}
        for m in container.get("volumeMounts") or []:
            vol = volumes.get(m["name"], {})
            if "secret" in vol:
                items = vol["secret"].get("items")
                out[m["mountPath"].rstrip("/")] = {i["path"] for i in items} if items else None
        return out

    # ---- the invariants ----

    def check_security(self, doc):
        where = self.name(doc)
        pod = self.pod_spec(doc)
        psc = pod.get("securityContext") or {}
        if not psc:
            self.error(where, "pod template has no securityContext")
        grace = pod.get("terminationGracePeriodSeconds")
        if grace is None or grace < MIN_GRACE_SECONDS:
            self.error(where, f"terminationGracePeriodSeconds {grace} < {MIN_GRACE_SECONDS} (no time for a final commit)")
        volumes = {v["name"]: v for v in pod.get("volumes") or []}
        for c in self.containers(pod):
            cw = f"{where} container {c['name']}"
            sc = c.get("securityContext") or {}
            if not sc:
                self.error(cw, "no securityContext")

            def eff(key):
                return sc.get(key, psc.get(key))

            if eff("runAsNonRoot") is not True:
                self.error(cw, "runAsNonRoot is not true")
            if eff("runAsUser") != UID:
                self.error(cw, f"runAsUser is {eff('runAsUser')}, expected {UID} (the image's user)")
            if sc.get("readOnlyRootFilesystem") is not True:
                self.error(cw, "readOnlyRootFilesystem is not true")
            if sc.get("allowPrivilegeEscalation") is not False:
                self.error(cw, "allowPrivilegeEscalation is not false")
            if sc.get("privileged"):
                self.error(cw, "privileged")
            if "ALL" not in ((sc.get("capabilities") or {}).get("drop") or []):
                self.error(cw, "capabilities.drop does not contain ALL")
            if (eff("seccompProfile") or {}).get("type") != "RuntimeDefault":
                self.error(cw, "seccompProfile is not RuntimeDefault")
            tmp = [m for m in c.get("volumeMounts") or [] if m["mountPath"] == "/tmp"]
            if not tmp or "emptyDir" not in volumes.get(tmp[0]["name"], {}):
                self.error(cw, "/tmp is not a writable emptyDir (the root filesystem is read-only)")
            if "VIGIL_INSTANCE_ID" not in self.env_from_pod_name(c):
                self.error(cw, "VIGIL_INSTANCE_ID is not set from metadata.name")

    def check_probes(self, doc, c, metrics_port):
        where = f"{self.name(doc)} container {c['name']}"
        declared = {p.get("name"): p["containerPort"] for p in c.get("ports") or []}
        numbers = set(declared.values())
        expected = {"livenessProbe": "/healthz", "readinessProbe": "/readyz"}
        for kind, path in expected.items():
            probe = c.get(kind)
            if not probe or "httpGet" not in probe:
                self.error(where, f"no {kind} with httpGet {path}")
                continue
            get = probe["httpGet"]
            if get.get("path") != path:
                self.error(where, f"{kind} path {get.get('path')} is not {path}")
            port = get.get("port")
            number = declared.get(port) if isinstance(port, str) else port
            if number is None or number not in numbers:
                self.error(where, f"{kind} port {port!r} is not a port the container declares ({declared})")
            elif metrics_port is not None and number != metrics_port:
                self.error(where, f"{kind} port {number} is not the config's metrics.listen port {metrics_port}")
        return declared

    def check_secret_refs(self, where, props, doc, container):
        """Secret-looking properties are ${file:}/${env:} references, and ${file:} paths are mounted Secrets."""
        mounts = self.secret_mount_files(doc, container) if doc is not None else {}
        for key, value in (props or {}).items():
            value = "" if value is None else str(value)
            m = SECRET_REF.match(value)
            if SECRETISH_KEY.search(key) and not m:
                self.error(where, f"{key} holds a literal, not a ${{file:...}} or ${{env:...}} reference")
            if m and m.group(1) == "file" and doc is not None:
                path = m.group(2)
                directory, _, base = path.rpartition("/")
                keys = mounts.get(directory, False)
                if keys is False:
                    self.error(where, f"{key}: {path} is not in a mounted Secret volume")
                elif keys is not None and base not in keys:
                    self.error(where, f"{key}: {base} is not an item of the Secret mounted at {directory}")
            if key.endswith(".location") and value.startswith("/etc/vigil/secrets/") and doc is not None:
                directory = value.rpartition("/")[0]
                if directory not in mounts:
                    self.error(where, f"{key}: {value} is not in a mounted Secret volume")

    def check_detector(self, doc):
        where = self.name(doc)
        pod = self.pod_spec(doc)
        cs = [c for c in pod["containers"] if (c.get("command") or [""])[0].endswith("vigil-detector")]
        if not cs:
            return None
        c = cs[0]
        args = c.get("args") or []
        config_path = self.arg_after(args, "--config", "-c")
        text = self.mounted_file(doc, c, config_path) if config_path else None
        if text is None:
            self.error(where, f"--config {config_path} is not a file of a rendered ConfigMap")
            config = {}
        else:
            config = yaml.safe_load(text) or {}
        listen = self.arg_after(args, "--metrics-listen") or (config.get("metrics") or {}).get("listen")
        metrics_port = None
        if not listen:
            self.error(where, "no metrics.listen in the config: the default 127.0.0.1:9464 is unreachable in a pod")
        else:
            host, _, port = str(listen).rpartition(":")
            metrics_port = int(port)
            if host not in ("0.0.0.0", "", "[::]", "::"):
                self.error(where, f"metrics.listen {listen} does not listen on every interface")
        self.check_probes(doc, c, metrics_port)

        # State: the PVC is mounted where state lives.
        mounts = {m["mountPath"].rstrip("/"): m for m in c.get("volumeMounts") or []}
        state_dir = (config.get("state") or {}).get("dir") if isinstance(config.get("state"), dict) else None
        state_dir = (state_dir or self.arg_after(args, "--state-dir") or STATE_DIR).rstrip("/")
        if state_dir != STATE_DIR:
            self.error(where, f"the config's state dir {state_dir} is not {STATE_DIR}")
        mount = mounts.get(state_dir)
        claims = {t["metadata"]["name"] for t in doc["spec"].get("volumeClaimTemplates") or []}
        volumes = {v["name"]: v for v in pod.get("volumes") or []}
        persistence = ((self.values.get("detector") or {}).get("persistence") or {}).get("enabled", True)
        if mount is None:
            self.error(where, f"nothing is mounted at the state dir {state_dir}")
        elif persistence and mount["name"] not in claims:
            self.error(where, f"{state_dir} is mounted from {mount['name']!r}, not a volumeClaimTemplate ({sorted(claims)})")
        elif not persistence and "emptyDir" not in volumes.get(mount["name"], {}):
            self.error(where, f"{state_dir} has no volume")
        if mount is not None and mount.get("readOnly"):
            self.error(where, f"{state_dir} is mounted read-only")

        # Static membership and the transactional id come from the pod name.
        consumer = config.get("kafka_consumer") or {}
        from_name = self.env_from_pod_name(c)
        static = (self.values.get("detector") or {}).get("staticMembership", True)
        gid = consumer.get("group.instance.id")
        if static and gid is None:
            self.error(where, "staticMembership is on but kafka_consumer has no group.instance.id")
        if gid is not None:
            m = SECRET_REF.match(str(gid))
            if not m or m.group(1) != "env" or m.group(2) not in from_name:
                self.error(where, f"group.instance.id {gid!r} is not ${{env:X}} with X set from metadata.name ({sorted(from_name)})")
        if "transactional.id" in (config.get("kafka_producer") or {}):
            self.error(where, "kafka_producer.transactional.id is fixed in a shared ConfigMap: every pod would share it")

        for section in ("kafka", "kafka_consumer", "kafka_producer"):
            self.check_secret_refs(f"{where} config {section}", config.get(section), doc, c)
        if doc["kind"] == "StatefulSet":
            if doc["spec"].get("podManagementPolicy") != "Parallel":
                self.error(where, "podManagementPolicy is not Parallel")
            if (doc["spec"].get("updateStrategy") or {}).get("type") != "RollingUpdate":
                self.error(where, "updateStrategy is not RollingUpdate")
        return {"config": config, "metrics_port": metrics_port, "container": c}

    def check_tool(self, doc):
        """Archive and replay: their config's secrets, and the archive's static membership."""
        pod = self.pod_spec(doc)
        for c in pod["containers"]:
            args = [str(a) for a in c.get("args") or []]
            path = self.arg_after(args, "--config", "-c")
            where = f"{self.name(doc)} container {c['name']}"
            if path:
                text = self.mounted_file(doc, c, path)
                if text is None:
                    self.error(where, f"-c {path} is not a file of a rendered ConfigMap")
                else:
                    cfg = yaml.safe_load(text) or {}
                    for section in ("kafka", "kafka_consumer", "kafka_producer"):
                        self.check_secret_refs(f"{where} config {section}", cfg.get(section), doc, c)
            for i, a in enumerate(args):
                if a == "-X" and i + 1 < len(args):
                    key, _, value = args[i + 1].partition("=")
                    self.check_secret_refs(f"{where} -X", {key: value}, doc, c)
                    if key == "group.instance.id":
                        m = SECRET_REF.match(value)
                        if not m or m.group(1) != "env" or m.group(2) not in self.env_from_pod_name(c):
                            self.error(where, f"group.instance.id {value!r} does not come from metadata.name")
            if c.get("command", [""])[0].endswith("vigil-archive"):
                listen = self.arg_after(args, "--metrics-listen")
                if not listen or listen == "off":
                    self.error(where, "no --metrics-listen: no /healthz and /readyz to probe")
                else:
                    host, _, port = listen.rpartition(":")
                    if host not in ("0.0.0.0", "", "[::]", "::"):
                        self.error(where, f"--metrics-listen {listen} does not listen on every interface")
                    self.check_probes(doc, c, int(port))
                d = self.arg_after(args, "--dir", "-d") or ""
                mounts = [m for m in c.get("volumeMounts") or [] if d.startswith(m["mountPath"].rstrip("/") + "/")]
                claims = {t["metadata"]["name"] for t in doc["spec"].get("volumeClaimTemplates") or []}
                if not mounts or mounts[0]["name"] not in claims:
                    self.error(where, f"archive dir {d!r} is not on a volumeClaimTemplate")

    def check_config_maps(self):
        for cm in self.of_kind("ConfigMap"):
            for key, text in (cm.get("data") or {}).items():
                try:
                    parsed = yaml.safe_load(text)
                except yaml.YAMLError:
                    parsed = None
                where = f"{self.name(cm)} {key}"
                self.scan_literals(where, parsed)

    def scan_literals(self, where, node, path=""):
        """No secret-looking key anywhere in a ConfigMap holds a literal value."""
        if isinstance(node, dict):
            for k, v in node.items():
                p = f"{path}.{k}" if path else str(k)
                if isinstance(v, (dict, list)):
                    self.scan_literals(where, v, p)
                elif SECRETISH_KEY.search(str(k)) and v not in (None, "") and not SECRET_REF.match(str(v)):
                    self.error(where, f"{p} holds a literal secret-looking value")
        elif isinstance(node, list):
            for i, v in enumerate(node):
                self.scan_literals(where, v, f"{path}[{i}]")

    def check_scaling(self, detector):
        partitions = int((self.values.get("detector") or {}).get("partitions", 0))
        keda = self.of_kind("ScaledObject")
        hpa = self.of_kind("HorizontalPodAutoscaler")
        if keda and hpa:
            self.error("autoscaling", "both a KEDA ScaledObject and an HPA are rendered (they would fight)")
        for so in keda:
            where = self.name(so)
            mx = so["spec"].get("maxReplicaCount")
            if mx is None or int(mx) > partitions:
                self.error(where, f"maxReplicaCount {mx} is above detector.partitions {partitions}")
            if int(so["spec"].get("minReplicaCount", 0)) > int(mx or 0):
                self.error(where, "minReplicaCount > maxReplicaCount")
            triggers = [t for t in so["spec"].get("triggers") or [] if t.get("type") == "kafka"]
            if not triggers:
                self.error(where, "no kafka trigger")
            for t in triggers:
                md = t.get("metadata") or {}
                for k in ("bootstrapServers", "consumerGroup", "lagThreshold"):
                    if not md.get(k):
                        self.error(where, f"kafka trigger has no {k}")
                if md.get("allowIdleConsumers") not in (None, "false", False):
                    self.error(where, "allowIdleConsumers would scale past the partitions")
                if detector:
                    cfg = detector["config"]
                    if md.get("consumerGroup") != (cfg.get("kafka_consumer") or {}).get("group.id"):
                        self.error(where, "trigger consumerGroup is not the detector's group.id")
                    if md.get("bootstrapServers") != (cfg.get("kafka") or {}).get("bootstrap.servers"):
                        self.error(where, "trigger bootstrapServers is not the detector's bootstrap.servers")
                    if "SASL" in str((cfg.get("kafka") or {}).get("security.protocol", "")) and not t.get("authenticationRef"):
                        self.error(where, "Kafka uses SASL but the trigger has no authenticationRef")
        for h in hpa:
            mx = h["spec"].get("maxReplicas")
            if mx is None or int(mx) > partitions:
                self.error(self.name(h), f"maxReplicas {mx} is above detector.partitions {partitions}")
        targets = {(t["spec"]["scaleTargetRef"]["kind"], t["spec"]["scaleTargetRef"]["name"]) for t in keda + hpa}
        for kind, name in targets:
            sts = [d for d in self.docs if d["kind"] == kind and d["metadata"]["name"] == name]
            if not sts:
                self.error("autoscaling", f"scale target {kind}/{name} is not rendered")
            elif "replicas" in sts[0]["spec"]:
                self.error(f"{kind}/{name}", "sets spec.replicas while an autoscaler owns it")
            elif sts[0]["spec"]["template"]["spec"]["containers"][0].get("command", [""])[0].endswith("vigil-detector") is False:
                self.error("autoscaling", f"{kind}/{name} is not the detector")

    @staticmethod
    def selects(selector, labels):
        return bool(selector) and all(labels.get(k) == v for k, v in selector.items())

    def check_service_side(self, detector_doc, detector):
        pod_labels = detector_doc["spec"]["template"]["metadata"]["labels"]
        declared = {p.get("name"): p["containerPort"] for p in detector["container"].get("ports") or []}
        services = [s for s in self.of_kind("Service") if self.selects(s["spec"].get("selector"), pod_labels)]
        if not services:
            self.error(self.name(detector_doc), "no Service selects the detector pods")
        for s in services:
            for p in s["spec"].get("ports") or []:
                tp = p.get("targetPort", p["port"])
                number = declared.get(tp) if isinstance(tp, str) else tp
                if number != detector["metrics_port"]:
                    self.error(self.name(s), f"port {p.get('name')} targets {tp}, not the metrics port {detector['metrics_port']}")
        if not any(self.selects(sm["spec"]["selector"].get("matchLabels"), s["metadata"].get("labels") or {})
                   for sm in self.of_kind("ServiceMonitor") for s in services) and self.of_kind("ServiceMonitor"):
            self.error("ServiceMonitor", "no ServiceMonitor selects the detector Service")
        for pdb in self.of_kind("PodDisruptionBudget"):
            if not self.selects(pdb["spec"]["selector"].get("matchLabels"), pod_labels):
                self.error(self.name(pdb), "does not select the detector pods")
        for np in self.of_kind("NetworkPolicy"):
            if not self.selects(np["spec"]["podSelector"].get("matchLabels"), pod_labels):
                self.error(self.name(np), "does not select the detector pods")
            ports = {p.get("port") for r in np["spec"].get("ingress") or [] for p in r.get("ports") or []}
            if detector["metrics_port"] not in ports and "metrics" not in ports:
                self.error(self.name(np), f"no ingress to the metrics port {detector['metrics_port']}")
            egress_ports = {p.get("port") for r in np["spec"].get("egress") or [] for p in r.get("ports") or []}
            if 53 not in egress_ports:
                self.error(self.name(np), "no egress to DNS (port 53)")
            for broker in str(detector["config"].get("kafka", {}).get("bootstrap.servers", "")).split(","):
                port = int(broker.rpartition(":")[2] or 0)
                if port and port not in egress_ports:
                    self.error(self.name(np), f"no egress to the Kafka port {port} of {broker}")

    def check_service_monitors(self):
        """Each ServiceMonitor selects a Service whose named port it scrapes at /metrics."""
        for sm in self.of_kind("ServiceMonitor"):
            sel = sm["spec"]["selector"].get("matchLabels") or {}
            hit = [s for s in self.of_kind("Service") if self.selects(sel, s["metadata"].get("labels") or {})]
            names = {p.get("name") for s in hit for p in s["spec"].get("ports") or []}
            if not hit:
                self.error(self.name(sm), "selects no Service")
            for ep in sm["spec"].get("endpoints") or []:
                if ep.get("port") not in names or ep.get("path", "/metrics") != "/metrics":
                    self.error(self.name(sm), f"endpoint {ep} is not a Service's named port at /metrics")

    def run(self):
        if self.of_kind("Secret"):
            self.error("chart", "renders a Secret: secrets must come from existing Secrets, by reference")
        self.check_config_maps()
        workloads = [d for d in self.docs if d["kind"] in WORKLOAD_KINDS]
        if not workloads:
            self.error("chart", "renders no workload")
        detector = None
        for w in workloads:
            self.check_security(w)
            pod = self.pod_spec(w)
            is_detector = any((c.get("command") or [""])[0].endswith("vigil-detector") for c in pod["containers"])
            if is_detector:
                result = self.check_detector(w)
                if result:
                    detector = result
                    self.check_service_side(w, result)
            else:
                self.check_tool(w)
        if (self.values.get("detector") or {}).get("enabled", True) and detector is None:
            self.error("chart", "detector.enabled but no vigil-detector workload rendered")
        self.check_scaling(detector)
        self.check_service_monitors()
        return self.errors


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("rendered")
    ap.add_argument("--values", action="append", default=[])
    args = ap.parse_args()
    values = {}
    for f in args.values:
        with open(f) as fh:
            values = merge(values, yaml.safe_load(fh) or {})
    with open(args.rendered) as fh:
        docs = list(yaml.safe_load_all(fh))
    errors = Checker(docs, values).run()
    for e in errors:
        print(f"FAIL {args.rendered}: {e}")
    kinds = sorted({d["kind"] for d in docs if isinstance(d, dict) and d.get("kind")})
    if not errors:
        print(f"ok   {args.rendered}: {len(docs)} documents ({', '.join(kinds)})")
    return 1 if errors else 0


if __name__ == "__main__":
    sys.exit(main())
