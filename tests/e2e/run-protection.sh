#!/usr/bin/env bash
# End-to-end suite for the ways around baseline protection, each tried the way an
# attacker with NetworkPolicy rights in one namespace would, against a real
# kube-apiserver with netpol-guard watching it (--kubeconfig):
#   1. terminating policies: a finalizer keeps a deleted policy around;
#   2. concurrent requests: two deletes (or weakening patches) of redundant
#      baselines released at the same instant, 20 rounds each;
#   3. the garbage collector under the shared controller identity
#      (--use-service-account-credentials=false) deleting the only baseline;
#   4. a decoy default-deny-all that is not a deny-all, made before provisioning.
#
#   tests/e2e/run-protection.sh NETPOL_GUARD_BINARY [SOURCE_DIR]
#
# Prints PASS/FAIL per scenario, the measured figures, and "N passed, M failed".
set -euo pipefail
export NETPOL_GUARD_STATE=live

# shellcheck source=tests/e2e/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

ROUNDS=${PROTECTION_ROUNDS:-20}
figures=()
gc_pid=""

check() { # NAME CONDITION-STATUS DETAILS...
  local name=$1 ok=$2
  shift 2
  if ((ok == 0)); then pass "$name"; else fail "$name" "$@"; fi
}

metric() { # NAME-WITH-LABELS
  curl -fsS --max-time 2 "http://$health/metrics" 2>/dev/null | awk -v m="$1" '$1 == m { print $2 }'
}

stop_gc() {
  stop_child "$gc_pid"
  gc_pid=""
}
trap 'rc=$?; stop_gc; (exit $rc); cleanup' EXIT

policy_yaml() { # NAME NAMESPACE [EXTRA-METADATA-LINES]
  printf '%s\n' "apiVersion: networking.k8s.io/v1" "kind: NetworkPolicy" "metadata:" \
    "  name: $1" "  namespace: $2" ${3:+"$3"} "spec:" "  podSelector: {}" \
    "  policyTypes: [Ingress, Egress]"
}

# Names of the NetworkPolicies in NAMESPACE that deny all ingress and egress and
# are not being deleted, as the apiserver stores them.
live_baselines() { # NAMESPACE
  k -n "$1" get networkpolicies -o json | python3 -c '
import json, sys
names = []
for p in json.load(sys.stdin)["items"]:
    s = p["spec"]
    if p["metadata"].get("deletionTimestamp") or s.get("podSelector") not in ({}, None):
        continue
    t = s.get("policyTypes") or []
    if "Ingress" in t and "Egress" in t and not s.get("ingress") and not s.get("egress"):
        names.append(p["metadata"]["name"])
print(" ".join(sorted(names)))'
}

# The webhook as shipped: UPDATE/DELETE of NetworkPolicies and the shipped
# matchCondition (read from manifests/base/webhook.yaml, so a test of the
# shipped manifest, not a copy of it).
shipped_conditions=$(python3 - "$src/manifests/base/webhook.yaml" <<'PY'
import sys, yaml
doc = next(d for d in yaml.safe_load_all(open(sys.argv[1])) if d and d.get("kind") == "ValidatingWebhookConfiguration")
conds = doc["webhooks"][0].get("matchConditions") or []
out = ["  matchConditions:"]
for c in conds:
    out.append(f"  - name: {c['name']}")
    out.append(f"    expression: {yaml.safe_dump(c['expression'], default_style=chr(39), width=10000).splitlines()[0]}")
print("\n".join(out) if conds else "")
PY
) || setup_fail "read matchConditions from manifests/base/webhook.yaml"

register_webhook() {
  WEBHOOK_EXTRA_RULES="  - operations: [\"UPDATE\", \"DELETE\"]
    apiGroups: [\"networking.k8s.io\"]
    apiVersions: [\"v1\"]
    resources: [\"networkpolicies\"]
$shipped_conditions
" webhook_yaml "$webhook_port" "$work/certs/ca.crt" >"$work/manifests/webhook.yaml"
  k apply -f "$work/manifests/webhook.yaml" >/dev/null || setup_fail "register ValidatingWebhookConfiguration"
}

# ------------------------------------------------------------------ setup

"$src/certs/gen-dev-certs.sh" "$work/certs" >/dev/null || setup_fail "certs/gen-dev-certs.sh failed"
for ns in prot-fin prot-term prot-race prot-gc prot-probe; do
  k create namespace "$ns" >/dev/null || setup_fail "create namespace $ns"
  wait_sa "$ns" || setup_fail "no default ServiceAccount in $ns"
done

# A tenant with NetworkPolicy rights (and pod creation) in prot-fin only.
k apply -f - >/dev/null <<EOF || setup_fail "tenant RBAC"
apiVersion: rbac.authorization.k8s.io/v1
kind: Role
metadata: {name: tenant, namespace: prot-fin}
rules:
- apiGroups: ["networking.k8s.io"]
  resources: ["networkpolicies"]
  verbs: ["get", "list", "watch", "create", "update", "patch", "delete"]
- apiGroups: [""]
  resources: ["pods"]
  verbs: ["create", "get"]
---
apiVersion: rbac.authorization.k8s.io/v1
kind: RoleBinding
metadata: {name: tenant, namespace: prot-fin}
roleRef: {apiGroup: rbac.authorization.k8s.io, kind: Role, name: tenant}
subjects:
- {apiGroup: rbac.authorization.k8s.io, kind: User, name: tenant}
EOF
tk() { k --as=tenant -n prot-fin "$@"; }

# prot-term: its only deny-all is already being deleted (held by a finalizer),
# a state reached before the webhook is registered.
policy_yaml default-deny-all prot-term "  finalizers: [example.com/hold]" | k apply -f - >/dev/null ||
  setup_fail "terminating baseline for prot-term"
k -n prot-term delete networkpolicy default-deny-all --wait=false >/dev/null || setup_fail "delete in prot-term"

start_netpol_guard || setup_fail "netpol-guard did not become ready"
register_webhook
pod_yaml prot-term >"$work/manifests/pod-term.yaml"
pod_yaml prot-race >"$work/manifests/pod-race.yaml"  # no policy there yet
wait_webhook_active "$work/manifests/pod-race.yaml"
# ...and until NetworkPolicy deletes reach the webhook too (a namespace of its
# own: the probe stays, pinned).
policy_yaml probe prot-probe | k apply -f - >/dev/null
for ((i = 0; i < 60; i++)); do
  run_k -n prot-probe delete networkpolicy probe --dry-run=server
  if ((rc != 0)) && [[ "$err" == *"admission webhook \"$webhook\""* ]]; then break; fi
  sleep 0.5
done

# ------------------------------------------------------------------ 1. terminating policies

run_k apply -f "$work/manifests/pod-term.yaml"
[[ $rc != 0 && "$err" == *"$denied_prefix: namespace \"prot-term\" has no default-deny ingress and egress"* ]] && ok=0 || ok=1
check "terminating: a policy being deleted is no baseline (the pod is denied)" $ok "rc=$rc" "stderr: $err"

# The reviewed route, as the tenant: the older policy is backup this time, so
# default-deny-all may go; once it is terminating it counts for nothing.
policy_yaml backup prot-fin | tk apply -f - >/dev/null
sleep 1.1  # a later creationTimestamp (whole seconds)
policy_yaml default-deny-all prot-fin | tk apply -f - >/dev/null
run_k --as=tenant -n prot-fin patch networkpolicy default-deny-all --type=merge \
  -p '{"metadata":{"finalizers":["example.com/hold"]}}'
check "terminating: adding a finalizer is allowed" $rc "stderr: $err"
run_k --as=tenant -n prot-fin delete networkpolicy default-deny-all --wait=false
check "terminating: deleting the newer deny-all is allowed (backup is older)" $rc "stderr: $err"
run_k --as=tenant -n prot-fin delete networkpolicy backup
[[ $rc != 0 && "$err" == *"$denied_prefix"*"\"backup\""* ]] && tk get networkpolicy backup >/dev/null 2>&1 && ok=0 || ok=1
check "terminating: deleting backup is denied: the terminating policy does not count" $ok "rc=$rc" "stderr: $err"
run_k --as=tenant -n prot-fin patch networkpolicy default-deny-all --type=merge \
  -p '{"spec":{"ingress":[{}],"egress":[{}]}}'
[[ $rc != 0 && "$err" == *"$denied_prefix"*"is being deleted; only its finalizers may change"* ]] && ok=0 || ok=1
check "terminating: a spec change of the terminating policy is denied" $ok "rc=$rc" "stderr: $err"
run_k --as=tenant -n prot-fin patch networkpolicy default-deny-all --type=merge -p '{"metadata":{"finalizers":null}}'
gone=1
for ((i = 0; i < 40; i++)); do tk get networkpolicy default-deny-all >/dev/null 2>&1 || { gone=0; break; }; sleep 0.25; done
[[ $rc == 0 && $gone == 0 ]] && ok=0 || ok=1
check "terminating: removing the finalizer is allowed and the deletion finishes" $ok "rc=$rc" "stderr: $err"
[[ "$(live_baselines prot-fin)" == backup ]] && ok=0 || ok=1
check "terminating: backup is still the namespace's baseline" $ok "baselines: $(live_baselines prot-fin)"
# backup is now the oldest (and only) deny-all: the pin refuses its deletion.
run_k -n prot-fin delete networkpolicy backup --dry-run=server
[[ $rc != 0 && "$err" == *"it is the namespace's oldest default-deny ingress and egress policy"* ]] && ok=0 || ok=1
check "terminating: the oldest deny-all is pinned (dry run)" $ok "rc=$rc" "stderr: $err"

# ------------------------------------------------------------------ 2. concurrent requests

api() { python3 "$src/tests/e2e/concurrent_requests.py" "$cluster" "$@"; }
base=/apis/networking.k8s.io/v1/namespaces/prot-race/networkpolicies
pod_body() {
  printf '{"apiVersion":"v1","kind":"Pod","metadata":{"name":"%s","namespace":"prot-race"},"spec":{"containers":[{"name":"c","image":"registry.k8s.io/pause:3.10"}]}}' "$1"
}
policy_yaml a prot-race | k apply -f - >/dev/null
policy_yaml b prot-race | k apply -f - >/dev/null
zero_rounds=0 both_allowed=0 pods_admitted=0 rounds=0
for ((r = 1; r <= ROUNDS; r++)); do
  # Which pod the cluster admits is secondary; what matters is the namespace
  # never ends a round without a baseline.
  mapfile -t res < <(api "DELETE $base/a" "DELETE $base/b" "POST /api/v1/namespaces/prot-race/pods $(pod_body "race-$r")")
  [[ "${res[0]}" == 200* && "${res[1]}" == 200* ]] && both_allowed=$((both_allowed + 1))
  [[ "${res[2]}" == 201* ]] && pods_admitted=$((pods_admitted + 1))
  [[ -n "$(live_baselines prot-race)" ]] || zero_rounds=$((zero_rounds + 1))
  rounds=$((rounds + 1))
  for p in a b; do
    k -n prot-race get networkpolicy "$p" >/dev/null 2>&1 || policy_yaml "$p" prot-race | k apply -f - >/dev/null
  done
done
[[ $zero_rounds == 0 && $both_allowed == 0 && $rounds == "$ROUNDS" ]] && ok=0 || ok=1
check "concurrent: DELETE a + DELETE b + Pod CREATE at once, $ROUNDS rounds: never zero baselines" $ok \
  "rounds=$rounds zero-baseline rounds=$zero_rounds both deletes allowed=$both_allowed"
figures+=("concurrent deletes: $rounds rounds, both allowed $both_allowed, zero baselines $zero_rounds, pods admitted $pods_admitted")

open='{"spec":{"ingress":[{}]}}'
zero_rounds=0 both_allowed=0 rounds=0
for ((r = 1; r <= ROUNDS; r++)); do
  mapfile -t res < <(api "PATCH $base/a $open" "PATCH $base/b $open")
  [[ "${res[0]}" == 200* && "${res[1]}" == 200* ]] && both_allowed=$((both_allowed + 1))
  [[ -n "$(live_baselines prot-race)" ]] || zero_rounds=$((zero_rounds + 1))
  rounds=$((rounds + 1))
  k -n prot-race patch networkpolicy b --type=merge -p '{"spec":{"ingress":null}}' >/dev/null  # undo
done
[[ $zero_rounds == 0 && $both_allowed == 0 && $rounds == "$ROUNDS" ]] && ok=0 || ok=1
check "concurrent: two PATCHes that open ingress at once, $ROUNDS rounds: never both" $ok \
  "rounds=$rounds zero-baseline rounds=$zero_rounds both allowed=$both_allowed"
figures+=("concurrent weakening patches: $rounds rounds, both allowed $both_allowed, zero baselines $zero_rounds")

# ------------------------------------------------------------------ 3. garbage collector, shared identity

# Clusters that run controllers under one identity grant it what every
# controller needs; the garbage collector deletes anything.
k create clusterrolebinding shared-controller-identity --clusterrole=cluster-admin \
  --user=system:kube-controller-manager >/dev/null || setup_fail "shared identity RBAC"
bin_dir=$("$lc" bin-dir)
gc_port=$(free_port)
mkdir -p "$work/gc-certs"
"$bin_dir/kube-controller-manager" \
  --kubeconfig="$cluster/controller-manager.kubeconfig" \
  --authentication-kubeconfig="$cluster/controller-manager.kubeconfig" \
  --authorization-kubeconfig="$cluster/controller-manager.kubeconfig" \
  --bind-address=127.0.0.1 --secure-port="$gc_port" --cert-dir="$work/gc-certs" \
  --controllers=garbagecollector --use-service-account-credentials=false \
  --leader-elect=false --profiling=false --v=1 </dev/null >"$work/gc-controller-manager.log" 2>&1 &
gc_pid=$!
k -n prot-gc create configmap owner >/dev/null
owner_uid=$(k -n prot-gc get configmap owner -o jsonpath='{.metadata.uid}')
policy_yaml default-deny-all prot-gc "  ownerReferences: [{apiVersion: v1, kind: ConfigMap, name: owner, uid: $owner_uid}]" |
  k apply -f - >/dev/null
k -n prot-gc delete configmap owner >/dev/null
# Both garbage collectors (the cluster's, as its service account, and this one,
# as system:kube-controller-manager) try to delete the orphaned policy.
seen=1
for ((i = 0; i < 60; i++)); do
  if grep -q '"user":"system:kube-controller-manager"' "$work/netpol-guard.$ng_runs.log" 2>/dev/null; then
    seen=0
    break
  fi
  sleep 0.5
done
sleep 2
[[ $seen == 0 ]] && k -n prot-gc get networkpolicy default-deny-all >/dev/null 2>&1 && ok=0 || ok=1
check "garbage collector as system:kube-controller-manager: its delete reaches the webhook and is denied" $ok \
  "webhook saw it: $([[ $seen == 0 ]] && echo yes || echo no)" \
  "policy: $(k -n prot-gc get networkpolicy default-deny-all -o name 2>&1)" \
  "gc log: $(tail -n 3 "$work/gc-controller-manager.log")"
stop_gc
run_k delete namespace prot-gc --wait=false
gone=1
for ((i = 0; i < 120; i++)); do k get namespace prot-gc >/dev/null 2>&1 || { gone=0; break; }; sleep 0.5; done
[[ $rc == 0 && $gone == 0 ]] && ok=0 || ok=1
check "garbage collector: deleting the namespace still removes its policies" $ok "rc=$rc"

# ------------------------------------------------------------------ 4. decoy default-deny-all

start_netpol_guard --provision-default-deny || setup_fail "netpol-guard with provisioning"
# The owner's decoy must exist before provisioning runs: freeze netpol-guard
# (SIGSTOP) with failurePolicy Ignore for that moment, create the namespace and
# the decoy, then let netpol-guard see the namespace.
k patch validatingwebhookconfiguration "$webhook" --type=json \
  -p '[{"op":"replace","path":"/webhooks/0/failurePolicy","value":"Ignore"},{"op":"replace","path":"/webhooks/0/timeoutSeconds","value":1}]' >/dev/null
sleep 2
kill -STOP "$ng_pid"
k create namespace prot-decoy >/dev/null 2>&1
k apply -f - >/dev/null <<EOF
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: {name: default-deny-all, namespace: prot-decoy}
spec:
  podSelector: {matchLabels: {app: nothing}}
  policyTypes: [Ingress, Egress]
EOF
kill -CONT "$ng_pid"
logf="$work/netpol-guard.$ng_runs.log"
warned=1
for ((i = 0; i < 100; i++)); do
  if grep -q '"level":"warn".*default-deny-all that is not a deny-all.*"namespace":"prot-decoy"' "$logf"; then warned=0; break; fi
  sleep 0.1
done
k patch validatingwebhookconfiguration "$webhook" --type=json \
  -p '[{"op":"replace","path":"/webhooks/0/failurePolicy","value":"Fail"},{"op":"replace","path":"/webhooks/0/timeoutSeconds","value":5}]' >/dev/null
[[ $warned == 0 && "$(metric 'netpol_guard_provisioned_policies_total{result="conflict"}')" == 1 ]] && ok=0 || ok=1
check "decoy: provisioning logs a warning and counts the conflict" $ok \
  "warned=$warned conflict=$(metric 'netpol_guard_provisioned_policies_total{result="conflict"}')" \
  "$(grep -i decoy "$logf" | tail -n 3)"
wait_sa prot-decoy || true
pod_yaml prot-decoy >"$work/manifests/pod-decoy.yaml"
sleep 2
run_k apply -f "$work/manifests/pod-decoy.yaml"
[[ $rc != 0 && "$err" == *"$denied_prefix"*"the NetworkPolicy named \"default-deny-all\" there is not a deny-all"* ]] && ok=0 || ok=1
check "decoy: the pod's denial names the decoy" $ok "rc=$rc" "stderr: $err"
"$ng_bin" audit --kubeconfig "$cluster/kubeconfig" >"$work/audit.txt" 2>&1 || true
grep -q '^\[FAIL\] 5.3.2 namespace prot-decoy: .*the NetworkPolicy named default-deny-all is not a deny-all' "$work/audit.txt" && ok=0 || ok=1
check "decoy: audit names it" $ok "$(grep prot-decoy "$work/audit.txt")"

# ------------------------------------------------------------------ summary

for f in "${figures[@]}"; do echo "FIGURE: $f"; done
echo "$passed passed, $failed failed"
((failed == 0))
