#!/usr/bin/env bash
# End-to-end suite for compliance reports, leader election and drift Events
# against a real kube-apiserver, with the real CRDs taken from their Go modules
# (tests/e2e/report-crds.sh). Namespaces:
#   rep-ok      the template's default-deny-all              (pass, pass)
#   rep-ing     default-deny-ingress only                    (pass, fail; later pass, pass)
#   rep-empty   nothing, one pod (Pending: no kubelet)       (fail, fail; after failover pass, pass)
#   rep-exempt  nothing, later exempt=all by annotation      (fail, fail; then skip, skip)
# Scenarios, in order:
#   1. --reports=openreports before the Report CRD exists: serves, one warn line.
#   2. Two replicas (POD_NAME replica-a, replica-b) share one Lease: one holds
#      it and alone writes (metrics, managedFields); reports are right within
#      15 s; a steady cluster makes no write; a policy change and an exemption
#      flip results; deleting and restoring rep-ok's deny-all makes one
#      BaselineMissing and one BaselineRestored Event.
#   3. The leader is stopped (SIGTERM by pid): the other takes over within 30 s,
#      makes no Event for the state it finds, and keeps the reports current.
#   4. --reports=policyreport from one replica running as the netpol-guard
#      ServiceAccount with only the RBAC of manifests/overlays/prod-policyreport
#      (the Lease in its POD_NAMESPACE): its PolicyReport is right.
# One report per namespace throughout. Everything is on loopback, each wait is
# bounded, every netpol-guard is stopped by its pid.
#
#   tests/e2e/run-reports.sh NETPOL_GUARD_BINARY [SOURCE_DIR]
#
# Prints PASS/FAIL per scenario, the measured figures, and "N passed, M failed".
set -euo pipefail
export NETPOL_GUARD_STATE=live

# shellcheck source=tests/e2e/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

P=netpol-guard.k8s-security-pro.io
kc="$cluster/kubeconfig"
# lib.sh's kubectl, with a deadline on every call.
k() { timeout 40 "$kubectl_bin" --kubeconfig "$cluster/kubeconfig" --request-timeout=30s "$@"; }
namespaces=(rep-ok rep-ing rep-empty rep-exempt)
exempt_reason="vendor chart, no policies yet (TICKET-14)"
exempt_until=$(date -u -d '+2 days' +%Y-%m-%dT%H:%M:%SZ)
figures=()

check() { # NAME CONDITION-STATUS DETAILS...
  local name=$1 ok=$2
  shift 2
  if ((ok == 0)); then pass "$name"; else fail "$name" "$@"; fi
}
now_ms() { date +%s%3N; }

# ------------------------------------------------------------------ replicas

# Several netpol-guard processes at once (lib.sh runs one): name -> pid, health
# address, webhook port, log.
declare -A rpid rhealth rport rlog
replica_runs=0

# The control plane's watchdog (lib.sh) stops lib.sh's netpol-guard; this one
# stops the replicas, by pid, should this script be killed.
# shellcheck disable=SC2016 # expanded by the watchdog's own bash
setsid bash -c '
  for ((i = 0; i < 14400; i++)); do kill -0 "$1" 2>/dev/null || break; sleep 0.5; done
  for f in "$2"/replica-*.pid; do
    pid=$(cat "$f" 2>/dev/null) && [[ "$(readlink "/proc/$pid/exe")" == "$3" ]] && kill -TERM "$pid"
  done
' watchdog "$$" "$work" "$ng_bin" </dev/null >/dev/null 2>&1 &
replica_watchdog=$!

stop_replica() { # NAME
  [[ -n "${rpid[$1]:-}" ]] || return 0
  stop_child "${rpid[$1]}"
  rm -f "$work/replica-$1.pid"
  rpid[$1]=""
}
stop_replicas() {
  local n
  for n in "${!rpid[@]}"; do stop_replica "$n"; done
  kill "$replica_watchdog" 2>/dev/null || true
}
trap 'rc_=$?; stop_replicas; (exit $rc_); cleanup' EXIT

# start_replica NAME [ENV=VALUE...] -- FLAGS...: POD_NAME=NAME; waits until ready.
start_replica() {
  local name=$1 envs=() i
  shift
  while (($#)) && [[ $1 != -- ]]; do envs+=("$1"); shift; done
  shift
  local logf port
  replica_runs=$((replica_runs + 1))
  logf="$work/replica-$name.$replica_runs.log"
  port=$(free_port)
  say "starting replica $name: serve $*"
  env -u POD_NAMESPACE POD_NAME="$name" "${envs[@]}" "$ng_bin" serve \
    --listen "127.0.0.1:$port" --health-listen 127.0.0.1:0 \
    --tls-cert-file "$work/certs/tls.crt" --tls-private-key-file "$work/certs/tls.key" \
    --shutdown-delay=1s "$@" </dev/null >"$logf" 2>&1 &
  rpid[$name]=$!
  rport[$name]=$port
  rlog[$name]=$logf
  echo "${rpid[$name]}" >"$work/replica-$name.pid"
  rhealth[$name]=$(await_ready "$logf" "${rpid[$name]}")
}

metric_of() { # NAME METRIC-WITH-LABELS: the value, or nothing
  curl -fsS --max-time 2 "http://${rhealth[$1]}/metrics" 2>/dev/null | awk -v m="$2" '$1 == m { print $2 }' || true
}
writes_of() { # NAME: written+unchanged+failure report writes
  local w u f
  w=$(metric_of "$1" 'netpol_guard_report_writes_total{result="written"}')
  u=$(metric_of "$1" 'netpol_guard_report_writes_total{result="unchanged"}')
  f=$(metric_of "$1" 'netpol_guard_report_writes_total{result="failure"}')
  echo $((${w:-0} + ${u:-0} + ${f:-0}))
}

# An AdmissionReview for a pod in NAMESPACE sent to replica NAME; prints "true" or "false".
direct_decision() { # NAME NAMESPACE
  python3 - "$2" "$src/tests/fixtures/admission/pod-create.json" >"$work/review.json" <<'PY'
import json, sys
r = json.load(open(sys.argv[2]))
r["request"]["namespace"] = sys.argv[1]
r["request"]["object"]["metadata"]["namespace"] = sys.argv[1]
print(json.dumps(r))
PY
  curl -sS --max-time 5 --cacert "$work/certs/ca.crt" -H 'Content-Type: application/json' \
    --data-binary @"$work/review.json" "https://localhost:${rport[$1]}/validate" |
    python3 -c 'import json,sys; print(str(json.load(sys.stdin)["response"]["allowed"]).lower())'
}

# Lines of level LEVEL in replica NAME's log whose text matches the regex.
log_lines() { # NAME LEVEL REGEX
  python3 - "${rlog[$1]}" "$2" "$3" <<'PY'
import json, re, sys
for line in open(sys.argv[1], errors="replace"):
    try:
        o = json.loads(line)
    except ValueError:
        continue
    if isinstance(o, dict) and o.get("level") == sys.argv[2] and re.search(sys.argv[3], line, re.I):
        print(line.rstrip())
PY
}

# ------------------------------------------------------------------ reports

# The report in NAMESPACE, as "INGRESS,EGRESS" results ("absent" when there is
# none), after checking everything else the issue asks of it; each problem is
# printed on a line of its own after the first.
#   report_state openreports|policyreport NAMESPACE [REASON UNTIL]
report_state() {
  local resource=reports.openreports.io
  [[ $1 == policyreport ]] && resource=policyreports.wgpolicyk8s.io
  { k -n "$2" get "$resource" netpol-guard -o json --show-managed-fields 2>/dev/null || echo '{}'; } |
    python3 "$work/report_state.py" "$1" "$2" "${3:-}" "${4:-}"
}
cat >"$work/report_state.py" <<'PY'
import json, sys
api, ns, reason, until = sys.argv[1:5]
r = json.load(sys.stdin)
if not r:
    print("absent")
    sys.exit(0)
problems = []
def want(cond, msg):
    if not cond:
        problems.append(msg)
m = r["metadata"]
want(m.get("labels", {}).get("app.kubernetes.io/managed-by") == "netpol-guard", f"labels {m.get('labels')}")
managers = {(f.get("manager"), f.get("operation")) for f in m.get("managedFields", [])}
want(managers == {("netpol-guard", "Apply")}, f"managedFields {sorted(managers)}")
if api == "openreports":
    want(r.get("source") == "netpol-guard", f"source {r.get('source')!r}")
scope = r.get("scope") or {}
want(scope.get("kind") == "Namespace" and scope.get("name") == ns and scope.get("apiVersion") == "v1",
     f"scope {scope}")
results = {x.get("rule"): x for x in r.get("results") or []}
want(sorted(results) == ["default-deny-egress", "default-deny-ingress"] and len(r["results"]) == 2,
     f"rules {[x.get('rule') for x in r.get('results') or []]}")
for rule, x in results.items():
    want(x.get("policy") == "cis-5.3.2", f"{rule}: policy {x.get('policy')!r}")
    want(x.get("severity") == "high", f"{rule}: severity {x.get('severity')!r}")
    want(x.get("category") == "Network Security", f"{rule}: category {x.get('category')!r}")
    want(x.get("scored") is True, f"{rule}: scored {x.get('scored')!r}")
    want(x.get("source") == "netpol-guard", f"{rule}: source {x.get('source')!r}")
    want(bool(x.get("message")), f"{rule}: no message")
    props = x.get("properties") or {}
    want("unprotectedPods" in props, f"{rule}: properties {props} without unprotectedPods")
    want(x.get("result") != "pass" or props.get("baselinePolicies"), f"{rule}: a pass without baselinePolicies")
    if x.get("result") == "skip" and reason:
        text = json.dumps(x)
        want(reason in text and until in text, f"{rule}: skip without its reason and expiry: {x}")
got = [results.get(r_, {}).get("result", "none") for r_ in ("default-deny-ingress", "default-deny-egress")]
summary = r.get("summary") or {}
counted = {k: got.count(k) for k in ("pass", "fail", "warn", "error", "skip")}
want({k: summary.get(k, 0) for k in counted} == counted, f"summary {summary}, results {got}")
print(",".join(got))
for p in problems:
    print(p)
PY

# Waits (bounded) until every "NAMESPACE=INGRESS,EGRESS" holds with no problem;
# prints the ms it took, or the last states seen.
wait_reports() { # API TIMEOUT_MS NAMESPACE=STATE... (a NAMESPACE:REASON form checks the exemption)
  local api=$1 limit=$2 start last spec ns wanted got all
  shift 2
  start=$(now_ms)
  while true; do
    all=0 last=""
    for spec in "$@"; do
      ns=${spec%%=*} wanted=${spec#*=}
      if [[ $ns == rep-exempt && $wanted == skip,skip ]]; then
        got=$(report_state "$api" "$ns" "$exempt_reason" "$exempt_until" 2>&1) || true
      else
        got=$(report_state "$api" "$ns" 2>&1) || true
      fi
      [[ "$got" == "$wanted" ]] || all=1
      last+="$ns: $(tr '\n' ';' <<<"$got") (want $wanted)"$'\n'
    done
    if ((all == 0)); then
      echo $(($(now_ms) - start))
      return 0
    fi
    if (($(now_ms) - start > limit)); then
      printf '%s' "$last"
      return 1
    fi
    sleep 0.25
  done
}

# Report objects netpol-guard manages, as "namespace/name" lines.
managed_reports() { # RESOURCE
  k get "$1" -A -l app.kubernetes.io/managed-by=netpol-guard -o json |
    python3 -c 'import json,sys; [print(i["metadata"]["namespace"] + "/" + i["metadata"]["name"]) for i in json.load(sys.stdin)["items"]]' || true
}
# One per namespace, each named netpol-guard, and one in each test namespace.
one_per_namespace() { # RESOURCE: status 0 when it holds; prints the list otherwise
  local list
  list=$(managed_reports "$1")
  python3 -c '
import sys
rows = [l.split("/") for l in sys.argv[1].split()]
ns = [r[0] for r in rows]
ok = all(r[1] == "netpol-guard" for r in rows) and len(ns) == len(set(ns)) and set(sys.argv[2:]) <= set(ns)
if not ok:
    print(" ".join("/".join(r) for r in rows) or "no reports")
sys.exit(0 if ok else 1)' "$list" "${namespaces[@]}"
}

# Drift Events on the test namespaces, "namespace reason type reportingInstance count" lines.
drift_events() {
  k get events.events.k8s.io -A -o json | python3 -c '
import json, sys
for e in json.load(sys.stdin)["items"]:
    reg = e.get("regarding") or {}
    if reg.get("kind") == "Namespace" and e.get("reason") in ("BaselineMissing", "BaselineRestored"):
        n = (e.get("series") or {}).get("count", 1)
        print(reg.get("name"), e["reason"], e.get("type"), e.get("reportingInstance", ""), n)' | sort || true
}
# Waits (bounded) until NAMESPACE has an Event with REASON; prints its line.
wait_event() { # NAMESPACE REASON TIMEOUT_S
  local i line
  for ((i = 0; i < $3 * 4; i++)); do
    line=$(drift_events | awk -v n="$1" -v r="$2" '$1 == n && $2 == r' | head -1)
    [[ -n "$line" ]] && { echo "$line"; return 0; }
    sleep 0.25
  done
  return 1
}

lease_holder() { # NAMESPACE
  k -n "$1" get lease netpol-guard -o jsonpath='{.spec.holderIdentity}' 2>/dev/null || true
}

# ------------------------------------------------------------------ setup

"$src/certs/gen-dev-certs.sh" "$work/certs" >/dev/null || setup_fail "certs/gen-dev-certs.sh failed"
openreports_crd=$("$src/tests/e2e/report-crds.sh" openreports) || setup_fail "the openreports CRD from its Go module"
policyreport_crd=$("$src/tests/e2e/report-crds.sh" policyreport) || setup_fail "the PolicyReport CRD from its Go module"
for ns in "${namespaces[@]}"; do
  k create namespace "$ns" >/dev/null || setup_fail "create namespace $ns"
done
default_deny_yaml rep-ok | k apply -f - >/dev/null || setup_fail "policy in rep-ok"
ingress_only_yaml rep-ing | k apply -f - >/dev/null || setup_fail "policy in rep-ing"
wait_sa rep-empty || setup_fail "no default ServiceAccount in rep-empty"
pod_yaml rep-empty | k apply -f - >/dev/null || setup_fail "pod in rep-empty"

election=(--leader-elect-lease-duration=4s --leader-elect-renew-deadline=3s
  --leader-elect-retry-period=1s --leader-elect-resource-namespace=default)

# ------------------------------------------------------------------ 1. no CRD

start_replica replica-a -- --kubeconfig "$kc" --reports=openreports --report-interval=1s "${election[@]}" ||
  setup_fail "netpol-guard --reports=openreports without the CRD did not become ready"
d_ok=$(direct_decision replica-a rep-ok || echo error)
d_empty=$(direct_decision replica-a rep-empty || echo error)
check "1a. without the Report CRD: ready, and admission answers (rep-ok $d_ok, rep-empty $d_empty)" \
  "$([[ $d_ok == true && $d_empty == false ]]; echo $?)" "rep-ok=$d_ok (want true)" "rep-empty=$d_empty (want false)"
not_served=""
for ((i = 0; i < 40; i++)); do
  not_served=$(metric_of replica-a 'netpol_guard_errors_total{reason="reports_not_served"}')
  [[ "${not_served:-0}" -ge 1 ]] && break
  sleep 0.25
done
sleep 2 # a second warning would come now, if one did
warns=$(log_lines replica-a warn .)
check "1b. without the Report CRD: one warn line, counted once" \
  "$([[ $(grep -c . <<<"$warns") == 1 && "$warns" == *eport* && $not_served == 1 ]]; echo $?)" \
  "reports_not_served=$not_served" "warn lines:" "$warns"
held=$(lease_holder default)
stop_replica replica-a
# SIGTERM gives the Lease up, so the next replicas need not wait for it to expire.
released=$(lease_holder default)
check "1c. it held the Lease (${held:-none}) and gave it up on SIGTERM" \
  "$([[ $held == replica-a_?* && -z $released ]]; echo $?)" "before=$held after=$released"

k apply -f "$openreports_crd" >/dev/null || setup_fail "apply $openreports_crd"
k wait --for=condition=Established --timeout=30s crd/reports.openreports.io >/dev/null ||
  setup_fail "the Report CRD is not established"

# ------------------------------------------------------------------ 2. two replicas

t0=$(now_ms)
start_replica replica-a -- --kubeconfig "$kc" --reports=openreports --report-interval=1s "${election[@]}" ||
  setup_fail "replica-a did not become ready"
start_replica replica-b -- --kubeconfig "$kc" --reports=openreports --report-interval=1s "${election[@]}" ||
  setup_fail "replica-b did not become ready"

if ms=$(wait_reports openreports $((15000 - ($(now_ms) - t0))) \
  rep-ok=pass,pass rep-ing=pass,fail rep-empty=fail,fail rep-exempt=fail,fail); then
  pass "2a. reports right within 15 s of the start ($(($(now_ms) - t0)) ms): pass/pass, pass/fail, fail/fail, fail/fail"
  figures+=("replicas started -> four correct reports: $(($(now_ms) - t0)) ms")
else
  fail "2a. reports right within 15 s of the start" "$ms"
fi
ingress='{.results[?(@.rule=="default-deny-ingress")].properties'
props=$(k -n rep-empty get reports.openreports.io netpol-guard -o jsonpath="$ingress.unprotectedPods}" 2>&1 || true)
bp=$(k -n rep-ok get reports.openreports.io netpol-guard -o jsonpath="$ingress.baselinePolicies}" 2>&1 || true)
check "2b. properties: unprotectedPods 1 in rep-empty, baselinePolicies default-deny-all in rep-ok" \
  "$([[ $props == 1 && $bp == *default-deny-all* ]]; echo $?)" "unprotectedPods=$props" "baselinePolicies=$bp"

holder=$(lease_holder default)
leader=${holder%%_*}
case $leader in replica-a) follower=replica-b ;; replica-b) follower=replica-a ;; *) follower="" ;; esac
la=$(metric_of replica-a netpol_guard_leader)
lb=$(metric_of replica-b netpol_guard_leader)
check "2c. one Lease holder ($holder), netpol_guard_leader 1 on it and 0 on the other (a=$la b=$lb)" \
  "$([[ -n $follower && $holder == "$leader"_?* && $(metric_of "$leader" netpol_guard_leader) == 1 &&
    $(metric_of "$follower" netpol_guard_leader) == 0 ]]; echo $?)" "holder=$holder a=$la b=$lb"
lw=$(metric_of "${leader:-replica-a}" 'netpol_guard_report_writes_total{result="written"}')
sleep 3 # three report intervals of a steady cluster
lw2=$(metric_of "${leader:-replica-a}" 'netpol_guard_report_writes_total{result="written"}')
check "2d. a steady cluster: no report written in 3 s (written ${lw:-?} -> ${lw2:-?})" \
  "$([[ ${lw:-0} -ge 1 && $lw2 == "$lw" ]]; echo $?)" "written before=$lw after=$lw2"
fw=$(writes_of "${follower:-replica-b}")
check "2e. only the leader writes (written: leader ${lw:-?}, follower's writes ${fw:-?})" \
  "$([[ -n $follower && ${lw:-0} -ge 4 && $fw == 0 ]]; echo $?)" "leader written=$lw" "follower all=$fw"

k apply -f - >/dev/null <<EOF
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: {name: default-deny-egress, namespace: rep-ing}
spec: {podSelector: {}, policyTypes: [Egress]}
EOF
if ms=$(wait_reports openreports 10000 rep-ing=pass,pass); then
  pass "2f. a policy change flips the result: rep-ing egress fail -> pass in ${ms} ms"
  figures+=("policy created -> report updated: ${ms} ms")
else
  fail "2f. a policy change flips the result" "$ms"
fi
k annotate namespace rep-exempt "$P/exempt=all" "$P/exempt-reason=$exempt_reason" \
  "$P/exempt-until=$exempt_until" >/dev/null
if ms=$(wait_reports openreports 10000 rep-exempt=skip,skip); then
  pass "2g. an exemption makes both results skip, with its reason and expiry (${ms} ms)"
else
  fail "2g. an exemption makes both results skip, with its reason and expiry" "$ms"
fi

# A transition makes its Event once the new state has held for 10 s (a flap
# within that makes none), so each wait allows 20 s.
k -n rep-ok delete networkpolicy default-deny-all >/dev/null
missing=$(wait_event rep-ok BaselineMissing 20 || true)
wait_reports openreports 10000 rep-ok=fail,fail >/dev/null || true
default_deny_yaml rep-ok | k apply -f - >/dev/null
restored=$(wait_event rep-ok BaselineRestored 20 || true)
wait_reports openreports 10000 rep-ok=pass,pass >/dev/null || true
sleep 2 # a duplicate would come now, if one did
ev=$(drift_events)
n_missing=$(awk '$1 == "rep-ok" && $2 == "BaselineMissing" { n += $5 } END { print n + 0 }' <<<"$ev")
n_restored=$(awk '$1 == "rep-ok" && $2 == "BaselineRestored" { n += $5 } END { print n + 0 }' <<<"$ev")
check "2h. drift Events: one BaselineMissing (Warning) and one BaselineRestored (Normal), from the leader" \
  "$([[ $n_missing == 1 && $n_restored == 1 && $missing == "rep-ok BaselineMissing Warning $holder 1" &&
    $restored == "rep-ok BaselineRestored Normal $holder 1" ]]; echo $?)" \
  "missing=$missing" "restored=$restored" "all drift Events:" "$ev"
fw=$(writes_of "${follower:-replica-b}")
fe=$(metric_of "${follower:-replica-b}" 'netpol_guard_drift_events_total{result="success"}')
check "2i. the follower still wrote nothing (report writes ${fw:-?}, Events ${fe:-0})" \
  "$([[ $fw == 0 && ${fe:-0} == 0 ]]; echo $?)" "writes=$fw events=$fe"
one=$(one_per_namespace reports.openreports.io) && ok=0 || ok=1
check "2j. one report per namespace, named netpol-guard" $ok "$one"

# ------------------------------------------------------------------ 3. failover

if [[ -n $follower ]]; then
  events_before=$(drift_events)
  t0=$(now_ms)
  stop_replica "$leader" # SIGTERM by pid
  took=""
  while (($(now_ms) - t0 < 30000)); do
    h=$(lease_holder default)
    if [[ ${h%%_*} == "$follower" && $(metric_of "$follower" netpol_guard_leader) == 1 ]]; then
      took=$(($(now_ms) - t0))
      break
    fi
    sleep 0.2
  done
  new_holder=$(lease_holder default)
  check "3a. the leader stopped: $follower takes over within 30 s (${took:-no} ms)" \
    "$([[ -n $took ]]; echo $?)" "holder=$new_holder leader metric=$(metric_of "$follower" netpol_guard_leader)"
  [[ -n $took ]] && figures+=("leader SIGTERM -> the other leads: $took ms")
  t=$(metric_of "$follower" netpol_guard_leader_transitions_total)
  check "3b. netpol_guard_leader_transitions_total on the new leader: ${t:-?}" "$([[ ${t:-0} == 1 ]]; echo $?)" "transitions=$t"

  default_deny_yaml rep-empty | k apply -f - >/dev/null
  if ms=$(wait_reports openreports 15000 rep-ok=pass,pass rep-ing=pass,pass rep-empty=pass,pass \
    rep-exempt=skip,skip); then
    pass "3c. after the failover the reports stay current: rep-empty fail -> pass in ${ms} ms"
  else
    fail "3c. after the failover the reports stay current" "$ms"
  fi
  nw=$(metric_of "$follower" 'netpol_guard_report_writes_total{result="written"}')
  check "3d. the new leader wrote it (written ${nw:-0})" "$([[ ${nw:-0} -ge 1 ]]; echo $?)" "written=$nw"
  restored=$(wait_event rep-empty BaselineRestored 20 || true)
  sleep 2
  events_after=$(drift_events)
  new_events=$(comm -13 <(echo "$events_before") <(echo "$events_after"))
  check "3e. after the failover: no Event for the state found, one BaselineRestored for rep-empty from $follower" \
    "$([[ $new_events == "rep-empty BaselineRestored Normal $new_holder 1" ]]; echo $?)" \
    "new Events:" "$new_events" "before:" "$events_before"
  one=$(one_per_namespace reports.openreports.io) && ok=0 || ok=1
  check "3f. still one report per namespace" $ok "$one"
  dups=$(awk '{ c[$1 " " $2] += $5 } END { for (k in c) if (c[k] > 1) print k, c[k] }' <<<"$events_after")
  check "3g. no drift Event twice in the whole run" "$([[ -z $dups ]]; echo $?)" "$dups"
fi
echo "$ kubectl get reports -A"
k get reports.openreports.io -A 2>&1 | sed 's/^/  /' || true
stop_replicas

# ------------------------------------------------------------------ 4. policyreport

# The RBAC of the shipped overlay, and netpol-guard running as its
# ServiceAccount: what it grants is what reports, Events and the Lease need.
rbac="$work/rbac-policyreport.yaml"
timeout 60 "$kubectl_bin" kustomize "$src/manifests/overlays/prod-policyreport" | python3 -c '
import sys, yaml
keep = ("Namespace", "ServiceAccount", "ClusterRole", "ClusterRoleBinding", "Role", "RoleBinding")
yaml.safe_dump_all([d for d in yaml.safe_load_all(sys.stdin) if d and d["kind"] in keep], sys.stdout)' >"$rbac" ||
  setup_fail "render overlays/prod-policyreport"
k apply -f "$rbac" >/dev/null || setup_fail "apply the RBAC of overlays/prod-policyreport"
k apply -f "$policyreport_crd" >/dev/null || setup_fail "apply $policyreport_crd"
k wait --for=condition=Established --timeout=30s crd/policyreports.wgpolicyk8s.io >/dev/null ||
  setup_fail "the PolicyReport CRD is not established"
token=$(k -n netpol-guard create token netpol-guard --duration=10m) || setup_fail "a token for the ServiceAccount"
python3 - "$kc" "$work/sa.kubeconfig" "$token" <<'PY' || setup_fail "the ServiceAccount's kubeconfig"
import sys, yaml
cfg = yaml.safe_load(open(sys.argv[1]))
cluster = cfg["clusters"][0]
yaml.safe_dump({"apiVersion": "v1", "kind": "Config", "clusters": [cluster],
                "users": [{"name": "netpol-guard", "user": {"token": sys.argv[3]}}],
                "contexts": [{"name": "sa", "context": {"cluster": cluster["name"], "user": "netpol-guard"}}],
                "current-context": "sa"}, open(sys.argv[2], "w"))
PY
t0=$(now_ms)
# The Lease's namespace from POD_NAMESPACE, as in a pod.
start_replica replica-p POD_NAMESPACE=netpol-guard -- --kubeconfig "$work/sa.kubeconfig" \
  --reports=policyreport --report-interval=1s --leader-elect-lease-duration=4s \
  --leader-elect-renew-deadline=3s --leader-elect-retry-period=1s ||
  setup_fail "replica-p (policyreport, as the ServiceAccount) did not become ready"
if ms=$(wait_reports policyreport 15000 rep-ok=pass,pass rep-ing=pass,pass rep-empty=pass,pass rep-exempt=skip,skip); then
  pass "4a. --reports=policyreport as the ServiceAccount: PolicyReports right in $(($(now_ms) - t0)) ms"
else
  fail "4a. --reports=policyreport as the ServiceAccount: PolicyReports right within 15 s" "$ms"
fi
pw=$(metric_of replica-p 'netpol_guard_report_writes_total{result="written"}')
sleep 3
pw2=$(metric_of replica-p 'netpol_guard_report_writes_total{result="written"}')
check "4b. a steady cluster: no PolicyReport written in 3 s (written ${pw:-?} -> ${pw2:-?})" \
  "$([[ ${pw:-0} -ge 1 && $pw2 == "$pw" ]]; echo $?)" "written before=$pw after=$pw2"
ph=$(lease_holder netpol-guard)
errs=""
for reason in lease_failed report_failed event_failed; do
  v=$(metric_of replica-p "netpol_guard_errors_total{reason=\"$reason\"}")
  [[ ${v:-0} == 0 ]] || errs+="$reason=$v "
done
check "4c. it holds the Lease in its own namespace ($ph), with no RBAC failure" \
  "$([[ $ph == replica-p_?* && -z $errs ]]; echo $?)" "holder=$ph" "errors: $errs" \
  "$(log_lines replica-p warn . | tail -n 5)" "$(log_lines replica-p error . | tail -n 5)"
one=$(one_per_namespace policyreports.wgpolicyk8s.io) && ok=0 || ok=1
check "4d. one PolicyReport per namespace" $ok "$one"
stop_replicas

echo
for f in "${figures[@]}"; do echo "figure: $f"; done
echo "$passed passed, $failed failed"
((failed == 0))
