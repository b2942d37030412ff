// The Azure Workload Identity mutating webhook, as Azure/azure-workload-identity
// pkg/webhook/webhook.go (v1.0–v1.5, the token path the AKS add-on long shipped) mutates a
// pod on CREATE when the MutatingWebhookConfiguration selects it (objectSelector
// `azure.workload.identity/use: "true"`):
//  - reads the pod's ServiceAccount (serviceAccountName, else "default");
//  - token expiration: pod annotation, else SA annotation, else 3600; outside 3600..86400
//    → "token expiration N not valid. Expected value to be between 3600 and 86400";
//  - client id: SA annotation `azure.workload.identity/client-id` (no fallback);
//    tenant id: SA annotation `…/tenant-id`, else the webhook's configured tenant;
//  - every container not named in `…/skip-containers` (";"-separated) gets the env vars it
//    lacks, only when non-empty (AZURE_CLIENT_ID, AZURE_TENANT_ID,
//    AZURE_FEDERATED_TOKEN_FILE=/var/run/secrets/azure/tokens/azure-identity-token,
//    AZURE_AUTHORITY_HOST) and the read-only mount of volume `azure-identity-token`;
//  - the pod gets the projected volume (serviceAccountToken path azure-identity-token,
//    audience api://AzureADTokenExchange, expirationSeconds) unless one already has that path.
// A denial is admission.Errored(400, err); the API server words it through
// k8s.io/apiserver/pkg/admission/plugin/webhook/errors ToStatusErr:
// `admission webhook "mutation.azure-workload-identity.io" denied the request: <err>`.
import { failure, KubeError } from '../status.ts';
import { clone, isObject, type Container, type JsonObject, type KObject, type Pod, type ServiceAccount } from '../types.ts';

export const WEBHOOK_NAME = 'mutation.azure-workload-identity.io';
export const MWC_NAME = 'azure-wi-webhook-mutating-webhook-configuration';
export const WEBHOOK_DEPLOYMENT = 'azure-wi-webhook-controller-manager';
export const WEBHOOK_SERVICE = 'azure-wi-webhook-webhook-service';
export const USE_LABEL = 'azure.workload.identity/use';
export const CLIENT_ID_ANNOTATION = 'azure.workload.identity/client-id';
export const TENANT_ID_ANNOTATION = 'azure.workload.identity/tenant-id';
export const TOKEN_EXPIRY_ANNOTATION = 'azure.workload.identity/service-account-token-expiration';
export const SKIP_CONTAINERS_ANNOTATION = 'azure.workload.identity/skip-containers';
export const TOKEN_FILE_NAME = 'azure-identity-token';
export const TOKEN_MOUNT_PATH = '/var/run/secrets/azure/tokens';
export const DEFAULT_AUDIENCE = 'api://AzureADTokenExchange';

/** Where v1.6 and later mount the token (DESIGN §5): clients must read $AZURE_FEDERATED_TOKEN_FILE. */
export const TOKEN_MOUNT_PATH_V16 = '/var/run/secrets/azure/wi/token';

export interface WebhookSettings {
  tenantId: string;
  authorityHost: string;
  /** 'v1.5' (default, /var/run/secrets/azure/tokens) or 'v1.6' (/var/run/secrets/azure/wi/token). */
  version?: 'v1.5' | 'v1.6';
}

interface LabelSelector {
  matchLabels?: Record<string, string>;
  matchExpressions?: { key: string; operator: string; values?: string[] }[];
}

export function selectorMatches(sel: LabelSelector | undefined, labels: Record<string, string> | undefined): boolean {
  if (!sel) return true;
  const l = labels ?? {};
  for (const [k, v] of Object.entries(sel.matchLabels ?? {})) if (l[k] !== v) return false;
  for (const e of sel.matchExpressions ?? []) {
    const has = Object.prototype.hasOwnProperty.call(l, e.key);
    const vals = e.values ?? [];
    if (e.operator === 'In' && !(has && vals.includes(l[e.key]!))) return false;
    if (e.operator === 'NotIn' && has && vals.includes(l[e.key]!)) return false;
    if (e.operator === 'Exists' && !has) return false;
    if (e.operator === 'DoesNotExist' && has) return false;
  }
  return true;
}

interface WebhookEntry {
  name: string;
  rules?: { operations?: string[]; apiGroups?: string[]; resources?: string[] }[];
  objectSelector?: LabelSelector;
  namespaceSelector?: LabelSelector;
  clientConfig?: { service?: { name?: string; namespace?: string; path?: string; port?: number } };
  failurePolicy?: string;
}

/**
 * AKS's admissions enforcer keeps admission webhooks out of kube-system unless the
 * configuration opts out with the label or annotation `admissions.enforcer/disabled: "true"`
 * (learn.microsoft.com/azure/aks/faq, "Can admission controller webhooks impact kube-system
 * and internal AKS namespaces?").
 */
function keptOutByAks(config: KObject, namespace: string | undefined): boolean {
  if (namespace !== 'kube-system') return false;
  const meta = (config['metadata'] ?? {}) as { labels?: Record<string, string>; annotations?: Record<string, string> };
  return meta.labels?.['admissions.enforcer/disabled'] !== 'true' && meta.annotations?.['admissions.enforcer/disabled'] !== 'true';
}

/** The registered webhook entry that would be called for this pod CREATE, if any. */
export function matchingWebhook(configs: KObject[], pod: Pod, namespaceLabels: Record<string, string> | undefined): WebhookEntry | undefined {
  for (const c of configs) {
    if (keptOutByAks(c, pod.metadata.namespace)) continue;
    const hooks = (c['webhooks'] as WebhookEntry[] | undefined) ?? [];
    for (const h of hooks) {
      if (h.name !== WEBHOOK_NAME) continue;
      const ruleOk = (h.rules ?? []).some(
        (r) =>
          (r.operations ?? []).some((o) => o === 'CREATE' || o === '*') &&
          (r.apiGroups ?? []).some((g) => g === '' || g === '*') &&
          (r.resources ?? []).some((x) => x === 'pods' || x === '*'),
      );
      if (!ruleOk) continue;
      if (!selectorMatches(h.objectSelector, pod.metadata.labels)) continue;
      if (!selectorMatches(h.namespaceSelector, namespaceLabels)) continue;
      return h;
    }
  }
  return undefined;
}

const denied = (message: string) =>
  new KubeError(failure(400, undefined, `admission webhook "${WEBHOOK_NAME}" denied the request: ${message}`));

/** failurePolicy Fail with the webhook unreachable (apiserver webhook/mutating/dispatcher.go). */
export function unreachable(hook: WebhookEntry): KubeError {
  const svc = hook.clientConfig?.service ?? {};
  const url = `https://${svc.name ?? WEBHOOK_SERVICE}.${svc.namespace ?? 'kube-system'}.svc:${svc.port ?? 443}${svc.path ?? '/mutate-v1-pod'}?timeout=10s`;
  const why = `failed calling webhook "${WEBHOOK_NAME}": failed to call webhook: Post "${url}": no endpoints available for service "${svc.name ?? WEBHOOK_SERVICE}"`;
  return new KubeError(failure(500, 'InternalError', `Internal error occurred: ${why}`, { causes: [{ message: why }] }));
}

/** Go strconv.ParseInt error text. */
function parseInt64(s: string): number {
  if (!/^[+-]?\d+$/.test(s)) throw denied(`strconv.ParseInt: parsing ${JSON.stringify(s)}: invalid syntax`);
  return Number(s);
}

function tokenExpiration(pod: Pod, sa: ServiceAccount): number {
  let exp = 3600;
  const podValue = pod.metadata.annotations?.[TOKEN_EXPIRY_ANNOTATION];
  const saValue = sa.metadata.annotations?.[TOKEN_EXPIRY_ANNOTATION];
  if (podValue) exp = parseInt64(podValue);
  else if (saValue) exp = parseInt64(saValue);
  if (exp < 3600 || exp > 86400) throw denied(`token expiration ${exp} not valid. Expected value to be between 3600 and 86400`);
  return exp;
}

function mutateContainer(c: Container, env: { name: string; value: string }[], mountPath: string): Container {
  const out = clone(c);
  const have = new Set((out.env ?? []).map((e) => e.name));
  for (const e of env) {
    if (have.has(e.name) || !e.value) continue;
    (out.env ??= []).push({ name: e.name, value: e.value });
  }
  if (!(out.volumeMounts ?? []).some((m) => m.name === TOKEN_FILE_NAME)) {
    (out.volumeMounts ??= []).push({ name: TOKEN_FILE_NAME, mountPath, readOnly: true });
  }
  return out;
}

/**
 * The mutated pod; throws the webhook's denial. `sa` undefined means the webhook's lookup
 * failed: `serviceaccounts "x" not found` (its API reader hits the API server).
 */
export function mutatePod(pod: Pod, sa: ServiceAccount | undefined, settings: WebhookSettings): Pod {
  const saName = pod.spec.serviceAccountName || 'default';
  if (!sa) throw denied(`serviceaccounts "${saName}" not found`);
  const expiration = tokenExpiration(pod, sa);
  const clientId = sa.metadata.annotations?.[CLIENT_ID_ANNOTATION] ?? '';
  const saAnnotations = sa.metadata.annotations ?? {};
  const tenantId = Object.prototype.hasOwnProperty.call(saAnnotations, TENANT_ID_ANNOTATION) ? saAnnotations[TENANT_ID_ANNOTATION]! : settings.tenantId;
  const skip = new Set(
    (pod.metadata.annotations?.[SKIP_CONTAINERS_ANNOTATION] ?? '')
      .split(';')
      .map((s) => s.trim())
      .filter(Boolean),
  );
  const mountPath = settings.version === 'v1.6' ? TOKEN_MOUNT_PATH_V16 : TOKEN_MOUNT_PATH;
  const env = [
    { name: 'AZURE_CLIENT_ID', value: clientId },
    { name: 'AZURE_TENANT_ID', value: tenantId },
    { name: 'AZURE_FEDERATED_TOKEN_FILE', value: `${mountPath}/${TOKEN_FILE_NAME}` },
    { name: 'AZURE_AUTHORITY_HOST', value: settings.authorityHost },
  ];
  const out = clone(pod);
  out.spec.initContainers = out.spec.initContainers?.map((c) => (skip.has(c.name) ? c : mutateContainer(c, env, mountPath)));
  if (!out.spec.initContainers) delete out.spec.initContainers;
  out.spec.containers = out.spec.containers.map((c) => (skip.has(c.name) ? c : mutateContainer(c, env, mountPath)));
  const hasVolume = (out.spec.volumes ?? []).some((v) => (v.projected?.sources ?? []).some((s) => s.serviceAccountToken?.path === TOKEN_FILE_NAME));
  if (!hasVolume) {
    (out.spec.volumes ??= []).push({
      name: TOKEN_FILE_NAME,
      projected: {
        sources: [{ serviceAccountToken: { path: TOKEN_FILE_NAME, expirationSeconds: expiration, audience: DEFAULT_AUDIENCE } }],
        // defaultMode is the API server's defaulting (0644), applied after the webhook.
        defaultMode: 420,
      },
    });
  }
  return out;
}

/** The MutatingWebhookConfiguration the add-on (or Helm chart) installs. */
export function webhookConfiguration(namespace: string, caBundle: string): KObject {
  return {
    apiVersion: 'admissionregistration.k8s.io/v1',
    kind: 'MutatingWebhookConfiguration',
    metadata: {
      name: MWC_NAME,
      labels: { 'azure-workload-identity.io/system': 'true', ...(namespace === 'kube-system' ? { 'kubernetes.azure.com/managedby': 'aks' } : {}) },
      annotations: {},
    },
    webhooks: [
      {
        name: WEBHOOK_NAME,
        admissionReviewVersions: ['v1', 'v1beta1'],
        clientConfig: { caBundle, service: { name: WEBHOOK_SERVICE, namespace, path: '/mutate-v1-pod', port: 443 } },
        failurePolicy: 'Fail',
        matchPolicy: 'Equivalent',
        namespaceSelector: {},
        objectSelector: { matchLabels: { [USE_LABEL]: 'true' } },
        reinvocationPolicy: 'IfNeeded',
        rules: [{ apiGroups: [''], apiVersions: ['v1'], operations: ['CREATE'], resources: ['pods'], scope: '*' }],
        sideEffects: 'None',
        timeoutSeconds: 10,
      },
    ],
  };
}

/** The webhook's Deployment (status as a healthy rollout reports it). */
export function webhookDeployment(namespace: string, tenantId: string): KObject {
  const labels = { 'azure-workload-identity.io/system': 'true', app: 'workload-identity-webhook' } as Record<string, string>;
  const container: JsonObject = {
    name: 'manager',
    image: 'mcr.microsoft.com/oss/azure/workload-identity/webhook:v1.5.1',
    args: ['--log-level=info', '--disable-cert-rotation=true', '--webhook-cert-dir=/certs'],
    env: [
      { name: 'AZURE_TENANT_ID', value: tenantId },
      { name: 'AZURE_ENVIRONMENT', value: 'AzurePublicCloud' },
    ],
    ports: [{ containerPort: 9443, name: 'webhook-server', protocol: 'TCP' }],
  };
  return {
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    metadata: { name: WEBHOOK_DEPLOYMENT, namespace, labels },
    spec: {
      replicas: 2,
      selector: { matchLabels: labels },
      template: { metadata: { labels }, spec: { serviceAccountName: 'azure-wi-webhook-admin', containers: [container] } },
    },
    status: { observedGeneration: 1, replicas: 2, updatedReplicas: 2, readyReplicas: 2, availableReplicas: 2 },
  };
}

export const isWebhookObject = (o: KObject): boolean => isObject(o) && (o.metadata.name === MWC_NAME || o.metadata.name === WEBHOOK_DEPLOYMENT);
