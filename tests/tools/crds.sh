#!/usr/bin/env bash
# Prints the directory of the monitoring.coreos.com CRDs (ServiceMonitor,
# PodMonitor, PrometheusRule, ...) shipped in the prometheus-operator Go
# module, downloading the module through the Go module proxy when needed.
#
#   tests/tools/crds.sh     -> .../prometheus-operator@vX/example/prometheus-operator-crd
set -euo pipefail
version=${PROMETHEUS_OPERATOR_VERSION:-v0.85.0}
dir=$(cd /tmp && GOFLAGS=-mod=mod GOTOOLCHAIN=${GOTOOLCHAIN:-local} timeout 600 \
  go mod download -json "github.com/prometheus-operator/prometheus-operator@$version" |
  python3 -c 'import json, sys; d = json.load(sys.stdin); print(d.get("Dir") or sys.exit(d.get("Error", "no Dir")))')
crds=$dir/example/prometheus-operator-crd
[[ -f $crds/monitoring.coreos.com_prometheusrules.yaml ]] || { echo "crds: no CRDs in $crds" >&2; exit 1; }
echo "$crds"
