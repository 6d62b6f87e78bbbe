#!/usr/bin/env bash
# Builds the container's runtime filesystem without Docker: the binary plus
# every shared library ldd lists for it, the dynamic loader included, each at
# the path ldd printed (the paths the loader searches). The Dockerfile's
# runtime stage is exactly this folder on top of a base that holds no libraries.
#
#   tests/image/build-rootfs.sh BINARY OUTDIR
#
# Then, as root:  chroot OUTDIR /netpol-guard version
# or, as anyone:  OUTDIR/lib64/ld-linux-x86-64.so.2 --library-path <OUTDIR's lib dirs> OUTDIR/netpol-guard version
set -euo pipefail

binary=${1:?usage: build-rootfs.sh BINARY OUTDIR}
out=${2:?usage: build-rootfs.sh BINARY OUTDIR}
[[ -x $binary ]] || { echo "build-rootfs: $binary is not an executable file" >&2; exit 2; }

mkdir -p "$out"
install -m 0755 "$binary" "$out/netpol-guard"

# Lines look like "libssl.so.3 => /lib/x86_64-linux-gnu/libssl.so.3 (0x...)",
# "/lib64/ld-linux-x86-64.so.2 (0x...)" or "linux-vdso.so.1 (0x...)" (kernel
# provided, no file).
listing=$(ldd "$binary")
if grep -q 'not found' <<<"$listing"; then
  echo "build-rootfs: unresolved libraries:" >&2
  grep 'not found' <<<"$listing" >&2
  exit 1
fi
count=0
while read -r path; do
  mkdir -p "$out$(dirname "$path")"
  # -L: copy the file a soname symlink points to, under the soname.
  cp -L "$path" "$out$path"
  count=$((count + 1))
done < <(awk '$2 == "=>" && $3 ~ /^\// { print $3; next } $1 ~ /^\// { print $1 }' <<<"$listing" | sort -u)

(( count > 0 )) || { echo "build-rootfs: ldd listed no libraries for $binary (static binary?)" >&2; exit 1; }
echo "build-rootfs: $out holds netpol-guard and $count shared objects ($(du -sh "$out" | cut -f1))"
