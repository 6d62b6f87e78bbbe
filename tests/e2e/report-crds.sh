#!/usr/bin/env bash
# Prints the path of a report CRD as its project ships it in its Go module,
# downloading the module through the Go module proxy when needed (pinned
# versions, nothing vendored here):
#
#   tests/e2e/report-crds.sh openreports    -> .../reports-api@v0.2.1/config/crd/openreports.io_reports.yaml
#   tests/e2e/report-crds.sh policyreport   -> .../kyverno@v1.19.1/config/crds/policyreport/wgpolicyk8s.io_policyreports.yaml
#
# openreports.io/v1alpha1 Report: github.com/openreports/reports-api, the
# standard's own module (about 0.1 MB). wgpolicyk8s.io/v1alpha2 PolicyReport:
# github.com/kyverno/kyverno, which ships it in config/crds/policyreport/; the
# module is a 10.5 MB zip (77 MB unpacked), downloaded in about 3 s here and
# then cached. sigs.k8s.io/wg-policy-prototypes, the working group's own
# repository, is not served by the module proxy.
#
# Environment: OPENREPORTS_VERSION, KYVERNO_VERSION override the pins.
set -euo pipefail

openreports_version=${OPENREPORTS_VERSION:-v0.2.1}
kyverno_version=${KYVERNO_VERSION:-v1.19.1}

module_dir() { # MODULE@VERSION: the module's directory in the module cache
  # -mod=mod and a neutral directory: no go.mod of ours is read or changed.
  (cd /tmp && GOFLAGS=-mod=mod GOTOOLCHAIN=${GOTOOLCHAIN:-local} timeout 300 go mod download -json "$1") |
    python3 -c 'import json, sys; d = json.load(sys.stdin); print(d.get("Dir") or sys.exit(d.get("Error", "no Dir")))'
}

case ${1:-} in
  openreports)
    crd=$(module_dir "github.com/openreports/reports-api@$openreports_version")/config/crd/openreports.io_reports.yaml ;;
  policyreport)
    crd=$(module_dir "github.com/kyverno/kyverno@$kyverno_version")/config/crds/policyreport/wgpolicyk8s.io_policyreports.yaml ;;
  *)
    echo "usage: report-crds.sh openreports|policyreport" >&2
    exit 2 ;;
esac
[[ -f $crd ]] || { echo "report-crds: no CRD at $crd" >&2; exit 1; }
echo "$crd"
