#!/usr/bin/env bash
# The real binary's /metrics against the monitoring kit:
#  - `promtool check metrics` passes on the live output (after real requests);
#  - netpol_guard_certificate_expiry_timestamp_seconds is the serving
#    certificate's notAfter, and follows a rotation (reload);
#  - every expression of the alerts and of the Grafana dashboard parses
#    (promtool check rules, and Prometheus' parser in promql-names) and names
#    only metrics the binary exports (from that /metrics), the apiserver's
#    apiserver_admission_webhook_{rejection,fail_open}_count, or `up`.
# The server listens on loopback port 0 with development certificates and the
# example policies; it is stopped by its PID.
#
#   tests/manifests/metrics-live.sh NETPOL_GUARD SOURCE_DIR TOOLS_BIN
set -euo pipefail
binary=${1:?usage: metrics-live.sh NETPOL_GUARD SOURCE_DIR TOOLS_BIN}
src=$(cd "${2:?usage}" && pwd)
bin=${3:?usage: metrics-live.sh NETPOL_GUARD SOURCE_DIR TOOLS_BIN}
files=$src/manifests/charts/netpol-guard/files
tmp=$(mktemp -d)
pid=
passed=0 failed=0
ok() { echo "ok: $*"; passed=$((passed + 1)); }
bad() { echo "FAIL: $*"; failed=$((failed + 1)); }
cleanup() {
  if [[ -n $pid ]] && kill -0 "$pid" 2>/dev/null; then
    kill -TERM "$pid"; for _ in $(seq 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
    kill -KILL "$pid" 2>/dev/null || true
  fi
  rm -rf "$tmp"
}
trap cleanup EXIT

# A certificate valid for 20 days: close to the alert's 14, far from now.
DAYS=20 "$src/certs/gen-dev-certs.sh" "$tmp/certs" >/dev/null
"$binary" serve --listen=127.0.0.1:0 --health-listen=127.0.0.1:0 \
  --tls-cert-file="$tmp/certs/tls.crt" --tls-private-key-file="$tmp/certs/tls.key" \
  --tls-reload-interval=200ms --policies "$src/manifests/examples" >"$tmp/log" 2>&1 &
pid=$!
port= health=
for _ in $(seq 100); do # the "listening" log line names both ports
  port=$(sed -n 's/.*"msg":"listening","listen":"[^"]*:\([0-9]*\)".*/\1/p' "$tmp/log")
  health=$(sed -n 's/.*"msg":"listening".*"health_listen":"[^"]*:\([0-9]*\)".*/\1/p' "$tmp/log")
  [[ -n $port && -n $health ]] && break
  kill -0 "$pid" 2>/dev/null || break
  sleep 0.1
done
[[ -n $port ]] || { cat "$tmp/log"; echo "FAIL: netpol-guard did not start"; exit 1; }

scrape() { curl -sS --max-time 5 "http://127.0.0.1:$health/metrics"; }
# Real traffic first, so the counters and the histogram carry samples.
for f in "$src"/tests/fixtures/admission/{pod,namespace,deployment}-create.json; do
  curl -sS --max-time 5 --cacert "$tmp/certs/ca.crt" -H 'Content-Type: application/json' \
    --data @"$f" "https://localhost:$port/validate" >/dev/null
done
scrape > "$tmp/metrics"

if out=$("$bin/promtool" check metrics < "$tmp/metrics" 2>&1); then
  ok "promtool check metrics: $(grep -c '^# TYPE' "$tmp/metrics") metric families, no problem reported"
else
  bad "promtool check metrics"; sed 's/^/    /' <<<"$out"
fi
if grep -q '^netpol_guard_admission_requests_total{' "$tmp/metrics"; then ok "requests were counted"; else bad "no request counted"; fi

# The expiry gauge is the certificate's notAfter, exactly.
not_after() { date -u -d "$(openssl x509 -noout -enddate -in "$1" | cut -d= -f2)" +%s; }
expiry() { awk '$1 == "netpol_guard_certificate_expiry_timestamp_seconds" { print $2 }' "$1"; }
want=$(not_after "$tmp/certs/tls.crt") got=$(expiry "$tmp/metrics")
if [[ $got == "$want" ]]; then ok "certificate expiry $got is the serving certificate's notAfter"; else bad "certificate expiry $got, notAfter is $want"; fi

# Rotate to a 400-day certificate: the gauge follows on reload.
FORCE=1 DAYS=400 "$src/certs/gen-dev-certs.sh" "$tmp/certs" >/dev/null
want=$(not_after "$tmp/certs/tls.crt") got=
for _ in $(seq 100); do
  scrape > "$tmp/metrics2"; got=$(expiry "$tmp/metrics2")
  [[ $got == "$want" ]] && break
  sleep 0.1
done
if [[ $got == "$want" ]]; then ok "after rotation the expiry is the new notAfter $want"; else bad "after rotation expiry $got, new notAfter $want"; fi

# The metrics the binary exports: every family, with a histogram's series.
python3 - "$tmp/metrics" > "$tmp/exported" <<'PY'
import sys
for line in open(sys.argv[1]):
    if line.startswith("# TYPE "):
        _, _, name, kind = line.split()
        print(name)
        if kind == "histogram":
            print("\n".join(name + s for s in ("_bucket", "_sum", "_count")))
PY
if grep -qx netpol_guard_certificate_expiry_timestamp_seconds "$tmp/exported"; then
  ok "exported: $(tr '\n' ' ' < "$tmp/exported")"
else
  bad "the exported list lacks netpol_guard_certificate_expiry_timestamp_seconds: $(tr '\n' ' ' < "$tmp/exported")"
fi

# Every expression of the alerts and the dashboard, in one list.
python3 - "$files/netpol-guard.rules.yaml" "$files/netpol-guard-dashboard.json" > "$tmp/exprs.json" <<'PY'
import json, sys, yaml
items = []
for g in yaml.safe_load(open(sys.argv[1]))["groups"]:
    for r in g["rules"]:
        items.append({"where": f'alert {r.get("alert") or r.get("record")}', "expr": r["expr"]})
def panels(ps):
    for p in ps:
        yield p
        yield from panels(p.get("panels", []))
board = json.load(open(sys.argv[2]))
for p in panels(board["panels"]):
    for t in p.get("targets", []):
        # Grafana's interval variables become a duration, as Grafana does.
        expr = t["expr"]
        for var in ("$__rate_interval", "$__interval", "$__range"):
            expr = expr.replace(var, "5m")
        items.append({"where": f'panel "{p["title"]}" {t["refId"]}', "expr": expr})
json.dump(items, sys.stdout)
PY
count=$(python3 -c 'import json,sys; print(len(json.load(open(sys.argv[1]))))' "$tmp/exprs.json")

# promtool parses each one (as a recording rule).
python3 - "$tmp/exprs.json" > "$tmp/exprs.rules.yaml" <<'PY'
import json, sys, yaml
items = json.load(open(sys.argv[1]))
yaml.safe_dump({"groups": [{"name": "expressions", "rules": [
    {"record": f"netpol_guard_test:expr_{i}", "expr": it["expr"]} for i, it in enumerate(items)]}]}, sys.stdout)
PY
if out=$("$bin/promtool" check rules "$tmp/exprs.rules.yaml" 2>&1); then
  ok "promtool parses all $count alert and dashboard expressions"
else
  bad "promtool check rules on the expressions"; sed 's/^/    /' <<<"$out"
fi

# Prometheus' parser lists the metrics each one selects.
if "$bin/promql-names" < "$tmp/exprs.json" > "$tmp/names.json"; then
  python3 - "$tmp/names.json" "$tmp/exported" <<'PY' && ok "every expression names only exported metrics" || bad "expressions name metrics the binary does not export"
import json, sys
exported = set(open(sys.argv[2]).read().split())
allowed = exported | {"apiserver_admission_webhook_rejection_count", "apiserver_admission_webhook_fail_open_count", "up"}
bad = 0
used = set()
for it in json.load(open(sys.argv[1])):
    used |= set(it["metrics"])
    unknown = sorted(set(it["metrics"]) - allowed)
    if not it["metrics"] or unknown:
        bad += 1
        print(f'    {it["where"]}: {it["expr"]!r} names {unknown or "no metric"}')
print(f"    {len(used)} metric names used: {' '.join(sorted(used))}")
sys.exit(1 if bad else 0)
PY
else
  bad "promql-names: an expression does not parse"; sed 's/^/    /' "$tmp/names.json"
fi

echo "metrics-live: $passed passed, $failed failed"
((failed == 0))
