#!/usr/bin/env bash
# End-to-end suite for the namespace-by-namespace rollout, against a real
# kube-apiserver with netpol-guard watching it (--kubeconfig) behind the
# shipped ValidatingWebhookConfiguration (its rules and matchConditions).
# Requests are made as a namespace owner, alice (kubectl --as alice: RBAC lets
# her get, update and patch Namespace rollout-a and create pods and
# NetworkPolicies in it), and as an admin (--as root --as-group system:masters).
#   1. alice cannot add an exemption or mode=warn, under --audit-only too, nor
#      through namespaces/status (which stores the labels it carries);
#   2. the admin can;
#   3. alice's pod is then admitted, and the apiserver's audit log carries the
#      exemption's reason as netpol-guard's audit annotation;
#   4. once exempt-until has passed, the pod is denied: "exemption expired at";
#   5. mode=enforce in an --audit-only cluster denies (and alice may set it);
#   6. in an enforcing cluster, mode=warn admits with kubectl's "Warning:";
#   7. an allow-all NetworkPolicy gets a warning naming spec.ingress[0];
#   8. with netpol-guard stopped (failurePolicy Fail): unrelated namespace
#      updates and a namespace's deletion still succeed, an exemption fails;
#   9. an invalid exempt-until is denied, the admin included.
#
#   tests/e2e/run-rollout.sh NETPOL_GUARD_BINARY [SOURCE_DIR]
#
# Prints PASS/FAIL per scenario and "N passed, M failed".
set -euo pipefail
export NETPOL_GUARD_STATE=live
# The apiserver's audit log, for scenario 3 (tests/e2e/local-cluster).
export AUDIT_LOG=1

# shellcheck source=tests/e2e/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

P=netpol-guard.k8s-security-pro.io
ns_a=rollout-a ns_w=rollout-w ns_e=rollout-e ns_gone=rollout-gone

ak() { k --as alice "$@"; }
admin() { k --as root --as-group system:masters "$@"; }

check() { # NAME CONDITION-STATUS DETAILS...
  local name=$1 ok=$2
  shift 2
  if ((ok == 0)); then pass "$name"; else fail "$name" "$@"; fi
}

# RFC 3339, UTC, SECONDS from now (negative: in the past).
at() { date -u -d "@$(($(date +%s) + $1))" +%Y-%m-%dT%H:%M:%SZ; }

pod_named() { # NAME NAMESPACE
  pod_yaml "$2" | sed "s/name: e2e-web/name: $1/" >"$work/manifests/$1.yaml"
  echo "$work/manifests/$1.yaml"
}

# Creates pod NAME in NAMESPACE as alice; sets out, err, rc.
alice_pod() { # NAME NAMESPACE
  local f
  f=$(pod_named "$1" "$2")
  run_k --as alice create -f "$f"
}

allow_all_yaml() { # NAMESPACE
  cat <<EOF
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata:
  name: allow-everything-in
  namespace: $1
spec:
  podSelector: {}
  policyTypes: [Ingress]
  ingress:
  - {}
EOF
}

# ------------------------------------------------------------------ setup

"$src/certs/gen-dev-certs.sh" "$work/certs" >/dev/null || setup_fail "certs/gen-dev-certs.sh failed"
for ns in "$ns_a" "$ns_w" "$ns_e" "$ns_gone"; do
  k create namespace "$ns" >/dev/null || setup_fail "create namespace $ns"
  wait_sa "$ns" || setup_fail "no default ServiceAccount in $ns"
done

k apply -f - >/dev/null <<EOF || setup_fail "RBAC for alice"
apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRole
metadata: {name: rollout-a-owner}
rules:
- apiGroups: [""]
  resources: ["namespaces", "namespaces/status"]
  resourceNames: ["$ns_a", "$ns_w", "$ns_e"]
  verbs: ["get", "update", "patch"]
---
apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRoleBinding
metadata: {name: rollout-a-owner}
roleRef: {apiGroup: rbac.authorization.k8s.io, kind: ClusterRole, name: rollout-a-owner}
subjects:
- {apiGroup: rbac.authorization.k8s.io, kind: User, name: alice}
---
apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRole
metadata: {name: rollout-tenant}
rules:
- apiGroups: [""]
  resources: ["pods"]
  verbs: ["create", "get"]
- apiGroups: ["networking.k8s.io"]
  resources: ["networkpolicies"]
  verbs: ["get", "list", "create", "update", "patch", "delete"]
EOF
for ns in "$ns_a" "$ns_w" "$ns_e"; do
  k -n "$ns" create rolebinding alice --clusterrole=rollout-tenant --user=alice >/dev/null ||
    setup_fail "RoleBinding for alice in $ns"
done

start_netpol_guard --audit-only || setup_fail "netpol-guard did not become ready"
shipped_webhook_yaml "$webhook_port" "$work/certs/ca.crt" >"$work/manifests/webhook.json" ||
  setup_fail "read manifests/base/webhook.yaml"
k apply -f "$work/manifests/webhook.json" >/dev/null || setup_fail "register the shipped webhook"
# Active once a Namespace UPDATE that sets an invalid mode reaches the webhook.
for ((i = 0; i < 60; i++)); do
  run_k label namespace "$ns_e" "$P/mode=probe" --dry-run=server
  if ((rc != 0)) && [[ "$err" == *"admission webhook \"$webhook\""* ]]; then break; fi
  sleep 0.5
done
((rc != 0)) || setup_fail "the apiserver never sent a Namespace UPDATE to the webhook ($out)"

# ------------------------------------------------------------------ 1. alice cannot loosen

until1=$(at 3600)
run_k --as alice annotate namespace "$ns_a" "$P/exempt=all" "$P/exempt-reason=alice wants out" \
  "$P/exempt-until=$until1"
check "1a. alice cannot add an exemption (--audit-only)" \
  "$([[ $rc != 0 && "$err" == *"$denied_prefix: only --exemption-groups (system:masters) or --exemption-users may loosen namespace \"$ns_a\""* ]]; echo $?)" \
  "rc=$rc" "$err"
run_k --as alice label namespace "$ns_a" "$P/mode=warn"
check "1b. alice cannot set mode=warn (--audit-only)" \
  "$([[ $rc != 0 && "$err" == *"$denied_prefix: only --exemption-groups"*"sets mode=warn"* ]]; echo $?)" \
  "rc=$rc" "$err"
# namespaces/status stores the labels it carries: the same keys, the same rule.
run_k --as alice patch namespace "$ns_a" --subresource=status --type=merge \
  -p "{\"metadata\":{\"labels\":{\"$P/mode\":\"warn\"}}}"
check "1d. alice cannot set mode=warn through namespaces/status" \
  "$([[ $rc != 0 && "$err" == *"$denied_prefix: only --exemption-groups"*"sets mode=warn"* ]]; echo $?)" \
  "rc=$rc" "$err"
run_k get namespace "$ns_a" -o jsonpath='{.metadata.annotations}{.metadata.labels}'
check "1c. nothing of it was stored" "$([[ "$out" != *"$P/"* ]]; echo $?)" "$out"

# ------------------------------------------------------------------ 5. mode=enforce under --audit-only

run_k --as alice label namespace "$ns_a" "$P/mode=enforce"
check "5a. alice may tighten: mode=enforce" "$rc" "$err"
alice_pod web-enforced "$ns_a"
check "5b. mode=enforce denies a pod in an --audit-only cluster" \
  "$([[ $rc != 0 && "$err" == *"$denied_prefix: namespace \"$ns_a\" has "* ]]; echo $?)" \
  "rc=$rc" "$err"
alice_pod web-audited "$ns_w"
check "5c. a namespace without the label is only warned" \
  "$([[ $rc == 0 && "$err" == *"Warning: CIS 5.3.2"* ]]; echo $?)" "rc=$rc" "$err"

# ------------------------------------------------------------------ 2. the admin can

run_k --as root --as-group system:masters annotate namespace "$ns_a" "$P/exempt=all" \
  "$P/exempt-reason=vendor chart under review (TICKET-42)" "$P/exempt-until=$until1"
check "2a. the admin adds an exemption" "$rc" "$err"
run_k --as root --as-group system:masters label namespace "$ns_w" "$P/mode=warn"
check "2b. the admin sets mode=warn" "$rc" "$err"

# ------------------------------------------------------------------ 3. the exempted pod

alice_pod web-exempt "$ns_a"
check "3a. the exempted namespace admits alice's pod" "$rc" "$err"
annotation=""
for ((i = 0; i < 40; i++)); do
  annotation=$(python3 - "$cluster/audit.log" "$ns_a" web-exempt <<'PY' || true
import json, sys
for line in open(sys.argv[1], errors="replace"):
    try:
        e = json.loads(line)
    except ValueError:
        continue
    o = e.get("objectRef") or {}
    if (e.get("verb") == "create" and o.get("resource") == "pods" and o.get("namespace") == sys.argv[2]
            and o.get("name") == sys.argv[3] and e.get("stage") == "ResponseComplete"):
        print((e.get("annotations") or {}).get("netpol-guard.k8s-security-pro.io/cis-5.3.2-exempt-reason", ""))
        break
PY
)
  [[ -n "$annotation" ]] && break
  sleep 0.25
done
check "3b. the audit log carries the exemption's reason" \
  "$([[ "$annotation" == "vendor chart under review (TICKET-42)" ]]; echo $?)" "annotation: '$annotation'"

# ------------------------------------------------------------------ 4. the exemption expires

until4=$(at 6)
run_k --as root --as-group system:masters annotate --overwrite namespace "$ns_a" "$P/exempt-until=$until4"
check "4a. the admin shortens the exemption" "$rc" "$err"
alice_pod web-before-expiry "$ns_a"
check "4b. admitted while it lasts" "$rc" "$err"
while (($(date +%s) <= $(date -d "$until4" +%s))); do sleep 0.5; done
alice_pod web-after-expiry "$ns_a"
check "4c. once exempt-until has passed, the pod is denied" \
  "$([[ $rc != 0 && "$err" == *"$denied_prefix: namespace \"$ns_a\""*"exemption expired at $until4"* ]]; echo $?)" \
  "rc=$rc" "$err"

# ------------------------------------------------------------------ 7. allow-all

allow_all_yaml "$ns_a" >"$work/manifests/allow-all.yaml"
run_k --as alice create -f "$work/manifests/allow-all.yaml"
check "7. an allow-all policy is warned about, naming its rule" \
  "$([[ $rc == 0 && "$err" == *"Warning: CIS 5.3.2: NetworkPolicy \"allow-everything-in\" spec.ingress[0] allows all ingress"* ]]; echo $?)" \
  "rc=$rc" "$err"

# ------------------------------------------------------------------ 9. invalid values

run_k --as root --as-group system:masters annotate --overwrite namespace "$ns_a" "$P/exempt-until=next friday"
check "9a. an unparseable exempt-until is denied, the admin included" \
  "$([[ $rc != 0 && "$err" == *"$denied_prefix: namespace \"$ns_a\": $P/exempt-until \"next friday\" is not an RFC 3339 time"* ]]; echo $?)" \
  "rc=$rc" "$err"
run_k --as root --as-group system:masters annotate --overwrite namespace "$ns_a" "$P/exempt-until=$(at 8000000)"
check "9b. an exempt-until beyond --max-exemption-duration is denied" \
  "$([[ $rc != 0 && "$err" == *"is more than --max-exemption-duration (2160h) after now"* ]]; echo $?)" \
  "rc=$rc" "$err"

# ------------------------------------------------------------------ 6. mode=warn, enforcing

start_netpol_guard || setup_fail "netpol-guard (enforcing) did not become ready"
alice_pod web-warn "$ns_w"
check "6a. enforcing: mode=warn admits with kubectl's Warning:" \
  "$([[ $rc == 0 && "$err" == *"Warning: CIS 5.3.2: namespace \"$ns_w\""* ]]; echo $?)" "rc=$rc" "$err"
alice_pod web-plain "$ns_e"
check "6b. enforcing: a namespace without the label denies" \
  "$([[ $rc != 0 && "$err" == *"$denied_prefix: namespace \"$ns_e\""* ]]; echo $?)" "rc=$rc" "$err"
run_k --as alice label namespace "$ns_e" "$P/mode=warn"
check "6c. enforcing: alice cannot set mode=warn" \
  "$([[ $rc != 0 && "$err" == *"$denied_prefix: only --exemption-groups"* ]]; echo $?)" "rc=$rc" "$err"

# ------------------------------------------------------------------ 8. netpol-guard down

stop_netpol_guard
run_k label namespace "$ns_e" team=payments
check "8a. down: a namespace label that is not netpol-guard's still applies" "$rc" "$err"
run_k annotate namespace "$ns_a" "example.com/owner=alice"
check "8b. down: an annotation that is not netpol-guard's still applies" "$rc" "$err"
run_k --as root --as-group system:masters annotate --overwrite namespace "$ns_e" "$P/exempt=egress" \
  "$P/exempt-reason=while down" "$P/exempt-until=$until1"
check "8c. down: an exemption fails (failurePolicy Fail)" \
  "$([[ $rc != 0 && "$err" == *"failed calling webhook \"$webhook\""* ]]; echo $?)" "rc=$rc" "$err"
run_k delete namespace "$ns_gone" --timeout=60s
gone=1
for ((i = 0; i < 120; i++)); do
  k get namespace "$ns_gone" >/dev/null 2>&1 || { gone=0; break; }
  sleep 0.5
done
check "8d. down: a namespace is deleted (its finalize is not gated)" "$gone" "rc=$rc" "$err"

echo "$passed passed, $failed failed"
((failed == 0))
