#!/usr/bin/env bash
# Prints the path of a helm binary for the chart tests, building it from its Go
# module (helm.sh/helm/v3, through the Go module proxy) when the cached one is
# missing or another version. Helm is not a Debian package.
#
#   tests/manifests/ensure-helm.sh          -> .../netpol-guard/tools/bin/helm
set -euo pipefail

version=${HELM_VERSION:-v3.22.0}
tools=${NETPOL_GUARD_TOOLS:-${XDG_CACHE_HOME:-$HOME/.cache}/netpol-guard/tools}
helm=$tools/bin/helm

# The module version recorded in the binary (helm's own "version" prints only
# major.minor when built with go install).
current() { [[ -x $helm ]] && go version -m "$helm" 2>/dev/null | awk '$1 == "mod" && $2 == "helm.sh/helm/v3" { print $3 }'; }

if [[ $(current) != "$version" ]]; then
  command -v go >/dev/null || { echo "ensure-helm: go is not installed; cannot build helm $version" >&2; exit 1; }
  mkdir -p "$tools/bin"
  exec 9>"$tools/helm.lock"
  flock -w 1800 9 || { echo "ensure-helm: timed out waiting for another helm build" >&2; exit 1; }
  if [[ $(current) != "$version" ]]; then
    echo "ensure-helm: building helm $version into $tools/bin (a few minutes the first time)" >&2
    GOBIN=$tools/bin GOFLAGS=${GOFLAGS:--buildvcs=false} GOTOOLCHAIN=${GOTOOLCHAIN:-local} \
      timeout 1700 go install "helm.sh/helm/v3/cmd/helm@$version" >&2
  fi
  [[ $(current) == "$version" ]] || { echo "ensure-helm: $helm is not helm $version after the build" >&2; exit 1; }
fi
echo "$helm"
