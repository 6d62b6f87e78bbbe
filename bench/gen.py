#!/usr/bin/env python3
"""Generates the benchmark inputs: AdmissionReview bodies and policy sets.

  gen.py bodies OUT_DIR               pod-1k.json, pod-8k.json, pod-256k.json
  gen.py policies OUT_DIR small       the namespace the bodies use, plus a few others
  gen.py policies OUT_DIR large [N]   10,000 (or N) namespaces, five NetworkPolicies each (YAML)
  gen.py pod OUT_FILE NAMESPACE       a Pod (JSON) for the apiserver measurement

Every body is a Pod CREATE in namespace `bench`, which both policy sets cover
with a default-deny-all: netpol-guard allows it, as it does for most requests
in a compliant cluster. Output is deterministic (no clocks, no randomness).
"""

import json
import os
import sys

NAMESPACE = "bench"
LARGE_NAMESPACES = 10_000
LARGE_POLICIES = 50_000
NAMESPACES_PER_FILE = 100


def admission_review(pod, uid, username, groups):
    return {
        "apiVersion": "admission.k8s.io/v1",
        "kind": "AdmissionReview",
        "request": {
            "uid": uid,
            "kind": {"group": "", "version": "v1", "kind": "Pod"},
            "resource": {"group": "", "version": "v1", "resource": "pods"},
            "requestKind": {"group": "", "version": "v1", "kind": "Pod"},
            "requestResource": {"group": "", "version": "v1", "resource": "pods"},
            "name": pod["metadata"].get("name", ""),
            "namespace": NAMESPACE,
            "operation": "CREATE",
            "userInfo": {"username": username, "uid": "8d1c5f0e-3b1a-4a57-9d0c-2f3e4b5a6c7d",
                         "groups": groups},
            "object": pod,
            "oldObject": None,
            "dryRun": False,
            "options": {"apiVersion": "meta.k8s.io/v1", "kind": "CreateOptions",
                        "fieldManager": "kubectl-client-side-apply"},
        },
    }


def minimal_pod():
    """A hand-written Pod with one container, as `kubectl run` makes it."""
    return {
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": {
            "name": "web",
            "namespace": NAMESPACE,
            "labels": {"app": "web", "run": "web"},
            "creationTimestamp": None,
        },
        "spec": {
            "containers": [{
                "name": "web",
                "image": "registry.k8s.io/e2e-test-images/agnhost:2.53",
                "args": ["netexec", "--http-port=8080"],
                "ports": [{"containerPort": 8080, "protocol": "TCP"}],
                "imagePullPolicy": "IfNotPresent",
            }],
            "restartPolicy": "Always",
            "terminationGracePeriodSeconds": 30,
            "dnsPolicy": "ClusterFirst",
            "serviceAccountName": "default",
            "schedulerName": "default-scheduler",
        },
        "status": {},
    }


def fields_v1(container):
    """managedFields.fieldsV1 for a container, shaped as the apiserver writes it."""
    env = {f'k:{{"name":"{e["name"]}"}}': {".": {}, "f:name": {}, "f:value": {}}
           for e in container.get("env", [])}
    return {
        ".": {},
        "f:env": {".": {}, **env},
        "f:image": {}, "f:imagePullPolicy": {}, "f:name": {},
        "f:livenessProbe": {".": {}, "f:failureThreshold": {}, "f:httpGet": {
            ".": {}, "f:path": {}, "f:port": {}, "f:scheme": {}},
            "f:periodSeconds": {}, "f:successThreshold": {}, "f:timeoutSeconds": {}},
        "f:ports": {".": {}, 'k:{"containerPort":8080,"protocol":"TCP"}': {
            ".": {}, "f:containerPort": {}, "f:name": {}, "f:protocol": {}}},
        "f:readinessProbe": {".": {}, "f:failureThreshold": {}, "f:httpGet": {
            ".": {}, "f:path": {}, "f:port": {}, "f:scheme": {}},
            "f:periodSeconds": {}, "f:successThreshold": {}, "f:timeoutSeconds": {}},
        "f:resources": {".": {}, "f:limits": {".": {}, "f:memory": {}},
                        "f:requests": {".": {}, "f:cpu": {}, "f:memory": {}}},
        "f:securityContext": {".": {}, "f:allowPrivilegeEscalation": {},
                              "f:capabilities": {".": {}, "f:drop": {}},
                              "f:readOnlyRootFilesystem": {}, "f:runAsNonRoot": {}},
        "f:terminationMessagePath": {}, "f:terminationMessagePolicy": {},
        "f:volumeMounts": {".": {}, 'k:{"mountPath":"/etc/config"}': {
            ".": {}, "f:mountPath": {}, "f:name": {}, "f:readOnly": {}}},
    }


def controller_pod(env_count, annotation_count=0, annotation_bytes=0):
    """A Pod as a ReplicaSet controller creates it: generateName, owner
    reference, managedFields, probes, projected service-account token."""
    env = [{"name": f"APP_SETTING_{i:05d}", "value": f"value-{i:05d}-" + "x" * 24}
           for i in range(env_count)]
    container = {
        "name": "api",
        "image": "registry.example.com/payments/api@sha256:" + "0123456789abcdef" * 4,
        "ports": [{"name": "http", "containerPort": 8080, "protocol": "TCP"}],
        "env": env,
        "resources": {"limits": {"memory": "512Mi"},
                      "requests": {"cpu": "250m", "memory": "256Mi"}},
        "volumeMounts": [
            {"name": "config", "readOnly": True, "mountPath": "/etc/config"},
            {"name": "kube-api-access-7xk2p", "readOnly": True,
             "mountPath": "/var/run/secrets/kubernetes.io/serviceaccount"},
        ],
        "livenessProbe": {"httpGet": {"path": "/healthz", "port": "http", "scheme": "HTTP"},
                          "timeoutSeconds": 1, "periodSeconds": 10, "successThreshold": 1,
                          "failureThreshold": 3},
        "readinessProbe": {"httpGet": {"path": "/readyz", "port": "http", "scheme": "HTTP"},
                           "timeoutSeconds": 1, "periodSeconds": 5, "successThreshold": 1,
                           "failureThreshold": 3},
        "terminationMessagePath": "/dev/termination-log",
        "terminationMessagePolicy": "File",
        "imagePullPolicy": "IfNotPresent",
        "securityContext": {"capabilities": {"drop": ["ALL"]}, "runAsNonRoot": True,
                            "readOnlyRootFilesystem": True, "allowPrivilegeEscalation": False},
    }
    annotations = {
        "kubectl.kubernetes.io/restartedAt": "2025-06-01T08:00:00Z",
        "prometheus.io/scrape": "true",
        "prometheus.io/port": "8080",
    }
    for i in range(annotation_count):
        annotations[f"example.com/note-{i:05d}"] = "n" * annotation_bytes
    pod = {
        "kind": "Pod",
        "apiVersion": "v1",
        "metadata": {
            "generateName": "payments-api-7d9c6b8f5-",
            "namespace": NAMESPACE,
            "creationTimestamp": None,
            "labels": {
                "app.kubernetes.io/name": "payments-api",
                "app.kubernetes.io/instance": "payments",
                "app.kubernetes.io/component": "api",
                "app.kubernetes.io/part-of": "payments",
                "app.kubernetes.io/version": "4.12.1",
                "pod-template-hash": "7d9c6b8f5",
            },
            "annotations": annotations,
            "ownerReferences": [{
                "apiVersion": "apps/v1", "kind": "ReplicaSet", "name": "payments-api-7d9c6b8f5",
                "uid": "1f0f9c3e-6c55-4d8e-9a8b-2d2b9c7e5a10", "controller": True,
                "blockOwnerDeletion": True}],
            "managedFields": [{
                "manager": "kube-controller-manager",
                "operation": "Update",
                "apiVersion": "v1",
                "time": "2025-06-01T08:00:01Z",
                "fieldsType": "FieldsV1",
                "fieldsV1": {
                    "f:metadata": {
                        "f:annotations": {".": {}, **{f"f:{k}": {} for k in annotations}},
                        "f:generateName": {},
                        "f:labels": {".": {}, **{f"f:{k}": {} for k in
                                                 ["app.kubernetes.io/name",
                                                  "app.kubernetes.io/instance",
                                                  "app.kubernetes.io/component",
                                                  "app.kubernetes.io/part-of",
                                                  "app.kubernetes.io/version",
                                                  "pod-template-hash"]}},
                        "f:ownerReferences": {".": {}, 'k:{"uid":"1f0f9c3e-6c55-4d8e-9a8b-2d2b9c7e5a10"}': {}},
                    },
                    "f:spec": {
                        "f:containers": {'k:{"name":"api"}': fields_v1(container)},
                        "f:dnsPolicy": {}, "f:enableServiceLinks": {}, "f:restartPolicy": {},
                        "f:schedulerName": {}, "f:securityContext": {".": {}, "f:fsGroup": {},
                                                                      "f:runAsNonRoot": {}},
                        "f:serviceAccount": {}, "f:serviceAccountName": {},
                        "f:terminationGracePeriodSeconds": {}, "f:topologySpreadConstraints": {},
                        "f:volumes": {".": {}, 'k:{"name":"config"}': {
                            ".": {}, "f:configMap": {".": {}, "f:defaultMode": {}, "f:name": {}},
                            "f:name": {}}},
                    },
                },
            }],
        },
        "spec": {
            "volumes": [
                {"name": "config", "configMap": {"name": "payments-api-config", "defaultMode": 420}},
                {"name": "kube-api-access-7xk2p", "projected": {"sources": [
                    {"serviceAccountToken": {"expirationSeconds": 3607, "path": "token"}},
                    {"configMap": {"name": "kube-root-ca.crt",
                                   "items": [{"key": "ca.crt", "path": "ca.crt"}]}},
                    {"downwardAPI": {"items": [{"path": "namespace", "fieldRef": {
                        "apiVersion": "v1", "fieldPath": "metadata.namespace"}}]}}],
                    "defaultMode": 420}},
            ],
            "containers": [container],
            "restartPolicy": "Always",
            "terminationGracePeriodSeconds": 30,
            "dnsPolicy": "ClusterFirst",
            "serviceAccountName": "payments-api",
            "serviceAccount": "payments-api",
            "securityContext": {"runAsNonRoot": True, "fsGroup": 10001},
            "schedulerName": "default-scheduler",
            "topologySpreadConstraints": [{
                "maxSkew": 1, "topologyKey": "topology.kubernetes.io/zone",
                "whenUnsatisfiable": "ScheduleAnyway",
                "labelSelector": {"matchLabels": {"app.kubernetes.io/name": "payments-api"}}}],
            "tolerations": [
                {"key": "node.kubernetes.io/not-ready", "operator": "Exists",
                 "effect": "NoExecute", "tolerationSeconds": 300},
                {"key": "node.kubernetes.io/unreachable", "operator": "Exists",
                 "effect": "NoExecute", "tolerationSeconds": 300}],
            "priority": 0,
            "enableServiceLinks": True,
            "preemptionPolicy": "PreemptLowerPriority",
        },
        "status": {},
    }
    return pod


def dump(obj):
    return json.dumps(obj, separators=(",", ":"))  # compact, as the apiserver sends


def sized_review(target, make):
    """The smallest `make(n)` review at least `target` bytes long."""
    n = 0
    while True:
        body = dump(make(n))
        if len(body) >= target or n > 100_000:
            return body
        # Grow in proportion to the gap, then settle one step at a time.
        step = max(1, (target - len(body)) // 200)
        n += step


def write_bodies(out):
    os.makedirs(out, exist_ok=True)
    sa_groups = ["system:serviceaccounts", "system:serviceaccounts:kube-system",
                 "system:authenticated"]
    bodies = {
        "pod-1k.json": dump(admission_review(
            minimal_pod(), "3c2f7d1a-9e4b-4c6a-8f1d-5b7e2a9c0d11", "alice@example.com",
            ["developers", "system:authenticated"])),
        "pod-8k.json": sized_review(8 * 1024, lambda n: admission_review(
            controller_pod(n), "7e6d5c4b-3a29-4180-9f7e-6d5c4b3a2918",
            "system:serviceaccount:kube-system:replicaset-controller", sa_groups)),
        # The large Pod: thousands of env vars (each also in managedFields)
        # and a few hundred annotations.
        "pod-256k.json": sized_review(256 * 1024, lambda n: admission_review(
            controller_pod(n, annotation_count=200, annotation_bytes=200),
            "a1b2c3d4-e5f6-4789-8abc-def012345678",
            "system:serviceaccount:kube-system:replicaset-controller", sa_groups)),
    }
    for name, body in bodies.items():
        with open(os.path.join(out, name), "w") as f:
            f.write(body)
        print(f"{name}: {len(body)} bytes")


DENY_ALL = """apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata:
  name: default-deny-all
  namespace: {ns}
  labels:
    app.kubernetes.io/managed-by: k8s-security-pro
spec:
  podSelector: {{}}
  policyTypes:
  - Ingress
  - Egress
"""

ALLOW_RULES = [
    """apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata:
  name: allow-dns-egress-{i}
  namespace: {ns}
spec:
  podSelector: {{}}
  policyTypes: [Egress]
  egress:
  - to:
    - namespaceSelector:
        matchLabels:
          kubernetes.io/metadata.name: kube-system
      podSelector:
        matchLabels:
          k8s-app: kube-dns
    ports:
    - {{protocol: UDP, port: 53}}
    - {{protocol: TCP, port: 53}}
""",
    """apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata:
  name: allow-ingress-from-gateway-{i}
  namespace: {ns}
spec:
  podSelector:
    matchLabels:
      app.kubernetes.io/component: api
  policyTypes: [Ingress]
  ingress:
  - from:
    - namespaceSelector:
        matchLabels:
          kubernetes.io/metadata.name: gateway
    ports:
    - {{protocol: TCP, port: 8080}}
""",
    """apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata:
  name: allow-db-egress-{i}
  namespace: {ns}
spec:
  podSelector:
    matchExpressions:
    - {{key: app.kubernetes.io/name, operator: In, values: [api, worker]}}
  policyTypes: [Egress]
  egress:
  - to:
    - ipBlock:
        cidr: 10.20.0.0/16
        except: [10.20.99.0/24]
    ports:
    - {{protocol: TCP, port: 5432}}
""",
    """apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata:
  name: allow-same-namespace-{i}
  namespace: {ns}
spec:
  podSelector: {{}}
  policyTypes: [Ingress]
  ingress:
  - from:
    - podSelector: {{}}
""",
]

NAMESPACE_DOC = """apiVersion: v1
kind: Namespace
metadata:
  name: {ns}
  labels:
    kubernetes.io/metadata.name: {ns}
    team: team-{team}
"""


def namespace_docs(ns, index, policies):
    docs = [NAMESPACE_DOC.format(ns=ns, team=index % 97)]
    for p in range(policies):
        # One namespace in ten has allow rules only (non-compliant), as in a
        # cluster that is being brought into line.
        if p == 0 and index % 10 != 9:
            docs.append(DENY_ALL.format(ns=ns))
        else:
            docs.append(ALLOW_RULES[p % len(ALLOW_RULES)].format(ns=ns, i=p))
    return docs


def write_policies(out, size, namespace_count=LARGE_NAMESPACES):
    os.makedirs(out, exist_ok=True)
    if size == "small":
        docs = [NAMESPACE_DOC.format(ns=NAMESPACE, team=0), DENY_ALL.format(ns=NAMESPACE)]
        for i in range(1, 5):
            docs += namespace_docs(f"team-{i:05d}", i, 3)
        with open(os.path.join(out, "policies.yaml"), "w") as f:
            f.write("---\n".join(docs))
        print(f"small policy set: 5 namespaces, {sum('kind: NetworkPolicy' in d for d in docs)} NetworkPolicies")
        return
    per_ns = LARGE_POLICIES // LARGE_NAMESPACES
    namespaces = [NAMESPACE] + [f"team-{i:05d}" for i in range(1, namespace_count)]
    total_policies = 0
    for start in range(0, len(namespaces), NAMESPACES_PER_FILE):
        docs = []
        for i, ns in enumerate(namespaces[start:start + NAMESPACES_PER_FILE], start):
            d = namespace_docs(ns, i, per_ns)
            total_policies += len(d) - 1
            docs += d
        name = f"namespaces-{start // NAMESPACES_PER_FILE:03d}.yaml"
        with open(os.path.join(out, name), "w") as f:
            f.write("---\n".join(docs))
    print(f"large policy set: {len(namespaces)} namespaces, {total_policies} NetworkPolicies "
          f"in {(len(namespaces) + NAMESPACES_PER_FILE - 1) // NAMESPACES_PER_FILE} files")


def write_pod(path, namespace):
    pod = minimal_pod()
    pod["metadata"] = {"generateName": "bench-", "namespace": namespace,
                       "labels": {"app": "bench"}}
    pod["spec"] = {"containers": [{"name": "web",
                                   "image": "registry.k8s.io/e2e-test-images/agnhost:2.53"}],
                   "automountServiceAccountToken": False}
    del pod["status"]
    with open(path, "w") as f:
        f.write(dump(pod))


def main(argv):
    if len(argv) >= 3 and argv[1] == "bodies":
        write_bodies(argv[2])
    elif len(argv) >= 4 and argv[1] == "policies" and argv[3] in ("small", "large"):
        write_policies(argv[2], argv[3], *(int(n) for n in argv[4:5]))
    elif len(argv) >= 4 and argv[1] == "pod":
        write_pod(argv[2], argv[3])
    else:
        sys.stderr.write(__doc__)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
