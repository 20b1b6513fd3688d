{{/*
Names, labels and small pieces shared by the templates.
*/}}

{{/* The chart name, or nameOverride. */}}
{{- define "img.name" -}}
{{- default .Chart.Name .Values.nameOverride | trunc 63 | trimSuffix "-" }}
{{- end }}

{{/*
The prefix of object names: fullnameOverride, else the release name when it already contains the
chart name (release "img" gives "img", not "img-img"), else "<release>-<chart>". Truncated so
that "-operator" still fits in 63 characters.
*/}}
{{- define "img.fullname" -}}
{{- if .Values.fullnameOverride }}
{{- .Values.fullnameOverride | trunc 54 | trimSuffix "-" }}
{{- else }}
{{- $name := default .Chart.Name .Values.nameOverride }}
{{- if contains $name .Release.Name }}
{{- .Release.Name | trunc 54 | trimSuffix "-" }}
{{- else }}
{{- printf "%s-%s" .Release.Name $name | trunc 54 | trimSuffix "-" }}
{{- end }}
{{- end }}
{{- end }}

{{/* "<chart>-<version>" for the helm.sh/chart label. */}}
{{- define "img.chart" -}}
{{- printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" | trunc 63 | trimSuffix "-" }}
{{- end }}

{{/*
The labels of every object. (The operator marks what it makes itself with
app.kubernetes.io/managed-by=img-operator; nothing here carries that value, so its Pod watch
never sees the chart's own Pods.)
*/}}
{{- define "img.labels" -}}
helm.sh/chart: {{ include "img.chart" . }}
{{ include "img.selectorLabels" . }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
app.kubernetes.io/part-of: img
{{- end }}

{{/* The labels that select the release's objects. */}}
{{- define "img.selectorLabels" -}}
app.kubernetes.io/name: {{ include "img.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
{{- end }}

{{/* Labels of one component: (dict "ctx" $ "component" "operator"). */}}
{{- define "img.componentLabels" -}}
{{ include "img.labels" .ctx }}
app.kubernetes.io/component: {{ .component }}
{{- end }}

{{/* Selector labels of one component: (dict "ctx" $ "component" "operator"). */}}
{{- define "img.componentSelectorLabels" -}}
{{ include "img.selectorLabels" .ctx }}
app.kubernetes.io/component: {{ .component }}
{{- end }}

{{/* An image reference from (dict "image" .Values.x.image "ctx" $): repository@digest, else
repository:tag with the tag defaulting to the chart's appVersion. */}}
{{- define "img.image" -}}
{{- if .image.digest }}
{{- printf "%s@%s" .image.repository .image.digest }}
{{- else }}
{{- printf "%s:%s" .image.repository (default .ctx.Chart.AppVersion .image.tag) }}
{{- end }}
{{- end }}

{{- define "img.operatorName" -}}
{{- printf "%s-operator" (include "img.fullname" .) }}
{{- end }}

{{- define "img.webName" -}}
{{- printf "%s-web" (include "img.fullname" .) }}
{{- end }}

{{/* The Secret the chart makes for notification credentials given as values. */}}
{{- define "img.notifySecretName" -}}
{{- printf "%s-notify" (include "img.fullname" .) }}
{{- end }}

{{/* Whether the chart makes that Secret: some credential is given as a value. */}}
{{- define "img.notifySecretNeeded" -}}
{{- $n := .Values.notifications }}
{{- if or (and $n.amqp.enabled (not $n.amqp.existingSecret)) (and $n.smtp.enabled (not $n.smtp.existingSecret) $n.smtp.username) }}true{{ end }}
{{- end }}

{{/* The namespace jobs arriving over AMQP are created in. */}}
{{- define "img.amqpIngressNamespace" -}}
{{- default .Release.Namespace .Values.notifications.amqp.ingressNamespace }}
{{- end }}

{{/* imagePullSecrets of a Pod spec, if any. */}}
{{- define "img.imagePullSecrets" -}}
{{- with .Values.imagePullSecrets }}
imagePullSecrets:
  {{- toYaml . | nindent 2 }}
{{- end }}
{{- end }}

{{/* Scheduling settings of a component's Pods: (dict "values" .Values.operator). */}}
{{- define "img.scheduling" -}}
{{- with .values.priorityClassName }}
priorityClassName: {{ . }}
{{- end }}
{{- with .values.nodeSelector }}
nodeSelector:
  {{- toYaml . | nindent 2 }}
{{- end }}
{{- with .values.tolerations }}
tolerations:
  {{- toYaml . | nindent 2 }}
{{- end }}
{{- with .values.affinity }}
affinity:
  {{- toYaml . | nindent 2 }}
{{- end }}
{{- end }}
