#!/usr/bin/env bash
# README command 1: install the build dependencies, build netpol-guard, and run
# it locally on the embedded default: development certificates (certs/) and the
# example namespaces and policies (manifests/examples/).
set -euo pipefail
cd "$(dirname "$0")"

.ci/install-deps.sh
cmake -S . -B build -G Ninja -DCMAKE_BUILD_TYPE=Release
cmake --build build
certs/gen-dev-certs.sh build/dev-certs >/dev/null

listen=${LISTEN:-127.0.0.1:8443}
health=${HEALTH_LISTEN:-127.0.0.1:8080}
cat <<MSG

netpol-guard is starting on https://${listen}/validate (health: http://${health}).
Example state: team-a is compliant, team-b has ingress only, team-c has nothing.
From another terminal:

  curl -s --cacert build/dev-certs/ca.crt -H 'Content-Type: application/json' \\
       --data @tests/fixtures/admission/pod-create.json https://${listen/127.0.0.1/localhost}/validate
  build/netpol-guard check manifests/examples
  curl -s http://${health}/metrics | grep netpol_guard_

Stop it with Ctrl-C.

MSG
exec build/netpol-guard serve --listen "$listen" --health-listen "$health" \
  --tls-cert-file build/dev-certs/tls.crt --tls-private-key-file build/dev-certs/tls.key \
  --policies manifests/examples "$@"
