#!/usr/bin/env bash
# End-to-end suite for the live cluster state and baseline protection: netpol-guard
# watches a real kube-apiserver (--kubeconfig, no files) while kubectl changes it.
#
#   tests/e2e/run-live-state.sh NETPOL_GUARD_BINARY [SOURCE_DIR]
#
# Prints PASS/FAIL per scenario, the measured figures, and "N passed, M failed".
set -euo pipefail
export NETPOL_GUARD_STATE=live

# shellcheck source=tests/e2e/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

# ------------------------------------------------------------------ helpers

metric() { # NAME-WITH-LABELS: prints the value, or nothing
  curl -fsS --max-time 2 "http://$health/metrics" 2>/dev/null | awk -v m="$1" '$1 == m { print $2 }'
}
noncompliant() { metric 'netpol_guard_noncompliant_namespaces{direction="any"}'; }
ready_status() { curl -s -o /dev/null -w '%{http_code}' --max-time 2 "http://$health/readyz" || true; }
now_ms() { date +%s%3N; }

# Waits (bounded) until the non-compliant gauge equals $1; prints the ms it took.
wait_noncompliant() { # VALUE TIMEOUT_MS
  local start
  start=$(now_ms)
  while true; do
    if [[ "$(noncompliant)" == "$1" ]]; then
      echo $(($(now_ms) - start))
      return 0
    fi
    (($(now_ms) - start > $2)) && return 1
    sleep 0.02
  done
}

wait_ready() { # EXPECTED_CODE TIMEOUT_S: prints seconds waited
  local i
  for ((i = 0; i < $2 * 10; i++)); do
    if [[ "$(ready_status)" == "$1" ]]; then
      echo "$((i / 10)).$((i % 10))"
      return 0
    fi
    sleep 0.1
  done
  return 1
}

# A direct AdmissionReview for a pod in NAMESPACE; prints "true" or "false".
direct_decision() { # NAMESPACE
  python3 - "$1" "$src/tests/fixtures/admission/pod-create.json" >"$work/review.json" <<'PY'
import json, sys
r = json.load(open(sys.argv[2]))
r["request"]["namespace"] = sys.argv[1]
r["request"]["object"]["metadata"]["namespace"] = sys.argv[1]
print(json.dumps(r))
PY
  curl -sS --max-time 5 --cacert "$work/certs/ca.crt" -H 'Content-Type: application/json' \
    --data-binary @"$work/review.json" "https://localhost:$webhook_port/validate" |
    python3 -c 'import json,sys; print(str(json.load(sys.stdin)["response"]["allowed"]).lower())'
}

custom_policy_yaml() { # NAME NAMESPACE POLICY_TYPES_FLOW_LIST
  printf '%s\n' "apiVersion: networking.k8s.io/v1" "kind: NetworkPolicy" "metadata:" \
    "  name: $1" "  namespace: $2" "spec:" "  podSelector: {}" "  policyTypes: $3"
}

register_webhook() {
  webhook_yaml "$webhook_port" "$work/certs/ca.crt" >"$work/manifests/webhook.yaml"
  k apply -f "$work/manifests/webhook.yaml" >/dev/null || setup_fail "register ValidatingWebhookConfiguration"
}

check() { # NAME CONDITION-STATUS DETAILS...
  local name=$1 ok=$2
  shift 2
  if ((ok == 0)); then pass "$name"; else fail "$name" "$@"; fi
}

figures=()

# ------------------------------------------------------------------ setup

"$src/certs/gen-dev-certs.sh" "$work/certs" >/dev/null || setup_fail "certs/gen-dev-certs.sh failed"
for ns in live-a live-b live-open live-half live-prot; do
  k create namespace "$ns" >/dev/null || setup_fail "create namespace $ns"
  wait_sa "$ns" || setup_fail "no default ServiceAccount in $ns"
done
default_deny_yaml live-prot | k apply -f - >/dev/null || setup_fail "baseline for live-prot"

start_netpol_guard --max-state-age=3s || setup_fail "netpol-guard did not become ready"
register_webhook
pod_yaml live-open >"$work/manifests/pod-open.yaml"
wait_webhook_active "$work/manifests/pod-open.yaml"

# ------------------------------------------------------------------ live state

# A policy created, updated or deleted changes decisions within a second.
base=$(noncompliant)
default_deny_yaml live-a | k apply -f - >/dev/null
if ms=$(wait_noncompliant $((base - 1)) 1000); then
  pass "policy created: reflected in ${ms} ms"
  figures+=("policy created -> state updated: ${ms} ms")
else
  fail "policy created: not reflected within 1 s" "gauge=$(noncompliant) want $((base - 1))"
fi
custom_policy_yaml half live-half '[Ingress]' | k apply -f - >/dev/null
sleep 0.3
custom_policy_yaml half live-half '[Ingress, Egress]' | k apply -f - >/dev/null
if ms=$(wait_noncompliant $((base - 2)) 1000); then
  pass "policy updated (Ingress -> Ingress+Egress): reflected in ${ms} ms"
  figures+=("policy updated -> state updated: ${ms} ms")
else
  fail "policy updated: not reflected within 1 s" "gauge=$(noncompliant) want $((base - 2))"
fi
k -n live-a delete networkpolicy default-deny-all >/dev/null
if ms=$(wait_noncompliant $((base - 1)) 1000); then
  pass "policy deleted: reflected in ${ms} ms"
  figures+=("policy deleted -> state updated: ${ms} ms")
else
  fail "policy deleted: not reflected within 1 s" "gauge=$(noncompliant)"
fi

# After the baseline is deleted, the next pod is denied.
pod_yaml live-a >"$work/manifests/pod-a.yaml"
run_k apply -f "$work/manifests/pod-a.yaml"
[[ $rc != 0 && "$err" == *"$denied_prefix"* ]] && ok=0 || ok=1
check "baseline deleted: the next pod is denied" $ok "rc=$rc" "stderr: $err"

# Apply a policy, then a pod at once: never wrongly denied (confirm before deny).
pod_yaml live-b >"$work/manifests/pod-b.yaml"
default_deny_yaml live-b >"$work/manifests/deny-b.yaml"
set +e
k apply -f "$work/manifests/deny-b.yaml" >/dev/null && k apply -f "$work/manifests/pod-b.yaml" >/dev/null 2>"$work/stderr"
rc=$?
set -e
[[ $rc == 0 ]] && k -n live-b get pod e2e-web >/dev/null 2>&1 && ok=0 || ok=1
check "apply policy then pod at once: allowed" $ok "rc=$rc" "stderr: $(cat "$work/stderr")"

# The apiserver stopped under netpol-guard: readiness dips (max-state-age 3 s),
# decisions stay right from the cache, and it recovers after the restart.
"$lc" stop-apiserver "$cluster" >/dev/null 2>&1 || setup_fail "stop-apiserver"
secs=$(wait_ready 503 15) && ok=0 || ok=1
check "apiserver down: /readyz fails after --max-state-age (${secs:-?} s)" $ok "readyz=$(ready_status)"
d_open=$(direct_decision live-open || echo error)
d_b=$(direct_decision live-b || echo error)
[[ "$d_open" == false && "$d_b" == true ]] && ok=0 || ok=1
check "apiserver down: decisions from the cache are still right" $ok "live-open=$d_open (want false)" "live-b=$d_b (want true)"
t0=$(now_ms)
"$lc" start-apiserver "$cluster" >/dev/null 2>&1 || setup_fail "start-apiserver"
if wait_ready 200 60 >/dev/null; then
  pass "apiserver back: ready again"
  figures+=("apiserver restarted -> netpol-guard ready: $(($(now_ms) - t0)) ms (apiserver start and watch backoff included)")
else
  fail "apiserver back: ready again" "readyz=$(ready_status)"
fi
run_k apply -f "$work/manifests/pod-open.yaml"
[[ $rc != 0 && "$err" == *"$denied_prefix"* ]] && ok=0 || ok=1
check "apiserver back: decisions through the apiserver are right" $ok "rc=$rc" "stderr: $err"

# netpol-guard restarted: not ready until it has resynced. With the apiserver
# down its first list cannot happen, so readiness has to wait for it.
"$lc" stop-apiserver "$cluster" >/dev/null 2>&1 || setup_fail "stop-apiserver"
start_netpol_guard --max-state-age=3s || true # not ready: expected
sleep 2
r1=$(ready_status)
t0=$(now_ms)
"$lc" start-apiserver "$cluster" >/dev/null 2>&1 || setup_fail "start-apiserver"
if [[ "$r1" == 503 ]] && wait_ready 200 60 >/dev/null; then
  pass "netpol-guard restarted: not ready before its first full list, ready after"
  figures+=("resync after restart (apiserver start included): $(($(now_ms) - t0)) ms")
else
  fail "netpol-guard restarted: not ready before its first full list, ready after" "before=$r1 after=$(ready_status)"
fi
relists=$(metric netpol_guard_relists_total)
[[ "${relists:-0}" -ge 2 ]] && ok=0 || ok=1
check "relists counted ($relists)" $ok "netpol_guard_relists_total=$relists"

# Provisioning: a new namespace gets the template's default-deny-all.
start_netpol_guard --provision-default-deny || setup_fail "netpol-guard with provisioning"
run_k create namespace live-new
[[ $rc == 0 && "$err" == *"Warning: CIS 5.3.2"*"default-deny-all"* ]] && ok=0 || ok=1
check "provisioning: namespace admitted with a warning" $ok "rc=$rc" "stderr: $err"
found=1
for ((i = 0; i < 50; i++)); do
  if k -n live-new get networkpolicy default-deny-all \
    -o jsonpath='{.metadata.labels.app\.kubernetes\.io/part-of} {.spec.policyTypes}' 2>/dev/null |
    grep -q 'k8s-security-pro.*Ingress.*Egress'; then
    found=0
    break
  fi
  sleep 0.1
done
check "provisioning: default-deny-all created with the template's labels and spec" $found \
  "$(k -n live-new get networkpolicy -o yaml 2>&1 | head -20)"
# The controller-manager's informers may still be backing off after the
# apiserver restarts above; the ServiceAccount is not what this checks.
wait_sa live-new || k -n live-new create serviceaccount default >/dev/null 2>&1 || true
pod_yaml live-new >"$work/manifests/pod-new.yaml"
run_k apply -f "$work/manifests/pod-new.yaml"
check "provisioning: a pod in the new namespace is admitted" $rc "stderr: $err"
k -n live-open get networkpolicy default-deny-all >/dev/null 2>&1 && ok=1 || ok=0
check "provisioning: existing namespaces are left alone" $ok "live-open got a policy"

# The CIS 5.3.2 report of the live cluster.
set +e
"$ng_bin" audit --kubeconfig "$cluster/kubeconfig" --output json >"$work/audit.json" 2>"$work/stderr"
arc=$?
set -e
if ((arc == 1)) && python3 - "$work/audit.json" <<'PY'
import json, sys
doc = json.load(open(sys.argv[1]))
rows = {r["namespace"]: r for r in doc["namespaces"]}
assert rows["live-open"]["compliant"] is False and rows["live-open"]["status"] == "FAIL"
assert rows["live-open"]["missing"] == ["ingress", "egress"]
assert rows["live-b"]["compliant"] is True and rows["live-b"]["baselinePolicies"] == ["default-deny-all"]
assert rows["live-b"]["unprotectedPods"] == 0
assert rows["live-a"]["compliant"] is False and rows["live-a"]["unprotectedPods"] == 0
assert rows["kube-system"]["exempt"] is True
for r in doc["namespaces"]:
    assert {"namespace", "denyAllIngress", "denyAllEgress", "compliant", "baselinePolicies"} <= set(r)
PY
then ok=0; else ok=1; fi
check "audit: the live report (JSON, exit 1 on FAIL)" $ok "exit=$arc" "$(head -c 600 "$work/audit.json")" "$(cat "$work/stderr")"
"$ng_bin" audit --kubeconfig "$cluster/kubeconfig" >"$work/audit.txt" 2>&1 || true
grep -q '^\[FAIL\] 5.3.2 namespace live-open' "$work/audit.txt" && ok=0 || ok=1
check "audit: text report" $ok "$(cat "$work/audit.txt")"

# ------------------------------------------------------------------ baseline protection

WEBHOOK_EXTRA_RULES='  - operations: ["UPDATE", "DELETE"]
    apiGroups: ["networking.k8s.io"]
    apiVersions: ["v1"]
    resources: ["networkpolicies"]
' register_webhook
start_netpol_guard || setup_fail "netpol-guard restart"
# Wait until the apiserver sends NetworkPolicy deletes to the webhook.
for ((i = 0; i < 60; i++)); do
  run_k -n live-prot delete networkpolicy default-deny-all --dry-run=server
  if ((rc != 0)) && [[ "$err" == *"admission webhook \"$webhook\""* ]]; then break; fi
  sleep 0.5
done
[[ $rc != 0 && "$err" == *"$denied_prefix: deleting NetworkPolicy \"default-deny-all\" would take default-deny ingress and egress from namespace \"live-prot\""* ]] && ok=0 || ok=1
check "protection: deleting the only baseline is denied (dry run)" $ok "rc=$rc" "stderr: $err"
run_k -n live-prot delete networkpolicy default-deny-all
[[ $rc != 0 ]] && k -n live-prot get networkpolicy default-deny-all >/dev/null 2>&1 && ok=0 || ok=1
check "protection: kubectl delete networkpolicy default-deny-all is refused" $ok "rc=$rc" "stderr: $err"

custom_policy_yaml baseline-v2 live-prot '[Ingress, Egress]' | k apply -f - >/dev/null
run_k -n live-prot delete networkpolicy default-deny-all
[[ $rc != 0 && "$err" == *"it is the namespace's oldest default-deny ingress and egress policy"* ]] && ok=0 || ok=1
check "protection: the oldest baseline stays pinned while a newer one covers" $ok "rc=$rc" "stderr: $err"
run_k -n live-prot delete networkpolicy baseline-v2
check "protection: a newer redundant baseline may be deleted" $rc "stderr: $err"

run_k -n live-prot patch networkpolicy default-deny-all --type=merge -p '{"spec":{"ingress":[{}]}}'
[[ $rc != 0 && "$err" == *"would take default-deny ingress from namespace \"live-prot\""* ]] && ok=0 || ok=1
check "protection: an update that opens ingress ([{}]) is denied" $ok "rc=$rc" "stderr: $err"
run_k -n live-prot label networkpolicy default-deny-all team=platform
check "protection: an update that keeps coverage (relabel) is allowed" $rc "stderr: $err"

run_k delete namespace live-prot --wait=false
drc=$rc
gone=1
for ((i = 0; i < 120; i++)); do
  if ! k get namespace live-prot >/dev/null 2>&1; then
    gone=0
    break
  fi
  sleep 0.5
done
[[ $drc == 0 && $gone == 0 ]] && ok=0 || ok=1
check "protection: kubectl delete namespace still works" $ok "rc=$drc" "$(k get namespace live-prot -o jsonpath='{.status}' 2>&1)"

# ------------------------------------------------------------------ summary

for f in "${figures[@]}"; do echo "FIGURE: $f"; done
echo "$passed passed, $failed failed"
((failed == 0))
