// The Kubernetes stages against the sandbox's API server, through the real client-node.
import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { CoreV1Api } from '@kubernetes/client-node';
import { startSandbox, type Sandbox } from '../sandbox/index.ts';
import { createKubePort, loadKubeConfig, type LoadedKubeConfig } from '../../src/kube/client.ts';
import { applyServiceAccounts } from '../../src/kube/apply.ts';
import { planServiceAccounts } from '../../src/kube/plan.ts';
import { createClusterSnapshot } from '../../src/kube/snapshot.ts';
import { identityKey } from '../../src/mapping/identity.ts';
import { preflight } from '../../src/kube/preflight/index.ts';
import { KubeApiError, type KubePort } from '../../src/kube/port.ts';
import type { ResolvedBinding } from '../../src/mapping/types.ts';
import type { PreflightCheck } from '../../src/plan/types.ts';
import { ANNOTATION_CLIENT_ID, ANNOTATION_TENANT_ID, ANNOTATION_TOKEN_EXPIRATION, LABEL_MANAGED_BY, MANAGED_BY } from '../../src/plan/service-accounts.ts';
import { TENANT, binding } from './fixtures.ts';

const CLIENT_PAYMENTS = '3f2a1b4c-0000-4000-8000-00000000aaaa';
const CLIENT_ORDERS = '3f2a1b4c-0000-4000-8000-00000000bbbb';
const CLIENT_OLD = '3f2a1b4c-0000-4000-8000-0000000000ff';

let sb: Sandbox;
let loaded: LoadedKubeConfig;
let port: KubePort;
let core: CoreV1Api;

const payments = binding('payments', 'payments-api', 'id-payments', { tokenExpiration: 3600, annotations: { 'contoso.com/team': 'payments' } }, 10);
const orders = binding('orders', 'orders-worker', 'id-orders', {}, 17);
const clientIds = new Map([
  [identityKey(payments.identity.resourceId), CLIENT_PAYMENTS],
  [identityKey(orders.identity.resourceId), CLIENT_ORDERS],
]);

const plan = (bindings: ResolvedBinding[] = [payments, orders]) => planServiceAccounts({ bindings, clientIds, tenantId: TENANT }, createClusterSnapshot(port));
const kubeWrites = () => sb.log.writes('kube').map((c) => `${c.method} ${c.path}`);
/** POSTs that change nothing: access reviews and server-side dry runs. */
const isReadLike = (w: string) => w.includes('/selfsubjectaccessreviews') || w.includes('dryRun=All');

function namespaces(...names: string[]): object[] {
  return names.map((name) => ({ apiVersion: 'v1', kind: 'Namespace', metadata: { name } }));
}

function runningPod(namespace: string, name: string, serviceAccountName: string, phase = 'Running'): object {
  return {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: {
      name,
      namespace,
      labels: { app: name.split('-')[0]!, 'azure.workload.identity/use': 'true' },
      ownerReferences: [{ apiVersion: 'apps/v1', kind: 'ReplicaSet', name: `${serviceAccountName}-7c9d`, uid: `uid-${name}`, controller: true }],
    },
    spec: { serviceAccountName, nodeName: 'aks-nodepool1-00000000-vmss000000', containers: [{ name: 'app', image: 'contoso.azurecr.io/app:1.0' }] },
    status: { phase },
  };
}

beforeAll(async () => {
  sb = await startSandbox();
  loaded = loadKubeConfig({ kubeconfig: readFileSync(sb.kubeconfigPath, 'utf8') }, { env: { RUNNER_TEMP: sb.workDir } });
  port = createKubePort(loaded.kc);
  core = loaded.kc.makeApiClient(CoreV1Api);
}, 60_000);

afterAll(async () => {
  try {
    loaded?.cleanup();
  } finally {
    await sb?.stop(); // removes the work directory (the kubeconfig file lives there too)
  }
});

/** The namespaces the tests write to; each test starts with them fresh. */
const TEST_NAMESPACES = ['payments', 'orders', 'ghost'];

// One cluster for the file, so each test starts from the same state whatever ran before it
// (or was skipped, or failed half-way): its namespaces emptied and recreated (ServiceAccounts,
// pods, anything a test seeded; the namespace's labels), RBAC and the webhook as at start.
beforeEach(() => {
  sb.kube.clearRbac();
  sb.kube.setWebhook(true);
  for (const ns of TEST_NAMESPACES) {
    for (const { resource, object } of sb.kube.store.namespacedContents(ns)) sb.kube.store.remove(resource, ns, object.metadata.name!);
    if (sb.kube.store.get('namespaces', undefined, ns)) sb.kube.store.remove('namespaces', undefined, ns);
  }
  sb.kube.seed(namespaces('payments', 'orders')); // 'ghost' stays missing; seeding fills each namespace as the controllers do (default ServiceAccount, kube-root-ca.crt)
  expect(sb.kube.store.list('pods').filter((p) => TEST_NAMESPACES.includes(p.metadata.namespace!))).toEqual([]);
  sb.log.reset();
});

describe('ServiceAccounts on the sandbox cluster', () => {
  it('creates a missing ServiceAccount with our annotations and the managed-by label', async () => {
    const { changes, checks } = await plan([payments]);
    expect(checks).toEqual([]);
    expect(changes.map((c) => c.action)).toEqual(['create']);
    const applied = await applyServiceAccounts(changes, port, { concurrency: 4 });
    expect(applied).toMatchObject([{ ok: true, attempts: 1 }]);

    const sa = await core.readNamespacedServiceAccount({ namespace: 'payments', name: 'payments-api' });
    expect(sa.metadata?.annotations).toEqual({
      [ANNOTATION_CLIENT_ID]: CLIENT_PAYMENTS,
      [ANNOTATION_TENANT_ID]: TENANT,
      [ANNOTATION_TOKEN_EXPIRATION]: '3600',
      'contoso.com/team': 'payments',
    });
    expect(sa.metadata?.labels).toEqual({ [LABEL_MANAGED_BY]: MANAGED_BY });
    expect(sa.metadata?.managedFields?.map((f) => f.manager)).toContain(MANAGED_BY);
  });

  it('an existing ServiceAccount keeps its labels, other annotations, secrets and imagePullSecrets', async () => {
    sb.kube.seed([
      {
        apiVersion: 'v1',
        kind: 'ServiceAccount',
        metadata: {
          name: 'orders-worker',
          namespace: 'orders',
          labels: { app: 'orders', 'app.kubernetes.io/managed-by': 'Helm' },
          annotations: { 'meta.helm.sh/release-name': 'orders', 'contoso.com/cost-center': '4711' },
        },
        secrets: [{ name: 'orders-worker-token' }],
        imagePullSecrets: [{ name: 'acr-pull' }],
        automountServiceAccountToken: false,
      },
    ]);
    const { changes, checks } = await plan([orders]);
    expect(changes).toMatchObject([{ action: 'annotate', labels: {} }]);
    expect(checks.map((c) => c.severity)).toEqual(['warning']); // Helm may revert us
    const applied = await applyServiceAccounts(changes, port, { concurrency: 4 });
    expect(applied.every((a) => a.ok)).toBe(true);

    const sa = await core.readNamespacedServiceAccount({ namespace: 'orders', name: 'orders-worker' });
    expect(sa.metadata?.labels).toEqual({ app: 'orders', 'app.kubernetes.io/managed-by': 'Helm' });
    expect(sa.metadata?.annotations).toEqual({
      'meta.helm.sh/release-name': 'orders',
      'contoso.com/cost-center': '4711',
      [ANNOTATION_CLIENT_ID]: CLIENT_ORDERS,
      [ANNOTATION_TENANT_ID]: TENANT,
    });
    expect(sa.secrets).toEqual([{ name: 'orders-worker-token' }]);
    expect(sa.imagePullSecrets).toEqual([{ name: 'acr-pull' }]);
    expect(sa.automountServiceAccountToken).toBe(false);
    // A merge patch, not a replace.
    expect(kubeWrites()).toEqual(['PATCH /api/v1/namespaces/orders/serviceaccounts/orders-worker?fieldManager=workload-identity-action']);
    const patch = sb.log.of('kube').find((c) => c.method === 'PATCH');
    expect(patch?.status).toBe(200);
  });

  it('a changed client ID reports the running pods that must be restarted', async () => {
    sb.kube.seed([
      {
        apiVersion: 'v1',
        kind: 'ServiceAccount',
        metadata: { name: 'payments-api', namespace: 'payments', annotations: { [ANNOTATION_CLIENT_ID]: CLIENT_OLD, [ANNOTATION_TENANT_ID]: TENANT } },
      },
      runningPod('payments', 'payments-api-7c9d-x2k4p', 'payments-api'),
      runningPod('payments', 'payments-api-7c9d-q8w3z', 'payments-api'),
      runningPod('payments', 'payments-migrate-zz9', 'payments-api', 'Succeeded'),
      runningPod('payments', 'reporting-5d4-abcde', 'default'),
    ]);
    const { changes } = await plan([payments]);
    const [c] = changes;
    expect(c).toMatchObject({ action: 'annotate', before: { [ANNOTATION_CLIENT_ID]: CLIENT_OLD, [ANNOTATION_TOKEN_EXPIRATION]: '', 'contoso.com/team': '' } });
    expect(c!.podsToRestart).toEqual(['payments-api-7c9d-q8w3z', 'payments-api-7c9d-x2k4p']);
    expect(c!.reason).toContain('2 running pod(s)');
    expect(c!.reason).toContain('ReplicaSet/payments-api-7c9d');
  });

  it('plan makes zero writes to the cluster', async () => {
    sb.kube.seed([
      { apiVersion: 'v1', kind: 'ServiceAccount', metadata: { name: 'payments-api', namespace: 'payments', annotations: { [ANNOTATION_CLIENT_ID]: CLIENT_OLD } } },
      runningPod('payments', 'payments-api-1', 'payments-api'),
    ]);
    sb.log.reset();
    const { changes } = await plan();
    expect(changes.map((c) => c.action).sort()).toEqual(['annotate', 'create']);
    expect(sb.log.of('kube').length).toBeGreaterThan(0);
    expect(kubeWrites()).toEqual([]);

    // Preflight's only POSTs are access reviews and a dry run: nothing is stored.
    await preflight({ bindings: [payments, orders], issuer: sb.issuerUrl, mode: 'plan', verify: true }, port);
    expect(kubeWrites().filter((w) => !isReadLike(w))).toEqual([]);
  });

  it('a second apply with nothing changed makes zero writes', async () => {
    await applyServiceAccounts((await plan()).changes, port, { concurrency: 4 });
    sb.log.reset();
    const again = await plan();
    expect(again.changes.map((c) => c.action)).toEqual(['unchanged', 'unchanged']);
    expect(await applyServiceAccounts(again.changes, port, { concurrency: 4 })).toEqual([]);
    expect(kubeWrites()).toEqual([]);
  });

  it('a ServiceAccount created between plan and apply is patched, not failed (409 AlreadyExists)', async () => {
    const { changes } = await plan([payments]);
    sb.kube.seed([{ apiVersion: 'v1', kind: 'ServiceAccount', metadata: { name: 'payments-api', namespace: 'payments', labels: { app: 'payments' } } }]);
    const applied = await applyServiceAccounts(changes, port, { concurrency: 1 });
    expect(applied).toMatchObject([{ ok: true, attempts: 2 }]);
    const sa = await core.readNamespacedServiceAccount({ namespace: 'payments', name: 'payments-api' });
    // Someone else's ServiceAccount now: its labels stay as they are.
    expect(sa.metadata?.labels).toEqual({ app: 'payments' });
    expect(sa.metadata?.annotations?.[ANNOTATION_CLIENT_ID]).toBe(CLIENT_PAYMENTS);
  });

  it('tokenExpiration dropped from the mapping: apply removes the annotation from a ServiceAccount it created, everything else stays', async () => {
    sb.kube.seed([
      {
        apiVersion: 'v1',
        kind: 'ServiceAccount',
        metadata: {
          name: 'orders-worker',
          namespace: 'orders',
          labels: { app: 'orders', 'app.kubernetes.io/managed-by': 'workload-identity-action' },
          annotations: {
            [ANNOTATION_CLIENT_ID]: CLIENT_ORDERS,
            [ANNOTATION_TENANT_ID]: TENANT,
            [ANNOTATION_TOKEN_EXPIRATION]: '3600',
            'contoso.com/team': 'orders', // once in the mapping's annotations, dropped since: not ours to remove
          },
        },
        imagePullSecrets: [{ name: 'acr-pull' }],
      },
    ]);
    const { changes } = await plan([orders]);
    expect(changes).toMatchObject([{ action: 'annotate', labels: {}, before: { [ANNOTATION_TOKEN_EXPIRATION]: '3600' } }]);
    expect(changes[0]!.reason).toContain('remove service-account-token-expiration (was 3600)');
    expect(changes[0]!.podsToRestart).toEqual([]);

    expect(await applyServiceAccounts(changes, port, { concurrency: 1 })).toMatchObject([{ ok: true, attempts: 1 }]);
    const sa = await core.readNamespacedServiceAccount({ namespace: 'orders', name: 'orders-worker' });
    expect(sa.metadata?.annotations).toEqual({ [ANNOTATION_CLIENT_ID]: CLIENT_ORDERS, [ANNOTATION_TENANT_ID]: TENANT, 'contoso.com/team': 'orders' });
    expect(sa.metadata?.labels).toEqual({ app: 'orders', 'app.kubernetes.io/managed-by': 'workload-identity-action' });
    expect(sa.imagePullSecrets).toEqual([{ name: 'acr-pull' }]);

    sb.log.reset();
    expect((await plan([orders])).changes.map((c) => c.action)).toEqual(['unchanged']);
    expect(kubeWrites()).toEqual([]);
  });

  it('an existing ServiceAccount without a managed-by label does not get one', async () => {
    sb.kube.seed([
      {
        apiVersion: 'v1',
        kind: 'ServiceAccount',
        metadata: { name: 'payments-api', namespace: 'payments', labels: { app: 'payments' }, annotations: { [ANNOTATION_CLIENT_ID]: CLIENT_OLD } },
      },
    ]);
    const { changes } = await plan([payments]);
    expect(changes).toMatchObject([{ action: 'annotate', labels: {} }]);
    expect(await applyServiceAccounts(changes, port, { concurrency: 1 })).toMatchObject([{ ok: true }]);
    const sa = await core.readNamespacedServiceAccount({ namespace: 'payments', name: 'payments-api' });
    expect(sa.metadata?.labels).toEqual({ app: 'payments' });
    expect(sa.metadata?.annotations?.[ANNOTATION_CLIENT_ID]).toBe(CLIENT_PAYMENTS);
  });

  it('a denied write fails that ServiceAccount only, with the API server reason', async () => {
    sb.kube.denyRbac({ verb: 'create', resource: 'serviceaccounts', namespace: 'payments' });
    const applied = await applyServiceAccounts((await plan()).changes, port, { concurrency: 2 });
    const byNs = Object.fromEntries(applied.map((a) => [(a.change as { namespace: string }).namespace, a]));
    expect(byNs['payments']).toMatchObject({ ok: false });
    expect(byNs['payments']!.error).toContain('403 Forbidden');
    expect(byNs['payments']!.error).toContain('cannot create resource "serviceaccounts"');
    expect(byNs['orders']).toMatchObject({ ok: true });
  });
});

describe('preflight on the sandbox cluster', () => {
  const byName = (checks: PreflightCheck[], name: string) => checks.filter((c) => c.name === name);

  it('a ready cluster passes every check, with a dry-run proof of the mutation', async () => {
    const checks = await preflight({ bindings: [payments, orders], issuer: sb.issuerUrl, mode: 'apply', verify: true }, port);
    const failed = checks.filter((c) => !c.ok);
    expect(failed).toEqual([]);
    const proof = byName(checks, 'webhook-dry-run')[0]!;
    expect(proof.detail).toContain('AZURE_FEDERATED_TOKEN_FILE');
    expect(proof.detail).toContain('nothing was created');
    expect(byName(checks, 'webhook')[0]!.detail).toContain('AKS add-on');
    expect(sb.kube.store.list('pods').filter((p) => p.metadata.name?.startsWith('wi-preflight-'))).toEqual([]);
  });

  it('dry-runs a pod in every distinct namespace: the one the webhook never reaches (kube-system on AKS) is a blocking error at its binding', async () => {
    const system = binding('kube-system', 'default', 'id-system', {}, 31);
    const checks = await preflight({ bindings: [payments, orders, system], issuer: sb.issuerUrl, mode: 'plan', verify: false }, port);
    const dryRuns = sb.log.calls.filter((c) => c.service === 'kube' && c.method === 'POST' && c.path.includes('dryRun=All') && c.path.includes('/pods'));
    expect(dryRuns.map((c) => c.path.split('/')[4]).sort()).toEqual(['kube-system', 'orders', 'payments']);
    const failed = byName(checks, 'webhook-dry-run').filter((c) => !c.ok);
    expect(failed).toHaveLength(1);
    expect(failed[0]).toMatchObject({ severity: 'error', at: system.at });
    expect(failed[0]!.detail).toContain('did not mutate a labelled dry-run pod in kube-system');
    expect(failed[0]!.detail).toContain('AKS keeps every admission webhook out of kube-system');
    expect(byName(checks, 'webhook-dry-run').find((c) => c.ok)!.detail).toMatch(/in orders \(.*\); payments \(/);
  });

  it('a mapping whose only namespace is kube-system: the dry run there blocks even a plan without verification, naming AKS\'s exclusion', async () => {
    const system = binding('kube-system', 'default', 'id-system', {}, 31);
    const checks = await preflight({ bindings: [system], issuer: sb.issuerUrl, mode: 'plan', verify: false }, port);
    const failed = byName(checks, 'webhook-dry-run').filter((c) => !c.ok);
    expect(failed).toHaveLength(1);
    expect(failed[0]).toMatchObject({ severity: 'error', at: system.at, fix: 'Move the workload and its binding to a namespace of its own.' });
    expect(failed[0]!.detail).toContain('AKS keeps every admission webhook out of kube-system');
  });

  it("the dry run decides, not the namespace's name: a webhook that opts out of AKS's enforcer mutates kube-system, and nothing blocks", async () => {
    const addOn = sb.kube.store.get('mutatingwebhookconfigurations', undefined, 'azure-wi-webhook-mutating-webhook-configuration')!;
    sb.kube.seed([{ ...addOn, metadata: { ...addOn.metadata, labels: { ...addOn.metadata.labels, 'admissions.enforcer/disabled': 'true' } } }]);
    const system = binding('kube-system', 'default', 'id-system', {}, 31);
    const checks = await preflight({ bindings: [payments, system], issuer: sb.issuerUrl, mode: 'plan', verify: false }, port);
    expect(byName(checks, 'webhook-dry-run').filter((c) => !c.ok)).toEqual([]);
    expect(byName(checks, 'webhook-dry-run').find((c) => c.ok)!.detail).toMatch(/in kube-system \(.*AZURE_FEDERATED_TOKEN_FILE.*\); payments \(/);
  });

  it("a binding with a custom audience is not proven by a token with the default one: an error at its line naming AADSTS700212", async () => {
    const custom = binding('payments', 'payments-api', 'id-payments', { audience: 'api://contoso-payments' }, 12);
    const checks = await preflight({ bindings: [custom, orders], issuer: sb.issuerUrl, mode: 'plan', verify: false }, port);
    const failed = byName(checks, 'webhook-dry-run').filter((c) => !c.ok);
    expect(failed).toHaveLength(1);
    expect(failed[0]).toMatchObject({ severity: 'error', at: custom.at });
    expect(failed[0]!.detail).toContain("audience api://AzureADTokenExchange");
    expect(failed[0]!.detail).toContain("federates audience 'api://contoso-payments'");
    expect(failed[0]!.detail).toContain('AADSTS700212');
  });

  it('the dry-run pod passes Pod Security "restricted", so the proof works there too', async () => {
    sb.kube.seed([
      { apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'payments', labels: { 'pod-security.kubernetes.io/enforce': 'restricted' } } },
    ]);
    try {
      const checks = await preflight({ bindings: [payments], issuer: sb.issuerUrl, mode: 'plan', verify: true }, port);
      expect(byName(checks, 'webhook-dry-run')[0]).toMatchObject({ ok: true, severity: 'info' });
    } finally {
      sb.kube.seed(namespaces('payments'));
    }
  });

  it('an RBAC denial names the missing verbs and gives a Role to apply', async () => {
    sb.kube.denyRbac({ verb: 'patch', resource: 'serviceaccounts', namespace: 'payments' });
    sb.kube.denyRbac({ verb: 'get', resource: 'pods/log' });
    const checks = await preflight({ bindings: [payments, orders], issuer: sb.issuerUrl, mode: 'apply', verify: true }, port);
    const rbac = byName(checks, 'rbac')[0]!;
    expect(rbac).toMatchObject({ ok: false, severity: 'error' });
    expect(rbac.detail).toContain('patch serviceaccounts in payments');
    expect(rbac.detail).toContain('get pods/log in orders');
    expect(rbac.detail).toContain('get pods/log in payments');
    expect(rbac.detail).not.toContain('patch serviceaccounts in orders');
    expect(rbac.fix).toContain('kind: Role');
    expect(rbac.fix).toContain('namespace: payments');
    expect(rbac.fix).toContain('resources: [pods/log]');
    expect(rbac.fix).toContain('verbs: [patch]');
  });

  it('plan mode asks only for the read permissions', async () => {
    sb.kube.denyRbac({ verb: 'patch', resource: 'serviceaccounts' });
    const checks = await preflight({ bindings: [payments], issuer: sb.issuerUrl, mode: 'plan', verify: true }, port);
    expect(byName(checks, 'rbac')[0]).toMatchObject({ ok: true });
  });

  it('a Role with get but not list on serviceaccounts: a warning naming list, and plan and apply still work, one GET per ServiceAccount', async () => {
    sb.kube.denyRbac({ verb: 'list', resource: 'serviceaccounts' });
    const checks = await preflight({ bindings: [payments, orders], issuer: sb.issuerUrl, mode: 'apply', verify: true }, port);
    expect(checks.filter((c) => !c.ok && c.severity === 'error')).toEqual([]);
    const rbac = byName(checks, 'rbac');
    expect(rbac).toMatchObject([{ ok: false, severity: 'warning' }]);
    expect(rbac[0]!.detail).toContain('may not list serviceaccounts in orders; list serviceaccounts in payments');
    expect(rbac[0]!.detail).toContain('with get instead');
    expect(rbac[0]!.fix).toContain('verbs: [list]');
    sb.log.reset();
    const { changes, checks: planChecks } = await plan();
    expect(planChecks).toEqual([]);
    expect(sb.log.counts('kube')).toMatchObject({ 'kube list serviceaccounts': 2, 'kube get serviceaccounts': 2 });
    const applied = await applyServiceAccounts(changes, port, { concurrency: 2 });
    expect(applied.map((a) => a.ok)).toEqual([true, true]);
  });

  it('neither list nor get on serviceaccounts: an error that asks for list', async () => {
    sb.kube.denyRbac({ verb: 'list', resource: 'serviceaccounts', namespace: 'payments' });
    sb.kube.denyRbac({ verb: 'get', resource: 'serviceaccounts', namespace: 'payments' });
    const checks = await preflight({ bindings: [payments, orders], issuer: sb.issuerUrl, mode: 'plan', verify: true }, port);
    const rbac = byName(checks, 'rbac');
    expect(rbac).toMatchObject([{ ok: false, severity: 'error' }]);
    expect(rbac[0]!.detail).toContain('list serviceaccounts in payments');
    expect(rbac[0]!.detail).not.toContain('in orders');
    const { changes, checks: planChecks } = await plan();
    expect(planChecks).toMatchObject([{ severity: 'error', detail: expect.stringContaining('Could not read ServiceAccount payments/payments-api') }]);
    expect(changes.map((c) => c.namespace)).toEqual(['orders']);
  });

  it('a CI identity with namespace-scoped Roles only can still plan and apply; the checks it cannot run are warnings', async () => {
    sb.kube.denyRbac({ verb: 'get', resource: 'namespaces' });
    sb.kube.denyRbac({ verb: 'list', resource: 'mutatingwebhookconfigurations' });
    const checks = await preflight({ bindings: [payments, orders], issuer: sb.issuerUrl, mode: 'apply', verify: true }, port);
    expect(checks.filter((c) => !c.ok && c.severity === 'error')).toEqual([]);
    const rbac = byName(checks, 'rbac');
    expect(rbac).toHaveLength(1);
    expect(rbac[0]).toMatchObject({ ok: false, severity: 'warning' });
    expect(rbac[0]!.detail).toContain("get namespaces (cluster-wide), so the check that the bindings' namespaces exist could not run");
    expect(rbac[0]!.detail).toContain('list mutatingwebhookconfigurations.admissionregistration.k8s.io (cluster-wide), so the check that the Azure Workload Identity webhook is installed could not run');
    expect(rbac[0]!.fix).toContain('kind: ClusterRole');
    // The skipped checks add no noise of their own; the dry run still proves the webhook.
    expect(byName(checks, 'namespace')).toEqual([]);
    expect(byName(checks, 'webhook')).toEqual([]);
    expect(byName(checks, 'webhook-dry-run')[0]).toMatchObject({ ok: true, severity: 'info' });

    const applied = await applyServiceAccounts((await plan()).changes, port, { concurrency: 2 });
    expect(applied.map((a) => a.ok)).toEqual([true, true]);
  });

  it('without the webhook and without the right to list webhook registrations, the dry run still says so', async () => {
    sb.kube.denyRbac({ verb: 'list', resource: 'mutatingwebhookconfigurations' });
    sb.kube.setWebhook(false);
    const checks = await preflight({ bindings: [payments], issuer: sb.issuerUrl, mode: 'apply', verify: true }, port);
    const proof = byName(checks, 'webhook-dry-run')[0]!;
    expect(proof).toMatchObject({ ok: false, severity: 'error' });
    expect(proof.detail).toContain('whose registration could not be checked');
    expect(proof.detail).toContain('no AZURE_* env injected');
    expect(proof.fix).toContain('--enable-workload-identity');
  });

  it('a cluster that admits only images from its own registry: the dry run uses the image it is given', async () => {
    // An image policy (Gatekeeper allowed-repos, Azure Policy for AKS) in front of the
    // sandbox's API server, answering as Gatekeeper does.
    const allowed = 'contoso.azurecr.io/';
    const policed: KubePort = {
      ...port,
      async dryRunCreatePod(pod) {
        if (!pod.image.startsWith(allowed)) {
          const why = `admission webhook "validation.gatekeeper.sh" denied the request: [allowed-repos] container <probe> has an invalid image repo <${pod.image}>, allowed repos are ["${allowed}"]`;
          throw new KubeApiError(`dry-run create pod in ${pod.namespace}`, `dry-run create pod in ${pod.namespace}: 403 Forbidden: ${why}`, 403, 'Forbidden');
        }
        return port.dryRunCreatePod(pod);
      },
    };
    const refused = await preflight({ bindings: [payments], issuer: sb.issuerUrl, mode: 'plan', verify: true }, policed);
    const warning = byName(refused, 'webhook-dry-run')[0]!;
    expect(warning).toMatchObject({ severity: 'warning' });
    expect(warning.detail).toContain('mcr.microsoft.com/azurelinux/base/nodejs:24');
    expect(warning.fix).toContain('verify-image');

    const proof = await preflight({ bindings: [payments], issuer: sb.issuerUrl, mode: 'plan', verify: true, image: 'contoso.azurecr.io/mirror/azurelinux/base/nodejs:24' }, policed);
    expect(byName(proof, 'webhook-dry-run')[0]).toMatchObject({ ok: true, severity: 'info' });
    expect(byName(proof, 'webhook-dry-run')[0]!.detail).toContain('AZURE_FEDERATED_TOKEN_FILE');
  });

  it('without the webhook, says verification cannot pass, why, and how to enable it', async () => {
    sb.kube.setWebhook(false);
    const checks = await preflight({ bindings: [payments], issuer: sb.issuerUrl, mode: 'apply', verify: true }, port);
    const webhook = byName(checks, 'webhook')[0]!;
    expect(webhook).toMatchObject({ ok: false, severity: 'error' });
    expect(webhook.detail).toContain('verification cannot pass');
    expect(webhook.detail).toContain('AZURE_FEDERATED_TOKEN_FILE');
    expect(webhook.fix).toContain('az aks update');
    expect(webhook.fix).toContain('--enable-workload-identity');
    expect(byName(checks, 'webhook-dry-run')).toEqual([]);
  });

  it('warns when the webhook is installed twice (add-on and Helm)', async () => {
    const addOn = sb.kube.store.get('mutatingwebhookconfigurations', undefined, 'azure-wi-webhook-mutating-webhook-configuration')!;
    const helm = structuredClone(addOn) as typeof addOn & { webhooks: { clientConfig: { service: { namespace: string } } }[] };
    helm.metadata = { name: 'workload-identity-webhook-mutating-webhook-configuration', labels: { release: 'workload-identity-webhook' } };
    for (const w of helm.webhooks) w.clientConfig.service.namespace = 'azure-workload-identity-system';
    sb.kube.seed([helm]);
    try {
      const checks = await preflight({ bindings: [payments], issuer: sb.issuerUrl, mode: 'plan', verify: true }, port);
      const warning = byName(checks, 'webhook').find((c) => !c.ok)!;
      expect(warning.severity).toBe('warning');
      expect(warning.detail).toContain('installed 2 times');
      expect(warning.detail).toContain('AKS add-on (kube-system)');
      expect(warning.detail).toContain('Helm (azure-workload-identity-system)');
      expect(warning.fix).toContain('helm uninstall');
    } finally {
      sb.kube.store.remove('mutatingwebhookconfigurations', undefined, helm.metadata.name!);
    }
  });

  it('a webhook that does not answer is caught by the dry run', async () => {
    sb.kube.setWebhook('unreachable');
    const checks = await preflight({ bindings: [payments], issuer: sb.issuerUrl, mode: 'verify', verify: true }, port);
    const proof = byName(checks, 'webhook-dry-run')[0]!;
    expect(proof).toMatchObject({ ok: false, severity: 'error' });
    expect(proof.detail).toContain('mutation.azure-workload-identity.io');
  });

  it('a missing namespace is an error at the mapping line of its binding', async () => {
    const ghost = binding('ghost', 'ghost-api', 'id-ghost', {}, 24);
    const checks = await preflight({ bindings: [payments, ghost], issuer: sb.issuerUrl, mode: 'plan', verify: true }, port);
    const ns = byName(checks, 'namespace').filter((c) => !c.ok);
    expect(ns).toHaveLength(1);
    expect(ns[0]).toMatchObject({ severity: 'error', at: ghost.at });
    expect(ns[0]!.detail).toContain('Namespace ghost does not exist');
    expect(ns[0]!.detail).toContain(`${ghost.at.file}:${ghost.at.line}`);
  });

  it("an issuer that differs from the cluster's says exactly how", async () => {
    const withoutSlash = sb.issuerUrl.replace(/\/$/, '');
    const checks = await preflight({ bindings: [payments], issuer: withoutSlash, mode: 'plan', verify: true }, port);
    const issuer = byName(checks, 'issuer')[0]!;
    expect(issuer).toMatchObject({ ok: false, severity: 'error' });
    expect(issuer.detail).toContain('trailing slash');
    expect(issuer.detail).toContain(sb.issuerUrl);
    expect(issuer.fix).toContain(`issuer: ${sb.issuerUrl}`);

    const other = await preflight({ bindings: [payments], issuer: sb.issuerUrl.replace(/[0-9a-f]{8}-/, '00000000-'), mode: 'plan', verify: true }, port);
    expect(byName(other, 'issuer')[0]!.detail).toMatch(/path differs|host differs/);
  });

  it("an issuer of another path is another (or a recreated) cluster, never 'the issuer was rotated': AKS rotates keys, not the issuer", async () => {
    const otherPath = sb.issuerUrl.replace(/[0-9a-f]{8}-/, '00000000-');
    expect(otherPath).not.toBe(sb.issuerUrl);
    const checks = await preflight({ bindings: [payments], issuer: otherPath, mode: 'plan', verify: true }, port);
    const issuer = byName(checks, 'issuer')[0]!;
    expect(issuer).toMatchObject({ ok: false, severity: 'error' });
    expect(issuer.detail).toContain('another cluster');
    expect(`${issuer.detail} ${issuer.fix ?? ''}`).not.toMatch(/rotat/i);
  });

  it('an unreachable API server is one plain error', async () => {
    const dead = loadKubeConfig(
      { kubeconfig: readFileSync(sb.kubeconfigPath, 'utf8').replace(/server: https:\/\/127\.0\.0\.1:\d+/, 'server: https://127.0.0.1:9') },
      { env: { RUNNER_TEMP: sb.workDir } },
    );
    try {
      const checks = await preflight({ bindings: [payments], issuer: sb.issuerUrl, mode: 'plan', verify: true }, createKubePort(dead.kc));
      expect(checks).toHaveLength(1);
      expect(checks[0]).toMatchObject({ name: 'api', ok: false, severity: 'error' });
      expect(checks[0]!.detail).toContain('cannot be reached');
    } finally {
      dead.cleanup();
    }
  });
});
