#!/usr/bin/env bash
# End-to-end admission suite: a real kube-apiserver (tests/e2e/local-cluster)
# calls netpol-guard as a ValidatingAdmissionWebhook and a real kubectl shows
# the answers.
#
#   tests/e2e/run-admission.sh NETPOL_GUARD_BINARY [SOURCE_DIR]
#
# NETPOL_GUARD_STATE=files (default): netpol-guard reads --policies files that
#   mirror the NetworkPolicies this suite applies, and is restarted when they change.
# NETPOL_GUARD_STATE=live: netpol-guard reads the cluster (--kubeconfig), no files.
# KEEP_WORKDIR=1 keeps the temporary directory (logs) even on success.
#
# Prints PASS/FAIL per scenario and ends with "N passed, M failed".
set -euo pipefail

# shellcheck source=tests/e2e/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

# ------------------------------------------------------------------ setup

"$src/certs/gen-dev-certs.sh" "$work/certs" >/dev/null || setup_fail "certs/gen-dev-certs.sh failed"

# Namespaces first: with the webhook in enforce mode they could not be created.
#   e2e-fix   no policy, then the template's default-deny-all
#   e2e-open  never a policy
#   e2e-half  ingress-only baseline
for ns in e2e-fix e2e-open e2e-half; do
  k create namespace "$ns" >/dev/null || setup_fail "create namespace $ns"
  wait_sa "$ns" || setup_fail "no default ServiceAccount in $ns"
done
apply_policy e2e-half.yaml ingress_only_yaml e2e-half || setup_fail "apply ingress-only policy"

start_netpol_guard || setup_fail "netpol-guard did not become ready"
webhook_yaml "$webhook_port" "$work/certs/ca.crt" >"$work/manifests/webhook.yaml"
k apply -f "$work/manifests/webhook.yaml" >/dev/null || setup_fail "register ValidatingWebhookConfiguration"

# The apiserver picks the configuration up asynchronously: wait (bounded) until
# it calls the webhook, with a server-side dry run that changes nothing.
pod_yaml e2e-open >"$work/manifests/pod-open.yaml"
wait_webhook_active "$work/manifests/pod-open.yaml"
say "webhook registered at https://127.0.0.1:$webhook_port/validate"

# ------------------------------------------------------------------ scenarios

# (a) Denied: a pod in a namespace without policies.
pod_yaml e2e-fix >"$work/manifests/pod-fix.yaml"
run_k apply -f "$work/manifests/pod-fix.yaml"
if ((rc != 0)) && [[ "$err" == *"$denied_prefix"* ]] && [[ "$err" == *"Error from server (Forbidden)"* ]] &&
  ! k -n e2e-fix get pod e2e-web >/dev/null 2>&1; then
  pass "denied: pod in a namespace with no NetworkPolicy"
else
  fail "denied: pod in a namespace with no NetworkPolicy" "rc=$rc" "stderr: $err" "stdout: $out"
fi
say "kubectl said: $err"

# (b) Allowed after the template's default-deny-all.
apply_policy e2e-fix.yaml default_deny_yaml e2e-fix
state_changed || setup_fail "netpol-guard restart"
run_k apply -f "$work/manifests/pod-fix.yaml"
if ((rc == 0)) && k -n e2e-fix get pod e2e-web >/dev/null 2>&1; then
  pass "allowed: same pod after applying the template's default-deny-all"
else
  fail "allowed: same pod after applying the template's default-deny-all" "rc=$rc" "stderr: $err"
fi

# (c) Half baseline: ingress-only is denied, and the message names egress.
pod_yaml e2e-half >"$work/manifests/pod-half.yaml"
run_k apply -f "$work/manifests/pod-half.yaml"
if ((rc != 0)) && [[ "$err" == *"$denied_prefix"* ]] && grep -qi egress <<<"$err"; then
  pass "half baseline: ingress-only deny is denied, message names egress"
else
  fail "half baseline: ingress-only deny is denied, message names egress" "rc=$rc" "stderr: $err"
fi

# (d) Workloads: denied where non-compliant; where compliant, the Deployment is
# created and the controller-made ReplicaSet and pods (generateName) pass.
deployment_yaml e2e-open >"$work/manifests/deploy-open.yaml"
run_k apply -f "$work/manifests/deploy-open.yaml"
if ((rc != 0)) && [[ "$err" == *"$denied_prefix"* ]] && ! k -n e2e-open get deployment e2e-deploy >/dev/null 2>&1; then
  pass "workload: Deployment denied in a non-compliant namespace"
else
  fail "workload: Deployment denied in a non-compliant namespace" "rc=$rc" "stderr: $err"
fi

deployment_yaml e2e-fix >"$work/manifests/deploy-fix.yaml"
run_k apply -f "$work/manifests/deploy-fix.yaml"
if ((rc == 0)); then
  pods="" gen=""
  for ((i = 0; i < 120; i++)); do
    pods=$(k -n e2e-fix get pods -l app=e2e-deploy -o name 2>/dev/null | wc -l)
    ((pods >= 2)) && break
    sleep 0.5
  done
  gen=$(k -n e2e-fix get pods -l app=e2e-deploy -o jsonpath='{range .items[*]}{.metadata.generateName}{" "}{.metadata.ownerReferences[0].kind}{"\n"}{end}' 2>/dev/null)
  rs_ok=$(k -n e2e-fix get replicasets -l app=e2e-deploy -o name 2>/dev/null | wc -l)
  if ((pods >= 2)) && ((rs_ok >= 1)) && grep -q '^e2e-deploy-.*- ReplicaSet$' <<<"$gen"; then
    pass "workload: Deployment created in a compliant namespace; its ReplicaSet's pods (generateName) admitted"
  else
    fail "workload: Deployment created in a compliant namespace; its ReplicaSet's pods (generateName) admitted" \
      "pods=$pods replicasets=$rs_ok" "generateName/owner: $gen" \
      "events: $(k -n e2e-fix get events -o custom-columns=R:.reason,M:.message --no-headers 2>&1 | tail -n 5)"
  fi
else
  fail "workload: Deployment created in a compliant namespace; its ReplicaSet's pods (generateName) admitted" "rc=$rc" "stderr: $err"
fi

# (e) Server-side dry run gets the same answers and persists nothing.
run_k create --dry-run=server -f "$work/manifests/pod-open.yaml"
r1=$rc e1=$err
run_k create --dry-run=server -f "$work/manifests/deploy-open.yaml"
r2=$rc e2=$err
pod_yaml e2e-fix | sed 's/name: e2e-web/name: e2e-web-dry/' >"$work/manifests/pod-fix-dry.yaml"
run_k create --dry-run=server -f "$work/manifests/pod-fix-dry.yaml"
r3=$rc e3=$err o3=$out
if ((r1 != 0)) && [[ "$e1" == *"$denied_prefix"* ]] && ((r2 != 0)) && [[ "$e2" == *"$denied_prefix"* ]] &&
  ((r3 == 0)) && [[ "$o3" == *"(server dry run)"* ]] && ! k -n e2e-fix get pod e2e-web-dry >/dev/null 2>&1; then
  pass "dry run: kubectl create --dry-run=server denied/allowed the same way, nothing stored"
else
  fail "dry run: kubectl create --dry-run=server denied/allowed the same way, nothing stored" \
    "pod e2e-open: rc=$r1 $e1" "deployment e2e-open: rc=$r2 $e2" "pod e2e-fix: rc=$r3 $o3 $e3"
fi

# (g) Namespace creation is denied in enforce mode (no provisioning).
run_k create namespace e2e-new
if ((rc != 0)) && [[ "$err" == *"admission webhook \"$webhook\" denied the request"* ]] &&
  ! k get namespace e2e-new >/dev/null 2>&1; then
  pass "namespace: creation denied in enforce mode without provisioning"
else
  fail "namespace: creation denied in enforce mode without provisioning" "rc=$rc" "stderr: $err"
fi
say "kubectl said: $err"

# (h) The apiserver restarted under the webhook still calls it.
if "$lc" stop-apiserver "$cluster" >/dev/null 2>&1 && "$lc" start-apiserver "$cluster" >/dev/null 2>&1; then
  ok=0
  for ((i = 0; i < 60; i++)); do
    run_k create --dry-run=server -f "$work/manifests/pod-open.yaml"
    if ((rc != 0)) && [[ "$err" == *"$denied_prefix"* ]]; then ok=1; break; fi
    sleep 0.5
  done
  if ((ok)); then pass "apiserver restart: the webhook still denies after kube-apiserver restarts"
  else fail "apiserver restart: the webhook still denies after kube-apiserver restarts" "rc=$rc" "stderr: $err"; fi
else
  fail "apiserver restart: the webhook still denies after kube-apiserver restarts" "local-cluster stop/start-apiserver failed"
fi

# (f) Audit-only: the same pod is admitted with a warning.
start_netpol_guard --audit-only || setup_fail "netpol-guard --audit-only did not become ready"
run_k apply -f "$work/manifests/pod-open.yaml"
if ((rc == 0)) && grep -q '^Warning: CIS 5.3.2' <<<"$err" && k -n e2e-open get pod e2e-web >/dev/null 2>&1; then
  pass "audit-only: pod admitted, kubectl prints 'Warning: CIS 5.3.2 ...'"
else
  fail "audit-only: pod admitted, kubectl prints 'Warning: CIS 5.3.2 ...'" "rc=$rc" "stderr: $err"
fi
say "kubectl said: $err"
run_k create namespace e2e-audit-ns
if ((rc == 0)); then
  pass "audit-only: namespace creation admitted"
else
  fail "audit-only: namespace creation admitted" "rc=$rc" "stderr: $err"
fi

echo "$passed passed, $failed failed"
((failed == 0))
