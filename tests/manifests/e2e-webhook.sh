#!/usr/bin/env bash
# The rendered production install, run for real: its Namespace, ServiceAccount,
# RBAC and ValidatingWebhookConfiguration go into a local control plane, and
# netpol-guard runs locally with the Deployment's own args and the
# ServiceAccount's own token (so the RBAC above is all it has). There is no
# kubelet to run the Pod, so the webhook's clientConfig is pointed at the local
# binary with a url instead of the Service; the certificate comes through
# certs/install-cluster-certs.sh --cert-dir (bring your own). Then kubectl
# shows, with each rendering's own args:
#  - base (enforce, no provisioning): the denial, the allow once the template's
#    policy is in place, baseline protection and the safe replacement order,
#    namespace deletion;
#  - prod (enforce + --provision-default-deny): a new namespace gets
#    default-deny-all, created with the ServiceAccount's own RBAC;
#  - dev (audit-only, failurePolicy Ignore): warnings instead of denials.
#
#   tests/manifests/e2e-webhook.sh NETPOL_GUARD_BINARY SOURCE_DIR
set -euo pipefail
ng_bin=$(readlink -f "${1:?usage: e2e-webhook.sh NETPOL_GUARD_BINARY SOURCE_DIR}")
src=$(cd "${2:?usage: e2e-webhook.sh NETPOL_GUARD_BINARY SOURCE_DIR}" && pwd)
. "$src/tests/manifests/lib-e2e.sh"
[[ -x $ng_bin ]] || { echo "FAIL: setup: $ng_bin is not executable"; exit 1; }

webhook=netpol-guard.k8s-security-pro.io
denied="admission webhook \"$webhook\" denied the request"
mkdir -p "$work/render"
for o in base prod dev; do timeout 60 "${KUBECTL:-kubectl}" kustomize "$src/manifests/$([[ $o == base ]] || echo overlays/)$o" > "$work/render/$o.yaml"; done
e2e_up
export KUBECTL=$kubectl

wait_until() { # SECONDS DESCRIPTION COMMAND...
  local deadline=$(($(date +%s) + $1)) what=$2; shift 2
  until "$@" >/dev/null 2>&1; do
    (($(date +%s) < deadline)) || { say "timed out waiting for $what"; return 1; }
    sleep 0.5
  done
}
gone() { ! kc get "$@" >/dev/null 2>&1; }
new_namespace() { kc create namespace "$1" >/dev/null && wait_until 60 "ServiceAccount $1/default" kc -n "$1" get serviceaccount default; }
run_pod() { kc -n "$1" run "$2" --image=registry.k8s.io/pause:3.10 --restart=Never 2>&1; }
baseline() { # NS [NAME]: the template's default-deny-all, in NS, optionally renamed
  sed -e "s/namespace: default.*/namespace: $1/" -e "s/name: default-deny-all/name: ${2:-default-deny-all}/" \
    "$src/manifests/policies/default-deny-all.yaml" | kc apply -f - 2>&1
}

# Pick the objects of a rendering; the webhook's clientConfig becomes a url.
select_objects() { # RENDER OUT KINDS [URL]
  python3 - "$@" <<'PY'
import sys, yaml
render, out, kinds = sys.argv[1], sys.argv[2], sys.argv[3].split(",")
url = sys.argv[4] if len(sys.argv) > 4 else None
docs = [d for d in yaml.safe_load_all(open(render)) if d and d["kind"] in kinds]
for d in docs:
    if d["kind"] == "ValidatingWebhookConfiguration":
        for w in d["webhooks"]:
            w["clientConfig"] = {"url": url}
yaml.safe_dump_all(docs, open(out, "w"), sort_keys=False)
PY
}
deployment_args() { # RENDER -> the container args, one per line
  python3 - "$1" <<'PY'
import sys, yaml
for d in yaml.safe_load_all(open(sys.argv[1])):
    if d and d["kind"] == "Deployment":
        print("\n".join(d["spec"]["template"]["spec"]["containers"][0]["args"]))
PY
}

ng_pid="" ng_log=""
start_netpol_guard() { # RENDER: the Deployment's args, adapted to run here
  local args=() a
  while IFS= read -r a; do
    case $a in
      --listen=*) a=--listen=127.0.0.1:0 ;;
      --health-listen=*) a=--health-listen=127.0.0.1:0 ;;
      --tls-cert-file=*) a=--tls-cert-file=$work/certs/tls.crt ;;
      --tls-private-key-file=*) a=--tls-private-key-file=$work/certs/tls.key ;;
    esac
    args+=("$a")
  done < <(deployment_args "$1")
  args+=("--kubeconfig=$work/sa.kubeconfig")
  ng_log=$work/netpol-guard.$((${#bg_pids[@]} + 1)).log
  say "netpol-guard ${args[*]}"
  : >"$ng_log"
  "$ng_bin" "${args[@]}" </dev/null >"$ng_log" 2>&1 &
  ng_pid=$!
  bg_pids+=("$ng_pid")
  local i line=""
  for ((i = 0; i < 100; i++)); do
    line=$(grep -m1 '"msg":"listening"' "$ng_log" || true)
    [[ -n $line ]] && break
    kill -0 "$ng_pid" 2>/dev/null || break
    sleep 0.2
  done
  [[ -n $line ]] || { cat "$ng_log" >&2; echo "FAIL: setup: netpol-guard did not log its listening addresses"; exit 1; }
  listen=$(python3 -c 'import json,sys; print(json.loads(sys.argv[1])["listen"])' "$line")
  health=$(python3 -c 'import json,sys; print(json.loads(sys.argv[1])["health_listen"])' "$line")
  wait_until 60 "netpol-guard /readyz" curl -fsS --max-time 2 "http://$health/readyz" \
    || { cat "$ng_log" >&2; echo "FAIL: setup: netpol-guard not ready"; exit 1; }
  say "netpol-guard (pid $ng_pid) serves https://$listen/validate, health http://$health"
}

install_webhook() { # RENDER
  select_objects "$1" "$work/vwc.yaml" ValidatingWebhookConfiguration "https://$listen/validate"
  kc apply -f "$work/vwc.yaml" >/dev/null
  # Bring your own certificate: Secret + caBundle from the files netpol-guard serves.
  "$src/certs/install-cluster-certs.sh" --cert-dir "$work/certs" >"$work/certs.log" 2>&1 \
    || { cat "$work/certs.log" >&2; echo "FAIL: setup: install-cluster-certs.sh --cert-dir"; exit 1; }
}

# --- setup: objects of the prod rendering, a token of its ServiceAccount -----
select_objects "$work/render/prod.yaml" "$work/objects.yaml" Namespace,ServiceAccount,ClusterRole,ClusterRoleBinding,NetworkPolicy,Service
kc apply -f "$work/objects.yaml" >/dev/null
token=$(kc -n netpol-guard create token netpol-guard --duration=1h)
server=$(kc config view --raw --minify -o 'jsonpath={.clusters[0].cluster.server}')
kc config view --raw --minify -o 'jsonpath={.clusters[0].cluster.certificate-authority-data}' | base64 -d > "$work/cluster-ca.crt"
cat > "$work/sa.kubeconfig" <<KCFG
apiVersion: v1
kind: Config
clusters:
- name: local
  cluster: {server: "$server", certificate-authority: "$work/cluster-ca.crt"}
users:
- name: netpol-guard
  user: {token: "$token"}
contexts:
- name: netpol-guard
  context: {cluster: local, user: netpol-guard}
current-context: netpol-guard
KCFG
chmod 600 "$work/sa.kubeconfig"
"$src/certs/gen-dev-certs.sh" "$work/certs" netpol-guard netpol-guard >/dev/null
new_namespace legacy # made before netpol-guard: no policy

# --- base: enforce --------------------------------------------------------------
start_netpol_guard "$work/render/base.yaml"
install_webhook "$work/render/base.yaml"
denied_dry_run() { local out; out=$(kc -n legacy run probe --image=registry.k8s.io/pause:3.10 --restart=Never --dry-run=server 2>&1); grep -qF "$denied" <<<"$out"; }
if wait_until 30 "the webhook to answer" denied_dry_run; then
  ok "the apiserver calls netpol-guard through the rendered webhook configuration (caBundle from install-cluster-certs.sh)"
else
  bad "the webhook never answered"; tail -n 20 "$ng_log" >&2
fi

out=$(run_pod legacy web) && bad "Pod admitted in a namespace without default-deny-all" || {
  grep -qF "$denied" <<<"$out" && ok "Pod in namespace legacy (no policy) denied: $out" || bad "unexpected error: $out"; }
out=$(kc -n legacy create deployment web --image=registry.k8s.io/pause:3.10 2>&1) && bad "Deployment admitted without default-deny-all" || {
  grep -qF "$denied" <<<"$out" && ok "Deployment in namespace legacy denied" || bad "unexpected error: $out"; }
out=$(run_pod kube-system tool) && ok "kube-system is exempt (namespaceSelector): Pod admitted" || bad "kube-system Pod refused: $out"
out=$(baseline legacy) && ok "kubectl apply of the template's default-deny-all in legacy" || bad "applying default-deny-all: $out"
if wait_until 15 "a Pod to be admitted in legacy" run_pod legacy web; then
  ok "with default-deny-all in place, the Pod in legacy is admitted"
else
  bad "Pod still refused after default-deny-all: $(run_pod legacy web2)"
fi
out=$(kc -n legacy delete networkpolicy default-deny-all 2>&1) && bad "deleting the only baseline was admitted" || {
  grep -qF "$denied: CIS 5.3.2" <<<"$out" && ok "kubectl delete networkpolicy default-deny-all denied: $out" || bad "unexpected error: $out"; }
sleep 1.1  # creationTimestamp has whole seconds: baseline-v2 must be the newer one
out=$(baseline legacy baseline-v2) || bad "applying baseline-v2: $out"
out=$(kc -n legacy delete networkpolicy default-deny-all 2>&1) && bad "deleting the pinned (oldest) baseline was admitted beside baseline-v2" || {
  grep -qF "oldest default-deny" <<<"$out" && ok "the oldest baseline stays pinned beside baseline-v2: $out" || bad "unexpected error: $out"; }
if out=$(kc -n legacy delete networkpolicy baseline-v2 2>&1); then
  ok "the newer redundant baseline-v2 may be deleted"
else
  bad "deleting the newer baseline-v2 refused: $out"
fi

out=$(kc create namespace unprovisioned 2>&1) && ok "without provisioning, Namespace creation admitted: $(tr '\n' ' ' <<<"$out")" \
  || { grep -qF "$denied" <<<"$out" && ok "without provisioning, a new namespace is denied (it cannot have a policy yet): $out" || bad "Namespace creation: $out"; }
if kc delete namespace legacy --wait=false >/dev/null 2>&1 && wait_until 120 "namespace legacy to go" gone namespace legacy; then
  ok "kubectl delete namespace legacy completes"
else
  bad "namespace legacy not deleted"
fi

# --- prod: provisioning (--provision-default-deny, with the provisioner RBAC) ---
stop_bg "$ng_pid"
start_netpol_guard "$work/render/prod.yaml"
install_webhook "$work/render/prod.yaml"
sleep 2
if out=$(kc create namespace fresh 2>&1); then
  ok "prod: Namespace creation admitted: $(tr '\n' ' ' <<<"$out")"
  if wait_until 20 "default-deny-all in fresh" kc -n fresh get networkpolicy default-deny-all; then
    ok "prod: --provision-default-deny created default-deny-all in the new namespace, with the ServiceAccount's own RBAC"
  else
    bad "prod: no default-deny-all provisioned in namespace fresh"; grep -i provision "$ng_log" | tail -n 5 >&2 || true
  fi
  wait_until 60 "ServiceAccount fresh/default" kc -n fresh get serviceaccount default || true
  out=$(run_pod fresh web) && ok "prod: a Pod in the provisioned namespace is admitted" || bad "prod: Pod in fresh refused: $out"
else
  bad "prod: Namespace creation refused: $out"
fi

# --- audit (the dev overlay) -----------------------------------------------------
stop_bg "$ng_pid"
start_netpol_guard "$work/render/dev.yaml"
install_webhook "$work/render/dev.yaml"
[[ $(kc get validatingwebhookconfiguration "$webhook" -o 'jsonpath={.webhooks[0].failurePolicy}') == Ignore ]] \
  && ok "dev overlay: failurePolicy Ignore" || bad "dev overlay: failurePolicy is not Ignore"
new_namespace loose
sleep 2
if out=$(run_pod loose web); then
  grep -q '^Warning:' <<<"$out" && ok "audit-only: Pod admitted with a warning: $(grep -m1 '^Warning:' <<<"$out")" \
    || bad "audit-only: Pod admitted without a warning: $out"
else
  bad "audit-only denied a Pod: $out"
fi
stop_bg "$ng_pid"
finish
