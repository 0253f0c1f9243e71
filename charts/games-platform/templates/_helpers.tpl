{{/* Names, labels and the pieces every workload shares. */}}

{{- define "games.name" -}}
{{- default .Chart.Name .Values.nameOverride | trunc 63 | trimSuffix "-" }}
{{- end }}

{{- define "games.fullname" -}}
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

{{/* "<fullname>-<component>", e.g. games-platform-gateway. Call with (list $ "gateway"). */}}
{{- define "games.componentName" -}}
{{- $root := index . 0 }}
{{- printf "%s-%s" (include "games.fullname" $root) (index . 1) | trunc 63 | trimSuffix "-" }}
{{- end }}

{{- define "games.selectorLabels" -}}
{{- $root := index . 0 -}}
app.kubernetes.io/name: {{ include "games.name" $root }}
app.kubernetes.io/instance: {{ $root.Release.Name }}
app.kubernetes.io/component: {{ index . 1 }}
{{- end }}

{{- define "games.labels" -}}
{{- $root := index . 0 -}}
{{ include "games.selectorLabels" . }}
app.kubernetes.io/version: {{ $root.Chart.AppVersion | quote }}
app.kubernetes.io/part-of: games-platform
app.kubernetes.io/managed-by: {{ $root.Release.Service }}
helm.sh/chart: {{ printf "%s-%s" $root.Chart.Name $root.Chart.Version | replace "+" "_" }}
{{- end }}

{{/* The image of one service: (list $ "catalog"). */}}
{{- define "games.image" -}}
{{- $root := index . 0 }}
{{- $service := index . 1 }}
{{- $computed := printf "%s/%s:%s" $root.Values.image.repository $service (default $root.Chart.AppVersion $root.Values.image.tag) }}
{{- default $computed (index $root.Values.image.overrides $service) }}
{{- end }}

{{- define "games.spiffeId" -}}
{{- $root := index . 0 }}
{{- printf "spiffe://%s/%s" $root.Values.spiffe.trustDomain (index . 1) }}
{{- end }}

{{/* The Secret holding a workload's certificate: cert-manager's, or the one named in values. */}}
{{- define "games.tlsSecret" -}}
{{- $root := index . 0 }}
{{- $component := index . 1 }}
{{- if $root.Values.tls.certManager.enabled }}
{{- printf "%s-tls" (include "games.componentName" (list $root $component)) }}
{{- else }}
{{- required (printf "tls.existingSecrets.%s is required when tls.certManager.enabled is false" $component) (index $root.Values.tls.existingSecrets $component) }}
{{- end }}
{{- end }}

{{- define "games.databaseSecret" -}}
{{- default (printf "%s-database" (include "games.fullname" .)) .Values.database.existingSecret }}
{{- end }}

{{- define "games.pageTokenSecret" -}}
{{- default (printf "%s-page-tokens" (include "games.fullname" .)) .Values.catalog.pageTokenSecret.existingSecret }}
{{- end }}

{{- define "games.apiKeysSecret" -}}
{{- default (printf "%s-api-keys" (include "games.fullname" .)) .Values.gateway.apiKeys.existingSecret }}
{{- end }}

{{- define "games.redisSecret" -}}
{{- default (printf "%s-redis" (include "games.fullname" .)) .Values.gateway.redis.existingSecret }}
{{- end }}

{{- define "games.redisEnabled" -}}
{{- if or .Values.gateway.redis.url .Values.gateway.redis.existingSecret }}true{{ end }}
{{- end }}

{{/* Pod-level hardening shared by every pod. */}}
{{- define "games.podSecurityContext" -}}
runAsNonRoot: true
runAsUser: {{ .Values.runAsUser }}
runAsGroup: {{ .Values.runAsGroup }}
fsGroup: {{ .Values.runAsGroup }}
seccompProfile:
  type: RuntimeDefault
{{- end }}

{{- define "games.containerSecurityContext" -}}
allowPrivilegeEscalation: false
readOnlyRootFilesystem: true
runAsNonRoot: true
privileged: false
capabilities:
  drop: ["ALL"]
seccompProfile:
  type: RuntimeDefault
{{- end }}

{{/* Where a workload's certificate is mounted; the services re-read it when kubelet swaps the files. */}}
{{- define "games.tlsDir" -}}/etc/games/tls{{- end }}

{{/* The three TLS settings of a service, by its environment prefix: (list $ "CATALOG"). */}}
{{- define "games.tlsEnv" -}}
{{- $dir := include "games.tlsDir" (index . 0) }}
- name: {{ index . 1 }}_TLS_CERT_FILE
  value: {{ $dir }}/tls.crt
- name: {{ index . 1 }}_TLS_KEY_FILE
  value: {{ $dir }}/tls.key
- name: {{ index . 1 }}_TLS_CA_FILE
  value: {{ $dir }}/ca.crt
{{- end }}

{{/* Ports, bind address, grace period and log level of a serving component: (list $ "CATALOG" .Values.catalog). */}}
{{- define "games.serveEnv" -}}
{{- $root := index . 0 }}
{{- $prefix := index . 1 }}
{{- $component := index . 2 }}
- name: {{ $prefix }}_HOST
  value: "0.0.0.0"
- name: {{ $prefix }}_PORT
  value: {{ $component.ports.grpc | quote }}
- name: {{ $prefix }}_HEALTH_PORT
  value: {{ $component.ports.health | quote }}
- name: {{ $prefix }}_METRICS_PORT
  value: {{ $component.ports.metrics | quote }}
- name: {{ $prefix }}_GRACE_PERIOD_SECONDS
  value: {{ $component.gracePeriodSeconds | quote }}
- name: {{ $prefix }}_LOG_LEVEL
  value: {{ $root.Values.logLevel | quote }}
{{- end }}

{{/* OTEL_* for one component: (list $ "gateway"). No endpoint: the SDK exports nothing. */}}
{{- define "games.telemetryEnv" -}}
{{- $root := index . 0 }}
{{- $t := $root.Values.telemetry }}
- name: OTEL_SERVICE_NAME
  value: {{ index . 1 }}
{{- if $t.otlpEndpoint }}
- name: OTEL_EXPORTER_OTLP_ENDPOINT
  value: {{ $t.otlpEndpoint | quote }}
- name: OTEL_EXPORTER_OTLP_PROTOCOL
  value: {{ $t.otlpProtocol | quote }}
- name: OTEL_TRACES_SAMPLER
  value: {{ $t.sampler | quote }}
- name: OTEL_TRACES_SAMPLER_ARG
  value: {{ $t.samplerRatio | quote }}
{{- else }}
- name: OTEL_TRACES_EXPORTER
  value: none
{{- end }}
- name: K8S_POD_NAME
  valueFrom:
    fieldRef:
      fieldPath: metadata.name
- name: K8S_NAMESPACE_NAME
  valueFrom:
    fieldRef:
      fieldPath: metadata.namespace
- name: OTEL_RESOURCE_ATTRIBUTES
  value: {{ include "games.resourceAttributes" $root | quote }}
{{- end }}

{{- define "games.resourceAttributes" -}}
{{- $attributes := list "k8s.pod.name=$(K8S_POD_NAME)" "k8s.namespace.name=$(K8S_NAMESPACE_NAME)" (printf "service.version=%s" .Chart.AppVersion) }}
{{- range $key, $value := .Values.telemetry.resourceAttributes }}
{{- $attributes = append $attributes (printf "%s=%s" $key $value) }}
{{- end }}
{{- join "," $attributes }}
{{- end }}

{{/* The database URL from its Secret, as <PREFIX>_DATABASE_URL: (list $ "CATALOG"). */}}
{{- define "games.databaseEnv" -}}
{{- $root := index . 0 }}
- name: {{ index . 1 }}_DATABASE_URL
  valueFrom:
    secretKeyRef:
      name: {{ include "games.databaseSecret" $root }}
      key: {{ $root.Values.database.secretKey }}
{{- end }}

{{/* What ingestion needs to reach S3 and the catalog, in the API and in the CronJob. */}}
{{- define "games.ingestionRunEnv" -}}
{{- $i := .Values.ingestion }}
{{ include "games.databaseEnv" (list . "INGESTION") }}
- name: INGESTION_S3_BUCKET
  value: {{ $i.s3.bucket | quote }}
- name: INGESTION_S3_PREFIX
  value: {{ $i.s3.prefix | quote }}
- name: INGESTION_S3_MAX_ATTEMPTS
  value: {{ $i.s3.maxAttempts | quote }}
- name: AWS_REGION
  value: {{ $i.s3.region | quote }}
{{- if $i.s3.endpointUrl }}
- name: AWS_ENDPOINT_URL_S3
  value: {{ $i.s3.endpointUrl | quote }}
- name: AWS_ENDPOINT_URL_SQS
  value: {{ $i.s3.endpointUrl | quote }}
{{- end }}
- name: INGESTION_CATALOG_TARGET
  value: {{ printf "%s:%v" (include "games.componentName" (list . "catalog")) .Values.catalog.ports.grpc | quote }}
- name: INGESTION_CATALOG_TIMEOUT_SECONDS
  value: {{ $i.catalogTimeoutSeconds | quote }}
- name: INGESTION_IMPORT_BATCH_SIZE
  value: {{ $i.importBatchSize | quote }}
- name: INGESTION_MAX_ATTEMPTS
  value: {{ $i.maxAttempts | quote }}
- name: INGESTION_MAX_QUARANTINE_RATIO
  value: {{ $i.limits.maxQuarantineRatio | quote }}
- name: INGESTION_MAX_QUARANTINE_ROWS
  value: {{ $i.limits.maxQuarantineRows | quote }}
- name: INGESTION_MAX_REPAIR_ROWS
  value: {{ $i.limits.maxRepairRows | quote }}
- name: INGESTION_MAX_FILE_BYTES
  value: {{ $i.limits.maxFileBytes | int64 | quote }}
- name: INGESTION_MAX_GZIP_RATIO
  value: {{ $i.limits.maxGzipRatio | quote }}
- name: INGESTION_MAX_FILE_FAILURES
  value: {{ $i.limits.maxFileFailures | quote }}
- name: INGESTION_FILE_RETRY_WINDOW_SECONDS
  value: {{ $i.limits.fileRetryWindowSeconds | quote }}
{{- if $i.alertWebhook.existingSecret }}
- name: INGESTION_ALERT_WEBHOOK_URL
  valueFrom:
    secretKeyRef:
      name: {{ $i.alertWebhook.existingSecret }}
      key: {{ $i.alertWebhook.secretKey }}
{{- end }}
{{ include "games.tlsEnv" (list . "INGESTION") }}
{{- end }}

{{/* AWS credentials from a Secret, when not from the service account's workload identity. */}}
{{- define "games.awsEnvFrom" -}}
{{- if .Values.ingestion.awsCredentials.existingSecret }}
envFrom:
  - secretRef:
      name: {{ .Values.ingestion.awsCredentials.existingSecret }}
{{- end }}
{{- end }}

{{/* Volumes every serving pod has: its certificate and a writable /tmp. */}}
{{- define "games.volumes" -}}
- name: tls
  secret:
    secretName: {{ include "games.tlsSecret" . }}
    defaultMode: 0440
- name: tmp
  emptyDir:
    sizeLimit: 64Mi
{{- end }}

{{- define "games.volumeMounts" -}}
- name: tls
  mountPath: {{ include "games.tlsDir" . }}
  readOnly: true
- name: tmp
  mountPath: /tmp
{{- end }}

{{/* Native gRPC probes on the plaintext health-only port. Readiness follows dependencies;
     startup and liveness ask for "liveness", which stays SERVING while the process is up, so a
     database outage takes pods out of the Service without restarting or killing new ones. */}}
{{- define "games.probes" -}}
startupProbe:
  grpc:
    port: {{ .ports.health }}
    service: liveness
  periodSeconds: 2
  failureThreshold: 60
readinessProbe:
  grpc:
    port: {{ .ports.health }}
  periodSeconds: 5
  failureThreshold: 2
livenessProbe:
  grpc:
    port: {{ .ports.health }}
    service: liveness
  periodSeconds: 10
  failureThreshold: 3
  timeoutSeconds: 2
{{- end }}

{{- define "games.containerPorts" -}}
- name: grpc
  containerPort: {{ .ports.grpc }}
  protocol: TCP
- name: health
  containerPort: {{ .ports.health }}
  protocol: TCP
- name: metrics
  containerPort: {{ .ports.metrics }}
  protocol: TCP
{{- end }}

{{/* Spread replicas over zones and nodes; best effort, so a small cluster still schedules. */}}
{{- define "games.topologySpread" -}}
topologySpreadConstraints:
  - maxSkew: 1
    topologyKey: topology.kubernetes.io/zone
    whenUnsatisfiable: ScheduleAnyway
    labelSelector:
      matchLabels:
        {{- include "games.selectorLabels" . | nindent 8 }}
  - maxSkew: 1
    topologyKey: kubernetes.io/hostname
    whenUnsatisfiable: ScheduleAnyway
    labelSelector:
      matchLabels:
        {{- include "games.selectorLabels" . | nindent 8 }}
{{- end }}

{{/* nodeSelector, tolerations and affinity of one component's values. */}}
{{- define "games.scheduling" -}}
{{- with .nodeSelector }}
nodeSelector:
  {{- toYaml . | nindent 2 }}
{{- end }}
{{- with .tolerations }}
tolerations:
  {{- toYaml . | nindent 2 }}
{{- end }}
{{- with .affinity }}
affinity:
  {{- toYaml . | nindent 2 }}
{{- end }}
{{- end }}

{{/* GATEWAY_IDENTITY_SCOPES from a map of SPIFFE id to scope list. */}}
{{- define "games.identityScopes" -}}
{{- $entries := list }}
{{- range $identity, $scopes := . }}
{{- $entries = append $entries (printf "%s=%s" $identity (join ";" $scopes)) }}
{{- end }}
{{- join "," $entries }}
{{- end }}

{{/* Gateway replicas assumed until they have counted each other in Redis; by default the fewest it runs with. */}}
{{- define "games.gatewayFallbackReplicas" -}}
{{- $c := .Values.gateway }}
{{- if $c.rateLimit.fallbackReplicas }}{{ $c.rateLimit.fallbackReplicas }}
{{- else if $c.autoscaling.enabled }}{{ mul $c.autoscaling.minReplicas (include "games.gatewayProcesses" .) }}
{{- else }}{{ mul $c.replicaCount (include "games.gatewayProcesses" .) }}
{{- end }}
{{- end }}

{{/*
Gateway processes per pod (GATEWAY_PROCESSES): gateway.processes when set, else one per core the pod
requests, rounded up ("250m" → 1, "1500m" → 2, "2" → 2). Each process counts as a replica for the rate
limits (gateway/ratelimit/replicas.py counts processes).
*/}}
{{- define "games.gatewayProcesses" -}}
{{- $c := .Values.gateway }}
{{- if $c.processes }}{{ $c.processes | int }}
{{- else }}
{{- $cpu := toString (dig "requests" "cpu" "1" $c.resources) }}
{{- $cores := ternary (divf (trimSuffix "m" $cpu | float64) 1000) ($cpu | float64) (hasSuffix "m" $cpu) }}
{{- max 1 (ceil $cores) }}
{{- end }}
{{- end }}
