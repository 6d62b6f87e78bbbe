#!/usr/bin/env bash
# Installs netpol-guard for real on a local control plane the ways the README
# says (kubectl apply -f install.yaml, certs/install-cluster-certs.sh, helm
# install/upgrade/uninstall, kubectl apply -k overlays/dev) and checks what an
# operator relies on. There is no kubelet, so netpol-guard's pods never run:
# the webhook is "down" throughout, which is exactly the failure to design for.
#  - enforce mode (failurePolicy Fail) with the webhook down: creations in
#    non-exempt namespaces fail, kube-system is untouched, deleting a namespace
#    still completes (matchConditions), and deleting the
#    ValidatingWebhookConfiguration restores service;
#  - the certificate script fills the Secret and caBundle, is idempotent,
#    and rotates with the old and new CA both trusted; helm upgrade keeps the caBundle;
#  - audit mode (dev overlay, failurePolicy Ignore) never blocks, even down.
#
#   tests/manifests/e2e-install.sh SOURCE_DIR
set -euo pipefail
src=$(cd "${1:?usage: e2e-install.sh SOURCE_DIR}" && pwd)
. "$src/tests/manifests/lib-e2e.sh"

helm=$("$src/tests/manifests/ensure-helm.sh")
chart=$src/manifests/charts/netpol-guard
webhook=netpol-guard.k8s-security-pro.io
e2e_up
export KUBECTL=$kubectl # for certs/install-cluster-certs.sh

wait_until() { # SECONDS DESCRIPTION COMMAND...: poll every 0.5 s
  local deadline=$(($(date +%s) + $1)) what=$2; shift 2
  until "$@" >/dev/null 2>&1; do
    (($(date +%s) < deadline)) || { say "timed out after waiting for $what"; return 1; }
    sleep 0.5
  done
}
gone() { ! kc get "$@" >/dev/null 2>&1; }
has_sa() { kc -n "$1" get serviceaccount default; }
run_pod() { # NS NAME: create a Pod (it stays Pending: no kubelet)
  kc -n "$1" run "$2" --image=registry.k8s.io/pause:3.10 --restart=Never 2>&1
}
ca_bundle() { kc get validatingwebhookconfiguration "$webhook" -o 'jsonpath={.webhooks[0].clientConfig.caBundle}' | base64 -d; }

# A namespace with a policy, made before netpol-guard exists: deleting it later,
# with the webhook down, must still work.
kc create namespace doomed >/dev/null
sed 's/namespace: default.*/namespace: doomed/' "$src/manifests/policies/default-deny-all.yaml" | kc apply -f - >/dev/null
wait_until 60 "ServiceAccount default/default" has_sa default

# --- kubectl apply -f manifests/install.yaml (enforce) -----------------------
if out=$(kc apply -f "$src/manifests/install.yaml" 2>&1); then
  ok "kubectl apply -f manifests/install.yaml ($(wc -l <<<"$out") objects)"
else
  bad "kubectl apply -f manifests/install.yaml"; sed 's/^/    /' <<<"$out"
fi
# The apiserver picks up a new webhook configuration within about a second.
sleep 2
if out=$(run_pod default probe-enforce-down); then
  bad "enforce mode, webhook down: a Pod in default was admitted"
elif grep -q "failed calling webhook \"$webhook\"" <<<"$out"; then
  ok "enforce mode, webhook down: Pod creation in default fails closed ($(grep -o 'failed calling webhook[^:]*' <<<"$out" | head -1))"
else
  bad "enforce mode, webhook down: unexpected error: $out"
fi
if out=$(run_pod kube-system probe-exempt 2>&1); then
  ok "kube-system is exempt: Pod admitted while the webhook is down"
else
  bad "kube-system Pod refused: $out"
fi
if out=$(kc delete networkpolicy default-deny-all -n doomed 2>&1); then
  bad "webhook down: deleting a baseline policy was admitted"
else
  grep -q "failed calling webhook" <<<"$out" && ok "webhook down: deleting default-deny-all fails closed" \
    || bad "deleting default-deny-all: unexpected error: $out"
fi
if kc delete namespace doomed --wait=false >/dev/null 2>&1 && wait_until 120 "namespace doomed to go" gone namespace doomed; then
  ok "webhook down: kubectl delete namespace completes (the namespace controller's NetworkPolicy deletes skip the webhook)"
else
  bad "webhook down: namespace doomed not deleted: $(kc get namespace doomed -o 'jsonpath={.status.conditions}' 2>&1)"
fi

# --- certs/install-cluster-certs.sh ------------------------------------------
if out=$("$src/certs/install-cluster-certs.sh" --kubeconfig "$cluster/kubeconfig" 2>&1); then
  ok "certs/install-cluster-certs.sh: $(tail -n1 <<<"$out" | sed 's/^install-cluster-certs: //')"
else
  bad "certs/install-cluster-certs.sh"; sed 's/^/    /' <<<"$out"
fi
kc -n netpol-guard get secret netpol-guard-tls -o 'jsonpath={.data.ca\.crt}' | base64 -d > "$work/ca1.crt"
kc -n netpol-guard get secret netpol-guard-tls -o 'jsonpath={.data.tls\.crt}' | base64 -d > "$work/tls1.crt"
if [[ $(kc -n netpol-guard get secret netpol-guard-tls -o 'jsonpath={.type}') == kubernetes.io/tls ]] \
  && openssl verify -CAfile "$work/ca1.crt" "$work/tls1.crt" >/dev/null 2>&1 \
  && openssl x509 -in "$work/tls1.crt" -noout -ext subjectAltName | grep -q 'DNS:netpol-guard.netpol-guard.svc'; then
  ok "Secret netpol-guard-tls: kubernetes.io/tls, certificate for netpol-guard.netpol-guard.svc signed by its ca.crt"
else
  bad "Secret netpol-guard-tls is not a valid serving certificate"
fi
kc -n netpol-guard get secret netpol-guard-tls -o 'jsonpath={.metadata.annotations}' | grep -q last-applied \
  && bad "Secret carries a last-applied-configuration (a copy of the key)" \
  || ok "Secret has no last-applied-configuration annotation (server-side apply)"
[[ $(ca_bundle) == "$(cat "$work/ca1.crt")" ]] && ok "caBundle of $webhook is the Secret's CA" || bad "caBundle is not the Secret's CA"
rv=$(kc -n netpol-guard get secret netpol-guard-tls -o 'jsonpath={.metadata.resourceVersion}')
"$src/certs/install-cluster-certs.sh" >/dev/null 2>&1 # KUBECONFIG from the environment
[[ $(kc -n netpol-guard get secret netpol-guard-tls -o 'jsonpath={.metadata.resourceVersion}') == "$rv" && $(ca_bundle) == "$(cat "$work/ca1.crt")" ]] \
  && ok "second run (KUBECONFIG) keeps the valid certificate: nothing changed" || bad "second run changed the Secret or caBundle"
"$src/certs/install-cluster-certs.sh" --rotate >/dev/null 2>&1
kc -n netpol-guard get secret netpol-guard-tls -o 'jsonpath={.data.ca\.crt}' | base64 -d > "$work/ca2.crt"
if ! cmp -s "$work/ca1.crt" "$work/ca2.crt" && [[ $(ca_bundle) == "$(cat "$work/ca2.crt" "$work/ca1.crt")" ]]; then
  ok "--rotate: new CA in the Secret, caBundle trusts new and previous CA during the rollover"
else
  bad "--rotate: caBundle is not new CA + previous CA"
fi
"$src/certs/install-cluster-certs.sh" --prune-ca-bundle >/dev/null 2>&1
[[ $(ca_bundle) == "$(cat "$work/ca2.crt")" ]] && ok "--prune-ca-bundle leaves only the current CA" || bad "--prune-ca-bundle"

kc apply -f "$src/manifests/install.yaml" >/dev/null 2>&1
[[ $(ca_bundle) == "$(cat "$work/ca2.crt")" ]] && ok "kubectl apply -f install.yaml again (an upgrade) keeps the caBundle" \
  || bad "re-applying install.yaml dropped the caBundle"

# --- recovery: delete the webhook configuration ------------------------------
if kc delete validatingwebhookconfiguration "$webhook" >/dev/null 2>&1; then
  sleep 2
  out=$(run_pod default probe-after-recovery) && ok "after kubectl delete validatingwebhookconfiguration $webhook, Pods are admitted again" \
    || bad "still refused after deleting the webhook configuration: $out"
else
  bad "kubectl delete validatingwebhookconfiguration $webhook"
fi

# --- uninstall (README) -------------------------------------------------------
if kc delete -f "$src/manifests/install.yaml" --ignore-not-found --wait=false >/dev/null 2>&1 \
  && wait_until 120 "namespace netpol-guard to go" gone namespace netpol-guard; then
  ok "kubectl delete -f manifests/install.yaml removes everything, namespace included"
else
  bad "uninstall with kubectl delete -f manifests/install.yaml"
fi
gone clusterrole netpol-guard && gone clusterrolebinding netpol-guard-provisioner || bad "cluster-scoped objects left after uninstall"

# --- Helm ---------------------------------------------------------------------
hl() { timeout 120 "$helm" --kubeconfig "$cluster/kubeconfig" "$@"; }
if out=$(hl install netpol-guard "$chart" -n netpol-guard --create-namespace -f "$chart/values-prod.yaml" 2>&1); then
  ok "helm install -f values-prod.yaml"
  # NOTES.txt: what to check after install, for this release.
  notes=$(sed -n '/^NOTES:/,$p' <<<"$out") notes_ok=1
  for want in "Check it after install" "rollout status deployment/netpol-guard" "caBundle" \
              "Exempt namespaces (never gated): kube-system,kube-public,kube-node-lease,netpol-guard" \
              "reachable only from namespace monitoring" "flowschema,prioritylevelconfiguration netpol-guard" \
              "delete validatingwebhookconfiguration $webhook"; do
    grep -qF -- "$want" <<<"$notes" || { bad "helm NOTES lack '$want'"; sed 's/^/    /' <<<"$notes"; notes_ok=0; }
  done
  ((notes_ok)) && ok "helm NOTES say what to check after install ($(wc -l <<<"$notes") lines)"
else
  bad "helm install -f values-prod.yaml"; sed 's/^/    /' <<<"$out"
fi
[[ $(kc get validatingwebhookconfiguration "$webhook" -o 'jsonpath={.webhooks[0].failurePolicy}') == Fail ]] \
  && ok "helm prod: failurePolicy Fail" || bad "helm prod: failurePolicy is not Fail"
"$src/certs/install-cluster-certs.sh" >/dev/null 2>&1 && [[ -n $(ca_bundle) ]] \
  && ok "install-cluster-certs.sh fills the Helm release's caBundle" || bad "install-cluster-certs.sh after helm install"
before=$(ca_bundle)
if hl upgrade netpol-guard "$chart" -n netpol-guard -f "$chart/values-prod.yaml" --set replicas=4 >/dev/null 2>&1 \
  && [[ $(kc -n netpol-guard get deployment netpol-guard -o 'jsonpath={.spec.replicas}') == 4 ]]; then
  [[ $(ca_bundle) == "$before" ]] && ok "helm upgrade keeps the caBundle the script wrote" || bad "helm upgrade dropped the caBundle"
else
  bad "helm upgrade"
fi
if hl uninstall netpol-guard -n netpol-guard --wait --timeout 60s >/dev/null 2>&1 && gone validatingwebhookconfiguration "$webhook"; then
  ok "helm uninstall removes the webhook configuration"
else
  bad "helm uninstall"
fi
kc delete namespace netpol-guard --wait=false >/dev/null 2>&1 || true
wait_until 120 "namespace netpol-guard to go" gone namespace netpol-guard || bad "namespace netpol-guard not deleted"

# --- kubectl apply -k overlays/dev (audit) -----------------------------------
if out=$(kc apply -k "$src/manifests/overlays/dev" 2>&1); then
  ok "kubectl apply -k manifests/overlays/dev"
else
  bad "kubectl apply -k manifests/overlays/dev"; sed 's/^/    /' <<<"$out"
fi
sleep 2
out=$(run_pod default probe-audit-down) && ok "audit mode (failurePolicy Ignore), webhook down: nothing is blocked" \
  || bad "audit mode blocked a Pod while the webhook is down: $out"
kc delete -k "$src/manifests/overlays/dev" --wait=false >/dev/null 2>&1 && ok "kubectl delete -k manifests/overlays/dev" || bad "kubectl delete -k manifests/overlays/dev"
finish
