# shellcheck shell=bash disable=SC2154
# Shared by the e2e scripts of tests/manifests (sourced, not run).
# Each script gets its own control plane (tests/e2e/local-cluster) in its own
# temporary directory, so the scripts can run in parallel with anything else;
# everything started is stopped by PID on exit.
#
# Needs: $src (source dir). Provides: $work, $cluster, $kubectl, kc, ok, bad,
# finish, e2e_up, and start_bg/stop_bg for background processes.

lc=$src/tests/e2e/local-cluster
work=$(mktemp -d "${TMPDIR:-/tmp}/netpol-guard-manifests.XXXXXX")
cluster=$work/cluster
passed=0 failed=0
bg_pids=()

say() { printf '[%s %s] %s\n' "${0##*/}" "$(date +%H:%M:%S)" "$*" >&2; }
ok() { echo "PASS: $*"; passed=$((passed + 1)); }
bad() { echo "FAIL: $*"; failed=$((failed + 1)); }

stop_bg() { # PID: TERM, then KILL after 10 s
  local pid=$1 i
  kill -0 "$pid" 2>/dev/null || { wait "$pid" 2>/dev/null || true; return 0; }
  kill -TERM "$pid" 2>/dev/null || true
  for ((i = 0; i < 100; i++)); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
  kill -KILL "$pid" 2>/dev/null || true
  wait "$pid" 2>/dev/null || true
}

e2e_cleanup() {
  local rc=$? pid
  set +e
  for pid in "${bg_pids[@]}"; do stop_bg "$pid"; done
  "$lc" down "$cluster" >/dev/null 2>&1
  if ((rc != 0 || failed > 0)) || [[ ${KEEP_WORKDIR:-0} == 1 ]]; then
    echo "logs kept in $work" >&2
  else
    rm -rf "$work"
  fi
}
trap e2e_cleanup EXIT
trap 'exit 130' INT TERM

e2e_up() {
  local bindir
  bindir=$("$lc" bin-dir)
  kubectl=$bindir/kubectl
  [[ -x $kubectl ]] || { echo "FAIL: setup: no kubectl in $bindir (local-cluster build)"; exit 1; }
  say "starting a control plane in $cluster"
  "$lc" up "$cluster" >"$work/local-cluster.log" 2>&1 \
    || { cat "$work/local-cluster.log" >&2; echo "FAIL: setup: local-cluster up"; exit 1; }
  export KUBECONFIG=$cluster/kubeconfig
}

kc() { timeout 60 "$kubectl" --kubeconfig "$cluster/kubeconfig" --request-timeout=30s "$@"; }

finish() {
  echo "${0##*/}: $passed passed, $failed failed"
  ((failed == 0))
}
