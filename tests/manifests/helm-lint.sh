#!/usr/bin/env bash
# helm lint --strict and helm template of the chart with its default values,
# values-prod.yaml and the cert-manager option; and the values the chart must
# refuse (a mode other than enforce/audit, a timeout out of 1..30).
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

for values in "" "-f $chart/values-prod.yaml" "-f $chart/values-prod.yaml --set certificates.certManager.enabled=true"; do
  # shellcheck disable=SC2086
  run "helm lint --strict ${values:-(defaults)}" "$helm" lint --strict "$chart" --namespace netpol-guard $values
  # shellcheck disable=SC2086
  run "helm template ${values:-(defaults)}" "$helm" template netpol-guard "$chart" --namespace netpol-guard $values
done
refused "mode=block is refused" "mode must be enforce or audit" \
  "$helm" template netpol-guard "$chart" --namespace netpol-guard --set mode=block
refused "timeoutSeconds=31 is refused" "timeoutSeconds must be between 1 and 30" \
  "$helm" template netpol-guard "$chart" --namespace netpol-guard --set webhook.timeoutSeconds=31
refused "no Secret and no cert-manager is refused" "certificates.existingSecret is required" \
  "$helm" template netpol-guard "$chart" --namespace netpol-guard --set certificates.existingSecret=

echo "helm-lint: $passed ok, $failed failing"
((failed == 0))
