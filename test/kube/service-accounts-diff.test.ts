import { describe, expect, it } from 'vitest';
import {
  ANNOTATION_CLIENT_ID,
  ANNOTATION_TENANT_ID,
  ANNOTATION_TOKEN_EXPIRATION,
  LABEL_MANAGED_BY,
  MANAGED_BY,
  annotationPatch,
  changesIdentity,
  diffServiceAccounts,
  serviceAccountKey,
  type ObservedServiceAccount,
} from '../../src/plan/service-accounts.ts';
import type { ResolvedBinding } from '../../src/mapping/types.ts';
import { TENANT, binding } from './fixtures.ts';

const CLIENT_A = '11111111-aaaa-0000-0000-000000000001';
const CLIENT_B = '22222222-bbbb-0000-0000-000000000002';

function diff(bindings: ResolvedBinding[], observed: Record<string, ObservedServiceAccount> = {}, clientId: string | null = CLIENT_A) {
  return diffServiceAccounts({
    bindings,
    clientIdFor: () => clientId ?? undefined,
    tenantIdFor: () => TENANT,
    observed: new Map(Object.entries(observed)),
  });
}

describe('ServiceAccount diff', () => {
  it('a missing ServiceAccount is created with our annotations and the managed-by label', () => {
    const b = binding('payments', 'payments-api', 'id-payments', { tokenExpiration: 7200, annotations: { 'team.example.com/owner': 'payments' } });
    const { changes, checks } = diff([b]);
    expect(checks).toEqual([]);
    expect(changes).toHaveLength(1);
    const c = changes[0]!;
    expect(c.action).toBe('create');
    expect(c.annotations).toEqual({
      [ANNOTATION_CLIENT_ID]: CLIENT_A,
      [ANNOTATION_TENANT_ID]: TENANT,
      [ANNOTATION_TOKEN_EXPIRATION]: '7200',
      'team.example.com/owner': 'payments',
    });
    expect(c.labels).toEqual({ [LABEL_MANAGED_BY]: MANAGED_BY });
    expect(c.binding).toMatchObject({ namespace: 'payments', serviceAccount: 'payments-api', environment: 'staging', at: b.at });
    expect(c.podsToRestart).toEqual([]);
  });

  it('the binding tenant wins over the identity tenant; no tenant known means no tenant annotation', () => {
    const b = binding('payments', 'api', 'id', { tenantId: 'tenant-from-mapping' });
    expect(diff([b]).changes[0]!.annotations[ANNOTATION_TENANT_ID]).toBe('tenant-from-mapping');
    const noTenant = diffServiceAccounts({ bindings: [binding('payments', 'api', 'id')], clientIdFor: () => CLIENT_A, observed: new Map() });
    expect(noTenant.changes[0]!.annotations).not.toHaveProperty(ANNOTATION_TENANT_ID);
  });

  it('a ServiceAccount that already carries the annotations is unchanged, whatever else it has', () => {
    const b = binding('payments', 'api', 'id');
    const { changes } = diff([b], {
      'payments/api': {
        labels: { app: 'payments', [LABEL_MANAGED_BY]: 'Helm' },
        annotations: { [ANNOTATION_CLIENT_ID]: CLIENT_A, [ANNOTATION_TENANT_ID]: TENANT, 'other/annotation': 'x' },
      },
    });
    expect(changes[0]).toMatchObject({ action: 'unchanged', before: {}, labels: {} });
  });

  it('an existing ServiceAccount is annotated with only the keys that differ, before holding the old values', () => {
    const b = binding('payments', 'api', 'id', { tokenExpiration: 3600 });
    const { changes } = diff([b], {
      'payments/api': { labels: {}, annotations: { [ANNOTATION_CLIENT_ID]: CLIENT_A, [ANNOTATION_TENANT_ID]: TENANT, keep: 'me' } },
    });
    const c = changes[0]!;
    expect(c.action).toBe('annotate');
    expect(c.before).toEqual({ [ANNOTATION_TOKEN_EXPIRATION]: '' });
    expect(c.labels).toEqual({}); // an existing ServiceAccount keeps its labels: no managed-by added
    expect(changesIdentity(c)).toBe(false);
    expect(c.reason).toContain('add service-account-token-expiration=3600');
  });

  it('tokenExpiration dropped from the mapping plans removing the annotation from a ServiceAccount this action created', () => {
    const b = binding('payments', 'api', 'id');
    const { changes } = diff([b], {
      'payments/api': {
        labels: { [LABEL_MANAGED_BY]: MANAGED_BY },
        annotations: { [ANNOTATION_CLIENT_ID]: CLIENT_A, [ANNOTATION_TENANT_ID]: TENANT, [ANNOTATION_TOKEN_EXPIRATION]: '3600', keep: 'me' },
      },
    });
    const c = changes[0]!;
    expect(c.action).toBe('annotate');
    expect(c.before).toEqual({ [ANNOTATION_TOKEN_EXPIRATION]: '3600' });
    expect(c.annotations).not.toHaveProperty(ANNOTATION_TOKEN_EXPIRATION);
    expect(c.reason).toContain('remove service-account-token-expiration (was 3600)');
    expect(changesIdentity(c)).toBe(false);
    expect(annotationPatch(c)).toEqual({ [ANNOTATION_CLIENT_ID]: CLIENT_A, [ANNOTATION_TENANT_ID]: TENANT, [ANNOTATION_TOKEN_EXPIRATION]: null });
  });

  it('an extra annotation dropped from the mapping is left on the ServiceAccount (not tracked)', () => {
    const b = binding('payments', 'api', 'id');
    const { changes } = diff([b], {
      'payments/api': { labels: {}, annotations: { [ANNOTATION_CLIENT_ID]: CLIENT_A, [ANNOTATION_TENANT_ID]: TENANT, 'contoso.com/team': 'payments' } },
    });
    expect(changes[0]).toMatchObject({ action: 'unchanged', before: {} });
  });

  it('an unknown tenant keeps the tenant-id annotation the ServiceAccount has', () => {
    const { changes } = diffServiceAccounts({
      bindings: [binding('payments', 'api', 'id')],
      clientIdFor: () => CLIENT_A,
      observed: new Map([['payments/api', { labels: {}, annotations: { [ANNOTATION_CLIENT_ID]: CLIENT_A, [ANNOTATION_TENANT_ID]: TENANT } }]]),
    });
    expect(changes[0]).toMatchObject({ action: 'unchanged', before: {} });
  });

  it('a token-expiration annotation on a ServiceAccount someone else manages stays when the mapping names none (it may be theirs)', () => {
    const b = binding('payments', 'api', 'id');
    const { changes } = diff([b], {
      'payments/api': {
        labels: { [LABEL_MANAGED_BY]: 'Helm' },
        annotations: { 'meta.helm.sh/release-name': 'payments', [ANNOTATION_CLIENT_ID]: CLIENT_A, [ANNOTATION_TENANT_ID]: TENANT, [ANNOTATION_TOKEN_EXPIRATION]: '86400' },
      },
    });
    expect(changes[0]).toMatchObject({ action: 'unchanged', before: {} });
  });

  it('a changed client ID lists the running pods that keep the old identity', () => {
    const b = binding('payments', 'api', 'id');
    const { changes } = diff(
      [b],
      {
        'payments/api': {
          labels: {},
          annotations: { [ANNOTATION_CLIENT_ID]: CLIENT_B, [ANNOTATION_TENANT_ID]: TENANT },
          pods: [
            { name: 'api-7c9d-abcde', owner: 'ReplicaSet/api-7c9d', usesWorkloadIdentity: true },
            { name: 'api-7c9d-fghij', owner: 'ReplicaSet/api-7c9d', usesWorkloadIdentity: true },
            { name: 'legacy-5f-xyz', owner: 'ReplicaSet/legacy-5f', usesWorkloadIdentity: false },
          ],
        },
      },
      CLIENT_A,
    );
    const c = changes[0]!;
    expect(c.action).toBe('annotate');
    expect(c.before).toEqual({ [ANNOTATION_CLIENT_ID]: CLIENT_B });
    expect(c.podsToRestart).toEqual(['api-7c9d-abcde', 'api-7c9d-fghij']);
    expect(changesIdentity(c)).toBe(true);
    expect(c.reason).toContain(`client-id ${CLIENT_B} → ${CLIENT_A}`);
    expect(c.reason).toContain('2 running pod(s)');
    expect(c.reason).toContain('ReplicaSet/api-7c9d');
    // A pod without the use label gets nothing from a restart: it is not named for one.
    expect(c.reason).not.toContain('legacy-5f');
    expect(c.reason).toContain('1 running pod(s) lack the label azure.workload.identity/use');
  });

  it('does not take over a managed-by label that belongs to someone else, and warns that they may revert us', () => {
    const b = binding('payments', 'api', 'id');
    const { changes, checks } = diff([b], {
      'payments/api': { labels: { [LABEL_MANAGED_BY]: 'Helm' }, annotations: { 'meta.helm.sh/release-name': 'payments' } },
    });
    expect(changes[0]!.labels).toEqual({});
    expect(checks).toHaveLength(1);
    expect(checks[0]).toMatchObject({ name: 'service-account', severity: 'warning', at: b.at });
    expect(checks[0]!.detail).toContain('Helm (release payments)');
    expect(checks[0]!.fix).toContain(`${ANNOTATION_CLIENT_ID}: "${CLIENT_A}"`);
  });

  it('createServiceAccount: false and a missing ServiceAccount is an error at the binding line', () => {
    const b = binding('payments', 'api', 'id', { createServiceAccount: false });
    const { changes, checks } = diff([b]);
    expect(changes).toEqual([]);
    expect(checks).toHaveLength(1);
    expect(checks[0]).toMatchObject({ name: 'service-account', ok: false, severity: 'error', at: b.at });
    expect(checks[0]!.detail).toContain('createServiceAccount: false');
  });

  it('createServiceAccount: false with an existing ServiceAccount is annotated as usual', () => {
    const b = binding('payments', 'api', 'id', { createServiceAccount: false });
    const { changes, checks } = diff([b], { 'payments/api': { labels: {}, annotations: {} } });
    expect(checks).toEqual([]);
    expect(changes[0]!.action).toBe('annotate');
  });

  it('an unknown client ID is an error at the identity line, not a change', () => {
    const b = binding('payments', 'api', 'id-gone');
    const { changes, checks } = diff([b], {}, null);
    expect(changes).toEqual([]);
    expect(checks[0]).toMatchObject({ severity: 'error', at: b.identityAt });
  });

  it('one ServiceAccount bound twice with different identities is an error; twice the same is one change', () => {
    const a = binding('payments', 'api', 'id', {}, 10);
    const twin = { ...binding('payments', 'api', 'id', {}, 17), environment: 'production' };
    expect(diff([a, twin]).changes).toHaveLength(1);
    expect(diff([a, twin]).checks).toEqual([]);
    const other = { ...binding('payments', 'api', 'id-other', {}, 24), environment: 'production' };
    const res = diffServiceAccounts({
      bindings: [a, other],
      clientIdFor: (b) => (b.identity.name === 'id' ? CLIENT_A : CLIENT_B),
      observed: new Map(),
    });
    expect(res.changes).toHaveLength(1);
    expect(res.checks[0]).toMatchObject({ severity: 'error', at: other.at });
  });

  it('keys observed ServiceAccounts by namespace/name', () => {
    expect(serviceAccountKey('ns', 'sa')).toBe('ns/sa');
  });
});
