#!/usr/bin/env bash
# Prints the directory that holds the test tools of tests/tools/go.mod, built
# from their Go modules (through the Go module proxy) when missing or stale:
#   promtool      github.com/prometheus/prometheus/cmd/promtool (the go.mod's version)
#   promql-names  tests/tools/promql-names (Prometheus' PromQL parser)
# The build is keyed by a hash of go.mod, go.sum and the sources, so a version
# bump rebuilds. The first build takes a few minutes.
#
#   tests/tools/ensure-tools.sh          -> .../netpol-guard/tools/prom/<hash>/bin
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
tools=${NETPOL_GUARD_TOOLS:-${XDG_CACHE_HOME:-$HOME/.cache}/netpol-guard/tools}
key=$(cat "$here/go.mod" "$here/go.sum" "$here"/promql-names/*.go | sha256sum | cut -c1-16)
bin=$tools/prom/$key/bin

built() { [[ -x $bin/promtool && -x $bin/promql-names ]]; }
if ! built; then
  command -v go >/dev/null || { echo "ensure-tools: go is not installed; cannot build promtool" >&2; exit 1; }
  mkdir -p "$tools"
  exec 9>"$tools/prom.lock"
  flock -w 1800 9 || { echo "ensure-tools: timed out waiting for another build" >&2; exit 1; }
  if ! built; then
    echo "ensure-tools: building promtool and promql-names into $bin (a few minutes the first time)" >&2
    start=$SECONDS
    mkdir -p "$bin.tmp"
    (
      cd "$here"
      export GOFLAGS=${GOFLAGS:--buildvcs=false} GOTOOLCHAIN=${GOTOOLCHAIN:-local}
      timeout 1700 go build -mod=readonly -o "$bin.tmp/promtool" github.com/prometheus/prometheus/cmd/promtool
      timeout 600 go build -mod=readonly -o "$bin.tmp/promql-names" ./promql-names
    ) >&2
    rm -rf "$bin" && mv "$bin.tmp" "$bin"
    echo "ensure-tools: built in $((SECONDS - start)) s" >&2
  fi
fi
echo "$bin"
