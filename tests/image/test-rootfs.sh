#!/usr/bin/env bash
# Shows that the folder tests/image/build-rootfs.sh makes, which is what the
# container's runtime stage holds, is enough to run netpol-guard: `version`
# and a TLS `serve` run with that folder as the root directory (chroot, as the
# image's user 65532), with nothing from the host's /lib or /usr. Without root
# it falls back to the folder's own dynamic loader and libraries.
#
#   tests/image/test-rootfs.sh NETPOL_GUARD_BINARY SOURCE_DIR
set -euo pipefail
bin=$(readlink -f "${1:?usage: test-rootfs.sh BINARY SOURCE_DIR}")
src=$(cd "${2:?usage: test-rootfs.sh BINARY SOURCE_DIR}" && pwd)
work=$(mktemp -d "${TMPDIR:-/tmp}/netpol-guard-rootfs.XXXXXX")
pid=""
cleanup() {
  if [[ -n $pid ]] && kill -0 "$pid" 2>/dev/null; then
    kill -TERM "$pid" 2>/dev/null || true
    for ((i = 0; i < 100; i++)); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
    kill -KILL "$pid" 2>/dev/null || true
  fi
  rm -rf "$work"
}
trap cleanup EXIT
passed=0 failed=0
ok() { echo "PASS: $*"; passed=$((passed + 1)); }
bad() { echo "FAIL: $*"; failed=$((failed + 1)); }

root=$work/rootfs
"$src/tests/image/build-rootfs.sh" "$bin" "$root"

# Only the binary and shared objects.
others=$(cd "$root" && find . -type f ! -name netpol-guard ! -name '*.so*' | sort)
[[ -z $others ]] && ok "rootfs holds only netpol-guard and shared objects ($(cd "$root" && find . -type f | wc -l) files)" \
  || bad "rootfs holds other files: $others"
[[ -z $(find "$root" -type l) ]] && ok "rootfs has no symlinks (COPY onto any base is safe)" || bad "rootfs has symlinks"

use_chroot=0
if [[ $(id -u) == 0 ]] && command -v chroot >/dev/null && chroot "$root" /netpol-guard version >/dev/null 2>&1; then
  use_chroot=1
fi
libpath=$(cd "$root" && find . -name '*.so*' -printf '%h\n' | sort -u | sed "s|^\.|$root|" | paste -sd:)
in_root() { # SECONDS ARGS...: run netpol-guard from the rootfs alone, bounded in time
  local limit=$1; shift
  if ((use_chroot)); then
    timeout "$limit" chroot --userspec=65532:65532 "$root" /netpol-guard "$@"
  else
    timeout "$limit" env -i "$root/lib64/ld-linux-x86-64.so.2" --inhibit-cache --library-path "$libpath" "$root/netpol-guard" "$@"
  fi
}
how=$( ((use_chroot)) && echo "chroot as 65532:65532" || echo "its own ld.so --library-path")

if out=$(in_root 10 version 2>&1); then
  ok "netpol-guard version from the rootfs alone ($how): $out"
else
  bad "netpol-guard version from the rootfs ($how): $out"
fi

# serve over TLS from the rootfs: OpenSSL, libstdc++ and yaml-cpp from the folder.
mkdir -p "$root/run/certs" "$root/run/policies"
"$src/certs/gen-dev-certs.sh" "$root/run/certs" >/dev/null
cp "$src/manifests/policies/default-deny-all.yaml" "$root/run/policies/"
chmod -R a+rX "$root/run"
chmod a+r "$root/run/certs/tls.key"
if ((use_chroot)); then dir=/run; else dir=$root/run; fi
in_root 120 serve --listen=127.0.0.1:0 --health-listen=127.0.0.1:0 \
  --tls-cert-file="$dir/certs/tls.crt" --tls-private-key-file="$dir/certs/tls.key" \
  --policies="$dir/policies" </dev/null >"$work/serve.log" 2>&1 &
pid=$!
line=""
for ((i = 0; i < 100; i++)); do
  line=$(grep -m1 '"msg":"listening"' "$work/serve.log" || true)
  [[ -n $line ]] && break
  kill -0 "$pid" 2>/dev/null || break
  sleep 0.1
done
if [[ -n $line ]]; then
  listen=$(sed -E 's/.*"listen":"([^"]+)".*/\1/' <<<"$line")
  health=$(sed -E 's/.*"health_listen":"([^"]+)".*/\1/' <<<"$line")
  review='{"apiVersion":"admission.k8s.io/v1","kind":"AdmissionReview","request":{"uid":"rootfs-1","kind":{"group":"","version":"v1","kind":"Pod"},"resource":{"group":"","version":"v1","resource":"pods"},"namespace":"default","operation":"CREATE","userInfo":{"username":"test"},"object":{"apiVersion":"v1","kind":"Pod","metadata":{"name":"p","namespace":"default"},"spec":{"containers":[{"name":"c","image":"x"}]}},"oldObject":null,"dryRun":false}}'
  for ns in default unprotected; do
    if out=$(curl -fsS --max-time 5 --cacert "$root/run/certs/ca.crt" -H 'Content-Type: application/json' \
          --data "${review//default/$ns}" "https://$listen/validate?timeout=3s") && grep -q '"uid":"rootfs-1"' <<<"$out"; then
      ok "serve from the rootfs answers an AdmissionReview over TLS for a Pod in $ns: $(grep -o '"allowed":[a-z]*' <<<"$out")"
    else
      bad "serve from the rootfs: no AdmissionReview answer over TLS for namespace $ns: $out"
    fi
  done
  curl -fsS --max-time 5 "http://$health/healthz" >/dev/null && ok "serve from the rootfs: /healthz" || bad "/healthz"
else
  bad "serve from the rootfs did not start: $(tail -n 5 "$work/serve.log")"
fi
echo "test-rootfs: $passed passed, $failed failed"
((failed == 0))
