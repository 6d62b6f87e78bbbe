#!/usr/bin/env bash
# README command 2: install the dependencies, build, and run every test through
# ctest: unit, integration (real binary, real TLS), manifests, and end-to-end
# (a real kube-apiserver, etcd and controller-manager built from the Kubernetes
# Go modules; the first build takes a while, later runs reuse it).
set -euo pipefail
cd "$(dirname "$0")"

.ci/install-deps.sh
cmake -S . -B build -G Ninja -DCMAKE_BUILD_TYPE=Release
cmake --build build
cd build
ctest --output-on-failure --timeout 5400 "$@"
