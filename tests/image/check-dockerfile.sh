#!/usr/bin/env bash
# Docker does not run here, so this checks the Dockerfile by reading it:
#  - the build stage is Debian, installs packages with .ci/install-deps.sh (the
#    single package list the README and CI use) and runs exactly the README's
#    cmake configure and build commands;
#  - the README points at the same package list (or lists the same packages);
#  - the runtime stage is minimal (distroless or -slim), holds only what the
#    build stage's rootfs script collected, runs as a numeric non-root user and
#    carries the OCI labels.
#
#   tests/image/check-dockerfile.sh [SOURCE_DIR]
set -uo pipefail

src=${1:-$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)}
dockerfile=$src/Dockerfile readme=$src/README.md deps=$src/.ci/install-deps.sh
failures=0
fail() { echo "FAIL: $*"; failures=$((failures + 1)); }
pass() { echo "ok: $*"; }

for f in "$dockerfile" "$readme" "$deps"; do
  [[ -f $f ]] || { echo "FAIL: missing $f"; exit 1; }
done

# Dockerfile instructions one per line: continuations joined, comments dropped.
logical=$(sed -e 's/^[[:space:]]*#.*$//' "$dockerfile" | sed -e ':a' -e '/\\$/N; s/\\\n/ /; ta' | grep -v '^[[:space:]]*$')
stage_starts=$(grep -n -i '^FROM ' <<<"$logical" | cut -d: -f1)
[[ $(wc -l <<<"$stage_starts") -ge 2 ]] || fail "Dockerfile is not multi-stage"
last_from=$(tail -n1 <<<"$stage_starts")
build_stage=$(sed -n "1,$((last_from - 1))p" <<<"$logical")
runtime_stage=$(sed -n "${last_from},\$p" <<<"$logical")

# --- build stage --------------------------------------------------------------
grep -qiE '^FROM +debian:bookworm(@sha256:[0-9a-f]+)? +AS +build' <<<"$build_stage" \
  && pass "build stage is debian:bookworm" || fail "build stage is not 'FROM debian:bookworm AS build'"
grep -qE '^RUN .*\.ci/install-deps\.sh' <<<"$build_stage" \
  && pass "build stage installs packages with .ci/install-deps.sh" \
  || fail "build stage does not run .ci/install-deps.sh"
if grep -qiE '^RUN .*apt-get +install' <<<"$build_stage"; then
  fail "build stage installs packages outside .ci/install-deps.sh"
fi

# cmake commands: each cut at && ; | and normalised to single spaces.
cmake_commands() {
  grep -oE 'cmake +[^&;|`"]*' | sed -e 's/[[:space:]]\+/ /g' -e 's/ $//' | sort -u
}
docker_cmake=$(grep -E '^RUN ' <<<"$build_stage" | cmake_commands)
readme_cmake=$(cmake_commands < "$readme")
configure='cmake -S . -B build -G Ninja -DCMAKE_BUILD_TYPE=Release'
build='cmake --build build'
for c in "$configure" "$build"; do
  grep -qxF -- "$c" <<<"$readme_cmake" && pass "README runs: $c" || fail "README lacks: $c"
  grep -qxF -- "$c" <<<"$docker_cmake" && pass "Dockerfile runs: $c" || fail "Dockerfile lacks: $c"
done
while IFS= read -r c; do
  [[ -z $c ]] && continue
  grep -qxF -- "$c" <<<"$readme_cmake" || fail "Dockerfile runs a cmake command the README does not: $c"
done <<<"$docker_cmake"

# --- packages: README and Dockerfile share .ci/install-deps.sh ----------------
# The base package list: a bash array "packages=( ... )" or a literal
# "apt-get install ..." line.
deps_packages=$( (sed -n '/^[[:space:]]*packages=(/,/)/p' "$deps" | sed -e 's/#.*//' -e 's/packages=(//' -e 's/)//'
  sed -e 's/#.*//' "$deps" | sed -e ':a' -e '/\\$/N; s/\\\n/ /; ta' | grep -E 'apt-get( +-[^ ]+)* +install' \
    | sed -E 's/.*apt-get( +-[^ ]+)* +install//') | tr ' \t' '\n\n' | grep -E '^[a-z0-9][a-z0-9+.-]+$' | sort -u)
[[ -n $deps_packages ]] && pass ".ci/install-deps.sh installs $(wc -l <<<"$deps_packages") packages" \
  || fail "no 'apt-get install' package list found in .ci/install-deps.sh"
if grep -q '\.ci/install-deps\.sh' "$readme"; then
  pass "README installs packages with .ci/install-deps.sh"
else
  readme_packages=$(grep -E 'apt-get( +-[^ ]+)* +install' "$readme" | sed -E 's/.*apt-get( +-[^ ]+)* +install//' \
    | tr ' ' '\n' | grep -E '^[a-z0-9][a-z0-9+.-]+$' | sort -u)
  if [[ -n $readme_packages && $readme_packages == "$deps_packages" ]]; then
    pass "README lists the same packages as .ci/install-deps.sh"
  else
    fail "README neither runs .ci/install-deps.sh nor lists its packages: $(diff <(echo "$readme_packages") <(echo "$deps_packages") | tr '\n' ' ')"
  fi
fi

# --- runtime stage --------------------------------------------------------------
head -n1 <<<"$runtime_stage" | grep -qiE '^FROM +(gcr\.io/distroless/[a-z0-9-]+-debian12(:[a-z0-9.-]+)?|debian:bookworm-slim)(@sha256:[0-9a-f]+)?( |$)' \
  && pass "runtime base: $(head -n1 <<<"$runtime_stage" | cut -d' ' -f2)" \
  || fail "runtime stage is not distroless or debian:bookworm-slim"
grep -qE '^RUN ' <<<"$runtime_stage" && fail "runtime stage runs commands (it must only copy files in)"
while IFS= read -r line; do
  [[ $line =~ ^COPY\ +--from=build\ +/rootfs/\ +/$ ]] || fail "runtime stage copies something other than the build stage's /rootfs: $line"
done < <(grep -E '^(COPY|ADD) ' <<<"$runtime_stage")
grep -qE '^RUN .*tests/image/build-rootfs\.sh +build/netpol-guard +/rootfs' <<<"$build_stage" \
  && pass "build stage collects the runtime files with tests/image/build-rootfs.sh" \
  || fail "build stage does not run tests/image/build-rootfs.sh build/netpol-guard /rootfs"
user=$(grep -E '^USER ' <<<"$runtime_stage" | tail -n1 | awk '{print $2}')
if [[ $user =~ ^([0-9]+)(:([0-9]+))?$ && ${BASH_REMATCH[1]} != 0 ]]; then
  pass "runs as numeric non-root user $user"
else
  fail "USER is not a numeric non-root uid: '${user}'"
fi
grep -qE '^ENTRYPOINT \["/netpol-guard"\]' <<<"$runtime_stage" && pass 'ENTRYPOINT ["/netpol-guard"]' || fail 'ENTRYPOINT is not ["/netpol-guard"]'
grep -qE '^CMD \["serve"\]' <<<"$runtime_stage" && pass 'CMD ["serve"]' || fail 'CMD is not ["serve"]'
for label in title description source licenses version; do
  grep -qE "^LABEL .*org\.opencontainers\.image\.$label=" <<<"$runtime_stage" \
    && pass "label org.opencontainers.image.$label" || fail "missing label org.opencontainers.image.$label"
done

if (( failures > 0 )); then
  echo "check-dockerfile: $failures problem(s)"
  exit 1
fi
echo "check-dockerfile: the Dockerfile matches the README and .ci/install-deps.sh"
