{{/*
Names are fixed rather than derived from the release name: the webhook
configuration's name is what the recovery procedure deletes, and netpol-guard
is installed once per cluster.
*/}}
{{- define "netpol-guard.name" -}}netpol-guard{{- end -}}
{{- define "netpol-guard.webhookName" -}}netpol-guard.k8s-security-pro.io{{- end -}}
{{- define "netpol-guard.tlsSecret" -}}
{{- if .Values.certificates.certManager.enabled -}}netpol-guard-tls{{- else -}}{{ required "certificates.existingSecret is required without cert-manager" .Values.certificates.existingSecret }}{{- end -}}
{{- end -}}

{{- define "netpol-guard.selectorLabels" -}}
app.kubernetes.io/name: netpol-guard
app.kubernetes.io/component: webhook
{{- end -}}

{{- define "netpol-guard.labels" -}}
app.kubernetes.io/name: netpol-guard
app.kubernetes.io/part-of: k8s-security-pro
app.kubernetes.io/managed-by: k8s-security-pro
app.kubernetes.io/instance: {{ .Release.Name }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
helm.sh/chart: {{ printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" }}
{{- end -}}

{{/* enforce | audit, checked once for every template that uses it. */}}
{{- define "netpol-guard.mode" -}}
{{- if not (has .Values.mode (list "enforce" "audit")) -}}
{{- fail (printf "mode must be enforce or audit, not %q" .Values.mode) -}}
{{- end -}}
{{- .Values.mode -}}
{{- end -}}

{{/* Audit mode must never block anything, not even when the webhook is down. */}}
{{- define "netpol-guard.failurePolicy" -}}
{{- if eq (include "netpol-guard.mode" .) "enforce" -}}Fail{{- else -}}Ignore{{- end -}}
{{- end -}}

{{/*
The release namespace is always exempt (netpol-guard's own pods must come back
while it is down), so it must be a namespace of its own: `helm template`
without -n would otherwise exempt "default" from the check. Called by every
template that uses the release namespace's exemption.
*/}}
{{- define "netpol-guard.releaseNamespace" -}}
{{- if eq .Release.Namespace "default" -}}
{{- fail "netpol-guard must not be installed into the \"default\" namespace: its release namespace is exempt from the check, so \"default\" would be too. Install it into a namespace of its own: helm install netpol-guard CHART -n netpol-guard --create-namespace" -}}
{{- end -}}
{{- .Release.Namespace -}}
{{- end -}}

{{/* The exempt namespaces, always with the release namespace, as a list. */}}
{{- define "netpol-guard.exemptNamespaceList" -}}
{{- append .Values.exemptNamespaces (include "netpol-guard.releaseNamespace" .) | uniq | toJson -}}
{{- end -}}

{{/* The same, as the comma list --exempt-namespaces takes. */}}
{{- define "netpol-guard.exemptNamespaces" -}}
{{- include "netpol-guard.exemptNamespaceList" . | fromJsonArray | join "," -}}
{{- end -}}

{{/* openreports | policyreport, checked once for every template that uses it. */}}
{{- define "netpol-guard.reportsApi" -}}
{{- if not (has .Values.reports.api (list "openreports" "policyreport")) -}}
{{- fail (printf "reports.api must be openreports or policyreport, not %q" .Values.reports.api) -}}
{{- end -}}
{{- .Values.reports.api -}}
{{- end -}}
