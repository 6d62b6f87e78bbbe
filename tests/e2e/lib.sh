# Shared by the e2e suites: a local control plane, netpol-guard started and
# stopped by pid, kubectl helpers, manifests, PASS/FAIL bookkeeping.
# Sourced after `set -euo pipefail`; $1 is the netpol-guard binary, $2 the source dir.
# shellcheck shell=bash

ng_bin=$(readlink -f "${1:?usage: $(basename "$0") NETPOL_GUARD_BINARY [SOURCE_DIR]}")
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

# Stops a child of this script by its pid: TERM, then KILL after 10 s.
stop_child() { # PID
  [[ -n "$1" ]] || return 0
  if kill -0 "$1" 2>/dev/null; then
    kill -TERM "$1" 2>/dev/null || true
    local i
    for ((i = 0; i < 100; i++)); do kill -0 "$1" 2>/dev/null || break; sleep 0.1; done
    kill -KILL "$1" 2>/dev/null || true
  fi
  wait "$1" 2>/dev/null || true
}

stop_netpol_guard() {
  stop_child "$ng_pid"
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
${WEBHOOK_EXTRA_RULES:-}  sideEffects: None
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
  health=$(await_ready "$logf" "$ng_pid")
}

# await_ready LOGF PID: waits (up to 30 s each) for the "listening" line that the
# netpol-guard serve PID writes to LOGF, then for its /readyz. Prints the health
# address whenever it was logged; returns 0 once ready, else puts the log's tail
# on stderr and returns 1.
await_ready() {
  local logf=$1 pid=$2 i health=""
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
    kill -0 "$pid" 2>/dev/null || break
    sleep 0.1
  done
  echo "$health"
  if [[ -n "$health" ]]; then
    for ((i = 0; i < 300; i++)); do
      curl -fsS --max-time 1 "http://$health/readyz" >/dev/null 2>&1 && return 0
      kill -0 "$pid" 2>/dev/null || break
      sleep 0.1
    done
  fi
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

# The apiserver picks up webhook configuration changes asynchronously.
wait_webhook_active() { # DRY-RUN-MANIFEST
  local i
  for ((i = 0; i < 60; i++)); do
    run_k create --dry-run=server -f "$1"
    if ((rc != 0)) && [[ "$err" == *"admission webhook \"$webhook\""* ]]; then return 0; fi
    sleep 0.5
  done
  setup_fail "the apiserver never called the webhook (last: rc=$rc $err)"
}

# The shipped ValidatingWebhookConfiguration (manifests/base/webhook.yaml: its
# rules, matchConditions, namespaceSelector and failurePolicy Fail), pointed at
# this netpol-guard: a test of the shipped manifest, not of a copy.
shipped_webhook_yaml() { # PORT CA_FILE
  python3 - "$src/manifests/base/webhook.yaml" "$1" "$(base64 -w0 <"$2")" <<'PY'
import json, sys, yaml
doc = next(d for d in yaml.safe_load_all(open(sys.argv[1])) if d and d.get("kind") == "ValidatingWebhookConfiguration")
for w in doc["webhooks"]:
    w["clientConfig"] = {"url": f"https://127.0.0.1:{sys.argv[2]}/validate", "caBundle": sys.argv[3]}
    w["timeoutSeconds"] = 5
print(json.dumps(doc))
PY
}
