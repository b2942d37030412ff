// The run's cluster snapshot against the sandbox API server, through the real client-node
// adapter: how many requests it makes (from the sandbox's call log, by verb and resource),
// and that what it answers is what the cluster holds.
import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { createKubePort, loadKubeConfig, type LoadedKubeConfig } from '../../src/kube/client.ts';
import type { KubePort } from '../../src/kube/port.ts';
import { activePodsOf, createClusterSnapshot } from '../../src/kube/snapshot.ts';
import { startSandbox, type Sandbox } from '../sandbox/index.ts';

let sb: Sandbox;
let loaded: LoadedKubeConfig;
let port: KubePort;

const NAMESPACES = ['snap-a', 'snap-b', 'snap-c'];
const SAS_PER_NAMESPACE = 5;

function objects(): object[] {
  return NAMESPACES.flatMap((namespace) => [
    { apiVersion: 'v1', kind: 'Namespace', metadata: { name: namespace } },
    ...Array.from({ length: SAS_PER_NAMESPACE }, (_, i) => ({ apiVersion: 'v1', kind: 'ServiceAccount', metadata: { name: `app-${i}`, namespace } })),
    {
      apiVersion: 'v1',
      kind: 'Pod',
      metadata: { name: 'app-0-running', namespace, ownerReferences: [{ apiVersion: 'apps/v1', kind: 'ReplicaSet', name: 'app-0-7c9d', uid: `rs-${namespace}`, controller: true }] },
      spec: { serviceAccountName: 'app-0', containers: [{ name: 'app', image: 'contoso.azurecr.io/app:1', env: [{ name: 'AZURE_CLIENT_ID', value: 'hard-coded' }] }] },
      status: { phase: 'Running' },
    },
    { apiVersion: 'v1', kind: 'Pod', metadata: { name: 'app-0-done', namespace }, spec: { serviceAccountName: 'app-0', containers: [{ name: 'job', image: 'x' }] }, status: { phase: 'Succeeded' } },
    {
      apiVersion: 'apps/v1',
      kind: 'Deployment',
      metadata: { name: 'app-0', namespace },
      spec: {
        replicas: 2,
        selector: { matchLabels: { app: 'app-0' } },
        template: { metadata: { labels: { app: 'app-0', aadpodidbinding: 'app-0' } }, spec: { serviceAccountName: 'app-0', containers: [{ name: 'app', image: 'contoso.azurecr.io/app:1' }] } },
      },
    },
  ]);
}

const kubeCounts = () => sb.log.counts('kube');

beforeAll(async () => {
  sb = await startSandbox();
  loaded = loadKubeConfig({ kubeconfig: readFileSync(sb.kubeconfigPath, 'utf8') }, { env: { RUNNER_TEMP: sb.workDir } });
  port = createKubePort(loaded.kc);
  sb.kube.seed(objects());
}, 60_000);

afterAll(async () => {
  try {
    loaded?.cleanup();
  } finally {
    await sb?.stop();
  }
});

beforeEach(() => {
  sb.kube.clearRbac();
  sb.log.reset();
});

describe('cluster snapshot on the sandbox', () => {
  it('reads each namespace once: one LIST of ServiceAccounts per namespace, however many are asked for', async () => {
    const snapshot = createClusterSnapshot(port);
    await snapshot.read('serviceaccounts', NAMESPACES);
    const found = await Promise.all(NAMESPACES.flatMap((ns) => Array.from({ length: SAS_PER_NAMESPACE }, (_, i) => snapshot.get('serviceaccounts', ns, `app-${i}`))));
    expect(found.every((sa) => sa !== undefined)).toBe(true);
    expect(await snapshot.get('serviceaccounts', 'snap-a', 'nobody')).toBeUndefined();
    expect(kubeCounts()).toEqual({ 'kube list serviceaccounts': NAMESPACES.length });
  });

  it('follows continue tokens: a namespace larger than a page is read in full', async () => {
    const snapshot = createClusterSnapshot(port, { pageSize: 2 });
    const sas = await snapshot.list('serviceaccounts', 'snap-b');
    // Five of ours plus the namespace's default ServiceAccount, in pages of two.
    expect(sas.map((s) => s.name).sort()).toEqual(['app-0', 'app-1', 'app-2', 'app-3', 'app-4', 'default']);
    expect(kubeCounts()).toEqual({ 'kube list serviceaccounts': 3 });
    expect(sb.log.calls.filter((c) => c.path.includes('continue=')).length).toBe(2);
  });

  it('from the threshold on, one cluster-wide LIST when RBAC allows it, filtered to nothing but what is asked', async () => {
    const snapshot = createClusterSnapshot(port, { clusterWideFrom: 3 });
    await snapshot.read('serviceaccounts', NAMESPACES);
    expect(kubeCounts()).toEqual({ 'kube create selfsubjectaccessreviews': 1, 'kube list serviceaccounts': 1 });
    expect(sb.log.of('kube').find((c) => c.method === 'GET')!.path).toMatch(/^\/api\/v1\/serviceaccounts\?/);
    expect((await snapshot.list('serviceaccounts', 'snap-c')).map((s) => s.name)).toContain('app-4');
    // Namespaces outside the read are known too: the LIST covered them.
    expect((await snapshot.list('serviceaccounts', 'kube-system')).length).toBeGreaterThan(0);
    expect(kubeCounts()['kube list serviceaccounts']).toBe(1);
  });

  it('cluster-wide list denied (namespace-scoped Roles): one LIST per namespace instead', async () => {
    sb.kube.denyRbac({ verb: 'list', resource: 'serviceaccounts', namespace: 'kube-system' });
    const snapshot = createClusterSnapshot(port, { clusterWideFrom: 3 });
    await snapshot.read('serviceaccounts', NAMESPACES);
    expect(kubeCounts()).toEqual({ 'kube create selfsubjectaccessreviews': 1, 'kube list serviceaccounts': NAMESPACES.length });
    expect(await snapshot.get('serviceaccounts', 'snap-a', 'app-1')).toMatchObject({ namespace: 'snap-a', name: 'app-1' });
  });

  it('list forbidden but get allowed in a namespace: its ServiceAccounts are read one GET each, the others by LIST', async () => {
    sb.kube.denyRbac({ verb: 'list', resource: 'serviceaccounts', namespace: 'snap-a' });
    const snapshot = createClusterSnapshot(port);
    await snapshot.read('serviceaccounts', NAMESPACES);
    for (const ns of NAMESPACES) {
      expect(await snapshot.get('serviceaccounts', ns, 'app-1')).toMatchObject({ name: 'app-1' });
      expect(await snapshot.get('serviceaccounts', ns, 'app-2')).toMatchObject({ name: 'app-2' });
    }
    expect(await snapshot.get('serviceaccounts', 'snap-a', 'nobody')).toBeUndefined();
    expect(kubeCounts()).toEqual({ 'kube get serviceaccounts': 3, 'kube list serviceaccounts': NAMESPACES.length });
  });

  it('list and get both forbidden: the read fails with the API server\'s 403', async () => {
    sb.kube.denyRbac({ verb: 'list', resource: 'serviceaccounts', namespace: 'snap-a' });
    sb.kube.denyRbac({ verb: 'get', resource: 'serviceaccounts', namespace: 'snap-a' });
    const snapshot = createClusterSnapshot(port);
    await expect(snapshot.get('serviceaccounts', 'snap-a', 'app-1')).rejects.toMatchObject({ status: 403 });
    await expect(snapshot.list('pods', 'snap-a')).resolves.toHaveLength(2);
  });

  it('pods come as plain data: the pods a ServiceAccount still runs, with their owner and env', async () => {
    const snapshot = createClusterSnapshot(port);
    const pods = activePodsOf(await snapshot.list('pods', 'snap-a'), 'app-0');
    expect(pods).toMatchObject([{ name: 'app-0-running', phase: 'Running', owner: 'ReplicaSet/app-0-7c9d', containers: [{ name: 'app', env: [{ name: 'AZURE_CLIENT_ID', value: 'hard-coded' }] }] }]);
    expect(kubeCounts()).toEqual({ 'kube list pods': 1 });
  });

  it('what apply wrote is seen without listing again; forget() lists again', async () => {
    const snapshot = createClusterSnapshot(port);
    const before = (await snapshot.get('serviceaccounts', 'snap-c', 'app-3'))!;
    snapshot.record('serviceaccounts', { ...before, annotations: { 'azure.workload.identity/client-id': 'written' } });
    snapshot.record('serviceaccounts', { namespace: 'snap-c', name: 'created', labels: {}, annotations: {} });
    expect((await snapshot.get('serviceaccounts', 'snap-c', 'app-3'))!.annotations).toEqual({ 'azure.workload.identity/client-id': 'written' });
    expect((await snapshot.list('serviceaccounts', 'snap-c')).map((s) => s.name)).toContain('created');
    expect(kubeCounts()).toEqual({ 'kube list serviceaccounts': 1 });

    snapshot.forget('serviceaccounts', 'snap-c');
    // The cluster never got those writes: a fresh LIST shows it as it is.
    expect((await snapshot.get('serviceaccounts', 'snap-c', 'app-3'))!.annotations).toEqual({});
    expect(await snapshot.get('serviceaccounts', 'snap-c', 'created')).toBeUndefined();
    expect(kubeCounts()).toEqual({ 'kube list serviceaccounts': 2 });
  });
});
