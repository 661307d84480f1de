{{/* Chart name, overridable. */}}
{{- define "ibc.name" -}}
{{- default .Chart.Name .Values.nameOverride | trunc 63 | trimSuffix "-" }}
{{- end }}

{{/* Release-qualified name prefix of every resource. */}}
{{- define "ibc.fullname" -}}
{{- if .Values.fullnameOverride }}
{{- .Values.fullnameOverride | trunc 63 | trimSuffix "-" }}
{{- else if contains (include "ibc.name" .) .Release.Name }}
{{- .Release.Name | trunc 63 | trimSuffix "-" }}
{{- else }}
{{- printf "%s-%s" .Release.Name (include "ibc.name" .) | trunc 63 | trimSuffix "-" }}
{{- end }}
{{- end }}

{{/* Component names (Services and Deployments carry the same name). */}}
{{- define "ibc.controller.fullname" -}}
{{- printf "%s-controller" (include "ibc.fullname" .) | trunc 63 | trimSuffix "-" }}
{{- end }}
{{- define "ibc.extProc.fullname" -}}
{{- printf "%s-ext-proc" (include "ibc.fullname" .) | trunc 63 | trimSuffix "-" }}
{{- end }}
{{- define "ibc.envoy.fullname" -}}
{{- printf "%s-envoy" (include "ibc.fullname" .) | trunc 63 | trimSuffix "-" }}
{{- end }}

{{/* In-cluster DNS names of the Services other components connect to. */}}
{{- define "ibc.controller.host" -}}
{{- printf "%s.%s.svc" (include "ibc.controller.fullname" .) .Release.Namespace }}
{{- end }}
{{- define "ibc.extProc.host" -}}
{{- printf "%s.%s.svc" (include "ibc.extProc.fullname" .) .Release.Namespace }}
{{- end }}

{{/* Labels on every resource. */}}
{{- define "ibc.labels" -}}
helm.sh/chart: {{ printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" | trunc 63 | trimSuffix "-" }}
app.kubernetes.io/name: {{ include "ibc.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
{{- with .Values.commonLabels }}
{{ toYaml . }}
{{- end }}
{{- end }}

{{/* Selector labels of one component; call with (dict "root" $ "component" "controller"). */}}
{{- define "ibc.selectorLabels" -}}
app.kubernetes.io/name: {{ include "ibc.name" .root }}
app.kubernetes.io/instance: {{ .root.Release.Name }}
app.kubernetes.io/component: {{ .component }}
{{- end }}

{{/* ServiceAccount names. */}}
{{- define "ibc.controller.serviceAccountName" -}}
{{- if .Values.controller.serviceAccount.create }}
{{- default (include "ibc.controller.fullname" .) .Values.controller.serviceAccount.name }}
{{- else }}
{{- required "controller.serviceAccount.name is required when serviceAccount.create is false" .Values.controller.serviceAccount.name }}
{{- end }}
{{- end }}
{{- define "ibc.extProc.serviceAccountName" -}}
{{- if .Values.extProc.serviceAccount.create }}
{{- default (include "ibc.extProc.fullname" .) .Values.extProc.serviceAccount.name }}
{{- else }}
{{- required "extProc.serviceAccount.name is required when serviceAccount.create is false" .Values.extProc.serviceAccount.name }}
{{- end }}
{{- end }}

{{/* Image reference; call with (dict "root" $ "image" .Values.controller.image). */}}
{{- define "ibc.image" -}}
{{- printf "%s:%s" .image.repository (default .root.Chart.AppVersion .image.tag) }}
{{- end }}

{{/* Name of the Secret holding the gRPC key pair. */}}
{{- define "ibc.tls.secretName" -}}
{{- if eq .Values.tls.source "secret" }}
{{- required "tls.existingSecret is required when tls.source is secret" .Values.tls.existingSecret }}
{{- else }}
{{- printf "%s-grpc-tls" (include "ibc.fullname" .) }}
{{- end }}
{{- end }}

{{/* Default anti-affinity spreading one component's pods over nodes. */}}
{{- define "ibc.spread" -}}
podAntiAffinity:
  preferredDuringSchedulingIgnoredDuringExecution:
    - weight: 100
      podAffinityTerm:
        topologyKey: kubernetes.io/hostname
        labelSelector:
          matchLabels:
            {{- include "ibc.selectorLabels" . | nindent 12 }}
{{- end }}

{{/* Pod and container security settings shared by both Java processes (Jib images run as 65532). */}}
{{- define "ibc.podSecurityContext" -}}
runAsNonRoot: true
runAsUser: 65532
runAsGroup: 65532
fsGroup: 65532
seccompProfile:
  type: RuntimeDefault
{{- end }}
{{- define "ibc.containerSecurityContext" -}}
allowPrivilegeEscalation: false
readOnlyRootFilesystem: true
capabilities:
  drop: ["ALL"]
{{- end }}

{{/* A probe on a gRPC port: kubelet's native grpc probe, or TCP when the port speaks TLS (kubelet's grpc
probe has no TLS). Call with (dict "root" $ "port" 9002). */}}
{{- define "ibc.grpcProbe" -}}
{{- if .root.Values.tls.enabled }}
tcpSocket:
  port: {{ .port }}
{{- else }}
grpc:
  port: {{ .port }}
{{- end }}
{{- end }}

{{/* appProtocol of the gRPC ports (Gateway API implementations read it). */}}
{{- define "ibc.grpcAppProtocol" -}}
{{- if .Values.tls.enabled }}https{{ else }}kubernetes.io/h2c{{ end }}
{{- end }}

{{/* Egress rule allowing DNS lookups (kube-dns / CoreDNS in any namespace). */}}
{{- define "ibc.dnsEgress" -}}
- to:
    - namespaceSelector: {}
      podSelector:
        matchLabels:
          k8s-app: kube-dns
  ports:
    - port: 53
      protocol: UDP
    - port: 53
      protocol: TCP
{{- end }}
