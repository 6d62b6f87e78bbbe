#!/usr/bin/env bash
# Differential test: `netpol-guard check` on generated manifest files against
# what the built kubectl applies to a real apiserver and what `audit` reads
# back (tests/e2e/manifest_fidelity.py). Fixed seeds; bounded by
# FIDELITY_DEADLINE seconds per seed (default 100) and the ctest TIMEOUT.
#   run-manifest-fidelity.sh NETPOL_GUARD_BINARY SOURCE_DIR [SEED...]
set -euo pipefail
# shellcheck source=tests/e2e/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

seeds=("${@:3}")
((${#seeds[@]})) || seeds=(1801 1802)
count=${FIDELITY_COUNT:-45}
export FIDELITY_DEADLINE=${FIDELITY_DEADLINE:-100}
for seed in "${seeds[@]}"; do
  say "seed $seed: $count files"
  if python3 "$src/tests/e2e/manifest_fidelity.py" "$ng_bin" "$kubectl_bin" "$cluster/kubeconfig" \
    "$work/fidelity-$seed" "$seed" "$count"; then
    pass "check agrees with kubectl, the apiserver and audit (seed $seed)"
  else
    fail "check disagrees with kubectl, the apiserver or audit (seed $seed)"
  fi
done
echo "$passed passed, $failed failed"
((failed == 0))
