{{- define "tsmon.fullname" -}}
{{- printf "%s-tsmon" .Release.Name | trunc 63 | trimSuffix "-" -}}
{{- end -}}

{{- define "tsmon.labels" -}}
app.kubernetes.io/name: tsmon
app.kubernetes.io/instance: {{ .Release.Name }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
{{- end -}}

{{- define "tsmon.secretName" -}}
{{- if .Values.secrets.existingSecret -}}{{ .Values.secrets.existingSecret }}{{- else -}}{{ include "tsmon.fullname" . }}{{- end -}}
{{- end -}}
