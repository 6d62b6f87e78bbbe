#!/usr/bin/env bash
# The alert rules with promtool: `promtool check rules` on the chart's rule
# file, `promtool test rules` on rules.test.yaml (series that fire each alert
# and series that must not), every alert has a runbook section in
# docs/runbook.md, and the kustomize components hold current copies of the
# chart's rules and dashboard (manifests/render-monitoring.sh).
#
#   tests/manifests/promtool-rules.sh TOOLS_BIN SOURCE_DIR
set -euo pipefail
bin=${1:?usage: promtool-rules.sh TOOLS_BIN SOURCE_DIR}
src=$(cd "${2:?usage: promtool-rules.sh TOOLS_BIN SOURCE_DIR}" && pwd)
rules=$src/manifests/charts/netpol-guard/files/netpol-guard.rules.yaml
passed=0 failed=0
ok() { echo "ok: $*"; passed=$((passed + 1)); }
bad() { echo "FAIL: $*"; failed=$((failed + 1)); }
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

if out=$(timeout 60 "$bin/promtool" check rules "$rules" 2>&1); then
  ok "promtool check rules: $(grep -o 'SUCCESS: [0-9]* rules found' <<<"$out")"
else
  bad "promtool check rules"; sed 's/^/    /' <<<"$out"
fi

if out=$(cd "$src/tests/manifests" && timeout 120 "$bin/promtool" test rules rules.test.yaml 2>&1); then
  ok "promtool test rules: $(grep -c '^  ' <<<"$out" || true) lines, $(grep -o 'SUCCESS' <<<"$out" | head -1)"
else
  bad "promtool test rules"; sed 's/^/    /' <<<"$out"
fi

# Every alert is tested firing (exp_alerts non-empty) and not firing (an
# eval with exp_alerts: []), and has its runbook section.
python3 - "$rules" "$src/tests/manifests/rules.test.yaml" "$src/docs/runbook.md" <<'PY' && ok "every alert fires and stays quiet in a test, and has a runbook section" || bad "alert coverage"
import re, sys, yaml
rules = yaml.safe_load(open(sys.argv[1]))
tests = yaml.safe_load(open(sys.argv[2]))
runbook = open(sys.argv[3]).read()
anchors = {re.sub(r"[^a-z0-9 -]", "", h.strip().lower()).replace(" ", "-") for h in re.findall(r"^#+ (.+)$", runbook, re.M)}
alerts = [r["alert"] for g in rules["groups"] for r in g["rules"] if "alert" in r]
fires, quiet = set(), set()
for t in tests["tests"]:
    for a in t.get("alert_rule_test", []):
        (fires if a.get("exp_alerts") else quiet).add(a["alertname"])
problems = []
for a in alerts:
    rule = next(r for g in rules["groups"] for r in g["rules"] if r.get("alert") == a)
    if a not in fires: problems.append(f"{a}: no test makes it fire")
    if a not in quiet: problems.append(f"{a}: no test shows it quiet")
    for k in ("summary", "description", "runbook_url"):
        if not rule.get("annotations", {}).get(k): problems.append(f"{a}: no {k}")
    anchor = rule.get("annotations", {}).get("runbook_url", "").rpartition("#")[2]
    if anchor != a.lower() or anchor not in anchors: problems.append(f"{a}: runbook_url #{anchor} is not a section of docs/runbook.md")
    if rule.get("labels", {}).get("severity") not in ("critical", "warning"): problems.append(f"{a}: severity")
print(f"{len(alerts)} alerts: {', '.join(alerts)}")
for p in problems: print("   ", p)
sys.exit(1 if problems or not alerts else 0)
PY

"$src/manifests/render-monitoring.sh" "$tmp/copies" >/dev/null
for f in components/monitoring/prometheusrule.yaml components/grafana-dashboard/netpol-guard.json; do
  if cmp -s "$tmp/copies/$f" "$src/manifests/$f"; then ok "manifests/$f is current"; else bad "manifests/$f is stale: run manifests/render-monitoring.sh"; fi
done

echo "promtool-rules: $passed passed, $failed failed"
((failed == 0))
