// Test tools for tests/manifests, built from their Go modules into
// ~/.cache/netpol-guard/tools by tests/tools/ensure-tools.sh. Not part of the
// product.
module github.com/k8s-security-pro/netpol-guard/tests/tools

go 1.26.7

tool github.com/prometheus/prometheus/cmd/promtool

require github.com/prometheus/prometheus v0.316.0
