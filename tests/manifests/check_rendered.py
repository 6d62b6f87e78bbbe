#!/usr/bin/env python3
"""Checks every rendered install of netpol-guard (tests/manifests/render-all.sh).

    check_rendered.py RENDER_DIR [SOURCE_DIR] [NETPOL_GUARD_BINARY]

Each rendering is read as a whole and checked for what the issue asks of it:
hardened Deployment, probes, PDB that never blocks a drain, least-privilege RBAC,
a webhook configuration whose failurePolicy follows the mode, whose exclusions
match the binary's --exempt-namespaces and whose rules match the features on
(Namespace CREATE and UPDATE, NetworkPolicy CREATE and UPDATE, DELETE with
baseline protection), whose matchCondition for Namespace UPDATEs is the guarded
expression over the rules.hpp keys, governance flags that never repeat
system:masters,
the namespace's own NetworkPolicies (metrics ingress only from the monitoring
namespaces), reports (--reports, the pod's name and namespace from the downward
API in every rendering, the RBAC for reports, pods, Events and the Lease only
with reports on), priority class and the ResourceQuota that admits it, API Priority
and Fairness, the monitoring kit (ServiceMonitor/PodMonitor, the alerts and
dashboard that match the chart's files), the project's labels, and `serve` args
that are all flags the binary knows (from `netpol-guard serve --help` when the
binary is given, else the documented list below). The expectations per file
are in EXPECT.
"""
import base64
import json
import os
import re
import subprocess
import sys

import yaml

# `netpol-guard serve` flags as documented: name -> True (takes a value),
# False (no value) or "bool" (bare, or =true/=false).
SERVE_FLAGS = {
    "listen": True, "health-listen": True, "tls-cert-file": True,
    "tls-private-key-file": True, "client-ca-file": True, "policies": True,
    "kubeconfig": True, "exempt-namespaces": True, "audit-only": False,
    "check-workloads": "bool", "provision-default-deny": False,
    "protect-baseline": "bool", "max-state-age": True, "log-level": True,
    "exemption-groups": True, "exemption-users": True, "max-exemption-duration": True,
    "deny-allow-all": False, "reports": True, "report-interval": True, "leader-elect": "bool",
    "leader-elect-lease-duration": True, "leader-elect-renew-deadline": True,
    "leader-elect-retry-period": True, "leader-elect-resource-name": True,
    "leader-elect-resource-namespace": True,
}
LOG_LEVELS = {"info", "debug", "warn", "error"}
WEBHOOK = "netpol-guard.k8s-security-pro.io"
NS = "netpol-guard"
ALWAYS_EXEMPT = {"kube-system", "kube-public", "kube-node-lease", NS}
# Who may always loosen a namespace (rules::default_exemption_groups): a flag
# that repeats it would suggest the list replaces the default.
DEFAULT_EXEMPTION_GROUP = "system:masters"
KEYS_CONDITION = "namespace-update-changes-netpol-guard-keys"
# The rules.hpp constants the matchCondition must name verbatim: the label, then
# the annotations.
RULES_HPP = os.path.join("include", "netpol_guard", "netpol", "rules.hpp")
LABEL_CONSTANTS = ["mode_label"]
ANNOTATION_CONSTANTS = ["exempt_annotation", "exempt_reason_annotation", "exempt_until_annotation"]
PROJECT_LABELS = {"app.kubernetes.io/part-of": "k8s-security-pro",
                  "app.kubernetes.io/managed-by": "k8s-security-pro"}
MONITORING_NS = {"matchLabels": {"kubernetes.io/metadata.name": "monitoring"}}
# --reports=API -> the (group, resource) it writes; the Lease leader election takes.
REPORT_RESOURCES = {"openreports": ("openreports.io", "reports"),
                    "policyreport": ("wgpolicyk8s.io", "policyreports")}
LEASE = "netpol-guard"
CHART_FILES = os.path.join("manifests", "charts", "netpol-guard", "files")
WORKLOADS = {("apps", "deployments"), ("apps", "replicasets"), ("apps", "statefulsets"),
             ("apps", "daemonsets"), ("batch", "jobs"), ("batch", "cronjobs")}

# file -> what must hold. mode: enforce|audit; replicas; provisioning;
# netpols: the namespace's own NetworkPolicies present; certmanager: Certificate
# + CA injection;
# namespace: the Namespace object is part of the rendering. Optional: apf (API
# Priority and Fairness objects, default True), priority (default
# system-cluster-critical), spread, monitor (ServiceMonitor|PodMonitor), rules,
# dashboard, metrics_ns / metrics_pods (who may scrape), probe_cidrs,
# node_selector, tolerations, exemption_groups / exemption_users (the lists the
# flags carry), max_exemption_duration (default 2160h), deny_allow_all,
# reports (openreports|policyreport; default off), leader_election (default
# True: the Lease Role; False: --leader-elect=false and no Role).
EXPECT = {
    "kustomize-base.yaml": dict(mode="enforce", replicas=3, provisioning=False, netpols=True,
                                certmanager=False, namespace=True, apf=False),
    "kustomize-dev.yaml": dict(mode="audit", replicas=1, provisioning=False, netpols=True,
                               certmanager=False, namespace=True),
    "kustomize-prod.yaml": dict(mode="enforce", replicas=3, provisioning=True, netpols=True,
                                certmanager=False, namespace=True),
    "kustomize-prod-cert-manager.yaml": dict(mode="enforce", replicas=3, provisioning=True,
                                             netpols=True, certmanager=True, namespace=True),
    "kustomize-prod-monitoring.yaml": dict(mode="enforce", replicas=3, provisioning=True,
                                           netpols=True, certmanager=False, namespace=True,
                                           monitor="ServiceMonitor", rules=True, dashboard=True),
    "kustomize-prod-reports.yaml": dict(mode="enforce", replicas=3, provisioning=True, netpols=True,
                                        certmanager=False, namespace=True, reports="openreports"),
    "kustomize-prod-policyreport.yaml": dict(mode="enforce", replicas=3, provisioning=True,
                                             netpols=True, certmanager=False, namespace=True,
                                             reports="policyreport"),
    "install.yaml": dict(mode="enforce", replicas=3, provisioning=True, netpols=True,
                         certmanager=False, namespace=True),
    "helm-default.yaml": dict(mode="audit", replicas=3, provisioning=False, netpols=True,
                              certmanager=False, namespace=False),
    "helm-prod.yaml": dict(mode="enforce", replicas=3, provisioning=True, netpols=True,
                           certmanager=False, namespace=False),
    "helm-cert-manager.yaml": dict(mode="enforce", replicas=3, provisioning=True, netpols=True,
                                   certmanager=True, namespace=False),
    "helm-reports.yaml": dict(mode="enforce", replicas=3, provisioning=True, netpols=True,
                              certmanager=False, namespace=False, reports="openreports",
                              report_interval="10s"),
    "helm-policyreport.yaml": dict(mode="audit", replicas=1, provisioning=False, netpols=True,
                                   certmanager=False, namespace=False, reports="policyreport",
                                   report_interval="30s", leader_election=False),
    "helm-minimal.yaml": dict(mode="enforce", replicas=2, provisioning=False, netpols=False,
                              certmanager=False, namespace=False, pdb=False,
                              protect_baseline=False, check_workloads=False,
                              secret="my-tls", ca_bundle="Q0EK",
                              exempt=ALWAYS_EXEMPT | {"monitoring"}, priority="", apf=False,
                              spread=False, exemption_groups=["platform-admins", "sre"],
                              exemption_users=["system:serviceaccount:argocd:argocd-application-controller"],
                              max_exemption_duration="720h", deny_allow_all=True),
    "helm-monitoring.yaml": dict(mode="enforce", replicas=3, provisioning=True, netpols=True,
                                 certmanager=False, namespace=False, monitor="ServiceMonitor",
                                 rules=True, dashboard=True),
    "helm-podmonitor.yaml": dict(mode="audit", replicas=3, provisioning=False, netpols=True,
                                 certmanager=False, namespace=False, monitor="PodMonitor",
                                 metrics_ns={"matchLabels": {"team": "observability"}},
                                 metrics_pods={"matchLabels": {"app.kubernetes.io/name": "prometheus"}},
                                 probe_cidrs=["10.0.0.0/16"], node_selector={"kubernetes.io/os": "linux"},
                                 tolerations=[{"key": "dedicated", "operator": "Equal", "value": "security",
                                               "effect": "NoSchedule"}]),
}


class Problems:
    def __init__(self):
        self.items = []
        self.where = ""

    def check(self, cond, msg):
        if not cond:
            self.items.append(f"{self.where}: {msg}")
        return cond


def load(path):
    with open(path) as f:
        return [d for d in yaml.safe_load_all(f) if d]


def one(docs, kind, name=None, p=None):
    found = [d for d in docs if d["kind"] == kind and (name is None or d["metadata"]["name"] == name)]
    if p is not None:
        p.check(len(found) == 1, f"expected exactly one {kind} {name or ''}, found {len(found)}")
    return found[0] if found else None


def flags_from_binary(binary):
    """The flags `serve --help` lists: "  --name value" takes a value, "  --name" is a boolean."""
    out = subprocess.run([binary, "serve", "--help"], capture_output=True, text=True, timeout=10)
    flags = {}
    for line in (out.stdout + out.stderr).splitlines():
        m = re.match(r"^  --([a-z0-9-]+)( value)?$", line)
        if m:
            flags[m.group(1)] = True if m.group(2) else "bool"
    flags.pop("help", None)
    if not {"listen", "tls-cert-file", "exempt-namespaces"} <= set(flags):
        raise SystemExit(f"could not read the flags from {binary} serve --help")
    return flags


def parse_args(args, p):
    """Returns {flag: value} for `serve` args; reports unknown or malformed ones."""
    p.check(args[:1] == ["serve"], f"args must start with 'serve', got {args[:1]}")
    flags = {}
    for a in args[1:]:
        if not p.check(a.startswith("--"), f"argument {a!r} is not a --flag"):
            continue
        name, eq, value = a[2:].partition("=")
        kind = SERVE_FLAGS.get(name)
        if not p.check(kind is not None, f"unknown serve flag --{name}"):
            continue
        if kind is True:
            p.check(eq == "=" and value != "", f"--{name} needs a value (--{name}=VALUE)")
        elif kind is False:
            p.check(eq == "", f"--{name} takes no value")
        else:
            p.check(eq == "" or value in ("true", "false"), f"--{name} takes =true or =false")
            value = value or "true"
        p.check(name not in flags or name == "policies", f"--{name} given twice")
        flags[name] = value if eq or kind == "bool" else True
    if "log-level" in flags:
        p.check(flags["log-level"] in LOG_LEVELS, f"--log-level={flags['log-level']} is not one of {LOG_LEVELS}")
    return flags


def check_labels(docs, p):
    for d in docs:
        labels = d["metadata"].get("labels") or {}
        what = f'{d["kind"]} {d["metadata"]["name"]}'
        for k, v in PROJECT_LABELS.items():
            p.check(labels.get(k) == v, f"{what}: label {k}={v} missing")
        p.check(labels.get("app.kubernetes.io/name") in ("netpol-guard", "k8s-security"),
                f"{what}: label app.kubernetes.io/name missing")


def container_port(container, port):
    if isinstance(port, int):
        return port
    for cp in container.get("ports", []):
        if cp.get("name") == port:
            return cp["containerPort"]
    return None


def check_deployment(docs, exp, p):
    dep = one(docs, "Deployment", "netpol-guard", p)
    if dep is None:
        return None, {}
    p.check(dep["metadata"].get("namespace") == NS, "Deployment not in namespace netpol-guard")
    spec = dep["spec"]
    p.check(spec.get("replicas") == exp["replicas"], f'replicas {spec.get("replicas")} != {exp["replicas"]}')
    pod = spec["template"]["spec"]
    pod_labels = spec["template"]["metadata"]["labels"]
    selector = spec["selector"]["matchLabels"]
    p.check(all(pod_labels.get(k) == v for k, v in selector.items()), "selector does not match the pod labels")
    p.check(pod.get("serviceAccountName") == "netpol-guard", "serviceAccountName is not netpol-guard")
    p.check(pod.get("automountServiceAccountToken") is True, "automountServiceAccountToken must be true (API access)")
    psc = pod.get("securityContext", {})
    p.check(psc.get("runAsNonRoot") is True, "pod runAsNonRoot")
    p.check(psc.get("runAsUser") == 65532, "pod runAsUser 65532")
    p.check(psc.get("seccompProfile", {}).get("type") == "RuntimeDefault", "pod seccompProfile RuntimeDefault")
    if exp.get("spread", True):
        p.check(any(c.get("topologyKey") == "kubernetes.io/hostname" for c in pod.get("topologySpreadConstraints", [])),
                "no topologySpreadConstraints over kubernetes.io/hostname")
        p.check("podAntiAffinity" in pod.get("affinity", {}), "no podAntiAffinity")
        for c in pod.get("topologySpreadConstraints", []):
            p.check(c.get("whenUnsatisfiable") == "ScheduleAnyway", "a topology spread that can block scheduling")
            p.check(all(pod_labels.get(k) == v for k, v in c["labelSelector"]["matchLabels"].items()),
                    "topologySpreadConstraints do not select the pods")
    else:
        p.check("topologySpreadConstraints" not in pod and "affinity" not in pod, "spread set though switched off")
    priority = exp.get("priority", "system-cluster-critical")
    p.check(pod.get("priorityClassName", "") == priority, f'priorityClassName {pod.get("priorityClassName")!r} != {priority!r}')
    p.check(pod.get("nodeSelector", {}) == exp.get("node_selector", {}), f'nodeSelector {pod.get("nodeSelector")}')
    p.check(pod.get("tolerations", []) == exp.get("tolerations", []), f'tolerations {pod.get("tolerations")}')
    p.check(len(pod["containers"]) == 1, "exactly one container")
    c = pod["containers"][0]
    sc = c.get("securityContext", {})
    p.check(sc.get("runAsNonRoot") is True, "container runAsNonRoot")
    p.check(sc.get("runAsUser") == 65532, "container runAsUser 65532")
    p.check(sc.get("readOnlyRootFilesystem") is True, "readOnlyRootFilesystem")
    p.check(sc.get("allowPrivilegeEscalation") is False, "allowPrivilegeEscalation false")
    p.check(sc.get("privileged") in (None, False), "privileged")
    p.check(sc.get("capabilities", {}).get("drop") == ["ALL"], "capabilities drop [ALL]")
    p.check(not sc.get("capabilities", {}).get("add"), "capabilities added")
    p.check(sc.get("seccompProfile", {}).get("type") == "RuntimeDefault", "container seccompProfile RuntimeDefault")
    res = c.get("resources", {})
    for key in ("cpu", "memory"):
        p.check(key in res.get("requests", {}), f"resources.requests.{key} missing")
    p.check("memory" in res.get("limits", {}), "resources.limits.memory missing")
    for key in ("requests", "limits"):
        p.check("ephemeral-storage" in res.get(key, {}), f"resources.{key}.ephemeral-storage missing")
    for probe, path in (("livenessProbe", "/healthz"), ("readinessProbe", "/readyz")):
        get = c.get(probe, {}).get("httpGet", {})
        p.check(get.get("path") == path, f"{probe} path is not {path}")
        p.check(container_port(c, get.get("port")) == 8080, f"{probe} is not on port 8080")
        p.check(get.get("scheme", "HTTP") == "HTTP", f"{probe} is not plain http")
    p.check(container_port(c, "https") == 8443, "container port https is not 8443")

    flags = parse_args(c.get("args", []), p)
    p.check(flags.get("listen") == "0.0.0.0:8443", "--listen is not 0.0.0.0:8443")
    p.check(flags.get("health-listen") == "0.0.0.0:8080", "--health-listen is not 0.0.0.0:8080")
    p.check(flags.get("tls-cert-file") == "/etc/netpol-guard/tls/tls.crt", "--tls-cert-file")
    p.check(flags.get("tls-private-key-file") == "/etc/netpol-guard/tls/tls.key", "--tls-private-key-file")
    p.check(("audit-only" in flags) == (exp["mode"] == "audit"), f'--audit-only does not match mode {exp["mode"]}')
    p.check(("provision-default-deny" in flags) == exp["provisioning"], "--provision-default-deny does not match provisioning")
    p.check("kubeconfig" not in flags and "policies" not in flags, "in-cluster Deployment must use live in-cluster state")
    for flag, key in (("exemption-groups", "exemption_groups"), ("exemption-users", "exemption_users")):
        listed = [x for x in str(flags.get(flag, "")).split(",") if x]
        p.check(listed == exp.get(key, []), f"--{flag} is {listed}, expected {exp.get(key, [])}")
    p.check(DEFAULT_EXEMPTION_GROUP not in str(flags.get("exemption-groups", "")).split(","),
            f"--exemption-groups repeats {DEFAULT_EXEMPTION_GROUP}, which is always allowed")
    p.check(flags.get("max-exemption-duration", "2160h") == exp.get("max_exemption_duration", "2160h"),
            f'--max-exemption-duration is {flags.get("max-exemption-duration")}')
    p.check(("deny-allow-all" in flags) == exp.get("deny_allow_all", False), "--deny-allow-all does not match denyAllowAll")
    check_reports_flags(flags, exp, p)
    # Every rendering carries them (harmless with reports off): leader
    # election's identity and its Lease's namespace.
    env = {e["name"]: e for e in c.get("env", [])}
    for var, field in (("POD_NAME", "metadata.name"), ("POD_NAMESPACE", "metadata.namespace")):
        got = env.get(var, {}).get("valueFrom", {}).get("fieldRef", {}).get("fieldPath")
        p.check(got == field and "value" not in env.get(var, {}), f"env {var} is not the downward API's {field}")
    mounts = {m["mountPath"]: m for m in c.get("volumeMounts", [])}
    tls_mount = mounts.get("/etc/netpol-guard/tls")
    if p.check(tls_mount is not None, "no volume mounted at /etc/netpol-guard/tls"):
        p.check("subPath" not in tls_mount, "TLS Secret mounted with subPath (rotations would never arrive)")
        p.check(tls_mount.get("readOnly") is True, "TLS mount not readOnly")
        vol = next((v for v in pod.get("volumes", []) if v["name"] == tls_mount["name"]), {})
        p.check(vol.get("secret", {}).get("secretName") == exp.get("secret", "netpol-guard-tls"),
                f'TLS volume is not Secret {exp.get("secret", "netpol-guard-tls")}')
    return dep, flags


def check_reports_flags(flags, exp, p):
    reports = exp.get("reports")
    p.check(flags.get("reports") == reports, f'--reports is {flags.get("reports")}, expected {reports}')
    if not reports:
        p.check(not any(f == "report-interval" or f.startswith("leader-elect") for f in flags),
                "report or leader election flags without --reports")
        return
    if "report_interval" in exp:
        p.check(flags.get("report-interval") == exp["report_interval"], f'--report-interval {flags.get("report-interval")}')
    # The Lease's namespace is the pod's (POD_NAMESPACE), never fixed here.
    p.check("leader-elect-resource-namespace" not in flags, "--leader-elect-resource-namespace set: the Role is in the release namespace")
    p.check(flags.get("leader-elect-resource-name", LEASE) == LEASE, "--leader-elect-resource-name is not the Role's Lease")
    want = "true" if exp.get("leader_election", True) else "false"
    p.check(flags.get("leader-elect", "true") == want, f'--leader-elect is {flags.get("leader-elect")}, expected {want}')


def check_webhook(docs, exp, flags, p):
    vwc = one(docs, "ValidatingWebhookConfiguration", WEBHOOK, p)
    if vwc is None:
        return
    hooks = vwc["webhooks"]
    if not p.check(len(hooks) == 1, f"expected one webhook, found {len(hooks)}"):
        return
    w = hooks[0]
    p.check(w["name"] == WEBHOOK, f"webhook name {w['name']}")
    svc = w["clientConfig"].get("service", {})
    p.check(svc == {"name": "netpol-guard", "namespace": NS, "path": "/validate", "port": 443},
            f"clientConfig.service is {svc}")
    if "ca_bundle" in exp:
        p.check(w["clientConfig"].get("caBundle") == exp["ca_bundle"], "caBundle from values not used")
        base64.b64decode(w["clientConfig"]["caBundle"], validate=True)
    else:
        p.check("caBundle" not in w["clientConfig"], "caBundle must come from the cert tooling, not the manifests")
    annotations = vwc["metadata"].get("annotations") or {}
    if exp["certmanager"]:
        inject = annotations.get("cert-manager.io/inject-ca-from", "")
        p.check(inject == f"{NS}/netpol-guard-tls", f"cert-manager.io/inject-ca-from is {inject!r}")
        cert = one(docs, "Certificate", "netpol-guard-tls", p)
        if cert:
            p.check(cert["metadata"].get("namespace") == NS, "Certificate namespace")
            p.check(cert["spec"]["secretName"] == "netpol-guard-tls", "Certificate secretName")
            p.check(f"netpol-guard.{NS}.svc" in cert["spec"]["dnsNames"], "Certificate lacks the Service's DNS name")
            issuer = cert["spec"]["issuerRef"]
            p.check(one(docs, issuer.get("kind", "Issuer"), issuer["name"]) is not None,
                    f"issuer {issuer} not in the rendering")
    else:
        p.check("cert-manager.io/inject-ca-from" not in annotations, "CA injection without cert-manager")
        p.check(not any(d["kind"] in ("Certificate", "Issuer") for d in docs), "cert-manager objects without cert-manager")

    want_policy = "Fail" if exp["mode"] == "enforce" else "Ignore"
    p.check(w.get("failurePolicy") == want_policy, f'failurePolicy {w.get("failurePolicy")} != {want_policy} for {exp["mode"]}')
    p.check(1 <= w.get("timeoutSeconds", 10) <= 5, f'timeoutSeconds {w.get("timeoutSeconds")} is not small (1-5)')
    p.check(w.get("sideEffects") == "None", "sideEffects None")
    p.check(w.get("admissionReviewVersions") == ["v1"], "admissionReviewVersions [v1]")
    p.check(w.get("matchPolicy") == "Equivalent", "matchPolicy Equivalent")
    exprs = w.get("namespaceSelector", {}).get("matchExpressions", [])
    excluded = set()
    for e in exprs:
        if e["key"] == "kubernetes.io/metadata.name" and e["operator"] == "NotIn":
            excluded |= set(e["values"])
    p.check(excluded == exp.get("exempt", ALWAYS_EXEMPT),
            f'namespaceSelector excludes {sorted(excluded)}, expected {sorted(exp.get("exempt", ALWAYS_EXEMPT))}')
    exempt_flag = set(str(flags.get("exempt-namespaces", "")).split(","))
    p.check(exempt_flag == excluded, f"--exempt-namespaces {sorted(exempt_flag)} differs from the namespaceSelector {sorted(excluded)}")
    p.check(w.get("objectSelector") in (None, {}), "objectSelector would let labels bypass the check")

    ops = {}
    for r in w["rules"]:
        for g in r["apiGroups"]:
            for res in r["resources"]:
                ops.setdefault((g, res), set()).update(r["operations"])
                p.check(r["apiVersions"] == ["v1"], f"rule for {res} is not v1")
    p.check(ops.get(("", "pods")) == {"CREATE"}, "no CREATE pods rule")
    # UPDATE for governance of the mode label and exemption annotations; never
    # DELETE, so deleting a namespace never depends on netpol-guard.
    p.check(ops.get(("", "namespaces")) == {"CREATE", "UPDATE"},
            f'namespaces rule is {sorted(ops.get(("", "namespaces"), []))}, expected CREATE, UPDATE')
    # namespaces/status and namespaces/finalize store the labels and annotations
    # they carry, so governance must see them; the keys condition below still
    # passes only the writes that change a netpol-guard key, so the namespace
    # controller's finalize never needs the webhook.
    for sub in ("namespaces/status", "namespaces/finalize"):
        p.check(ops.get(("", sub), set()) >= {"UPDATE"},
                f"{sub} UPDATE is not matched: its labels and annotations would skip governance")
    for r in w["rules"]:
        p.check(not any(res.startswith("namespaces/") and res not in ("namespaces/status", "namespaces/finalize")
                        for res in r["resources"]), "an unexpected namespaces subresource is matched")
    check_workloads = exp.get("check_workloads", True)
    p.check(flags.get("check-workloads", "true") == ("true" if check_workloads else "false"), "--check-workloads")
    for key in WORKLOADS:
        p.check((ops.get(key) == {"CREATE"}) == check_workloads, f"CREATE {key[1]} rule does not match checkWorkloads={check_workloads}")
    protect = exp.get("protect_baseline", True)
    p.check(flags.get("protect-baseline", "true") == ("true" if protect else "false"), "--protect-baseline")
    # CREATE and UPDATE always (allow-all detection); DELETE only to protect the baseline.
    want_np = {"CREATE", "UPDATE"} | ({"DELETE"} if protect else set())
    got_np = ops.get(("networking.k8s.io", "networkpolicies"), set())
    p.check(got_np == want_np,
            f"networkpolicies rule is {sorted(got_np)}, expected {sorted(want_np)} for protectBaseline={protect}")
    known = ({("", "pods"), ("", "namespaces"), ("", "namespaces/status"), ("", "namespaces/finalize"),
              ("networking.k8s.io", "networkpolicies")} | WORKLOADS)
    p.check(set(ops) <= known, f"unexpected rules: {sorted(set(ops) - known)}")
    names = [mc["name"] for mc in w.get("matchConditions", [])]
    want_names = (["not-namespace-cleanup"] if protect else []) + [KEYS_CONDITION]
    p.check(names == want_names, f"matchConditions {names}, expected {want_names}")
    keys = next((mc["expression"] for mc in w.get("matchConditions", []) if mc["name"] == KEYS_CONDITION), "")
    check_keys_condition(keys, p)


def rules_constants():
    """The string constants of rules.hpp: name -> value."""
    text = open(os.path.join(SOURCE_DIR, RULES_HPP)).read()
    return dict(re.findall(r'std::string_view\s+(\w+)\s*=\s*"([^"]*)"', text))


def check_keys_condition(expr, p):
    """The Namespace UPDATE condition: only namespaces UPDATEs are filtered, it
    names exactly the rules.hpp keys (the label among labels, the annotations
    among annotations), and every map access is guarded."""
    if not p.check(expr, f"no matchCondition {KEYS_CONDITION}"):
        return
    p.check(expr.startswith("request.resource.resource != 'namespaces' || request.operation != 'UPDATE' ||"),
            f"{KEYS_CONDITION} must pass everything but a namespaces UPDATE first")
    # [keys].exists(k, body) groups: the body names one map, labels or annotations.
    groups = re.split(r"\[((?:'[^']*',?\s*)+)\]\.exists\(k,", expr)
    found = {"labels": [], "annotations": []}
    for keys, body in zip(groups[1::2], groups[2::2]):
        maps = {m for m in ("labels", "annotations") if f"metadata.{m}" in body}
        if p.check(len(maps) == 1, f"{KEYS_CONDITION}: a key group reads {sorted(maps)}"):
            found[maps.pop()] += re.findall(r"'([^']*)'", keys)
    if SOURCE_DIR:
        consts = rules_constants()
        want_labels = [consts.get(c) for c in LABEL_CONSTANTS]
        want_annotations = [consts.get(c) for c in ANNOTATION_CONSTANTS]
        p.check(found["labels"] == want_labels, f"{KEYS_CONDITION} labels {found['labels']} != rules.hpp {want_labels}")
        p.check(found["annotations"] == want_annotations,
                f"{KEYS_CONDITION} annotations {found['annotations']} != rules.hpp {want_annotations}")
        # The whole expression, so no map is read before has() and `in` say the
        # key is there (tests/e2e/run-rollout.sh runs it on a real apiserver).
        p.check(" ".join(expr.split()) == keys_condition(want_labels, want_annotations),
                f"{KEYS_CONDITION} is not the guarded form:\n    {expr}")


def keys_condition(labels, annotations):
    """The matchCondition for these keys: true unless a namespaces UPDATE leaves
    them all as they were."""
    def group(keys, m):
        new, old = f"object.metadata.{m}", f"oldObject.metadata.{m}"
        return ("[" + ", ".join(f"'{k}'" for k in keys) + "].exists(k, "
                f"(has({new}) && k in {new}) ? ((has({old}) && k in {old}) ? {new}[k] != {old}[k] : true) : "
                f"(has({old}) && k in {old}))")
    return ("request.resource.resource != 'namespaces' || request.operation != 'UPDATE' || "
            + group(labels, "labels") + " || " + group(annotations, "annotations"))


def check_service_pdb(docs, dep, exp, p):
    pod_labels = dep["spec"]["template"]["metadata"]["labels"]
    svc = one(docs, "Service", "netpol-guard", p)
    if svc:
        p.check(svc["metadata"].get("namespace") == NS, "Service namespace")
        p.check(all(pod_labels.get(k) == v for k, v in svc["spec"]["selector"].items()), "Service selector does not match the pods")
        c = dep["spec"]["template"]["spec"]["containers"][0]
        ports = {pt["name"]: (pt["port"], container_port(c, pt["targetPort"])) for pt in svc["spec"]["ports"]}
        p.check(ports == {"https": (443, 8443), "http-metrics": (8080, 8080)},
                f"Service ports {ports} are not https 443 -> 8443 and http-metrics 8080 -> 8080")
    pdb = one(docs, "PodDisruptionBudget", "netpol-guard")
    if not exp.get("pdb", True):
        p.check(pdb is None, "PodDisruptionBudget rendered though disabled")
        return
    if p.check(pdb is not None, "no PodDisruptionBudget"):
        sel = pdb["spec"]["selector"]["matchLabels"]
        p.check(all(pod_labels.get(k) == v for k, v in sel.items()), "PDB selector does not match the pods")
        replicas = exp["replicas"]
        if "maxUnavailable" in pdb["spec"]:
            allowed = pdb["spec"]["maxUnavailable"]
        else:
            allowed = replicas - pdb["spec"].get("minAvailable", replicas)
        p.check(isinstance(allowed, int) and allowed >= 1, f"PDB allows no disruption at {replicas} replica(s): a drain would block")
        if replicas >= 3:
            p.check(allowed <= replicas - 2, "PDB lets more than one of three replicas go at once")


def check_rbac(docs, exp, p):
    """Cluster rules, then the namespaced Role of leader election (reports on only)."""
    rules = []
    for cr in (d for d in docs if d["kind"] == "ClusterRole"):
        bindings = [b for b in docs if b["kind"] == "ClusterRoleBinding" and b["roleRef"]["name"] == cr["metadata"]["name"]]
        p.check(len(bindings) == 1, f'ClusterRole {cr["metadata"]["name"]} has {len(bindings)} bindings')
        for b in bindings:
            p.check(b["subjects"] == [{"kind": "ServiceAccount", "name": "netpol-guard", "namespace": NS}],
                    f'{b["metadata"]["name"]} subjects {b["subjects"]}')
        for r in cr["rules"]:
            for g in r["apiGroups"]:
                for res in r["resources"]:
                    p.check("resourceNames" not in r and "nonResourceURLs" not in r, "unexpected rule fields")
                    rules.extend((g, res, v) for v in r["verbs"])
    want = {("networking.k8s.io", "networkpolicies", v) for v in ("get", "list", "watch")}
    want |= {("", "namespaces", v) for v in ("get", "list", "watch")}
    if exp["provisioning"]:
        want.add(("networking.k8s.io", "networkpolicies", "create"))
    reports = exp.get("reports")
    if reports:
        group, resource = REPORT_RESOURCES[reports]
        want |= {(group, resource, v) for v in ("get", "list", "create", "patch")}
        want |= {("", "pods", "list")}
    p.check(set(rules) == want and len(rules) == len(want),
            f"RBAC grants {sorted(set(rules))}, least privilege is {sorted(want)}")
    check_lease_role(docs, bool(reports) and exp.get("leader_election", True), p)
    check_events_role(docs, bool(reports), p)
    sa = one(docs, "ServiceAccount", "netpol-guard", p)
    if sa:
        p.check(sa["metadata"].get("namespace") == NS, "ServiceAccount namespace")


def check_role(docs, in_ns, wanted, what, want, p):
    """One Role and its RoleBinding to netpol-guard's ServiceAccount, in the
    namespaces `in_ns` accepts, granting exactly `want`; none when not wanted."""
    roles = [d for d in docs if d["kind"] == "Role" and in_ns(d["metadata"].get("namespace"))]
    bindings = [d for d in docs if d["kind"] == "RoleBinding" and in_ns(d["metadata"].get("namespace"))]
    if not wanted:
        p.check(not roles and not bindings, f"unexpected namespaced RBAC ({what})")
        return None
    if not (p.check(len(roles) == 1, f"{len(roles)} Roles, expected the {what}'s")
            and p.check(len(bindings) == 1, f"{len(bindings)} RoleBindings, expected the {what}'s")):
        return None
    role, binding = roles[0], bindings[0]
    p.check(binding["roleRef"] == {"apiGroup": "rbac.authorization.k8s.io", "kind": "Role",
                                   "name": role["metadata"]["name"]}, f'RoleBinding roleRef {binding["roleRef"]}')
    p.check(binding["subjects"] == [{"kind": "ServiceAccount", "name": "netpol-guard", "namespace": NS}],
            f'RoleBinding subjects {binding["subjects"]}')
    got = sorted((g, res, tuple(r.get("resourceNames", [])), v) for r in role["rules"]
                 for g in r["apiGroups"] for res in r["resources"] for v in r["verbs"])
    p.check(got == sorted(want), f"the {what} Role grants {got}, least privilege is {sorted(want)}")
    return role, binding


def check_events_role(docs, wanted, p):
    """The drift Events' Role: create on events.k8s.io Events in default only."""
    check_role(docs, lambda ns: ns == "default", wanted, "drift Events",
               [("events.k8s.io", "events", (), "create")], p)


def check_lease_role(docs, wanted, p):
    found = check_role(docs, lambda ns: ns != "default", wanted, "leader election",
                       [("coordination.k8s.io", "leases", (), "create"),
                        ("coordination.k8s.io", "leases", (LEASE,), "get"),
                        ("coordination.k8s.io", "leases", (LEASE,), "update")], p)
    if found:
        role, binding = found
        p.check(role["metadata"].get("namespace") == NS, "the Lease Role is not in the release namespace")
        p.check(binding["metadata"].get("namespace") == NS,
                "the Lease RoleBinding is not in the release namespace")


def is_deny_all(np_):
    s = np_["spec"]
    return (s.get("podSelector") in ({}, None) and set(s.get("policyTypes", [])) == {"Ingress", "Egress"}
            and not s.get("ingress") and not s.get("egress"))


def check_own_networkpolicies(docs, exp, p):
    nps = {d["metadata"]["name"]: d for d in docs if d["kind"] == "NetworkPolicy"}
    if not exp["netpols"]:
        p.check(not nps, "NetworkPolicies rendered though disabled")
        return
    for name, np_ in nps.items():
        p.check(np_["metadata"].get("namespace") == NS, f"NetworkPolicy {name} not in {NS}")
    p.check(set(nps) == {"default-deny-all", "allow-dns-egress", "allow-webhook-ingress",
                         "allow-health-ingress", "allow-apiserver-egress"}, f"NetworkPolicies {sorted(nps)}")
    if "default-deny-all" in nps:
        p.check(is_deny_all(nps["default-deny-all"]), "default-deny-all is not a deny-all")
        p.check(nps["default-deny-all"]["metadata"]["labels"].get("app.kubernetes.io/name") == "k8s-security",
                "default-deny-all lost the template's labels")

    def ports(np_, direction):
        rules = np_["spec"].get(direction, [])
        return sorted((pt.get("protocol", "TCP"), pt["port"]) for r in rules for pt in r.get("ports", []))

    def only(name, direction, want):
        np_ = nps.get(name)
        if p.check(np_ is not None, f"{name} missing"):
            p.check(np_["spec"]["policyTypes"] == [direction.capitalize()], f"{name} policyTypes")
            p.check(ports(np_, direction) == want, f"{name} opens {ports(np_, direction)}, expected {want}")
            p.check(np_["spec"]["podSelector"] == {} or np_["spec"]["podSelector"].get("matchLabels", {}).get(
                "app.kubernetes.io/name") == "netpol-guard", f"{name} selects other pods")
            p.check(all(r.get("ports") for r in np_["spec"].get(direction, [])), f"{name} has a rule without ports")
    only("allow-webhook-ingress", "ingress", [("TCP", 8443)])
    only("allow-health-ingress", "ingress", [("TCP", 8080)])
    health = nps.get("allow-health-ingress")
    if health:
        # Scraping only from the monitoring namespaces; never from everywhere.
        rules = health["spec"].get("ingress", [])
        want = [{"namespaceSelector": exp.get("metrics_ns", MONITORING_NS),
                 **({"podSelector": exp["metrics_pods"]} if "metrics_pods" in exp else {})}]
        want += [{"ipBlock": {"cidr": c}} for c in exp.get("probe_cidrs", [])]
        p.check(len(rules) == 1 and rules[0].get("from") == want,
                f'allow-health-ingress admits {[r.get("from") for r in rules]}, expected {want}')
    only("allow-apiserver-egress", "egress", [("TCP", 443), ("TCP", 6443)])
    only("allow-dns-egress", "egress", [("TCP", 53), ("UDP", 53)])
    dns = nps.get("allow-dns-egress")
    if dns:
        to = dns["spec"]["egress"][0]["to"][0]
        p.check(to.get("namespaceSelector", {}).get("matchLabels") == {"kubernetes.io/metadata.name": "kube-system"}
                and to.get("podSelector", {}).get("matchLabels") == {"k8s-app": "kube-dns"},
                "allow-dns-egress does not target kube-dns in kube-system")


def check_install(name, docs, exp, p):
    if exp["namespace"]:
        ns = one(docs, "Namespace", NS, p)
        if ns:
            p.check(ns["metadata"]["labels"].get("pod-security.kubernetes.io/enforce") == "restricted",
                    "namespace does not enforce the restricted Pod Security Standard")
    else:
        p.check(one(docs, "Namespace") is None, "Helm must not render the release Namespace")
    namespaced = {"Namespace", "ClusterRole", "ClusterRoleBinding", "ValidatingWebhookConfiguration",
                  "FlowSchema", "PriorityLevelConfiguration"}
    for d in docs:
        # The drift Events' Role lives where the Events must be (checked by check_events_role).
        if d["kind"] in ("Role", "RoleBinding") and d["metadata"]["name"].endswith("-events"):
            continue
        if d["kind"] not in namespaced:
            p.check(d["metadata"].get("namespace") == NS, f'{d["kind"]} {d["metadata"]["name"]} not in {NS}')
    check_labels(docs, p)
    dep, flags = check_deployment(docs, exp, p)
    if dep is not None:
        check_webhook(docs, exp, flags, p)
        check_service_pdb(docs, dep, exp, p)
    check_rbac(docs, exp, p)
    check_own_networkpolicies(docs, exp, p)
    check_priority(docs, dep, exp, p)
    check_flowcontrol(docs, exp, p)
    check_monitoring(docs, dep, exp, p)


def check_priority(docs, dep, exp, p):
    """A system-* priority class comes with the ResourceQuota that admits it here."""
    priority = exp.get("priority", "system-cluster-critical")
    quotas = [d for d in docs if d["kind"] == "ResourceQuota"]
    if not priority:
        p.check(not quotas, "ResourceQuota without a priority class")
        return
    covering = [q for q in quotas if any(
        e.get("scopeName") == "PriorityClass" and e.get("operator") == "In" and priority in e.get("values", [])
        for e in q["spec"].get("scopeSelector", {}).get("matchExpressions", []))]
    if p.check(len(covering) == 1, f"no ResourceQuota admits priority class {priority}"):
        pods = int(covering[0]["spec"]["hard"]["pods"])
        surge = (dep or {}).get("spec", {}).get("strategy", {}).get("rollingUpdate", {}).get("maxSurge", 1)
        p.check(pods >= exp["replicas"] + surge, f"quota of {pods} pods blocks {exp['replicas']} replicas plus surge")


def check_flowcontrol(docs, exp, p):
    fs = one(docs, "FlowSchema", "netpol-guard")
    plc = one(docs, "PriorityLevelConfiguration", "netpol-guard")
    if not exp.get("apf", True):
        p.check(fs is None and plc is None, "API Priority and Fairness objects rendered though off")
        return
    if not (p.check(fs is not None, "no FlowSchema") and p.check(plc is not None, "no PriorityLevelConfiguration")):
        return
    for d in (fs, plc):
        p.check(d["apiVersion"] == "flowcontrol.apiserver.k8s.io/v1", f'{d["kind"]} is {d["apiVersion"]}')
        p.check("namespace" not in d["metadata"], f'{d["kind"]} is cluster-scoped but has a namespace')
    spec = fs["spec"]
    p.check(spec["priorityLevelConfiguration"]["name"] == plc["metadata"]["name"], "FlowSchema names another level")
    p.check(spec["matchingPrecedence"] < 9000, "FlowSchema loses to the built-in service-accounts schema")
    subjects = [s for r in spec["rules"] for s in r["subjects"]]
    p.check(subjects == [{"kind": "ServiceAccount", "serviceAccount": {"name": "netpol-guard", "namespace": NS}}],
            f"FlowSchema subjects {subjects}")
    covered = {(g, res, v) for r in spec["rules"] for rr in r.get("resourceRules", [])
               for g in rr["apiGroups"] for res in rr["resources"] for v in rr["verbs"]}
    for g, res in (("networking.k8s.io", "networkpolicies"), ("", "namespaces")):
        for v in ("get", "list", "watch"):
            p.check((g, res, v) in covered, f"FlowSchema does not cover {v} {res}")
    # netpol-guard lists and watches NetworkPolicies and Namespaces across all
    # namespaces: requests without a namespace, matched only with clusterScope.
    for rr in (rr for r in spec["rules"] for rr in r.get("resourceRules", [])):
        p.check(rr.get("clusterScope") is True, f'FlowSchema rule for {rr["resources"]} misses cluster-wide list/watch')
    p.check(plc["spec"]["type"] == "Limited", "priority level is not Limited")


def chart_file(name):
    return os.path.join(SOURCE_DIR, CHART_FILES, name)


def check_monitoring(docs, dep, exp, p):
    monitors = [d for d in docs if d["kind"] in ("ServiceMonitor", "PodMonitor")]
    want = exp.get("monitor")
    p.check([d["kind"] for d in monitors] == ([want] if want else []),
            f"monitors {[d['kind'] for d in monitors]}, expected {want}")
    pod_labels = dep["spec"]["template"]["metadata"]["labels"] if dep else {}
    c = dep["spec"]["template"]["spec"]["containers"][0] if dep else {}
    for m in monitors:
        p.check(m["apiVersion"] == "monitoring.coreos.com/v1", f'{m["kind"]} apiVersion')
        p.check(m["spec"]["namespaceSelector"] == {"matchNames": [NS]}, f'{m["kind"]} namespaceSelector')
        if m["kind"] == "ServiceMonitor":
            svc = one(docs, "Service", "netpol-guard") or {"spec": {"ports": [], "selector": {}}}
            p.check(m["spec"]["selector"]["matchLabels"] == svc["spec"]["selector"],
                    "ServiceMonitor does not select the Service")
            for ep in m["spec"]["endpoints"]:
                port = next((pt for pt in svc["spec"]["ports"] if pt["name"] == ep["port"]), None)
                p.check(port is not None and container_port(c, port["targetPort"]) == 8080,
                        f'ServiceMonitor port {ep["port"]} is not the Service port to 8080')
                p.check(ep.get("path") == "/metrics", "ServiceMonitor path")
        else:
            p.check(all(pod_labels.get(k) == v for k, v in m["spec"]["selector"]["matchLabels"].items()),
                    "PodMonitor does not select the pods")
            for ep in m["spec"]["podMetricsEndpoints"]:
                p.check(container_port(c, ep["port"]) == 8080, f'PodMonitor port {ep["port"]} is not 8080')
                p.check(ep.get("path") == "/metrics", "PodMonitor path")
    rules = [d for d in docs if d["kind"] == "PrometheusRule"]
    if p.check(len(rules) == (1 if exp.get("rules") else 0), f"{len(rules)} PrometheusRule(s)") and rules and SOURCE_DIR:
        want_spec = yaml.safe_load(open(chart_file("netpol-guard.rules.yaml")))
        p.check(rules[0]["spec"] == want_spec,
                "PrometheusRule differs from charts/netpol-guard/files/netpol-guard.rules.yaml")
    boards = [d for d in docs if d["kind"] == "ConfigMap"
              and (d["metadata"].get("labels") or {}).get("grafana_dashboard") == "1"]
    if p.check(len(boards) == (1 if exp.get("dashboard") else 0), f"{len(boards)} dashboard ConfigMap(s)") and boards and SOURCE_DIR:
        data = boards[0].get("data", {})
        p.check(list(data) == ["netpol-guard.json"], f"dashboard ConfigMap keys {list(data)}")
        want_board = json.load(open(chart_file("netpol-guard-dashboard.json")))
        p.check(json.loads(data.get("netpol-guard.json", "{}")) == want_board,
                "dashboard differs from charts/netpol-guard/files/netpol-guard-dashboard.json")


def check_policies(docs, p, source_dir):
    nps = {d["metadata"]["name"]: d for d in docs}
    p.check(set(nps) == {"default-deny-all", "allow-dns-egress"}, f"policies {sorted(nps)}")
    dd = nps.get("default-deny-all")
    if dd:
        p.check(dd["metadata"]["namespace"] == "default", "the template's namespace: default changed")
        p.check(dd["metadata"]["labels"] == {"app.kubernetes.io/name": "k8s-security", **PROJECT_LABELS},
                "the template's labels changed")
        p.check(is_deny_all(dd), "default-deny-all is not a deny-all")
    check_labels(docs, p)
    # The template text itself, where the seed is available beside the clone.
    if source_dir:
        seed = os.path.join(source_dir, "..", "shared", "seed", "01-default-deny-network-policy.txt")
        if os.path.exists(seed):
            text = open(seed).read()
            start = text.index("apiVersion: networking.k8s.io/v1")
            end = text.index("allow Frontend -> Backend).") + len("allow Frontend -> Backend).")
            mine = open(os.path.join(source_dir, "manifests", "policies", "default-deny-all.yaml")).read()
            p.check(mine.strip() == text[start:end].strip(), "manifests/policies/default-deny-all.yaml is not the template verbatim")
            print("ok: default-deny-all.yaml is the template verbatim")


SOURCE_DIR = None


def main():
    global SOURCE_DIR
    render_dir = sys.argv[1]
    source_dir = sys.argv[2] if len(sys.argv) > 2 else None
    SOURCE_DIR = source_dir
    if len(sys.argv) > 3:
        SERVE_FLAGS.clear()
        SERVE_FLAGS.update(flags_from_binary(sys.argv[3]))
        print(f"serve flags from {sys.argv[3]} serve --help: {len(SERVE_FLAGS)}")
    p = Problems()
    checked = 0
    for name in sorted(os.listdir(render_dir)):
        path = os.path.join(render_dir, name)
        p.where = name
        before = len(p.items)
        docs = load(path)
        if name == "kustomize-policies.yaml":
            check_policies(docs, p, source_dir)
        elif name in EXPECT:
            check_install(name, docs, EXPECT[name], p)
        else:
            p.check(False, "no expectations for this rendering")
        checked += 1
        print(f"{'ok' if len(p.items) == before else 'FAIL'}: {name} ({len(docs)} objects)")
    missing = set(EXPECT) - set(os.listdir(render_dir))
    for m in sorted(missing):
        p.items.append(f"{m}: not rendered")
    for item in p.items:
        print(f"  {item}")
    print(f"checked {checked} renderings; problems in {len({i.split(':')[0] for i in p.items})}")
    return 1 if p.items else 0


if __name__ == "__main__":
    sys.exit(main())
