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

ng_bin=$(readlink -f "${1:?usage: run-admission.sh NETPOL_GUARD_BINARY [SOURCE_DIR]}")
src=$(cd "${2:-$(dirname "${BASH_SOURCE[0]}")/../..}" && pwd)
state=${NETPOL_GUARD_STATE:-files}
lc="$src/tests/e2e/local-cluster"
webhook=netpol-guard.k8s-security-pro.io
denied_prefix="admission webhook \"$webhook\" denied the request: CIS 5.3.2"

[[ -x "$ng_bin" ]] || { echo "FAIL: setup: $ng_bin is not an executable"; echo "0 passed, 1 failed"; exit 1; }
case "$state" in files | live) ;; *) echo "NETPOL_GUARD_STATE must be files or live" >&2; exit 2 ;; esac

work=$(mktemp -d "${TMPDIR:-/tmp}/netpol-guard-e2e.XXXXXX")
cluster="$work/cluster"
policies="$work/policies"
mkdir -p "$policies" "$work/manifests"
passed=0 failed=0 ng_pid="" ng_runs=0 health=""

say() { printf '[e2e %s] %s\n' "$(date +%H:%M:%S)" "$*" >&2; }

stop_netpol_guard() {
  [[ -n "$ng_pid" ]] || return 0
  if kill -0 "$ng_pid" 2>/dev/null; then
    kill -TERM "$ng_pid" 2>/dev/null || true
    local i
    for ((i = 0; i < 100; i++)); do kill -0 "$ng_pid" 2>/dev/null || break; sleep 0.1; done
    kill -KILL "$ng_pid" 2>/dev/null || true
  fi
  wait "$ng_pid" 2>/dev/null || true
  ng_pid=""
}

cleanup() {
  local rc=$?
  set +e
  [[ -n "${watchdog_pid:-}" ]] && kill "$watchdog_pid" 2>/dev/null
  stop_netpol_guard
  "$lc" down "$cluster" >/dev/null 2>&1
  if ((rc != 0 || failed > 0)) || [[ "${KEEP_WORKDIR:-0}" == 1 ]]; then
    echo "logs kept in $work" >&2
  else
    rm -rf "$work"
  fi
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# The control plane outlives `local-cluster up` (its daemons are re-parented),
# so a killed run (ctest timeout, SIGKILL) would leave it behind. A watchdog in
# its own session stops it, by pid, once this script is gone (at most 2 hours).
# shellcheck disable=SC2016 # expanded by the watchdog's own bash
setsid bash -c '
  for ((i = 0; i < 14400; i++)); do kill -0 "$1" 2>/dev/null || break; sleep 0.5; done
  pid=$(cat "$3/netpol-guard.pid" 2>/dev/null) &&
    [[ "$(readlink "/proc/$pid/exe")" == "$4" ]] && kill -TERM "$pid"
  "$2" down "$3/cluster"
' watchdog "$$" "$lc" "$work" "$ng_bin" </dev/null >/dev/null 2>&1 &
watchdog_pid=$!

setup_fail() {
  echo "FAIL: setup: $*"
  local f
  for f in "$work"/netpol-guard.*.log; do
    [[ -f "$f" ]] && { echo "----- tail $f" >&2; tail -n 20 "$f" >&2; }
  done
  f="$cluster/kube-apiserver.log"
  [[ -f "$f" ]] && { echo "----- webhook lines of $f" >&2; grep -i webhook "$f" | tail -n 10 >&2; }
  echo "$passed passed, $((failed + 1)) failed"
  exit 1
}

pass() { echo "PASS: $1"; passed=$((passed + 1)); }
fail() {
  echo "FAIL: $1"
  shift
  local l
  for l in "$@"; do printf '      %s\n' "$l"; done
  failed=$((failed + 1))
}

# ------------------------------------------------------------------ cluster

say "control plane: $("$lc" version), state source: $state"
"$lc" up "$cluster" || setup_fail "local-cluster up failed"
kubectl_bin="$("$lc" bin-dir)/kubectl"
k() { "$kubectl_bin" --kubeconfig "$cluster/kubeconfig" "$@"; }

# Runs kubectl; sets out, err, rc.
run_k() {
  set +e
  out=$(k "$@" 2>"$work/stderr")
  rc=$?
  set -e
  err=$(cat "$work/stderr")
}

# ------------------------------------------------------------------ manifests

pod_yaml() { # NAMESPACE
  cat <<EOF
apiVersion: v1
kind: Pod
metadata:
  name: e2e-web
  namespace: $1
  labels:
    app: e2e-web
spec:
  containers:
  - name: web
    image: registry.k8s.io/e2e-test-images/agnhost:2.53
    args: ["netexec", "--http-port=8080"]
EOF
}

deployment_yaml() { # NAMESPACE
  cat <<EOF
apiVersion: apps/v1
kind: Deployment
metadata:
  name: e2e-deploy
  namespace: $1
spec:
  replicas: 2
  selector:
    matchLabels:
      app: e2e-deploy
  template:
    metadata:
      labels:
        app: e2e-deploy
    spec:
      containers:
      - name: web
        image: registry.k8s.io/e2e-test-images/agnhost:2.53
        args: ["netexec", "--http-port=8080"]
EOF
}

# The template's policy (seed 01, "Default Deny Network Policy"), namespace set.
default_deny_yaml() { # NAMESPACE
  cat <<EOF
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata:
  name: default-deny-all
  namespace: $1
  labels:
    app.kubernetes.io/name: k8s-security
    app.kubernetes.io/part-of: k8s-security-pro
    app.kubernetes.io/managed-by: k8s-security-pro
spec:
  podSelector: {}
  policyTypes:
  - Ingress
  - Egress
EOF
}

ingress_only_yaml() { # NAMESPACE
  cat <<EOF
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata:
  name: default-deny-ingress
  namespace: $1
spec:
  podSelector: {}
  policyTypes:
  - Ingress
EOF
}

webhook_yaml() { # PORT CA_FILE
  cat <<EOF
apiVersion: admissionregistration.k8s.io/v1
kind: ValidatingWebhookConfiguration
metadata:
  name: $webhook
  labels:
    app.kubernetes.io/name: netpol-guard
    app.kubernetes.io/part-of: k8s-security-pro
    app.kubernetes.io/managed-by: k8s-security-pro
    app.kubernetes.io/component: webhook
webhooks:
- name: $webhook
  clientConfig:
    url: https://127.0.0.1:$1/validate
    caBundle: $(base64 -w0 <"$2")
  rules:
  - operations: ["CREATE"]
    apiGroups: [""]
    apiVersions: ["v1"]
    resources: ["pods", "namespaces"]
  - operations: ["CREATE"]
    apiGroups: ["apps"]
    apiVersions: ["v1"]
    resources: ["deployments", "replicasets", "statefulsets", "daemonsets"]
  - operations: ["CREATE"]
    apiGroups: ["batch"]
    apiVersions: ["v1"]
    resources: ["jobs", "cronjobs"]
  sideEffects: None
  admissionReviewVersions: ["v1"]
  failurePolicy: Fail
  matchPolicy: Equivalent
  timeoutSeconds: 5
  namespaceSelector:
    matchExpressions:
    - key: kubernetes.io/metadata.name
      operator: NotIn
      values: ["kube-system", "kube-public", "kube-node-lease"]
EOF
}

# Applies a NetworkPolicy to the cluster and mirrors it for files mode.
apply_policy() { # FILE-NAME YAML-FUNCTION NAMESPACE
  "$2" "$3" >"$work/manifests/$1"
  k apply -f "$work/manifests/$1" >/dev/null
  cp "$work/manifests/$1" "$policies/$1"
}

# ------------------------------------------------------------------ netpol-guard

free_port() {
  python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'
}

webhook_port=$(free_port)

# start_netpol_guard [EXTRA FLAGS...]: same webhook port every time, so the
# registered URL stays valid across restarts.
start_netpol_guard() {
  stop_netpol_guard
  ng_runs=$((ng_runs + 1))
  local logf="$work/netpol-guard.$ng_runs.log" args=(serve
    --listen "127.0.0.1:$webhook_port" --health-listen 127.0.0.1:0
    --tls-cert-file "$work/certs/tls.crt" --tls-private-key-file "$work/certs/tls.key")
  if [[ "$state" == live ]]; then
    args+=(--kubeconfig "$cluster/kubeconfig")
  else
    args+=(--policies "$policies")
  fi
  args+=("$@")
  say "starting netpol-guard ${args[*]}"
  "$ng_bin" "${args[@]}" </dev/null >"$logf" 2>&1 &
  ng_pid=$!
  echo "$ng_pid" >"$work/netpol-guard.pid"
  local i
  health=""
  for ((i = 0; i < 300; i++)); do
    health=$(python3 - "$logf" <<'PY' || true
import json, sys
for line in open(sys.argv[1], errors="replace"):
    try:
        o = json.loads(line)
    except ValueError:
        continue
    if isinstance(o, dict) and o.get("msg") == "listening" and o.get("health_listen"):
        print(o["health_listen"])
        break
PY
)
    [[ -n "$health" ]] && break
    kill -0 "$ng_pid" 2>/dev/null || break
    sleep 0.1
  done
  [[ -n "$health" ]] || { tail -n 20 "$logf" >&2; return 1; }
  for ((i = 0; i < 300; i++)); do
    curl -fsS --max-time 1 "http://$health/readyz" >/dev/null 2>&1 && return 0
    kill -0 "$ng_pid" 2>/dev/null || break
    sleep 0.1
  done
  tail -n 20 "$logf" >&2
  return 1
}

# The state changed in the cluster: in files mode the mirrored files changed
# too, so restart netpol-guard (hot reload is not promised); live mode watches.
state_changed() {
  if [[ "$state" == files ]]; then start_netpol_guard; fi
}

wait_sa() { # NAMESPACE: the ServiceAccount admission plugin needs "default"
  local i
  for ((i = 0; i < 120; i++)); do
    k -n "$1" get serviceaccount default >/dev/null 2>&1 && return 0
    sleep 0.5
  done
  return 1
}

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
active=0
for ((i = 0; i < 60; i++)); do
  run_k create --dry-run=server -f "$work/manifests/pod-open.yaml"
  if ((rc != 0)) && [[ "$err" == *"admission webhook \"$webhook\""* ]]; then active=1; break; fi
  sleep 0.5
done
((active)) || setup_fail "the apiserver never called the webhook (last: rc=$rc $err)"
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
