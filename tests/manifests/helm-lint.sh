#!/usr/bin/env bash
# helm lint --strict and helm template of the chart with its default values,
# values-prod.yaml, the cert-manager option and the monitoring kit; and what
# the chart must refuse, each with a clear message: values that break
# values.schema.json, a mode other than enforce/audit, a timeout out of 1..30,
# both monitors at once, system:masters in exemptionGroups (always allowed),
# a reports.api other than openreports/policyreport, reports without leader
# election from more than one replica,
# and the "default" namespace (helm template without
# -n), whose exemption would exempt "default" itself.
#
#   tests/manifests/helm-lint.sh HELM SOURCE_DIR
set -euo pipefail
helm=${1:?usage: helm-lint.sh HELM SOURCE_DIR}
src=${2:?usage: helm-lint.sh HELM SOURCE_DIR}
chart=$src/manifests/charts/netpol-guard
failed=0 passed=0

run() { # DESCRIPTION COMMAND...
  local what=$1; shift
  if out=$(timeout 60 "$@" 2>&1); then
    echo "ok: $what"; passed=$((passed + 1))
  else
    echo "FAIL: $what"; echo "$out" | sed 's/^/    /'; failed=$((failed + 1))
  fi
}
refused() { # DESCRIPTION EXPECTED-MESSAGE COMMAND...
  local what=$1 want=$2; shift 2
  if out=$(timeout 60 "$@" 2>&1); then
    echo "FAIL: $what: accepted"; failed=$((failed + 1))
  elif grep -qF -- "$want" <<<"$out"; then
    echo "ok: $what"; passed=$((passed + 1))
  else
    echo "FAIL: $what: refused without '$want'"; echo "$out" | sed 's/^/    /'; failed=$((failed + 1))
  fi
}

for values in "" "-f $chart/values-prod.yaml" "-f $chart/values-prod.yaml --set certificates.certManager.enabled=true" \
  "--set serviceMonitor.enabled=true --set prometheusRule.enabled=true --set grafanaDashboard.enabled=true" \
  "--set podMonitor.enabled=true --set apiPriorityAndFairness.enabled=false --set priorityClassName=" \
  "-f $chart/values-prod.yaml --set reports.enabled=true" \
  "--set reports.enabled=true --set reports.api=policyreport --set leaderElection.enabled=false --set replicas=1"; do
  # shellcheck disable=SC2086
  run "helm lint --strict ${values:-(defaults)}" "$helm" lint --strict "$chart" --namespace netpol-guard $values
  # shellcheck disable=SC2086
  run "helm template ${values:-(defaults)}" "$helm" template netpol-guard "$chart" --namespace netpol-guard $values
done
refused "mode=block is refused" "at '/mode': value must be one of 'enforce', 'audit'" \
  "$helm" template netpol-guard "$chart" --namespace netpol-guard --set mode=block
refused "timeoutSeconds=31 is refused" "at '/webhook/timeoutSeconds': maximum: got 31, want 30" \
  "$helm" template netpol-guard "$chart" --namespace netpol-guard --set webhook.timeoutSeconds=31
# The templates refuse them too, when the schema is skipped.
refused "mode=block is refused without the schema" "mode must be enforce or audit" \
  "$helm" template netpol-guard "$chart" --namespace netpol-guard --skip-schema-validation --set mode=block
refused "timeoutSeconds=31 is refused without the schema" "timeoutSeconds must be between 1 and 30" \
  "$helm" template netpol-guard "$chart" --namespace netpol-guard --skip-schema-validation --set webhook.timeoutSeconds=31
refused "no Secret and no cert-manager is refused" "certificates.existingSecret is required" \
  "$helm" template netpol-guard "$chart" --namespace netpol-guard --set certificates.existingSecret=

refused "both monitors are refused" "enable serviceMonitor or podMonitor, not both" \
  "$helm" template netpol-guard "$chart" --namespace netpol-guard --set serviceMonitor.enabled=true --set podMonitor.enabled=true

refused "reports.api=kyverno is refused" "at '/reports/api': value must be one of 'openreports', 'policyreport'" \
  "$helm" template netpol-guard "$chart" --namespace netpol-guard --set reports.enabled=true --set reports.api=kyverno
refused "reports.api=kyverno is refused without the schema" "reports.api must be openreports or policyreport" \
  "$helm" template netpol-guard "$chart" --namespace netpol-guard --skip-schema-validation \
  --set reports.enabled=true --set reports.api=kyverno
refused "schema: reports.interval=10 is refused" "at '/reports/interval': '10' does not match pattern" \
  "$helm" template netpol-guard "$chart" --namespace netpol-guard --set reports.enabled=true --set-string reports.interval=10
refused "reports without leader election from 3 replicas are refused" \
  "reports with leaderElection.enabled=false need replicas: 1" \
  "$helm" template netpol-guard "$chart" --namespace netpol-guard --set reports.enabled=true --set leaderElection.enabled=false

# values.schema.json: wrong types, unknown keys and an open metrics policy.
refused "schema: replicas=two is refused" "at '/replicas': got string, want integer" \
  "$helm" template netpol-guard "$chart" --namespace netpol-guard --set replicas=two
refused "schema: a misspelt key is refused" "additional properties 'replica' not allowed" \
  "$helm" template netpol-guard "$chart" --namespace netpol-guard --set replica=2
refused "schema: no metrics namespace is refused" \
  "at '/networkPolicies/metrics/namespace': '' does not match pattern" \
  "$helm" template netpol-guard "$chart" --namespace netpol-guard --set networkPolicies.metrics.namespace=
refused "schema: logLevel=verbose is refused" "at '/logLevel': value must be one of 'debug', 'info', 'warn', 'error'" \
  "$helm" template netpol-guard "$chart" --namespace netpol-guard --set logLevel=verbose
# system:masters may always loosen a namespace; listing it would suggest the
# list replaces the default.
refused "schema: exemptionGroups listing system:masters is refused" "at '/exemptionGroups/0': 'not' failed" \
  "$helm" template netpol-guard "$chart" --namespace netpol-guard --set-json 'exemptionGroups=["system:masters"]'
refused "exemptionGroups listing system:masters is refused without the schema" \
  "exemptionGroups must not list system:masters: it is always allowed" \
  "$helm" template netpol-guard "$chart" --namespace netpol-guard --skip-schema-validation \
  --set-json 'exemptionGroups=["ops","system:masters"]'
refused "schema: maxExemptionDuration=90d is refused" "at '/maxExemptionDuration': '90d' does not match pattern" \
  "$helm" template netpol-guard "$chart" --namespace netpol-guard --set maxExemptionDuration=90d
refused "helm lint --strict: replicas=two fails" "at '/replicas': got string, want integer" \
  "$helm" lint --strict "$chart" --namespace netpol-guard --set replicas=two

# The release namespace is exempt, so "default" is refused: explicitly, and
# when helm template is run without -n (no kubeconfig namespace either).
default_msg='netpol-guard must not be installed into the "default" namespace'
refused "-n default is refused" "$default_msg" \
  "$helm" template netpol-guard "$chart" --namespace default
refused "helm template without -n is refused" "$default_msg" \
  env -u HELM_NAMESPACE KUBECONFIG=/dev/null "$helm" template netpol-guard "$chart"
# (helm lint reports a template's fail only as [INFO]: its lint mode never fails on it.)

echo "helm-lint: $passed ok, $failed failing"
((failed == 0))
