#!/usr/bin/env bash
# manifests/install.yaml must be what manifests/render-install.sh makes from
# the kustomize tree today. Compared object by object, so a newer kustomize's
# formatting does not matter; a changed object does.
#
#   tests/manifests/check-install-yaml.sh SOURCE_DIR
set -euo pipefail
src=${1:?usage: check-install-yaml.sh SOURCE_DIR}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
"$src/manifests/render-install.sh" "$tmp/install.yaml" >/dev/null
python3 - "$src/manifests/install.yaml" "$tmp/install.yaml" <<'PY'
import sys, yaml
committed, fresh = ([d for d in yaml.safe_load_all(open(p)) if d] for p in sys.argv[1:3])
key = lambda d: (d["kind"], d["metadata"].get("namespace", ""), d["metadata"]["name"])
a, b = {key(d): d for d in committed}, {key(d): d for d in fresh}
stale = sorted(k for k in set(a) | set(b) if a.get(k) != b.get(k))
for k in stale:
    print(f"differs: {k[0]} {k[1]}/{k[2]}" if k in a and k in b else f"{'only committed' if k in a else 'missing'}: {k[0]} {k[1]}/{k[2]}")
if stale:
    print("manifests/install.yaml is stale: run manifests/render-install.sh")
    sys.exit(1)
print(f"manifests/install.yaml is up to date ({len(a)} objects)")
PY
