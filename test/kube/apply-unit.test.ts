import { describe, expect, it } from 'vitest';
import { applyServiceAccounts } from '../../src/kube/apply.ts';
import { planServiceAccounts } from '../../src/kube/plan.ts';
import { createClusterSnapshot } from '../../src/kube/snapshot.ts';
import { identityKey } from '../../src/mapping/identity.ts';
import { KubeApiError } from '../../src/kube/port.ts';
import { ANNOTATION_CLIENT_ID, ANNOTATION_TENANT_ID, ANNOTATION_TOKEN_EXPIRATION } from '../../src/plan/service-accounts.ts';
import { FakePort } from './fake-port.ts';
import { TENANT, binding } from './fixtures.ts';

const CLIENT = '11111111-aaaa-0000-0000-000000000001';

async function plan(port: FakePort, bindings = [binding('payments', 'api', 'id-payments'), binding('orders', 'api', 'id-orders')]) {
  const clientIds = new Map(bindings.map((b) => [identityKey(b.identity.resourceId), CLIENT]));
  return planServiceAccounts({ bindings, clientIds, tenantId: TENANT }, createClusterSnapshot(port));
}

describe('applyServiceAccounts (fake cluster)', () => {
  it('a ServiceAccount created by someone else since the plan is patched instead (409 AlreadyExists)', async () => {
    const port = new FakePort();
    const { changes } = await plan(port);
    port.sas.set('payments/api', { namespace: 'payments', name: 'api', labels: { app: 'payments' }, annotations: { keep: 'me' } });
    const applied = await applyServiceAccounts(changes, port, { concurrency: 2, retry: { baseDelayMs: 0 } });
    expect(applied.every((a) => a.ok)).toBe(true);
    const sa = port.sas.get('payments/api')!;
    expect(sa.annotations).toMatchObject({ keep: 'me', [ANNOTATION_CLIENT_ID]: CLIENT });
    // Someone else's ServiceAccount now: only our annotations go onto it, no managed-by label.
    expect(sa.labels).toEqual({ app: 'payments' });
  });

  it('tokenExpiration dropped from the mapping: the patch removes the annotation (null) and keeps the rest', async () => {
    const port = new FakePort();
    port.sas.set('payments/api', {
      namespace: 'payments',
      name: 'api',
      labels: { app: 'payments', 'app.kubernetes.io/managed-by': 'workload-identity-action' },
      annotations: { [ANNOTATION_CLIENT_ID]: CLIENT, [ANNOTATION_TENANT_ID]: TENANT, [ANNOTATION_TOKEN_EXPIRATION]: '3600', keep: 'me' },
    });
    const { changes } = await plan(port, [binding('payments', 'api', 'id-payments')]);
    expect(changes).toMatchObject([{ action: 'annotate', before: { [ANNOTATION_TOKEN_EXPIRATION]: '3600' } }]);
    const [applied] = await applyServiceAccounts(changes, port, { concurrency: 1, retry: { baseDelayMs: 0 } });
    expect(applied).toMatchObject({ ok: true, attempts: 1 });
    expect(port.sas.get('payments/api')).toMatchObject({
      labels: { app: 'payments', 'app.kubernetes.io/managed-by': 'workload-identity-action' },
      annotations: { [ANNOTATION_CLIENT_ID]: CLIENT, [ANNOTATION_TENANT_ID]: TENANT, keep: 'me' },
    });
    expect((await plan(port, [binding('payments', 'api', 'id-payments')])).changes[0]!.action).toBe('unchanged');
  });

  it('an annotation that an admission policy keeps although we removed it fails that ServiceAccount', async () => {
    const port = new FakePort();
    port.sas.set('payments/api', {
      namespace: 'payments',
      name: 'api',
      labels: { 'app.kubernetes.io/managed-by': 'workload-identity-action' },
      annotations: { [ANNOTATION_CLIENT_ID]: CLIENT, [ANNOTATION_TENANT_ID]: TENANT, [ANNOTATION_TOKEN_EXPIRATION]: '3600' },
    });
    const { changes } = await plan(port, [binding('payments', 'api', 'id-payments')]);
    const sticky: FakePort['patchServiceAccountAnnotations'] = async (namespace, name) => structuredClone(port.sas.get(`${namespace}/${name}`)!);
    port.patchServiceAccountAnnotations = sticky;
    const [applied] = await applyServiceAccounts(changes, port, { concurrency: 1, retry: { baseDelayMs: 0 } });
    expect(applied).toMatchObject({ ok: false });
    expect(applied!.error).toContain(`${ANNOTATION_TOKEN_EXPIRATION}='3600' instead of removing it`);
  });

  it('a failure on one ServiceAccount does not stop the others, and keeps the API reason', async () => {
    const port = new FakePort();
    const { changes } = await plan(port);
    port.failures.set('createServiceAccount', [new KubeApiError('create ServiceAccount payments/api', 'create ServiceAccount payments/api: 403 Forbidden: nope', 403, 'Forbidden')]);
    const applied = await applyServiceAccounts(changes, port, { concurrency: 1, retry: { baseDelayMs: 0 } });
    expect(applied.map((a) => a.ok)).toEqual([false, true]);
    expect(applied[0]!.error).toContain('403 Forbidden');
    expect(applied[0]!.error).toContain('.github/workload-identity.yaml:');
    expect(port.sas.has('orders/api')).toBe(true);
  });

  it('retries throttling and server errors, counting attempts', async () => {
    const port = new FakePort();
    const { changes } = await plan(port, [binding('payments', 'api', 'id-payments')]);
    port.failures.set('createServiceAccount', [new KubeApiError('create', 'throttled', 429, 'TooManyRequests'), new KubeApiError('create', 'boom', 503, 'ServiceUnavailable')]);
    const [applied] = await applyServiceAccounts(changes, port, { concurrency: 1, retry: { baseDelayMs: 0 } });
    expect(applied).toMatchObject({ ok: true, attempts: 3 });
  });

  it('a second apply writes nothing', async () => {
    const port = new FakePort();
    await applyServiceAccounts((await plan(port)).changes, port, { concurrency: 4, retry: { baseDelayMs: 0 } });
    port.calls.length = 0;
    const again = await plan(port);
    expect(again.changes.map((c) => c.action)).toEqual(['unchanged', 'unchanged']);
    expect(await applyServiceAccounts(again.changes, port, { concurrency: 4 })).toEqual([]);
    expect(port.writes()).toEqual([]);
  });

  it('pods are listed only for ServiceAccounts whose identity changes', async () => {
    const port = new FakePort();
    port.sas.set('payments/api', { namespace: 'payments', name: 'api', labels: {}, annotations: { [ANNOTATION_CLIENT_ID]: 'old-client' } });
    port.pods.set('payments/api', [{ name: 'api-1', phase: 'Running', usesWorkloadIdentity: true, owner: 'ReplicaSet/api-7c' }]);
    const { changes } = await plan(port);
    expect(changes.find((c) => c.namespace === 'payments')!.podsToRestart).toEqual(['api-1']);
    // One LIST of pods, in the one namespace where the identity changes.
    expect(port.calls.filter((c) => c === 'list pods')).toHaveLength(1);
  });

  it('a ServiceAccount that cannot be read becomes an error check, not a create', async () => {
    const port = new FakePort();
    port.failures.set('list serviceaccounts', [new KubeApiError('list', 'list serviceaccounts in payments: 500 InternalError: etcd', 500, 'InternalError')]);
    const { changes, checks } = await plan(port, [binding('payments', 'api', 'id-payments')]);
    expect(changes).toEqual([]);
    expect(checks[0]).toMatchObject({ severity: 'error', name: 'service-account' });
  });

  it('the run\'s snapshot holds what apply wrote: verification reads the new client ID without listing again', async () => {
    const port = new FakePort();
    port.sas.set('payments/api', { namespace: 'payments', name: 'api', labels: {}, annotations: { [ANNOTATION_CLIENT_ID]: 'old-client' } });
    const snapshot = createClusterSnapshot(port);
    const bindings = [binding('payments', 'api', 'id-payments'), binding('orders', 'api', 'id-orders')];
    const clientIds = new Map(bindings.map((b) => [identityKey(b.identity.resourceId), CLIENT]));
    const { changes } = await planServiceAccounts({ bindings, clientIds, tenantId: TENANT }, snapshot);
    await applyServiceAccounts(changes, port, { concurrency: 2, snapshot });
    port.calls.length = 0;
    expect((await snapshot.get('serviceaccounts', 'payments', 'api'))!.annotations[ANNOTATION_CLIENT_ID]).toBe(CLIENT);
    expect((await snapshot.get('serviceaccounts', 'orders', 'api'))!.annotations[ANNOTATION_CLIENT_ID]).toBe(CLIENT);
    expect(port.calls).toEqual([]);
  });
});
