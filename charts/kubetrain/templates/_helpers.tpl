{{/* Chart name, or nameOverride. */}}
{{- define "kubetrain.name" -}}
{{- default .Chart.Name .Values.nameOverride | trunc 63 | trimSuffix "-" }}
{{- end }}

{{/* Prefix of every resource name: fullnameOverride, or RELEASE-CHART (RELEASE alone when it already holds the chart name). */}}
{{- define "kubetrain.fullname" -}}
{{- if .Values.fullnameOverride }}
{{- .Values.fullnameOverride | trunc 63 | trimSuffix "-" }}
{{- else }}
{{- $name := default .Chart.Name .Values.nameOverride }}
{{- if contains $name .Release.Name }}
{{- .Release.Name | trunc 63 | trimSuffix "-" }}
{{- else }}
{{- printf "%s-%s" .Release.Name $name | trunc 63 | trimSuffix "-" }}
{{- end }}
{{- end }}
{{- end }}

{{/* Labels on every resource. */}}
{{- define "kubetrain.labels" -}}
helm.sh/chart: {{ printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" | trunc 63 | trimSuffix "-" }}
{{ include "kubetrain.selectorLabels" . }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
app.kubernetes.io/component: operator
{{- end }}

{{/* Labels that select the operator pods. */}}
{{- define "kubetrain.selectorLabels" -}}
app.kubernetes.io/name: {{ include "kubetrain.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
{{- end }}

{{/* The operator's ServiceAccount name. */}}
{{- define "kubetrain.serviceAccountName" -}}
{{- if .Values.serviceAccount.create }}
{{- default (include "kubetrain.fullname" .) .Values.serviceAccount.name }}
{{- else }}
{{- default "default" .Values.serviceAccount.name }}
{{- end }}
{{- end }}

{{/* Namespace of the leader-election Lease. */}}
{{- define "kubetrain.leaseNamespace" -}}
{{- default .Release.Namespace .Values.leaderElection.namespace }}
{{- end }}

{{/* The --gang-schedulers value: the gang schedulers enabled in gangScheduling, comma-separated. */}}
{{- define "kubetrain.gangSchedulers" -}}
{{- $enabled := list -}}
{{- if .Values.gangScheduling.volcano }}{{ $enabled = append $enabled "volcano" }}{{ end -}}
{{- if .Values.gangScheduling.coscheduling }}{{ $enabled = append $enabled "coscheduling" }}{{ end -}}
{{- join "," $enabled -}}
{{- end }}

{{/* Name of the ClusterRole for Kueue's cluster-scoped objects with watchNamespace set; the release
namespace is part of it, as releases of one name in different namespaces would share it otherwise. */}}
{{- define "kubetrain.kueueClusterRoleName" -}}
{{- printf "%s-%s-kueue" (include "kubetrain.fullname" .) .Release.Namespace | trunc 253 | trimSuffix "-" }}
{{- end }}

{{/* The rules on the cluster-scoped objects the operator reads with kueue.enabled. They can only be
granted by a ClusterRole: the operator's own one, or with watchNamespace set a ClusterRole of their own. */}}
{{- define "kubetrain.kueueClusterRules" -}}
# Each ResourceFlavor an admission assigns gives the pods its node labels and tolerations.
- apiGroups: [kueue.x-k8s.io]
  resources: [resourceflavors]
  verbs: [get, list, watch]
# A Workload carries the value of the PriorityClass that the job's pod template names.
- apiGroups: [scheduling.k8s.io]
  resources: [priorityclasses]
  verbs: [get, list, watch]
{{- end }}
