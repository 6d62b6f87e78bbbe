#!/usr/bin/env python3
"""Differential test of `netpol-guard check` against kubectl and the apiserver.

A seeded generator writes one manifest file per namespace: a Namespace and one
to three NetworkPolicies in valid shapes and in the surface forms kubectl reads
(merge keys, JSON streams, byte-order marks, "...", duplicate keys, tags,
anchors, Lists), or one object of an invalid class. For every file:

  * `netpol-guard check --output json FILE` gives check's verdict;
  * `kubectl apply -f FILE` (the built kubectl, strict field validation by
    default) puts it in the real apiserver, or refuses it;
then the apiserver's stored NetworkPolicies and `netpol-guard audit
--kubeconfig` give the truth per namespace. A file kubectl refuses must make
check exit 2; a file kubectl applies must give, namespace by namespace, the
same deny-all ingress/egress in check, in the stored objects and in audit.
Any disagreement fails; the smallest file showing one is printed.

usage: manifest_fidelity.py NETPOL_GUARD KUBECTL KUBECONFIG WORKDIR SEED COUNT
"""

import json
import os
import random
import subprocess
import sys
import time

BOM = "\ufeff"
DEADLINE_SECONDS = float(os.environ.get("FIDELITY_DEADLINE", "200"))
COMMAND_TIMEOUT = 30


def yaml_scalar(v):
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, (int, float)):
        return str(v)
    if v is None:
        return "null"
    return json.dumps(v)  # a JSON string is a valid double-quoted YAML scalar


def to_yaml(v, indent=0):
    """Block YAML for dicts and lists; flow for empty ones."""
    pad = "  " * indent
    if isinstance(v, dict):
        if not v:
            return "{}"
        lines = []
        for k, x in v.items():
            if isinstance(x, (dict, list)) and x:
                lines.append(f"{pad}{k}:\n{to_yaml(x, indent + 1)}")
            else:
                lines.append(f"{pad}{k}: {to_yaml(x, indent + 1) if isinstance(x, (dict, list)) else yaml_scalar(x)}")
        return "\n".join(lines)
    if isinstance(v, list):
        if not v:
            return "[]"
        lines = []
        for x in v:
            if isinstance(x, (dict, list)) and x:
                inner = to_yaml(x, indent + 1).lstrip()
                lines.append(f"{pad}- {inner}")
            else:
                lines.append(f"{pad}- {to_yaml(x) if isinstance(x, (dict, list)) else yaml_scalar(x)}")
        return "\n".join(lines)
    return yaml_scalar(v)


def namespace_obj(ns):
    return {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": ns}}


def policy(ns, name, spec):
    return {"apiVersion": "networking.k8s.io/v1", "kind": "NetworkPolicy",
            "metadata": {"name": name, "namespace": ns}, "spec": spec}


def random_spec(rng):
    spec = {}
    sel = rng.choice([None, {}, {"matchLabels": {}}, {"matchExpressions": []},
                      {"matchLabels": {"app": "web"}},
                      {"matchExpressions": [{"key": "tier", "operator": "Exists"}]}])
    if sel is not None or rng.random() < 0.5:
        spec["podSelector"] = sel if sel is not None else {}
    types = rng.choice([None, [], ["Ingress"], ["Egress"], ["Ingress", "Egress"],
                        ["Egress", "Ingress"], ["Ingress", "Ingress"]])
    if types is not None:
        spec["policyTypes"] = types
    for direction, peers in (("ingress", "from"), ("egress", "to")):
        rules = rng.choice([None, None, [], [{}],
                            [{peers: [{"podSelector": {"matchLabels": {"app": "db"}}}]}],
                            [{"ports": [{"port": 53, "protocol": "UDP"}]}],
                            [{peers: [{"ipBlock": {"cidr": "10.0.0.0/8", "except": ["10.1.0.0/16"]}}]}]])
        if rules is not None:
            spec[direction] = rules
    return spec


# Each invalid class: (name, function (ns) -> text of the bad object's document).
def bad(ns, spec=None, **meta):
    md = {"name": meta.pop("name", "bad"), "namespace": meta.pop("namespace", ns)}
    obj = {"apiVersion": meta.pop("apiVersion", "networking.k8s.io/v1"), "kind": "NetworkPolicy",
           "metadata": md, "spec": spec if spec is not None else {"policyTypes": ["Ingress", "Egress"]}}
    obj.update(meta.pop("extra", {}))
    for k in meta.pop("drop", []):
        obj.pop(k)
    return to_yaml(obj)


INVALID = [
    ("policyTypes-three", lambda ns: bad(ns, {"policyTypes": ["Ingress", "Egress", "Ingress"]})),
    ("policyTypes-foo", lambda ns: bad(ns, {"policyTypes": ["Ingress", "Foo"]})),
    ("policyTypes-empty-string", lambda ns: bad(ns, {"policyTypes": ["Ingress", ""]})),
    ("empty-peer", lambda ns: bad(ns, {"policyTypes": ["Egress"], "egress": [{"to": [{}]}]})),
    ("ipblock-and-selector", lambda ns: bad(ns, {"egress": [{"to": [{"ipBlock": {"cidr": "10.0.0.0/8"}, "podSelector": {}}]}]})),
    ("bad-cidr", lambda ns: bad(ns, {"ingress": [{"from": [{"ipBlock": {"cidr": "10.0.0.0/33"}}]}]})),
    ("cidr-host-bits", lambda ns: bad(ns, {"ingress": [{"from": [{"ipBlock": {"cidr": "10.0.0.1/8"}}]}]})),
    ("except-outside", lambda ns: bad(ns, {"ingress": [{"from": [{"ipBlock": {"cidr": "10.0.0.0/16", "except": ["10.1.0.0/24"]}}]}]})),
    ("except-other-family", lambda ns: bad(ns, {"ingress": [{"from": [{"ipBlock": {"cidr": "10.0.0.0/8", "except": ["fd00::/64"]}}]}]})),
    ("port-zero", lambda ns: bad(ns, {"ingress": [{"ports": [{"port": 0}]}]})),
    ("port-too-big", lambda ns: bad(ns, {"ingress": [{"ports": [{"port": 70000}]}]})),
    ("port-numeric-string", lambda ns: bad(ns, {"ingress": [{"ports": [{"port": "80"}]}]})),
    ("port-bad-name", lambda ns: bad(ns, {"ingress": [{"ports": [{"port": "Http"}]}]})),
    ("protocol-lowercase", lambda ns: bad(ns, {"ingress": [{"ports": [{"port": 53, "protocol": "udp"}]}]})),
    ("endport-below-port", lambda ns: bad(ns, {"egress": [{"ports": [{"port": 100, "endPort": 90}]}]})),
    ("endport-named-port", lambda ns: bad(ns, {"egress": [{"ports": [{"port": "dns", "endPort": 90}]}]})),
    ("endport-without-port", lambda ns: bad(ns, {"egress": [{"ports": [{"endPort": 90}]}]})),
    ("bad-operator", lambda ns: bad(ns, {"podSelector": {"matchExpressions": [{"key": "a", "operator": "Equals", "values": ["b"]}]}})),
    ("in-without-values", lambda ns: bad(ns, {"podSelector": {"matchExpressions": [{"key": "a", "operator": "In"}]}})),
    ("exists-with-values", lambda ns: bad(ns, {"podSelector": {"matchExpressions": [{"key": "a", "operator": "Exists", "values": ["b"]}]}})),
    ("bad-label-key", lambda ns: bad(ns, {"ingress": [{"from": [{"namespaceSelector": {"matchLabels": {"-bad": "x"}}}]}]})),
    ("bad-label-value", lambda ns: bad(ns, {"podSelector": {"matchLabels": {"app": "a b"}}})),
    ("bool-label-value", lambda ns: bad(ns, {"podSelector": {"matchLabels": {"on": "x"}}}).replace('"x"', "yes")),
    ("name-uppercase", lambda ns: bad(ns, name="Default-Deny")),
    ("name-underscore", lambda ns: bad(ns, name="default_deny")),
    ("name-too-long", lambda ns: bad(ns, name="a" * 254)),
    ("name-missing", lambda ns: bad(ns, name="").replace('  name: ""\n', "")),
    ("namespace-number", lambda ns: bad(ns).replace(f'namespace: "{ns}"', "namespace: 20240")),
    ("apiversion-v1", lambda ns: bad(ns, apiVersion="v1")),
    ("apiversion-extensions", lambda ns: bad(ns, apiVersion="extensions/v1beta1")),
    ("apiversion-v1beta1", lambda ns: bad(ns, apiVersion="networking.k8s.io/v1beta1")),
    ("apiversion-missing", lambda ns: bad(ns, drop=["apiVersion"])),
    ("unknown-ingres", lambda ns: bad(ns, {"policyTypes": ["Ingress"], "ingres": []})),
    ("unknown-egres", lambda ns: bad(ns, {"policyTypes": ["Egress"], "egres": []})),
    ("unknown-Spec", lambda ns: bad(ns, drop=["spec"], extra={"Spec": {}})),
    ("unknown-status", lambda ns: bad(ns, extra={"status": {}})),
    ("separator-with-content", lambda ns: "--- " + json.dumps(json.loads(json.dumps({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "x", "namespace": ns}})))),
    ("merge-scalar", lambda ns: bad(ns).replace("spec:\n", "spec:\n  <<: 5\n")),
]


def render_doc(obj, form, rng):
    """One object's document text in a surface form kubectl reads the same."""
    if form == "flow":
        return json.dumps(obj)
    if form == "tags":
        text = to_yaml(obj)
        return text.replace("name: ", "name: !!str ", 1)
    if form == "duplicate-key":
        # The first value is replaced by the later one, in kubectl as in check.
        spec = obj.get("spec", {})
        decoy = {"policyTypes": ["Ingress", "Egress"]} if spec.get("policyTypes") != ["Ingress", "Egress"] else {"policyTypes": ["Ingress"]}
        return to_yaml({**{k: v for k, v in obj.items() if k != "spec"}}) + "\nspec:\n" + to_yaml(decoy, 1) + "\nspec:\n" + (to_yaml(spec, 1) if spec else "  {}")
    if form == "merge-before" or form == "merge-after" or form == "merge-seq":
        spec = dict(obj.get("spec", {}))
        md = {k: v for k, v in obj.items() if k != "spec"}
        if not spec:
            return to_yaml(obj)
        key = rng.choice(sorted(spec))
        merged = {key: spec.pop(key)}
        head = to_yaml(md) + "\nspec:\n"
        rest = to_yaml(spec, 1) + "\n" if spec else ""
        if form == "merge-seq":
            decoy = {key: [{}] if key in ("ingress", "egress") else ({"matchLabels": {"x": "y"}} if key == "podSelector" else ["Egress"])}
            return head + rest + "  <<: [" + json.dumps(merged) + ", " + json.dumps(decoy) + "]\n"
        if form == "merge-before":
            return head + rest + "  <<: " + json.dumps(merged) + "\n"
        # An explicit key written before "<<" is replaced by the merged one.
        return head + "  " + key + ": null\n" + rest + "  <<: " + json.dumps(merged) + "\n"
    return to_yaml(obj)


def alias_files(seed):
    """Two fixed files on go-yaml's alias rule: heavy reuse kubectl reads, and a
    "billion laughs" it refuses as excessive aliasing. Returns (name, text, class, ns)."""
    ns = f"fid-{seed}-alias"
    head = to_yaml(namespace_obj(ns)) + "\n---\n" + to_yaml(policy(ns, "reuse", {})).rstrip("\n")
    rules = "".join("    - from: [{podSelector: *sel}]\n" for _ in range(300))
    reuse = (head.replace("spec: {}", "") + "\nspec:\n  podSelector: &sel {matchLabels: {app: web}}\n"
             "  policyTypes: [Ingress, Egress]\n  ingress:\n" + rules)
    bomb_ns = f"fid-{seed}-laughs"
    bomb = to_yaml(namespace_obj(bomb_ns)) + "\n---\n" + to_yaml(policy(bomb_ns, "laughs", {"policyTypes": ["Ingress", "Egress"]}))
    bomb += "\nx0: &a0 [x, x, x, x, x, x, x, x, x, x]\n"
    for i in range(1, 9):
        bomb += f"x{i}: &a{i} [" + ", ".join([f"*a{i - 1}"] * 10) + "]\n"
    return [("alias-reuse.yaml", reuse, None, ns), ("alias-laughs.yaml", bomb, "excessive-aliasing", bomb_ns)]


FORMS = ["block", "flow", "tags", "duplicate-key", "merge-before", "merge-after", "merge-seq"]
FILE_FORMS = ["yaml", "json-stream", "json-single-list", "bom", "bom-comment", "dots", "list",
              "separator-comment", "json-then-yaml"]


def generate(rng, ns, index):
    """Returns (file name, text, invalid class or None)."""
    objs = [namespace_obj(ns)] + [policy(ns, f"p{j}", random_spec(rng)) for j in range(rng.randint(1, 3))]
    if rng.random() < 0.35:
        cls, make = rng.choice(INVALID)
        docs = [to_yaml(namespace_obj(ns)), make(ns)]
        return f"{index:03d}-invalid-{cls}.yaml", "\n---\n".join(docs) + "\n", cls
    file_form = rng.choice(FILE_FORMS)
    if file_form == "json-stream":
        sep = rng.choice(["\n", "", "\n\n", " "])
        return f"{index:03d}-{file_form}.json", sep.join(json.dumps(o) for o in objs) + "\n", None
    if file_form == "json-then-yaml":
        return (f"{index:03d}-{file_form}.yaml",
                json.dumps(objs[0]) + "\n---\n" + "\n---\n".join(to_yaml(o) for o in objs[1:]) + "\n", None)
    if file_form == "json-single-list":
        return f"{index:03d}-{file_form}.json", json.dumps({"apiVersion": "v1", "kind": "List", "items": objs}, indent=1) + "\n", None
    if file_form == "list":
        return f"{index:03d}-{file_form}.yaml", to_yaml({"apiVersion": "v1", "kind": "List", "items": objs}) + "\n", None
    docs = [render_doc(o, rng.choice(FORMS) if o["kind"] == "NetworkPolicy" else "block", rng) for o in objs]
    sep = "\n--- # next\n" if file_form == "separator-comment" else "\n---\n"
    text = sep.join(docs) + "\n"
    if file_form == "dots":
        # "..." ends a document; kubectl reads only the first document of a chunk,
        # so anything after "..." up to the next "---" is ignored (even a policy).
        text = "\n---\n".join(d + "\n...\n" for d in docs)
        text += "\n---\n" + to_yaml(namespace_obj(ns)) + "\n...\n" + to_yaml(policy(ns, "after-dots-ignored", {"policyTypes": ["Ingress", "Egress"]})) + "\n"
    if file_form == "bom":
        text = BOM + text
    if file_form == "bom-comment":
        text = BOM + "# generated\n---\n" + text
    return f"{index:03d}-{file_form}.yaml", text, None


def run(cmd, timeout=COMMAND_TIMEOUT):
    p = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout)
    return p.returncode, p.stdout, p.stderr


def coverage_of(policies):
    cov = {}
    for p in policies:
        ns = p["metadata"]["namespace"]
        spec = p.get("spec") or {}
        sel = spec.get("podSelector") or {}
        selects_all = not sel.get("matchLabels") and not sel.get("matchExpressions")
        types = spec.get("policyTypes") or []
        c = cov.setdefault(ns, [False, False])
        if selects_all and "Ingress" in types and not spec.get("ingress"):
            c[0] = True
        if selects_all and "Egress" in types and not spec.get("egress"):
            c[1] = True
    return cov


def report_coverage(text):
    doc = json.loads(text)
    return {n["namespace"]: [n["denyAllIngress"], n["denyAllEgress"]] for n in doc["namespaces"]}


def main():
    ng, kubectl, kubeconfig, work, seed, count = sys.argv[1:7]
    seed, count = int(seed), int(count)
    rng = random.Random(seed)
    started = time.monotonic()
    os.makedirs(work, exist_ok=True)
    files = []
    for i in range(count):
        ns = f"fid-{seed}-{i}"
        name, text, cls = generate(rng, ns, i)
        path = os.path.join(work, name)
        with open(path, "w", encoding="utf-8") as f:
            f.write(text)
        files.append((path, ns, cls))
    for name, text, cls, ns in alias_files(seed):
        path = os.path.join(work, name)
        with open(path, "w", encoding="utf-8") as f:
            f.write(text)
        files.append((path, ns, cls))

    disagreements = []  # (size, path, why)
    applied = {}
    for path, ns, cls in files:
        if time.monotonic() - started > DEADLINE_SECONDS:
            disagreements.append((0, path, f"deadline of {DEADLINE_SECONDS:.0f} s reached before this file"))
            break
        crc, cout, cerr = run([ng, "check", "--output", "json", "--check-workloads=false", path])
        krc, kout, kerr = run([kubectl, "--kubeconfig", kubeconfig, "apply", "-f", path])
        size = os.path.getsize(path)
        if krc != 0:
            if crc != 2:
                disagreements.append((size, path, f"kubectl refused it ({kerr.strip()[:300]}) but check exited {crc}"))
            continue
        if crc == 2:
            disagreements.append((size, path, f"kubectl applied it but check refused it: {cerr.strip()[:300]}"))
            continue
        if cls is not None:
            disagreements.append((size, path, f"invalid class {cls} was applied by kubectl: the generator is wrong"))
            continue
        applied[ns] = (path, report_coverage(cout).get(ns, [False, False]))

    rc, out, err = run([kubectl, "--kubeconfig", kubeconfig, "get", "networkpolicies", "-A", "-o", "json"], 120)
    if rc != 0:
        print(f"FAIL: kubectl get networkpolicies: {err}")
        return 1
    stored = coverage_of(json.loads(out)["items"])
    rc, out, err = run([ng, "audit", "--kubeconfig", kubeconfig, "--output", "json"], 120)
    if rc not in (0, 1):
        print(f"FAIL: audit exited {rc}: {err}")
        return 1
    audited = report_coverage(out)
    for ns, (path, checked) in applied.items():
        truth = stored.get(ns, [False, False])
        seen = audited.get(ns, [False, False])
        if checked != truth or seen != truth:
            disagreements.append((os.path.getsize(path), path,
                                  f"namespace {ns}: apiserver {truth}, check {checked}, audit {seen} "
                                  "([deny-all ingress, deny-all egress])"))

    print(f"seed {seed}: {len(files)} files, {len(applied)} applied, "
          f"{sum(1 for f in files if f[2])} invalid, {len(disagreements)} disagreements, "
          f"{time.monotonic() - started:.1f} s")
    if disagreements:
        for size, path, why in sorted(disagreements):
            print(f"DISAGREE: {os.path.basename(path)}: {why}")
        size, path, why = min(disagreements)
        print(f"--- smallest file showing a disagreement: {path} ({size} bytes)")
        with open(path, encoding="utf-8") as f:
            print(f.read())
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
