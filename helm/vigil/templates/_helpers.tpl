{{/* Names, labels and shared pieces of the vigil chart. */}}

{{- define "vigil.name" -}}
{{- default .Chart.Name .Values.nameOverride | trunc 63 | trimSuffix "-" }}
{{- end }}

{{/* <release>-<chart>, or the release name alone when it already contains the chart name. */}}
{{- define "vigil.fullname" -}}
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

{{- define "vigil.chart" -}}
{{- printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" | trunc 63 | trimSuffix "-" }}
{{- end }}

{{/* Selector labels of every pod of the release (the NetworkPolicy selects by these). */}}
{{- define "vigil.selectorLabels" -}}
app.kubernetes.io/name: {{ include "vigil.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
{{- end }}

{{- define "vigil.labels" -}}
helm.sh/chart: {{ include "vigil.chart" . }}
{{ include "vigil.selectorLabels" . }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
app.kubernetes.io/part-of: vigil
{{- with .Values.commonLabels }}
{{ toYaml . }}
{{- end }}
{{- end }}

{{/* Per component: (dict "root" $ "component" "detector") */}}
{{- define "vigil.componentSelectorLabels" -}}
{{ include "vigil.selectorLabels" .root }}
app.kubernetes.io/component: {{ .component }}
{{- end }}

{{- define "vigil.componentLabels" -}}
{{ include "vigil.labels" .root }}
app.kubernetes.io/component: {{ .component }}
{{- end }}

{{- define "vigil.detector.fullname" -}}
{{- printf "%s-detector" (include "vigil.fullname" .) | trunc 63 | trimSuffix "-" }}
{{- end }}

{{- define "vigil.archive.fullname" -}}
{{- printf "%s-archive" (include "vigil.fullname" .) | trunc 63 | trimSuffix "-" }}
{{- end }}

{{- define "vigil.replay.fullname" -}}
{{- printf "%s-replay" (include "vigil.fullname" .) | trunc 63 | trimSuffix "-" }}
{{- end }}

{{- define "vigil.serviceAccountName" -}}
{{- if .Values.serviceAccount.create }}
{{- default (include "vigil.fullname" .) .Values.serviceAccount.name }}
{{- else }}
{{- default "default" .Values.serviceAccount.name }}
{{- end }}
{{- end }}

{{- define "vigil.image" -}}
{{- if .Values.image.digest }}
{{- printf "%s@%s" .Values.image.repository .Values.image.digest }}
{{- else }}
{{- printf "%s:%s" .Values.image.repository (default .Chart.AppVersion .Values.image.tag) }}
{{- end }}
{{- end }}

{{/* Where secrets and config are mounted. */}}
{{- define "vigil.saslDir" -}}/etc/vigil/secrets/sasl{{- end }}
{{- define "vigil.tlsDir" -}}/etc/vigil/secrets/tls{{- end }}
{{- define "vigil.configDir" -}}/etc/vigil/config{{- end }}
{{- define "vigil.rulesDir" -}}/etc/vigil/rules{{- end }}
{{/* Where local state lives (the PVC); RocksDB goes here once stateful rules land (#5). */}}
{{- define "vigil.stateDir" -}}/var/lib/vigil{{- end }}

{{- define "vigil.usesSasl" -}}
{{- if hasPrefix "SASL_" .Values.kafka.security.protocol }}true{{- end }}
{{- end }}

{{- define "vigil.usesTls" -}}
{{- if or (eq .Values.kafka.security.protocol "SSL") (eq .Values.kafka.security.protocol "SASL_SSL") }}true{{- end }}
{{- end }}

{{/* Checks that fail the render with a message naming the value to fix. */}}
{{- define "vigil.validate" -}}
{{- $protocols := list "PLAINTEXT" "SSL" "SASL_PLAINTEXT" "SASL_SSL" }}
{{- if not (has .Values.kafka.security.protocol $protocols) }}
{{- fail (printf "kafka.security.protocol %q: expected one of PLAINTEXT, SSL, SASL_PLAINTEXT, SASL_SSL" .Values.kafka.security.protocol) }}
{{- end }}
{{- if and (include "vigil.usesSasl" .) (not .Values.kafka.security.sasl.existingSecret) }}
{{- fail "kafka.security.protocol is SASL_*: set kafka.security.sasl.existingSecret to a Secret with the user name and password" }}
{{- end }}
{{- if and .Values.kafka.security.tls.existingSecret (not (include "vigil.usesTls" .)) }}
{{- fail "kafka.security.tls.existingSecret is set but kafka.security.protocol is not SSL or SASL_SSL" }}
{{- end }}
{{- if and .Values.autoscaling.keda.enabled .Values.autoscaling.hpa.enabled }}
{{- fail "autoscaling.keda.enabled and autoscaling.hpa.enabled are exclusive: enable one of them" }}
{{- end }}
{{- if lt (int .Values.detector.partitions) 1 }}
{{- fail "detector.partitions must be >= 1 (the total partition count of the input topics)" }}
{{- end }}
{{- if gt (int .Values.autoscaling.keda.maxReplicaCount) (int .Values.detector.partitions) }}
{{- fail (printf "autoscaling.keda.maxReplicaCount %d is above detector.partitions %d: extra detectors would sit idle" (int .Values.autoscaling.keda.maxReplicaCount) (int .Values.detector.partitions)) }}
{{- end }}
{{- if gt (int .Values.autoscaling.hpa.maxReplicas) (int .Values.detector.partitions) }}
{{- fail (printf "autoscaling.hpa.maxReplicas %d is above detector.partitions %d: extra detectors would sit idle" (int .Values.autoscaling.hpa.maxReplicas) (int .Values.detector.partitions)) }}
{{- end }}
{{- range $k, $_ := .Values.detector.consumerProperties }}
{{- if has $k (list "group.id" "group.instance.id") }}
{{- fail (printf "detector.consumerProperties.%s is set by the chart: use detector.consumerGroup / detector.staticMembership" $k) }}
{{- end }}
{{- end }}
{{- if and .Values.rulePack.content .Values.rulePack.existingConfigMap }}
{{- fail "rulePack.content and rulePack.existingConfigMap are exclusive" }}
{{- end }}
{{- if and .Values.replay.enabled (or (not .Values.replay.inputs) (not .Values.replay.volume)) }}
{{- fail "replay.enabled needs replay.inputs (paths under replay.mountPath) and replay.volume" }}
{{- end }}
{{- if not (has .Values.detector.logFormat (list "json" "text")) }}
{{- fail "detector.logFormat must be json or text" }}
{{- end }}
{{- end }}

{{/* librdkafka properties of the `kafka` section: bootstrap, security (secrets as ${file:...}), extras. */}}
{{- define "vigil.kafkaProperties" -}}
{{- $p := dict "bootstrap.servers" .Values.kafka.bootstrapServers }}
{{- $sec := .Values.kafka.security }}
{{- if ne $sec.protocol "PLAINTEXT" }}
{{- $_ := set $p "security.protocol" $sec.protocol }}
{{- end }}
{{- if include "vigil.usesSasl" . }}
{{- $_ := set $p "sasl.mechanism" $sec.sasl.mechanism }}
{{- $_ := set $p "sasl.username" (printf "${file:%s/%s}" (include "vigil.saslDir" .) $sec.sasl.usernameKey) }}
{{- $_ := set $p "sasl.password" (printf "${file:%s/%s}" (include "vigil.saslDir" .) $sec.sasl.passwordKey) }}
{{- end }}
{{- if $sec.tls.existingSecret }}
{{- if $sec.tls.caKey }}
{{- $_ := set $p "ssl.ca.location" (printf "%s/%s" (include "vigil.tlsDir" .) $sec.tls.caKey) }}
{{- end }}
{{- if $sec.tls.certKey }}
{{- $_ := set $p "ssl.certificate.location" (printf "%s/%s" (include "vigil.tlsDir" .) $sec.tls.certKey) }}
{{- end }}
{{- if $sec.tls.keyKey }}
{{- $_ := set $p "ssl.key.location" (printf "%s/%s" (include "vigil.tlsDir" .) $sec.tls.keyKey) }}
{{- end }}
{{- if $sec.tls.keyPasswordKey }}
{{- $_ := set $p "ssl.key.password" (printf "${file:%s/%s}" (include "vigil.tlsDir" .) $sec.tls.keyPasswordKey) }}
{{- end }}
{{- end }}
{{- range $k, $v := .Values.kafka.properties }}
{{- $_ := set $p $k (toString $v) }}
{{- end }}
{{- toYaml $p }}
{{- end }}

{{/* Secret volumes (pod spec) and their mounts (container), shared by every workload. */}}
{{- define "vigil.secretVolumes" -}}
{{- if include "vigil.usesSasl" . }}
- name: kafka-sasl
  secret:
    secretName: {{ .Values.kafka.security.sasl.existingSecret }}
    defaultMode: 0440
    items:
      - {key: {{ .Values.kafka.security.sasl.usernameKey }}, path: {{ .Values.kafka.security.sasl.usernameKey }}}
      - {key: {{ .Values.kafka.security.sasl.passwordKey }}, path: {{ .Values.kafka.security.sasl.passwordKey }}}
{{- end }}
{{- if .Values.kafka.security.tls.existingSecret }}
- name: kafka-tls
  secret:
    secretName: {{ .Values.kafka.security.tls.existingSecret }}
    defaultMode: 0440
{{- end }}
{{- end }}

{{- define "vigil.secretMounts" -}}
{{- if include "vigil.usesSasl" . }}
- name: kafka-sasl
  mountPath: {{ include "vigil.saslDir" . }}
  readOnly: true
{{- end }}
{{- if .Values.kafka.security.tls.existingSecret }}
- name: kafka-tls
  mountPath: {{ include "vigil.tlsDir" . }}
  readOnly: true
{{- end }}
{{- end }}

{{/* Environment of every Vigil container: the instance id from the pod name (downward API). */}}
{{- define "vigil.instanceEnv" -}}
- name: VIGIL_INSTANCE_ID
  valueFrom:
    fieldRef:
      fieldPath: metadata.name
{{- end }}

{{/* Max replicas for the autoscalers: the value, or detector.partitions when 0. */}}
{{- define "vigil.maxReplicas" -}}
{{- $max := int .max }}
{{- if le $max 0 }}{{ $max = int .root.Values.detector.partitions }}{{ end }}
{{- min $max (int .root.Values.detector.partitions) }}
{{- end }}

{{- define "vigil.autoscaled" -}}
{{- if or .Values.autoscaling.keda.enabled .Values.autoscaling.hpa.enabled }}true{{- end }}
{{- end }}

{{/* The ConfigMap holding the rule pack, if a custom one is used; empty: the bundled pack. */}}
{{- define "vigil.rulesConfigMap" -}}
{{- if .Values.rulePack.existingConfigMap }}{{ .Values.rulePack.existingConfigMap }}
{{- else if .Values.rulePack.content }}{{ include "vigil.fullname" . }}-rules
{{- end }}
{{- end }}
