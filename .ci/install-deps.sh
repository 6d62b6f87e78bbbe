#!/usr/bin/env bash
# The one list of Debian packages netpol-guard builds and tests with. Used by the
# README's commands, the Dockerfile's build stage and CI.
#   .ci/install-deps.sh          build and unit/integration test packages
#   .ci/install-deps.sh --extra  also what the sanitizer, fuzz, TLS-scan and benchmark stages use
set -euo pipefail

packages=(
  build-essential cmake ninja-build pkg-config
  libboost1.81-dev libssl-dev nlohmann-json3-dev libsimdjson-dev libyaml-dev libyaml-cpp-dev catch2
  openssl curl ca-certificates python3 python3-yaml python3-venv
)
if [[ "${1:-}" == "--extra" ]]; then
  packages+=(clang clang-format-14 libclang-rt-14-dev llvm wrk nginx-light sslscan)
fi

missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if ((${#missing[@]} == 0)); then
  exit 0
fi
sudo=""
if [[ $(id -u) -ne 0 ]]; then sudo="sudo"; fi
echo "installing: ${missing[*]}"
$sudo apt-get update -qq
DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
