#!/usr/bin/env bash
# Runs every libFuzzer target for a fixed time on a copy of its seed corpus and
# prints the executions per target.
#   tests/fuzz/run-smoke.sh BUILD_DIR [SECONDS]
# BUILD_DIR is a build configured with clang and -DNETPOL_GUARD_FUZZ=ON. A crash,
# leak, timeout or out-of-memory fails the run; the input is kept under
# BUILD_DIR/fuzz-artifacts/<target>/ for minimizing (-minimize_crash=1).
set -euo pipefail

build=${1:?usage: run-smoke.sh BUILD_DIR [SECONDS]}
seconds=${2:-30}
here=$(cd "$(dirname "$0")" && pwd)
targets=(codec decoder_diff manifest watch_stream kubeconfig)
# Seeds (under corpus/ and regressions/, or from the repository root) and
# dictionary per target, when not its own.
declare -A seeds=([decoder_diff]="codec tests/fixtures/admission tests/hostile/bodies")
declare -A dicts=([decoder_diff]=codec)
root=$(cd "$here/../.." && pwd)

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

status=0
summary=""
for t in "${targets[@]}"; do
  bin="$build/fuzz/${t}_fuzz"
  if [[ ! -x "$bin" ]]; then
    echo "missing $bin (build with -DNETPOL_GUARD_FUZZ=ON and clang)" >&2
    exit 2
  fi
  corpus="$work/$t"
  mkdir -p "$corpus"
  for s in ${seeds[$t]:-$t}; do
    if [[ -d "$here/corpus/$s" ]]; then
      cp "$here/corpus/$s/"* "$corpus/"
      if [[ -d "$here/regressions/$s" ]]; then cp "$here/regressions/$s/"* "$corpus/"; fi
    else
      cp "$root/$s/"* "$corpus/"
    fi
  done
  if [[ -d "$here/regressions/$t" ]]; then cp "$here/regressions/$t/"* "$corpus/"; fi
  artifacts="$build/fuzz-artifacts/$t"
  mkdir -p "$artifacts"
  dict=()
  d=${dicts[$t]:-$t}
  if [[ -f "$here/dict/$d.dict" ]]; then dict=(-dict="$here/dict/$d.dict"); fi
  log="$work/$t.log"
  echo "== $t: ${seconds}s"
  rc=0
  "$bin" "$corpus" "${dict[@]}" -max_total_time="$seconds" -rss_limit_mb=2048 -timeout=10 \
    -print_final_stats=1 -artifact_prefix="$artifacts/" >"$log" 2>&1 || rc=$?
  execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -n 1)
  if [[ $rc -ne 0 ]]; then
    status=1
    tail -n 40 "$log" >&2
    echo "$t: FAILED (exit $rc); inputs in $artifacts" >&2
  fi
  if [[ $rc -ne 0 ]]; then
    summary+=$(printf '%-14s %12s executions, then FAILED' "$t" "${execs:-?}")$'\n'
  else
    summary+=$(printf '%-14s %12s executions in %ss' "$t" "${execs:-?}" "$seconds")$'\n'
  fi
done
echo "fuzz smoke:"
printf '%s' "$summary"
exit $status
