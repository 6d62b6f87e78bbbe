#!/usr/bin/env bash
# `kubectl apply --dry-run=server --validate=strict` of every rendering
# (kustomize base and overlays, the policies, install.yaml, the Helm chart with
# each values set) against a real kube-apiserver: schema, defaulting and
# validation (webhook rules, matchConditions CEL, Pod security fields, PDB, RBAC)
# all run server-side without persisting anything.
# cert-manager's kinds are left out: its CRDs are not installed here.
#
#   tests/manifests/e2e-dry-run.sh SOURCE_DIR
set -euo pipefail
src=$(cd "${1:?usage: e2e-dry-run.sh SOURCE_DIR}" && pwd)
. "$src/tests/manifests/lib-e2e.sh"

helm=$("$src/tests/manifests/ensure-helm.sh")
"$src/tests/manifests/render-all.sh" "$src" "$work/render" "$helm" >/dev/null
e2e_up
# Namespaced objects can only be dry-run into a namespace that exists.
kc create namespace netpol-guard >/dev/null

for f in "$work"/render/*.yaml; do
  name=${f##*/}
  python3 - "$f" "$work/dry-$name" <<'PY'
import sys, yaml
docs = [d for d in yaml.safe_load_all(open(sys.argv[1])) if d]
keep = [d for d in docs if not d["apiVersion"].startswith("cert-manager.io/")]
yaml.safe_dump_all(keep, open(sys.argv[2], "w"), sort_keys=False)
print(f"{len(docs) - len(keep)} cert-manager object(s) left out", file=sys.stderr) if len(keep) != len(docs) else None
PY
  if out=$(kc apply --dry-run=server --validate=strict -f "$work/dry-$name" 2>&1); then
    ok "$name: $(grep -c 'server dry run' <<<"$out") objects accepted (dry-run=server)"
  else
    bad "$name"; sed 's/^/    /' <<<"$out"
  fi
done
finish
