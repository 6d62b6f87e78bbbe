#!/usr/bin/env bash
# Least privilege, as the apiserver's authorizer sees it: after applying the
# ServiceAccount and RBAC of each rendering, `kubectl auth can-i --list
# --as=system:serviceaccount:netpol-guard:netpol-guard` may show, beyond what a
# ServiceAccount without any binding already has (discovery, self reviews),
# only get/list/watch on networkpolicies and namespaces, plus create on
# networkpolicies where provisioning is on, and where reports are on: get, list,
# create and patch on the one report kind chosen, list on pods, in namespace
# default only create on events.k8s.io Events, and in netpol-guard's own
# namespace only create on leases and get/update on the Lease named netpol-guard
# (with leader election).
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

check_rendering() { # RENDER-FILE PROVISIONING(0|1) [REPORTS(openreports|policyreport) [LEASE(0|1)]]
  local name=$1 provisioning=$2 reports=${3:-} lease=${4:-1} f=$work/rbac-$1
  python3 - "$work/render/$name" "$f" <<'PY'
import sys, yaml
docs = [d for d in yaml.safe_load_all(open(sys.argv[1])) if d]
yaml.safe_dump_all([d for d in docs if d["kind"] in ("ServiceAccount", "ClusterRole", "ClusterRoleBinding",
                                                     "Role", "RoleBinding")],
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
  if [[ -n $reports ]]; then
    local kind=reports.openreports.io v
    [[ $reports == policyreport ]] && kind=policyreports.wgpolicyk8s.io
    for v in get list create patch; do want+=$'\n'"$kind $v"; done
    want=$(printf '%s\npods list' "$want" | sort)
  fi
  # The Lease Role holds only in netpol-guard's own namespace.
  local lease_want=""
  if [[ -n $reports ]] && ((lease)); then
    lease_want=$(printf '%s\n' "leases.coordination.k8s.io create" \
      "leases.coordination.k8s.io names=netpol-guard get" "leases.coordination.k8s.io names=netpol-guard update")
  fi
  local ns extra fine=1 want_ns
  for ns in default netpol-guard kube-system; do
    want_ns=$want
    [[ $ns == netpol-guard && -n $lease_want ]] && want_ns=$(printf '%s\n%s' "$want" "$lease_want" | sort)
    # The drift Events live in default (Events about a cluster-scoped Namespace).
    [[ $ns == default && -n $reports ]] && want_ns=$(printf '%s\nevents.events.k8s.io create' "$want" | sort)
    # RBAC changes reach the authorizer's cache within a moment.
    local i
    for ((i = 0; i < 20; i++)); do
      extra=$(comm -23 <(grants "$sa" "$ns") <(grants "$nobody" "$ns"))
      [[ $extra == "$want_ns" ]] && break
      sleep 0.5
    done
    if [[ $extra != "$want_ns" ]]; then
      bad "$name: in namespace $ns the ServiceAccount may do more or less than least privilege"
      diff <(echo "$want_ns") <(echo "$extra") | sed "s/^/    /" || true
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
  # Leader election may touch its own Lease only, and reports only by apply.
  for verb in "update leases.coordination.k8s.io/kube-controller-manager" "delete leases.coordination.k8s.io/netpol-guard" \
              "patch leases.coordination.k8s.io/netpol-guard" "list leases.coordination.k8s.io" \
              "delete reports.openreports.io" "update reports.openreports.io" "delete policyreports.wgpolicyk8s.io" \
              "get pods" "watch pods" "update events.events.k8s.io" "create events"; do
    # shellcheck disable=SC2086 # "verb resource" splits on purpose
    if [[ $(kc auth can-i $verb --as="$sa" -n netpol-guard 2>/dev/null) != no ]]; then
      bad "$name: the ServiceAccount can $verb in netpol-guard"; fine=0
    fi
  done
  ((fine)) && ok "$name: only $(tr '\n' ',' <<<"$want" | sed 's/,$//; s/,/, /g')${lease_want:+; in netpol-guard also $(tr '\n' ',' <<<"$lease_want" | sed 's/,$//; s/,/, /g')}"
  kc delete -f "$f" --ignore-not-found >/dev/null
}

check_rendering kustomize-prod.yaml 1
check_rendering kustomize-dev.yaml 0
check_rendering install.yaml 1
check_rendering helm-prod.yaml 1
check_rendering helm-default.yaml 0
check_rendering kustomize-prod-reports.yaml 1 openreports
check_rendering kustomize-prod-policyreport.yaml 1 policyreport
check_rendering helm-reports.yaml 1 openreports
check_rendering helm-policyreport.yaml 0 policyreport 0
finish
