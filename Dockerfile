# netpol-guard container image.
#
#   docker build -t ghcr.io/k8s-security-pro/netpol-guard:0.1.0 --build-arg VERSION=0.1.0 .
#
# The build stage installs the same Debian packages (.ci/install-deps.sh) and
# runs the same cmake commands as the README; tests/image/check-dockerfile.sh
# keeps them in step. The runtime stage holds only the binary, the shared
# libraries it links (collected by tests/image/build-rootfs.sh, the script the
# tests run to show the binary works from that folder alone) and the CA
# certificates of the distroless base.

FROM debian:bookworm AS build
WORKDIR /src
COPY .ci/install-deps.sh .ci/install-deps.sh
RUN bash .ci/install-deps.sh
COPY . .
RUN cmake -S . -B build -G Ninja -DCMAKE_BUILD_TYPE=Release \
 && cmake --build build
RUN tests/image/build-rootfs.sh build/netpol-guard /rootfs \
 && chroot /rootfs /netpol-guard version

# distroless "static": no shell, no package manager, no libc of its own; just
# /etc/passwd (user nonroot, 65532), ca-certificates and tzdata.
FROM gcr.io/distroless/static-debian12:nonroot
ARG VERSION=0.1.0
LABEL org.opencontainers.image.title="netpol-guard" \
      org.opencontainers.image.description="Validating admission webhook enforcing a deny-all ingress and egress NetworkPolicy in every namespace (CIS Kubernetes Benchmark 5.3.2)" \
      org.opencontainers.image.source="https://github.com/k8s-security-pro/netpol-guard" \
      org.opencontainers.image.vendor="k8s-security-pro" \
      org.opencontainers.image.licenses="Apache-2.0" \
      org.opencontainers.image.version="${VERSION}"
COPY --from=build /rootfs/ /
# The base has no /usr/lib/ssl: point OpenSSL at the bundle it does have.
ENV SSL_CERT_FILE=/etc/ssl/certs/ca-certificates.crt
USER 65532:65532
EXPOSE 8443 8080
ENTRYPOINT ["/netpol-guard"]
CMD ["serve"]
