#!/usr/bin/env bash
# Least privilege, as the apiserver's authorizer sees it: after applying the
# ServiceAccount and RBAC of each rendering, `kubectl auth can-i --list
# --as=system:serviceaccount:netpol-guard:netpol-guard` may show, beyond what a
# ServiceAccount without any binding already has (discovery, self reviews),
# only get/list/watch on networkpolicies and namespaces, plus create on
# networkpolicies where provisioning is on.
#
#   tests/manifests/e2e-rbac.sh SOURCE_DIR
set -euo pipefail
src=$(cd "${1:?usage: e2e-rbac.sh SOURCE_DIR}" && pwd)
. "$src/tests/manifests/lib-e2e.sh"

helm=$("$src/tests/manifests/ensure-helm.sh")
"$src/tests/manifests/render-all.sh" "$src" "$work/render" "$helm" >/dev/null
e2e_up
kc create namespace netpol-guard >/dev/null
sa=system:serviceaccount:netpol-guard:netpol-guard
nobody=system:serviceaccount:netpol-guard:no-bindings

# can-i --list rows -> "resource verb" lines, one per verb, sorted.
grants() { # AS NAMESPACE
  kc auth can-i --list --as="$1" -n "$2" | python3 -c '
import re, sys
for line in sys.stdin.read().splitlines()[1:]:
    m = re.match(r"^(\S*)\s+\[(.*?)\]\s+\[(.*?)\]\s+\[(.*?)\]\s*$", line)
    if not m:
        continue
    resource, urls, names, verbs = m.groups()
    for v in verbs.split():
        print((resource or urls) + (" names=" + names if names else "") + " " + v)
' | sort -u
}

check_rendering() { # RENDER-FILE PROVISIONING(0|1)
  local name=$1 provisioning=$2 f=$work/rbac-$1
  python3 - "$work/render/$name" "$f" <<'PY'
import sys, yaml
docs = [d for d in yaml.safe_load_all(open(sys.argv[1])) if d]
yaml.safe_dump_all([d for d in docs if d["kind"] in ("ServiceAccount", "ClusterRole", "ClusterRoleBinding")],
                   open(sys.argv[2], "w"), sort_keys=False)
PY
  kc apply -f "$f" >/dev/null
  local want="namespaces get
namespaces list
namespaces watch
networkpolicies.networking.k8s.io get
networkpolicies.networking.k8s.io list
networkpolicies.networking.k8s.io watch"
  ((provisioning)) && want=$(printf '%s\nnetworkpolicies.networking.k8s.io create' "$want" | sort)
  local ns extra fine=1
  for ns in default netpol-guard kube-system; do
    # RBAC changes reach the authorizer's cache within a moment.
    local i
    for ((i = 0; i < 20; i++)); do
      extra=$(comm -23 <(grants "$sa" "$ns") <(grants "$nobody" "$ns"))
      [[ $extra == "$want" ]] && break
      sleep 0.5
    done
    if [[ $extra != "$want" ]]; then
      bad "$name: in namespace $ns the ServiceAccount may do more or less than least privilege"
      diff <(echo "$want") <(echo "$extra") | sed "s/^/    /" || true
      fine=0
    fi
  done
  local verb
  for verb in "delete networkpolicies" "update networkpolicies" "patch networkpolicies" "deletecollection networkpolicies" \
              "get secrets" "list secrets" "create pods" "update namespaces" "delete namespaces" \
              "update validatingwebhookconfigurations.admissionregistration.k8s.io"; do
    # shellcheck disable=SC2086 # "verb resource" splits on purpose
    if [[ $(kc auth can-i $verb --as="$sa" -A 2>/dev/null) != no ]]; then
      bad "$name: the ServiceAccount can $verb"; fine=0
    fi
  done
  ((fine)) && ok "$name: only $(tr '\n' ',' <<<"$want" | sed 's/,$//; s/,/, /g')"
  kc delete -f "$f" --ignore-not-found >/dev/null
}

check_rendering kustomize-prod.yaml 1
check_rendering kustomize-dev.yaml 0
check_rendering install.yaml 1
check_rendering helm-prod.yaml 1
check_rendering helm-default.yaml 0
finish
