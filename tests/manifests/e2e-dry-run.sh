#!/usr/bin/env bash
# `kubectl apply --dry-run=server --validate=strict` of every rendering
# (kustomize base and overlays, the policies, install.yaml, the Helm chart with
# each values set) against a real kube-apiserver: schema, defaulting and
# validation (webhook rules, matchConditions CEL, Pod security fields, PDB, RBAC)
# all run server-side without persisting anything.
# The Prometheus Operator's monitoring.coreos.com CRDs (ServiceMonitor,
# PodMonitor, PrometheusRule) are installed first, from the prometheus-operator
# Go module (tests/tools/crds.sh), so those objects are validated against their
# real schemas too. cert-manager's kinds are left out: no Go module here ships
# its CRDs as files.
#
#   tests/manifests/e2e-dry-run.sh SOURCE_DIR
set -euo pipefail
src=$(cd "${1:?usage: e2e-dry-run.sh SOURCE_DIR}" && pwd)
. "$src/tests/manifests/lib-e2e.sh"

helm=$("$src/tests/manifests/ensure-helm.sh")
"$src/tests/manifests/render-all.sh" "$src" "$work/render" "$helm" >/dev/null
e2e_up
# Namespaced objects can only be dry-run into a namespace that exists.
kc create namespace netpol-guard >/dev/null

crds=$("$src/tests/tools/crds.sh")
for kind in servicemonitors podmonitors prometheusrules; do
  kc create -f "$crds/monitoring.coreos.com_$kind.yaml" >/dev/null
done
if kc wait --for condition=established --timeout=60s \
    crd/servicemonitors.monitoring.coreos.com crd/podmonitors.monitoring.coreos.com \
    crd/prometheusrules.monitoring.coreos.com >/dev/null; then
  ok "monitoring.coreos.com CRDs established (from $(basename "$(dirname "$(dirname "$crds")")"))"
else
  bad "monitoring.coreos.com CRDs not established"
fi

for f in "$work"/render/*.yaml; do
  name=${f##*/}
  python3 - "$f" "$work/dry-$name" <<'PY'
import sys, yaml
docs = [d for d in yaml.safe_load_all(open(sys.argv[1])) if d]
keep = [d for d in docs if not d["apiVersion"].startswith("cert-manager.io/")]
yaml.safe_dump_all(keep, open(sys.argv[2], "w"), sort_keys=False)
print(f"{len(docs) - len(keep)} cert-manager object(s) left out", file=sys.stderr) if len(keep) != len(docs) else None
PY
  if out=$(kc apply --dry-run=server --validate=strict -f "$work/dry-$name" 2>&1); then
    kinds=$(sed -n 's#/.*(server dry run)$##p' <<<"$out" | sort | uniq -c | awk '{printf "%s%s %s", sep, $1, $2; sep=", "}')
    ok "$name: $(grep -c 'server dry run' <<<"$out") objects accepted (dry-run=server): $kinds"
  else
    bad "$name"; sed 's/^/    /' <<<"$out"
  fi
done
# API Priority and Fairness for real: with install.yaml's FlowSchema and
# PriorityLevelConfiguration applied, the apiserver classifies netpol-guard's
# requests (impersonated; APF runs after impersonation) into them, and other
# service accounts' requests elsewhere. The apiserver names the schema it chose
# in the X-Kubernetes-PF-FlowSchema-UID response header, even on a 403.
python3 - "$work/render/install.yaml" "$work/apf.yaml" <<'PY'
import sys, yaml
docs = [d for d in yaml.safe_load_all(open(sys.argv[1])) if d]
yaml.safe_dump_all([d for d in docs if d["kind"] in ("FlowSchema", "PriorityLevelConfiguration")], open(sys.argv[2], "w"))
PY
flow_schema_of() { # USER KUBECTL-GET-ARGS...: the FlowSchema uid the apiserver chose
  { kc get "${@:2}" --as="$1" -v=8 2>&1 || true; } | sed -n 's/.*X-Kubernetes-Pf-Flowschema-Uid: *\([0-9a-f-]*\).*/\1/Ip' | head -1
}
sa=system:serviceaccount:netpol-guard:netpol-guard
if kc apply -f "$work/apf.yaml" >/dev/null; then
  uid=$(kc get flowschema netpol-guard -o jsonpath='{.metadata.uid}')
  mine=
  for _ in $(seq 20); do # the APF controller picks up new schemas within a moment
    mine=$(flow_schema_of "$sa" networkpolicies -A)
    [[ $mine == "$uid" ]] && break
    sleep 0.5
  done
  # The cache's list/watch of all NetworkPolicies and Namespaces, and the live
  # read of one namespace's policies before a denial.
  for what in "networkpolicies -A" "namespaces" "networkpolicies -n default"; do
    # shellcheck disable=SC2086 # the kubectl arguments split on purpose
    mine=$(flow_schema_of "$sa" $what)
    if [[ -n $uid && $mine == "$uid" ]]; then
      ok "APF: netpol-guard's 'get $what' is classified into FlowSchema netpol-guard"
    else
      bad "APF: netpol-guard's 'get $what' went to FlowSchema uid '$mine', not netpol-guard's '$uid'"
    fi
  done
  other=$(flow_schema_of system:serviceaccount:default:someone-else networkpolicies -A)
  if [[ -n $other && $other != "$uid" ]]; then
    ok "APF: another service account's requests are not ($(kc get flowschema -o jsonpath="{.items[?(@.metadata.uid=='$other')].metadata.name}"))"
  else
    bad "APF: another service account's requests went to '$other'"
  fi
else
  bad "APF objects could not be applied"
fi
finish
