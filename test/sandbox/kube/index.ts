// The emulated Kubernetes API server of an AKS cluster (DESIGN §7): one sandbox Service
// ('kube') that the real @kubernetes/client-node and the real kubectl talk to over https
// with the sandbox CA in their kubeconfig. Pieces: store.ts (objects, resourceVersion,
// change feed), router.ts + handlers.ts (the REST verbs), admission/ (defaults and the
// ServiceAccount plugin, the workload identity webhook, Pod Security), kubelet.ts (scheduling,
// image pulls, running `node` containers for real), watch.ts, discovery.ts, table.ts.
import { randomUUID } from 'node:crypto';
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { ClusterIssuer } from '../cluster-issuer.ts';
import type { SandboxContext } from '../context.ts';
import type { Service } from '../http.ts';
import { defaultNamespace, defaultPod } from './admission/defaults.ts';
import { webhookConfiguration, webhookDeployment, MWC_NAME, WEBHOOK_DEPLOYMENT } from './admission/webhook.ts';
import { EventRecorder, timestamp } from './events.ts';
import { Handlers, withType, type ApiState } from './handlers.ts';
import { Kubelet, NODE_NAMES } from './kubelet.ts';
import { PodLogs } from './logs.ts';
import { Rbac, type DenyRule } from './rbac.ts';
import { findByKind, RESOURCES } from './resources.ts';
import { route, tokenFor } from './router.ts';
import { KubeStore } from './store.ts';
import { clone, isObject, type KObject, type Namespace, type Pod } from './types.ts';
import { Watches } from './watch.ts';

export { KubeStore } from './store.ts';
export type { DenyRule } from './rbac.ts';
export type { KObject, Pod, ServiceAccount, Namespace } from './types.ts';
export { tokenFor } from './router.ts';

export const DEFAULT_IMAGES = ['mcr.microsoft.com/azurelinux/base/nodejs:24', 'mcr.microsoft.com/azurelinux/distroless/nodejs:20'];

export interface KubeOptions {
  clusterIssuer: ClusterIssuer;
  /** Install the workload identity webhook (MutatingWebhookConfiguration + Deployment); default true. */
  webhook?: boolean;
  /** Images the node can pull; default DEFAULT_IMAGES. */
  images?: string[];
  /** Nodes cordoned: pods stay Pending with FailedScheduling. */
  unschedulable?: boolean;
  /** Where the webhook runs: the AKS add-on uses kube-system, the Helm chart its own namespace. */
  webhookNamespace?: 'kube-system' | 'azure-workload-identity-system';
  /** AZURE_AUTHORITY_HOST the webhook injects, e.g. ctx.urls.entra + '/'. */
  authorityHost: string;
  /** The webhook's configured tenant (AZURE_TENANT_ID default). */
  tenantId: string;
  /** Which webhook release: 'v1.5' (default; token under /var/run/secrets/azure/tokens) or 'v1.6' (…/azure/wi/token). */
  webhookVersion?: 'v1.5' | 'v1.6';
  /** Environment the node gives every container before its own (the sandbox proxy, when there is one). */
  podEnv?: Record<string, string>;
  /**
   * How many changes the store keeps for watches from a resourceVersion (default 20 000);
   * a watch from before the oldest kept change gets an ERROR event with 410 Expired.
   */
  watchHistory?: number;
}

export interface KubeEmulator {
  service: Service;
  store: KubeStore;
  /** Images the node can pull (mutable). */
  images: Set<string>;
  /** Stores manifests as they are (any served kind); namespaces are created as needed. */
  seed(objects: object[]): void;
  /** kubeconfig YAML for `server` (https origin) with the sandbox CA; `user` appears in 403 messages (default masterclient). */
  kubeconfig(server: string, user?: string): string;
  /** The bearer token this API server accepts for `user` (default masterclient). */
  token(user?: string): string;
  /** true: installed; false: absent (no mutation, no MutatingWebhookConfiguration); 'unreachable': installed but its service has no endpoints. */
  setWebhook(on: boolean | 'unreachable'): void;
  setUnschedulable(on: boolean): void;
  /**
   * The API server's clock runs `seconds` ahead (negative: behind) of everyone else's: the
   * ServiceAccount tokens it issues (TokenRequest, so the kubelet's projected tokens too) carry
   * iat/nbf/exp from it, and Entra, on the right time, finds them not yet valid or expired.
   */
  setClockSkew(seconds: number): void;
  /** Open watches stay connected but send nothing, bookmarks included (a silently dropped connection). */
  stallWatches(on: boolean): void;
  denyRbac(rule: DenyRule): void;
  clearRbac(): void;
  /** Kills running containers, ends watches and log streams, removes temp files. */
  stop(): Promise<void>;
}

const SYSTEM_NAMESPACES = ['default', 'kube-system', 'kube-public', 'kube-node-lease'];

export function createKube(ctx: SandboxContext, options: KubeOptions): KubeEmulator {
  const store = new KubeStore(options.watchHistory);
  const events = new EventRecorder(store);
  const logs = new PodLogs();
  const rbac = new Rbac();
  const watches = new Watches(store);
  const images = new Set(options.images ?? DEFAULT_IMAGES);
  const webhookNamespace = options.webhookNamespace ?? 'kube-system';
  let unschedulable = options.unschedulable ?? false;
  const state: ApiState = {
    webhook: options.webhook ?? true,
    webhookSettings: { tenantId: options.tenantId, authorityHost: options.authorityHost, version: options.webhookVersion },
    clockSkewSeconds: 0,
  };

  const dir = join(ctx.workDir, 'kube');
  mkdirSync(dir, { recursive: true });
  const caFile = join(dir, 'ca.crt');
  writeFileSync(caFile, ctx.tls.caPem);

  const handlers = new Handlers({ store, events, logs, rbac, watches, issuer: options.clusterIssuer, state, caPem: ctx.tls.caPem });
  const kubelet = new Kubelet({
    store,
    events,
    logs,
    issuer: options.clusterIssuer,
    workDir: dir,
    caFile,
    images: () => images,
    apiServer: () => {
      if (!ctx.urls?.kube) return undefined;
      const u = new URL(ctx.urls.kube);
      return { host: u.hostname, port: u.port || '443' };
    },
    defaultAudience: () => options.clusterIssuer.url,
    podEnv: options.podEnv ?? {},
    tokenClock: () => Math.floor(Date.now() / 1000) + state.clockSkewSeconds,
  });

  /** Stores one object as-is (seed): metadata filled, namespace ensured, replacing a previous one. */
  function put(input: object): KObject {
    if (!isObject(input) || typeof input['kind'] !== 'string' || typeof input['apiVersion'] !== 'string') {
      throw new Error(`seed: not a Kubernetes object: ${JSON.stringify(input).slice(0, 200)}`);
    }
    const r = findByKind(input['apiVersion'] as string, input['kind'] as string);
    if (!r || r.virtual) throw new Error(`seed: the emulator does not serve ${String(input['apiVersion'])} ${String(input['kind'])}`);
    let o = clone(input) as KObject;
    o.metadata = isObject(o.metadata) ? o.metadata : {};
    if (!o.metadata.name) throw new Error(`seed: ${r.kind} without metadata.name`);
    if (r.namespaced) {
      o.metadata.namespace ??= 'default';
      if (!store.get('namespaces', undefined, o.metadata.namespace)) put({ apiVersion: 'v1', kind: 'Namespace', metadata: { name: o.metadata.namespace } });
    } else delete o.metadata.namespace;
    const existing = store.get(r, o.metadata.namespace, o.metadata.name);
    o.metadata.uid = existing?.metadata.uid ?? o.metadata.uid ?? randomUUID();
    o.metadata.creationTimestamp = existing?.metadata.creationTimestamp ?? o.metadata.creationTimestamp ?? timestamp();
    if (r.generation) o.metadata.generation ??= 1;
    o = withType(r, o);
    if (r.kind === 'Namespace') o = defaultNamespace(o as Namespace);
    if (r.kind === 'Pod') {
      const pod = o as Pod;
      pod.spec ??= { containers: [] };
      pod.spec.serviceAccountName ??= 'default';
      if (!pod.status?.phase) defaultPod(pod);
      else if (pod.status.phase === 'Running') {
        // A workload seeded as already running: bound, containers running, nothing to execute.
        pod.spec.nodeName ??= NODE_NAMES[0];
        pod.status.containerStatuses ??= pod.spec.containers.map((c) => ({
          name: c.name,
          image: c.image ?? '',
          imageID: '',
          ready: true,
          restartCount: 0,
          started: true,
          state: { running: { startedAt: o.metadata.creationTimestamp } },
          lastState: {},
        }));
      }
    }
    const stored = existing ? store.update(r, o) : store.create(r, o);
    if (r.kind === 'Namespace') handlers.namespaceCreated(stored);
    return stored;
  }

  function installWebhook(on: boolean): void {
    const caBundle = Buffer.from(ctx.tls.caPem).toString('base64');
    if (on) {
      put(webhookConfiguration(webhookNamespace, caBundle));
      put(webhookDeployment(webhookNamespace, options.tenantId));
      put({
        apiVersion: 'v1',
        kind: 'ConfigMap',
        metadata: { name: 'azure-wi-webhook-config', namespace: webhookNamespace },
        data: { AZURE_TENANT_ID: options.tenantId, AZURE_ENVIRONMENT: 'AzurePublicCloud' },
      });
    } else {
      if (store.get('mutatingwebhookconfigurations', undefined, MWC_NAME)) store.remove('mutatingwebhookconfigurations', undefined, MWC_NAME);
      if (store.get('deployments', webhookNamespace, WEBHOOK_DEPLOYMENT)) store.remove('deployments', webhookNamespace, WEBHOOK_DEPLOYMENT);
      if (store.get('configmaps', webhookNamespace, 'azure-wi-webhook-config')) store.remove('configmaps', webhookNamespace, 'azure-wi-webhook-config');
    }
  }

  function setNodesCordoned(on: boolean): void {
    for (const name of NODE_NAMES) {
      const n = store.get('nodes', undefined, name);
      if (!n) continue;
      const spec = (n['spec'] ?? {}) as { unschedulable?: boolean; taints?: unknown[] };
      if (on) {
        spec.unschedulable = true;
        spec.taints = [{ effect: 'NoSchedule', key: 'node.kubernetes.io/unschedulable', timeAdded: timestamp() }];
      } else {
        delete spec.unschedulable;
        delete spec.taints;
      }
      n['spec'] = spec;
      store.update('nodes', n);
    }
  }

  // The cluster as it starts: system namespaces, three nodes, the CRDs, the webhook.
  for (const ns of SYSTEM_NAMESPACES) put({ apiVersion: 'v1', kind: 'Namespace', metadata: { name: ns } });
  NODE_NAMES.forEach((name) =>
    put({
      apiVersion: 'v1',
      kind: 'Node',
      metadata: {
        name,
        labels: { 'kubernetes.io/os': 'linux', 'kubernetes.io/arch': 'amd64', 'kubernetes.io/hostname': name, agentpool: 'nodepool1', 'kubernetes.azure.com/agentpool': 'nodepool1', 'node.kubernetes.io/instance-type': 'Standard_D4ds_v5' },
      },
      spec: { providerID: `azure:///subscriptions/00000000-0000-0000-0000-000000000000/resourceGroups/mc_rg_aks_westeurope/providers/Microsoft.Compute/virtualMachineScaleSets/aks-nodepool1-vmss/virtualMachines/${name.slice(-1)}` },
      status: {
        conditions: [{ type: 'Ready', status: 'True', reason: 'KubeletReady', message: 'kubelet is posting ready status', lastHeartbeatTime: timestamp(), lastTransitionTime: timestamp() }],
        nodeInfo: { kubeletVersion: 'v1.32.4', osImage: 'Ubuntu 22.04.5 LTS', containerRuntimeVersion: 'containerd://1.7.27-1', operatingSystem: 'linux', architecture: 'amd64' },
        addresses: [{ type: 'InternalIP', address: `10.224.0.${4 + Number(name.slice(-1))}` }, { type: 'Hostname', address: name }],
      },
    }),
  );
  for (const r of RESOURCES.filter((x) => x.custom)) {
    put({
      apiVersion: 'apiextensions.k8s.io/v1',
      kind: 'CustomResourceDefinition',
      metadata: { name: `${r.plural}.${r.group}` },
      spec: {
        group: r.group,
        names: { kind: r.kind, listKind: r.listKind, plural: r.plural, singular: r.singular, ...(r.shortNames ? { shortNames: r.shortNames } : {}) },
        scope: r.namespaced ? 'Namespaced' : 'Cluster',
        versions: [{ name: r.version, served: true, storage: true, schema: { openAPIV3Schema: { type: 'object', 'x-kubernetes-preserve-unknown-fields': true } } }],
      },
      status: { acceptedNames: { kind: r.kind, plural: r.plural }, conditions: [{ type: 'Established', status: 'True' }], storedVersions: [r.version] },
    });
  }
  if (unschedulable) setNodesCordoned(true);
  if (state.webhook !== false) installWebhook(true);

  const deps = { handlers, issuer: options.clusterIssuer };
  return {
    service: { name: 'kube', handle: (req, res) => route(deps, req, res) },
    store,
    images,
    seed(objects) {
      for (const o of objects) put(o);
    },
    token(user = 'masterclient') {
      return tokenFor(user);
    },
    kubeconfig(server, user = 'masterclient') {
      return [
        'apiVersion: v1',
        'kind: Config',
        'clusters:',
        '- name: sandbox',
        '  cluster:',
        `    server: ${server}`,
        `    certificate-authority-data: ${Buffer.from(ctx.tls.caPem).toString('base64')}`,
        'contexts:',
        '- name: sandbox',
        '  context:',
        '    cluster: sandbox',
        `    user: ${JSON.stringify(user)}`,
        '    namespace: default',
        'current-context: sandbox',
        'users:',
        `- name: ${JSON.stringify(user)}`,
        '  user:',
        `    token: ${tokenFor(user)}`,
        'preferences: {}',
        '',
      ].join('\n');
    },
    setWebhook(on) {
      state.webhook = on;
      installWebhook(on !== false);
    },
    setClockSkew(seconds) {
      state.clockSkewSeconds = seconds;
    },
    stallWatches(on) {
      watches.stalled = on;
    },
    setUnschedulable(on) {
      unschedulable = on;
      setNodesCordoned(on);
      if (!on) kubelet.retryPending();
    },
    denyRbac(rule) {
      rbac.deny(rule);
    },
    clearRbac() {
      rbac.clear();
    },
    async stop() {
      watches.closeAll();
      await kubelet.stop();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

