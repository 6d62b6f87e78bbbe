#!/usr/bin/env bash
# End-to-end suite for `netpol-guard remediate` against a real kube-apiserver
# (no webhook: remediate talks to the apiserver only). Namespaces in each state:
#   rem-ok      the template's default-deny-all            (compliant: nothing)
#   rem-ing     default-deny-ingress only                  (gets default-deny-egress)
#   rem-egr     an egress-only deny-all "deny-egress"      (gets default-deny-ingress)
#   rem-empty   nothing, a pod (Pending: no kubelet)       (gets default-deny-all)
#   rem-taken   "default-deny-all" that is an allow policy (gets -ingress and -egress)
#   rem-flag    nothing, in --exempt-namespaces            (left alone)
#   rem-ann     nothing, exempt=all by annotation, in force (left alone)
#   rem-conf    (added last) default-deny-egress that denies ingress (a conflict)
# Asserts: the dry run changes nothing and its YAML passes
# `kubectl apply --dry-run=server`; --dry-run=server changes nothing; --apply
# creates exactly the plan, as field manager netpol-guard, and brings audit to
# exit 0; a second --apply is a no-op; --namespaces and --with-dns-egress; bad
# flags exit 2; a conflict makes --apply exit 1 and changes nothing.
#
#   tests/e2e/run-remediate.sh NETPOL_GUARD_BINARY [SOURCE_DIR]
#
# Prints PASS/FAIL per scenario and "N passed, M failed".
set -euo pipefail
export NETPOL_GUARD_STATE=live

# shellcheck source=tests/e2e/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

P=netpol-guard.k8s-security-pro.io
exempt="kube-system,kube-public,kube-node-lease,default,rem-flag"
kc="$cluster/kubeconfig"

check() { # NAME CONDITION-STATUS DETAILS...
  local name=$1 ok=$2
  shift 2
  if ((ok == 0)); then pass "$name"; else fail "$name" "$@"; fi
}

# Runs netpol-guard remediate with the cluster and the exempt list; sets out, err, rc.
rem() {
  set +e
  out=$(timeout 120 "$ng_bin" remediate --kubeconfig "$kc" --exempt-namespaces "$exempt" "$@" \
    2>"$work/stderr")
  rc=$?
  set -e
  err=$(cat "$work/stderr")
}

# Every NetworkPolicy as "namespace/name resourceVersion", sorted.
snapshot() {
  k get networkpolicies -A -o json | python3 -c '
import json, sys
for i in json.load(sys.stdin)["items"]:
    m = i["metadata"]
    print(m["namespace"] + "/" + m["name"], m["resourceVersion"])' | sort
}

# The (namespace/name) of every object in a YAML stream on stdin, sorted.
yaml_objects() {
  python3 -c '
import sys, yaml
for d in yaml.safe_load_all(sys.stdin):
    if d:
        print(d["metadata"]["namespace"] + "/" + d["metadata"]["name"])' | sort
}

expected=$(printf '%s\n' rem-egr/default-deny-ingress rem-empty/default-deny-all \
  rem-ing/default-deny-egress rem-taken/default-deny-egress rem-taken/default-deny-ingress | sort)

# ------------------------------------------------------------------ setup

for ns in rem-ok rem-ing rem-egr rem-empty rem-taken rem-flag rem-ann; do
  k create namespace "$ns" >/dev/null || setup_fail "create namespace $ns"
done
k annotate namespace rem-ann "$P/exempt=all" "$P/exempt-reason=vendor chart (TICKET-7)" \
  "$P/exempt-until=$(date -u -d '+1 day' +%Y-%m-%dT%H:%M:%SZ)" >/dev/null ||
  setup_fail "annotate rem-ann"
default_deny_yaml rem-ok | k apply -f - >/dev/null || setup_fail "policy in rem-ok"
ingress_only_yaml rem-ing | k apply -f - >/dev/null || setup_fail "policy in rem-ing"
k apply -f - >/dev/null <<EOF || setup_fail "policies in rem-egr, rem-taken"
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: {name: deny-egress, namespace: rem-egr}
spec: {podSelector: {}, policyTypes: [Egress]}
---
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: {name: default-deny-all, namespace: rem-taken}
spec:
  podSelector: {matchLabels: {app: web}}
  policyTypes: [Ingress]
  ingress: [{}]
EOF
wait_sa rem-empty || setup_fail "no default ServiceAccount in rem-empty"
pod_yaml rem-empty | k apply -f - >/dev/null || setup_fail "pod in rem-empty"

# ------------------------------------------------------------------ 1. the dry run

before=$(snapshot)
rem
dry=$out
check "1a. the dry run exits 0" "$rc" "rc=$rc" "$err"
check "1b. it plans exactly the missing objects" \
  "$([[ "$(yaml_objects <<<"$dry")" == "$expected" ]]; echo $?)" "$(yaml_objects <<<"$dry")"
check "1c. it names the running pod and the policies already there" \
  "$([[ "$dry" == *"# namespace rem-empty: no default deny of ingress and egress"* &&
    "$dry" == *"running pods that will lose ingress and egress traffic (1): e2e-web"* &&
    "$dry" == *"policies already there (1): default-deny-all"* &&
    "$dry" == *"# 4 namespaces, 5 objects (dry run: nothing was changed)"* ]]; echo $?)" "$dry"
check "1d. exempt and compliant namespaces get nothing" \
  "$([[ "$dry" != *rem-flag* && "$dry" != *rem-ann* && "$dry" != *"namespace: rem-ok"* ]]; echo $?)" "$dry"
check "1e. the dry run changed nothing" "$([[ "$(snapshot)" == "$before" ]]; echo $?)"
printf '%s\n' "$dry" >"$work/dry-run.yaml"
run_k apply --dry-run=server -f "$work/dry-run.yaml"
check "1f. its YAML passes kubectl apply --dry-run=server" "$rc" "$err"
check "1g. and that changed nothing either" "$([[ "$(snapshot)" == "$before" ]]; echo $?)"

rem --output json
json_ns=$(python3 -c 'import json,sys; d=json.load(sys.stdin); print(",".join(n["namespace"] for n in d["namespaces"]), d["summary"]["objects"], ",".join(d["namespaces"][1]["runningPods"]))' <<<"$out" 2>&1 || true)
check "1h. --output json: the same namespaces, objects and pods" \
  "$([[ $rc == 0 && "$json_ns" == "rem-egr,rem-empty,rem-ing,rem-taken 5 e2e-web" ]]; echo $?)" \
  "rc=$rc" "$json_ns"

# ------------------------------------------------------------------ 2. --namespaces, --with-dns-egress

rem --namespaces rem-ing,rem-ok
check "2a. --namespaces limits the targets" \
  "$([[ $rc == 0 && "$(yaml_objects <<<"$out")" == "rem-ing/default-deny-egress" &&
    "$out" == *"# namespace rem-ok: nothing to do"* ]]; echo $?)" "rc=$rc" "$out"
rem --namespaces rem-empty --with-dns-egress
check "2b. --with-dns-egress adds allow-dns-egress" \
  "$([[ $rc == 0 && "$(yaml_objects <<<"$out" | tr '\n' ' ')" == "rem-empty/allow-dns-egress rem-empty/default-deny-all " ]]; echo $?)" \
  "rc=$rc" "$out"
rem --namespaces rem-nope
check "2c. an unknown --namespaces name exits 2" \
  "$([[ $rc == 2 && "$err" == *'no namespace "rem-nope"'* ]]; echo $?)" "rc=$rc" "$err"

# ------------------------------------------------------------------ 3. bad flags

rem --apply --dry-run=server
check "3a. --apply with --dry-run=server exits 2" "$([[ $rc == 2 && -z "$out" ]]; echo $?)" "rc=$rc" "$err"
rem --output xml
check "3b. a bad --output exits 2" "$([[ $rc == 2 && "$err" == *"--output must be yaml or json"* ]]; echo $?)" "rc=$rc" "$err"
rem --no-such-flag
check "3c. an unknown flag exits 2" "$([[ $rc == 2 && "$err" == *"no-such-flag"* ]]; echo $?)" "rc=$rc" "$err"

# ------------------------------------------------------------------ 4. --dry-run=server

rem --dry-run=server
server_out=$out
check "4a. --dry-run=server: the apiserver accepts every object" \
  "$([[ $rc == 0 && $(grep -o 'accepted default-deny' <<<"$out" | wc -l) == 5 && "$out" != *failed* ]]; echo $?)" \
  "rc=$rc" "$out" "$err"
check "4b. --dry-run=server changed nothing" "$([[ "$(snapshot)" == "$before" ]]; echo $?)"

# ------------------------------------------------------------------ 5. --apply

set +e
"$ng_bin" audit --kubeconfig "$kc" --exempt-namespaces "$exempt" >/dev/null 2>&1
audit_rc=$?
set -e
check "5a. audit fails before" "$([[ $audit_rc == 1 ]]; echo $?)" "rc=$audit_rc"
rem --apply
apply_out=$out
check "5b. --apply exits 0" "$rc" "rc=$rc" "$out" "$err"
created=$(comm -13 <(cut -d' ' -f1 <<<"$before") <(snapshot | cut -d' ' -f1))
check "5c. it created exactly the plan" "$([[ "$created" == "$expected" ]]; echo $?)" "$created"
check "5d. it left existing objects as they were" \
  "$([[ "$(snapshot | grep -Fxf <(printf '%s\n' "$before"))" == "$before" ]]; echo $?)"
managers=$(k get networkpolicies -A -o json --show-managed-fields | python3 -c '
import json, sys
for i in json.load(sys.stdin)["items"]:
    m = i["metadata"]
    print(m["namespace"] + "/" + m["name"],
          ",".join(f["manager"] + ":" + f["operation"] for f in m.get("managedFields", [])))' | sort)
mine=$(grep -F "netpol-guard:Apply" <<<"$managers" | cut -d' ' -f1 || true)
check "5e. the created objects are server-side applied by netpol-guard" \
  "$([[ "$mine" == "$expected" ]]; echo $?)" "$managers"
check "5f. it reports per namespace, and the totals" \
  "$([[ "$apply_out" == *"namespace rem-taken: created default-deny-ingress; created default-deny-egress"* &&
    "$apply_out" == *"4 namespaces targeted: 5 objects created, 0 skipped, 0 failed; 0 namespaces still not compliant"* ]]; echo $?)" \
  "$apply_out"
set +e
audit_out=$("$ng_bin" audit --kubeconfig "$kc" --exempt-namespaces "$exempt" 2>&1)
audit_rc=$?
set -e
check "5g. audit exits 0 afterwards" "$audit_rc" "$audit_out"
run_k get networkpolicies -n rem-flag -o name
flag_pols=$out
run_k get networkpolicies -n rem-ann -o name
check "5h. the exempt namespaces were left alone" "$([[ -z "$flag_pols" && -z "$out" ]]; echo $?)" \
  "$flag_pols" "$out"

# ------------------------------------------------------------------ 6. again

after=$(snapshot)
rem --apply
check "6a. a second --apply creates nothing and exits 0" \
  "$([[ $rc == 0 && "$out" == "0 namespaces targeted: 0 objects created, 0 skipped, 0 failed; 0 namespaces still not compliant" ]]; echo $?)" \
  "rc=$rc" "$out" "$err"
check "6b. and changes no resourceVersion" "$([[ "$(snapshot)" == "$after" ]]; echo $?)"
rem
check "6c. the dry run now plans nothing" \
  "$([[ $rc == 0 && "$out" == "# 0 namespaces, 0 objects (dry run: nothing was changed)" ]]; echo $?)" \
  "rc=$rc" "$out"

# ------------------------------------------------------------------ 7. a conflict

# default-deny-egress is taken by a policy that denies only ingress: the
# egress baseline cannot be created without modifying it.
k create namespace rem-conf >/dev/null || setup_fail "create namespace rem-conf"
ingress_only_yaml rem-conf | sed 's/name: default-deny-ingress/name: default-deny-egress/' |
  k apply -f - >/dev/null || setup_fail "policy in rem-conf"
before_conf=$(snapshot)
rem --apply
check "7a. --apply exits 1 when a conflict leaves a namespace non-compliant" \
  "$([[ $rc == 1 && "$out" == *"namespace rem-conf: conflict, nothing created: a NetworkPolicy named default-deny-egress is there but does not deny all egress"* &&
    "$out" == *"namespace rem-conf: still not compliant"* ]]; echo $?)" "rc=$rc" "$out" "$err"
check "7b. and changes nothing" "$([[ "$(snapshot)" == "$before_conf" ]]; echo $?)"
rem --namespaces rem-conf
check "7c. the dry run shows the conflict and exits 0" \
  "$([[ $rc == 0 && "$out" == *"#   CONFLICT, nothing is created here: "* && "$out" != *"kind: NetworkPolicy"* ]]; echo $?)" \
  "rc=$rc" "$out"

# The outputs, for docs/remediate.md: KEEP_OUTPUTS=DIR.
if [[ -n "${KEEP_OUTPUTS:-}" ]]; then
  mkdir -p "$KEEP_OUTPUTS"
  cp "$work/dry-run.yaml" "$KEEP_OUTPUTS/dry-run.yaml"
  printf '%s\n' "$server_out" >"$KEEP_OUTPUTS/dry-run-server.txt"
  printf '%s\n' "$apply_out" >"$KEEP_OUTPUTS/apply.txt"
fi

echo "$passed passed, $failed failed"
((failed == 0))
