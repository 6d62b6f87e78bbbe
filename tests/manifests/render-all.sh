#!/usr/bin/env bash
# Renders every way of installing netpol-guard into OUT_DIR, one file each:
#   kustomize-{policies,base,dev,prod,prod-cert-manager,prod-monitoring,
#             prod-reports,prod-policyreport}.yaml                          (kubectl kustomize)
#   helm-{default,prod,cert-manager,minimal,monitoring,podmonitor,
#        reports,policyreport}.yaml                                          (helm template)
#   install.yaml                                                (the committed single file)
#
#   tests/manifests/render-all.sh SOURCE_DIR OUT_DIR [HELM]
# KUBECTL selects the kubectl whose built-in kustomize renders (default: kubectl).
set -euo pipefail

src=${1:?usage: render-all.sh SOURCE_DIR OUT_DIR [HELM]}
out=${2:?usage: render-all.sh SOURCE_DIR OUT_DIR [HELM]}
helm=${3:-}
kubectl=${KUBECTL:-kubectl}
m=$src/manifests
chart=$m/charts/netpol-guard
mkdir -p "$out"

for k in policies base overlays/dev overlays/prod overlays/prod-cert-manager overlays/prod-monitoring \
  overlays/prod-reports overlays/prod-policyreport; do
  name=kustomize-$(basename "$k").yaml
  timeout 60 "$kubectl" kustomize "$m/$k" > "$out/$name"
  echo "rendered $name"
done
cp "$m/install.yaml" "$out/install.yaml"

if [[ -n $helm ]]; then
  ht() { local name=$1; shift; timeout 60 "$helm" template netpol-guard "$chart" --namespace netpol-guard "$@" > "$out/$name"; echo "rendered $name"; }
  ht helm-default.yaml
  ht helm-prod.yaml -f "$chart/values-prod.yaml"
  ht helm-cert-manager.yaml -f "$chart/values-prod.yaml" --set certificates.certManager.enabled=true
  # Everything optional switched off, a caBundle brought in, the rollout's
  # governance and allow-all values set.
  ht helm-minimal.yaml --set mode=enforce --set replicas=2 --set protectBaseline=false \
    --set checkWorkloads=false --set networkPolicies.enabled=false --set podDisruptionBudget.enabled=false \
    --set certificates.existingSecret=my-tls --set certificates.caBundle=Q0EK \
    --set 'exemptNamespaces={kube-system,kube-public,kube-node-lease,monitoring}' \
    --set priorityClassName= --set apiPriorityAndFairness.enabled=false \
    --set affinity=null --set topologySpreadConstraints=null \
    --set-json 'exemptionGroups=["platform-admins","sre"]' \
    --set-json 'exemptionUsers=["system:serviceaccount:argocd:argocd-application-controller"]' \
    --set maxExemptionDuration=720h --set denyAllowAll=true
  # The monitoring kit: ServiceMonitor, alerts, dashboard.
  ht helm-monitoring.yaml -f "$chart/values-prod.yaml" --set serviceMonitor.enabled=true \
    --set prometheusRule.enabled=true --set grafanaDashboard.enabled=true \
    --set serviceMonitor.labels.release=kube-prometheus-stack
  # A PodMonitor instead, another monitoring namespace, probe CIDRs, and the
  # scheduling values set.
  ht helm-podmonitor.yaml --set podMonitor.enabled=true \
    --set-json 'networkPolicies.metrics.namespaceSelector={"matchLabels":{"team":"observability"}}' \
    --set-json 'networkPolicies.metrics.podSelector={"matchLabels":{"app.kubernetes.io/name":"prometheus"}}' \
    --set-json 'networkPolicies.probeCIDRs=["10.0.0.0/16"]' \
    --set-json 'nodeSelector={"kubernetes.io/os":"linux"}' \
    --set-json 'tolerations=[{"key":"dedicated","operator":"Equal","value":"security","effect":"NoSchedule"}]'
  # Reports on: openreports with leader election (prod), and policyreport
  # from a single replica without it.
  ht helm-reports.yaml -f "$chart/values-prod.yaml" --set reports.enabled=true
  ht helm-policyreport.yaml --set reports.enabled=true --set reports.api=policyreport \
    --set reports.interval=30s --set leaderElection.enabled=false --set replicas=1
fi
