#!/usr/bin/env bash
# Self-managed serving certificate for netpol-guard in a cluster.
#
#   certs/install-cluster-certs.sh [--kubeconfig FILE] [--context NAME]
#       [--namespace NS] [--service SVC] [--secret NAME] [--webhook NAME]
#       [--cert-dir DIR] [--days N] [--renew-before DAYS] [--rotate] [--prune-ca-bundle]
#
# 1. Makes sure the namespace exists.
# 2. Keeps the Secret's certificate if it is valid for more than --renew-before
#    days (default 30) and names <service>.<namespace>.svc; otherwise (or with
#    --rotate) makes a new CA and serving certificate with certs/gen-dev-certs.sh.
#    With --cert-dir, the ca.crt/tls.crt/tls.key in DIR are used instead (made
#    there if missing): that is how you bring certificates of your own.
# 3. Writes the CA into the caBundle of every webhook in the
#    ValidatingWebhookConfiguration, BEFORE it replaces the Secret: during a
#    rotation the caBundle holds the new and the previous CA, so the apiserver
#    trusts the replicas that still serve the old certificate until the kubelet
#    has updated the mounted Secret and netpol-guard has reloaded it.
# 4. Creates or updates the kubernetes.io/tls Secret (tls.crt, tls.key, ca.crt).
#
# Idempotent: run it after every install and whenever you want to renew (a
# CronJob or a calendar reminder well inside the certificate's lifetime).
# --prune-ca-bundle drops CAs other than the current one from the caBundle,
# once every replica serves the new certificate.
# kubectl honours KUBECONFIG; set KUBECTL to use another kubectl binary.
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
kubectl_bin=${KUBECTL:-kubectl}
kubeconfig="" context="" ns=netpol-guard svc=netpol-guard secret=netpol-guard-tls
webhook=netpol-guard.k8s-security-pro.io cert_dir="" days=365 renew_before=30
rotate=0 prune=0

usage() { sed -n '2,/^set -euo/p' "${BASH_SOURCE[0]}" | sed '$d; s/^# \{0,1\}//'; exit "${1:-0}"; }
need_value() { [[ $# -ge 2 && -n $2 ]] || { echo "install-cluster-certs: $1 needs a value" >&2; exit 2; }; }
while [[ $# -gt 0 ]]; do
  case $1 in
    --kubeconfig)   need_value "$@"; kubeconfig=$2; shift 2 ;;
    --kubeconfig=*) kubeconfig=${1#*=}; shift ;;
    --context)      need_value "$@"; context=$2; shift 2 ;;
    --context=*)    context=${1#*=}; shift ;;
    --namespace|-n) need_value "$@"; ns=$2; shift 2 ;;
    --namespace=*)  ns=${1#*=}; shift ;;
    --service)      need_value "$@"; svc=$2; shift 2 ;;
    --service=*)    svc=${1#*=}; shift ;;
    --secret)       need_value "$@"; secret=$2; shift 2 ;;
    --secret=*)     secret=${1#*=}; shift ;;
    --webhook)      need_value "$@"; webhook=$2; shift 2 ;;
    --webhook=*)    webhook=${1#*=}; shift ;;
    --cert-dir)     need_value "$@"; cert_dir=$2; shift 2 ;;
    --cert-dir=*)   cert_dir=${1#*=}; shift ;;
    --days)         need_value "$@"; days=$2; shift 2 ;;
    --days=*)       days=${1#*=}; shift ;;
    --renew-before) need_value "$@"; renew_before=$2; shift 2 ;;
    --renew-before=*) renew_before=${1#*=}; shift ;;
    --rotate)       rotate=1; shift ;;
    --prune-ca-bundle) prune=1; shift ;;
    -h|--help)      usage 0 ;;
    *) echo "install-cluster-certs: unknown argument: $1" >&2; usage 2 >&2 ;;
  esac
done
[[ $days =~ ^[0-9]+$ && $renew_before =~ ^[0-9]+$ ]] || { echo "install-cluster-certs: --days and --renew-before take whole days" >&2; exit 2; }

k() { "$kubectl_bin" ${kubeconfig:+--kubeconfig "$kubeconfig"} ${context:+--context "$context"} --request-timeout=30s "$@"; }
log() { echo "install-cluster-certs: $*" >&2; }

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

# The current Secret's certificate and CA, if any.
if ! k get namespace "$ns" >/dev/null 2>&1; then
  log "creating namespace $ns"
  k create namespace "$ns" >/dev/null
fi
have_secret=0
if k -n "$ns" get secret "$secret" >/dev/null 2>&1; then
  have_secret=1
  k -n "$ns" get secret "$secret" -o 'jsonpath={.data.tls\.crt}' | base64 -d > "$work/old-tls.crt"
  k -n "$ns" get secret "$secret" -o 'jsonpath={.data.ca\.crt}' | base64 -d > "$work/old-ca.crt"
fi

# Decide whether the Secret needs new files.
reason=""
if [[ -n $cert_dir ]]; then
  reason="certificates from $cert_dir"
elif [[ $rotate == 1 ]]; then
  reason="--rotate"
elif [[ $have_secret == 0 ]]; then
  reason="no Secret $ns/$secret yet"
elif ! openssl x509 -in "$work/old-tls.crt" -noout -checkend $((renew_before * 86400)) >/dev/null 2>&1; then
  reason="certificate expires within $renew_before days"
elif ! openssl x509 -in "$work/old-tls.crt" -noout -ext subjectAltName 2>/dev/null | grep -q "DNS:$svc\.$ns\.svc\b"; then
  reason="certificate does not name $svc.$ns.svc"
elif [[ ! -s $work/old-ca.crt ]]; then
  echo "install-cluster-certs: Secret $ns/$secret has no ca.crt; pass --cert-dir DIR with ca.crt, tls.crt and tls.key, or --rotate" >&2
  exit 1
fi

if [[ -n $reason ]]; then
  log "new serving certificate: $reason"
  if [[ -n $cert_dir ]]; then
    DAYS=$days "$here/gen-dev-certs.sh" "$cert_dir" "$ns" "$svc" >&2
    src=$cert_dir
  else
    DAYS=$days FORCE=1 "$here/gen-dev-certs.sh" "$work/new" "$ns" "$svc" >&2
    src=$work/new
  fi
  for f in ca.crt tls.crt tls.key; do
    [[ -s $src/$f ]] || { echo "install-cluster-certs: missing $src/$f" >&2; exit 1; }
  done
  openssl verify -CAfile "$src/ca.crt" "$src/tls.crt" >/dev/null \
    || { echo "install-cluster-certs: $src/tls.crt is not signed by $src/ca.crt" >&2; exit 1; }
  cp "$src/ca.crt" "$work/ca.crt"
else
  log "keeping the certificate in Secret $ns/$secret (valid for more than $renew_before days)"
  cp "$work/old-ca.crt" "$work/ca.crt"
fi

# The caBundle: the current CA first, then, while rotating, the previous one.
cp "$work/ca.crt" "$work/bundle.pem"
if [[ -n $reason && $prune == 0 && -s $work/old-ca.crt ]] && ! cmp -s "$work/old-ca.crt" "$work/ca.crt"; then
  cat "$work/old-ca.crt" >> "$work/bundle.pem"
fi

if k get validatingwebhookconfiguration "$webhook" >/dev/null 2>&1; then
  k get validatingwebhookconfiguration "$webhook" \
    -o 'jsonpath={range .webhooks[*]}{.clientConfig.caBundle}{"\n"}{end}' > "$work/current-bundles"
  ca_pem=$(cat "$work/ca.crt")
  bundle_b64=$(base64 -w0 < "$work/bundle.pem")
  patch="" i=0
  while IFS= read -r current; do
    decoded=$(printf '%s' "$current" | base64 -d 2>/dev/null || true)
    # An unchanged certificate whose CA is already trusted needs no patch;
    # an older CA next to it stays until --prune-ca-bundle.
    if [[ -n $reason || $prune == 1 || $decoded != *"$ca_pem"* ]]; then
      patch+="${patch:+,}{\"op\":\"add\",\"path\":\"/webhooks/$i/clientConfig/caBundle\",\"value\":\"$bundle_b64\"}"
    fi
    i=$((i + 1))
  done < "$work/current-bundles"
  if [[ -n $patch ]]; then
    k patch validatingwebhookconfiguration "$webhook" --type=json -p "[$patch]" >/dev/null
    log "caBundle of $webhook updated ($(grep -c 'BEGIN CERTIFICATE' "$work/bundle.pem") CA certificate(s))"
  else
    log "caBundle of $webhook already trusts the current CA"
  fi
else
  log "ValidatingWebhookConfiguration $webhook not found: apply the manifests, then run this script again to fill its caBundle"
fi

if [[ -n $reason ]]; then
  # Server-side apply: unlike client-side apply it does not copy the private
  # key into a last-applied-configuration annotation.
  k -n "$ns" create secret generic "$secret" --type=kubernetes.io/tls \
      --from-file=tls.crt="$src/tls.crt" --from-file=tls.key="$src/tls.key" \
      --from-file=ca.crt="$src/ca.crt" --dry-run=client -o yaml \
    | k label --local -f - -o yaml app.kubernetes.io/name=netpol-guard \
        app.kubernetes.io/part-of=k8s-security-pro app.kubernetes.io/managed-by=k8s-security-pro \
    | k apply --server-side --force-conflicts --field-manager=netpol-guard-certs -f - >/dev/null
  log "Secret $ns/$secret updated; serving certificate valid until $(openssl x509 -in "$src/tls.crt" -noout -enddate | cut -d= -f2)"
fi
