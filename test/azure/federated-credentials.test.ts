import { describe, expect, it } from 'vitest';
import { FIC_NAME_PATTERN } from '../../src/mapping/index.ts';
import { diffFederatedCredentials, type FicDiffInput } from '../../src/plan/federated-credentials.ts';
import type { FicChange } from '../../src/plan/types.ts';
import { AUD, ISSUER, OTHER_ISSUER, binding, fic, identity, identityMap, observedMap, sa } from './fixtures.ts';

const idA = identity('id-payments');
const idB = identity('id-orders');

function diff(over: Partial<FicDiffInput> & Pick<FicDiffInput, 'bindings' | 'observed'>) {
  return diffFederatedCredentials({ environment: 'staging', issuer: ISSUER, identities: identityMap(idA, idB), prune: false, ...over });
}

const summary = (changes: FicChange[]) => changes.map((c) => `${c.action} ${c.identity.name}/${c.name}`);

describe('federated credential diff', () => {
  it('creates a credential for a binding that has none', () => {
    const b = binding({ ns: 'payments', sa: 'api', identity: 'id-payments' });
    const { changes, checks } = diff({ bindings: [b], observed: observedMap([[idA, []]]) });
    expect(checks).toEqual([]);
    expect(changes).toHaveLength(1);
    expect(changes[0]).toMatchObject({
      action: 'create',
      name: 'staging-payments-api',
      desired: { name: 'staging-payments-api', issuer: ISSUER, subject: sa('payments', 'api'), audiences: [AUD] },
      bindings: [{ environment: 'staging', namespace: 'payments', serviceAccount: 'api', at: b.at }],
    });
    expect(changes[0]!.current).toBeUndefined();
  });

  it('leaves an up-to-date credential unchanged, matching its name case-insensitively', () => {
    const b = binding({ ns: 'payments', sa: 'api', identity: 'id-payments' });
    const { changes } = diff({ bindings: [b], observed: observedMap([[idA, [fic('Staging-Payments-API', sa('payments', 'api'))]]]) });
    expect(summary(changes)).toEqual(['unchanged id-payments/Staging-Payments-API']);
  });

  it('adopts a hand-made credential with the same issuer, subject and audience instead of duplicating it', () => {
    const b = binding({ ns: 'payments', sa: 'api', identity: 'id-payments' });
    const { changes } = diff({ bindings: [b], observed: observedMap([[idA, [fic('made-by-hand', sa('payments', 'api'))]]]) });
    expect(summary(changes)).toEqual(['adopt id-payments/made-by-hand']);
    expect(changes[0]!.reason).toContain('adopted');
  });

  for (const prune of [false, true]) {
    it(`a credential of this issuer holding our name with another subject is not ours: left alone, a warning, ours under the second name (prune: ${prune})`, () => {
      const b = binding({ ns: 'payments', sa: 'api', identity: 'id-payments' });
      const { changes, checks } = diff({ bindings: [b], observed: observedMap([[idA, [fic('staging-payments-api', sa('payments', 'old-api'))]]]), prune });
      expect(changes.map((c) => c.action)).toEqual(['create']);
      expect(changes[0]!.name).toMatch(/^staging-payments-api_[0-9a-f]{10}$/);
      expect(checks).toMatchObject([{ name: 'federated-credential-name', severity: 'warning', at: b.at }]);
      expect(checks[0]!.detail).toContain('subject system:serviceaccount:payments:old-api, not system:serviceaccount:payments:api');
      expect(checks[0]!.detail).toContain('left alone (prune leaves it too)');
    });
  }

  describe('our name held by a credential of another issuer (another cluster)', () => {
    // Two repositories, each with an environment 'production', bind payments/api to the same
    // identity: cluster B's run already made 'production_payments_api' for B's issuer.
    const prod = binding({ env: 'production', ns: 'payments', sa: 'api', identity: 'id-payments', ficName: 'production_payments_api' });
    const clusterB = fic('production_payments_api', sa('payments', 'api'), OTHER_ISSUER);
    const planA = (observed: ReturnType<typeof fic>[], prune: boolean) =>
      diffFederatedCredentials({ environment: 'production', issuer: ISSUER, identities: identityMap(idA), prune, bindings: [prod], observed: observedMap([[idA, observed]]) });

    for (const prune of [false, true]) {
      it(`creates cluster A's own credential and never touches cluster B's (prune: ${prune})`, () => {
        const { changes, checks } = planA([clusterB], prune);
        expect(changes).toHaveLength(1);
        const [create] = changes;
        expect(create).toMatchObject({ action: 'create', desired: { issuer: ISSUER, subject: sa('payments', 'api'), audiences: [AUD] } });
        expect(create!.name).toMatch(/^production_payments_api_[0-9a-f]{10}$/);
        expect(create!.name).toMatch(FIC_NAME_PATTERN);
        expect(create!.reason).toContain(OTHER_ISSUER);
        expect(changes.some((c) => c.name.toLowerCase() === 'production_payments_api')).toBe(false);
        expect(checks).toMatchObject([{ name: 'federated-credential-name', ok: false, severity: 'warning', at: prod.at }]);
        expect(checks[0]!.detail).toContain("'production_payments_api'");
        expect(checks[0]!.detail).toContain(OTHER_ISSUER);
      });
    }

    it('finds its credential under the second name on the next run: unchanged, nothing written', () => {
      const first = planA([clusterB], true);
      const created = first.changes[0]!.desired!;
      const again = planA([clusterB, created], true);
      expect(summary(again.changes)).toEqual([`unchanged id-payments/${created.name}`]);
    });

    it('gives a third cluster another second name than the second cluster’s', () => {
      const third = diffFederatedCredentials({
        environment: 'production',
        issuer: 'https://eastus.oic.prod-aks.azure.com/72f988bf-0000-0000-0000-000000000000/33333333-2222-3333-4444-555555555555/',
        identities: identityMap(idA),
        prune: true,
        bindings: [prod],
        observed: observedMap([[idA, [clusterB, planA([clusterB], false).changes[0]!.desired!]]]),
      });
      expect(third.changes.map((c) => c.action)).toEqual(['create']);
      expect(third.changes[0]!.name).not.toBe(planA([clusterB], false).changes[0]!.name);
    });
  });

  it('fixes a drifted audience on an adopted credential under its own name', () => {
    const b = binding({ ns: 'payments', sa: 'api', identity: 'id-payments' });
    const { changes } = diff({ bindings: [b], observed: observedMap([[idA, [fic('by-hand', sa('payments', 'api'), ISSUER, ['api://other'])]]]) });
    expect(summary(changes)).toEqual(['update id-payments/by-hand']);
    expect(changes[0]!.desired!.audiences).toEqual([AUD]);
  });

  it('compares issuer and subject byte for byte: a trailing-slash issuer is another issuer', () => {
    const b = binding({ ns: 'payments', sa: 'api', identity: 'id-payments' });
    const slashless = ISSUER.replace(/\/$/, '');
    const { changes, checks } = diff({ bindings: [b], observed: observedMap([[idA, [fic('by-hand', sa('payments', 'api'), slashless)]]]), prune: true });
    expect(summary(changes)).toEqual(['create id-payments/staging-payments-api']);
    expect(checks.map((c) => c.name)).toEqual(['federated-credential-issuer-slash']);
  });

  describe('a credential whose issuer differs from ours only in trailing slashes', () => {
    const b = binding({ ns: 'payments', sa: 'api', identity: 'id-payments' });
    const doubled = `${ISSUER}/`;
    // The plan's issuer has '//' (a mapping typo); the credential has the cluster's single '/'.
    const planDoubled = (clusterIssuer: string | undefined) =>
      diffFederatedCredentials({ environment: 'staging', issuer: doubled, identities: identityMap(idA), prune: false, bindings: [b], observed: observedMap([[idA, [fic('staging-payments-api', sa('payments', 'api'), ISSUER)]]]), clusterIssuer });

    it("never advises deleting the one with the cluster's issuer: it is the working one", () => {
      const { checks } = planDoubled(ISSUER);
      const slash = checks.find((c) => c.name === 'federated-credential-issuer-slash')!;
      expect(slash.fix).not.toContain('delete');
      expect(slash.fix).toContain(`Keep 'staging-payments-api'`);
      expect(slash.detail).toContain("it is the plan's issuer that is wrong");
      for (const c of checks) expect(c.fix ?? '').not.toMatch(/federated-credential delete/);
    });

    it("without the cluster's issuer, says how to find out before deleting anything", () => {
      const { checks } = planDoubled(undefined);
      for (const c of checks) expect(c.fix ?? '').not.toMatch(/federated-credential delete/);
      expect(checks.find((c) => c.name === 'federated-credential-issuer-slash')!.fix).toContain('/.well-known/openid-configuration');
    });

    it("advises deleting it only when the cluster's issuer is known to be ours, not its", () => {
      const { checks } = diffFederatedCredentials({ environment: 'staging', issuer: ISSUER, identities: identityMap(idA), prune: false, bindings: [b], observed: observedMap([[idA, [fic('by-hand', sa('payments', 'api'), doubled)]]]), clusterIssuer: ISSUER });
      expect(checks.find((c) => c.name === 'federated-credential-issuer-slash')!.fix).toContain('az identity federated-credential delete');
    });
  });

  it('compares the subject case-sensitively', () => {
    const b = binding({ ns: 'payments', sa: 'api', identity: 'id-payments' });
    const { changes } = diff({ bindings: [b], observed: observedMap([[idA, [fic('by-hand', 'system:serviceaccount:Payments:api')]]]) });
    expect(summary(changes)).toEqual(['create id-payments/staging-payments-api']);
  });

  it('adopts the credential holding our issuer+subject when our name is taken by one for another issuer', () => {
    const b = binding({ ns: 'payments', sa: 'api', identity: 'id-payments' });
    const observed = [fic('staging-payments-api', sa('payments', 'api'), OTHER_ISSUER), fic('hand-made', sa('payments', 'api'))];
    const { changes } = diff({ bindings: [b], observed: observedMap([[idA, observed]]), prune: true });
    expect(summary(changes)).toEqual(['adopt id-payments/hand-made']);
  });

  it('creates under a second name when our name is held by a credential another binding adopted', () => {
    // A swap: the FIC named for 'api' holds the subject of 'worker'.
    const api = binding({ ns: 'payments', sa: 'api', identity: 'id-payments' });
    const worker = binding({ ns: 'payments', sa: 'worker', identity: 'id-payments' });
    const observed = [fic('staging-payments-api', sa('payments', 'worker'))];
    const { changes } = diff({ bindings: [api, worker], observed: observedMap([[idA, observed]]) });
    expect(changes.map((c) => c.action)).toEqual(['create', 'adopt']);
    const alt = changes[0]!.name;
    expect(summary(changes)).toEqual([`create id-payments/${alt}`, 'adopt id-payments/staging-payments-api']);
    // fic-name.ts's scheme: '_' before the hash, never '-' (a '-'-joined name could be a real ServiceAccount's).
    expect(alt).toMatch(/^staging-payments-api_[0-9a-f]{10}$/);
    expect(alt).toMatch(FIC_NAME_PATTERN);
  });

  describe('prune', () => {
    const b = binding({ ns: 'payments', sa: 'api', identity: 'id-payments' });
    const observed = [
      fic('staging-payments-api', sa('payments', 'api')),
      fic('staging-payments-gone', sa('payments', 'gone')),
      fic('other-cluster', sa('payments', 'gone'), OTHER_ISSUER),
      fic('github', 'repo:octo/app:environment:prod', 'https://token.actions.githubusercontent.com'),
    ];

    it('deletes nothing unless asked', () => {
      const { changes } = diff({ bindings: [b], observed: observedMap([[idA, observed]]) });
      expect(summary(changes)).toEqual(['unchanged id-payments/staging-payments-api']);
    });

    it('deletes only credentials of this issuer that no binding names', () => {
      const { changes } = diff({ bindings: [b], observed: observedMap([[idA, observed]]), prune: true });
      expect(summary(changes)).toEqual(['delete id-payments/staging-payments-gone', 'unchanged id-payments/staging-payments-api']);
      expect(changes[0]!.desired).toBeUndefined();
      expect(changes[0]!.bindings).toEqual([]);
    });

    it('keeps credentials that bindings of other environments on the same issuer use', () => {
      const other = binding({ env: 'canary', ns: 'payments', sa: 'gone', identity: 'id-payments' });
      const { changes } = diff({ bindings: [b, other], observed: observedMap([[idA, observed]]), prune: true });
      expect(summary(changes)).toEqual(['unchanged id-payments/staging-payments-api']);
    });

    it("keeps a credential under the name another environment's binding of the same ServiceAccount uses, even repointed by hand", () => {
      const canary = binding({ env: 'canary', ns: 'payments', sa: 'api', identity: 'id-payments' });
      const held = [fic('staging-payments-api', sa('payments', 'api')), fic('canary-payments-api', sa('payments', 'api-v2'))];
      const { changes } = diff({ bindings: [b, canary], observed: observedMap([[idA, held]]), prune: true });
      expect(summary(changes).filter((c) => c.startsWith('delete'))).toEqual([]);
    });
  });

  it('maps bindings of several environments sharing one issuer+subject on one identity to one credential', () => {
    const stg = binding({ env: 'staging', ns: 'payments', sa: 'api', identity: 'id-payments' });
    const canary = binding({ env: 'canary', ns: 'payments', sa: 'api', identity: 'id-payments' });
    const { changes } = diff({ bindings: [canary, stg], observed: observedMap([[idA, []]]) });
    expect(summary(changes)).toEqual(['create id-payments/staging-payments-api']);
    expect(changes[0]!.bindings.map((k) => k.environment)).toEqual(['staging', 'canary']);

    // The other environment's run then adopts it rather than creating a second one.
    const again = diffFederatedCredentials({
      environment: 'canary',
      issuer: ISSUER,
      identities: identityMap(idA),
      prune: true,
      bindings: [canary, stg],
      observed: observedMap([[idA, [fic('staging-payments-api', sa('payments', 'api'))]]]),
    });
    expect(summary(again.changes)).toEqual(['adopt id-payments/staging-payments-api']);
  });

  it('writes nothing for identities only other environments use', () => {
    const stg = binding({ env: 'staging', ns: 'payments', sa: 'api', identity: 'id-payments' });
    const prod = binding({ env: 'canary', ns: 'orders', sa: 'api', identity: 'id-orders' });
    const { changes } = diff({ bindings: [stg, prod], observed: observedMap([[idA, []], [idB, []]]) });
    expect(summary(changes)).toEqual(['create id-payments/staging-payments-api']);
  });

  it('reports two audiences for one issuer+subject as an error', () => {
    const stg = binding({ env: 'staging', ns: 'payments', sa: 'api', identity: 'id-payments', line: 10 });
    const canary = binding({ env: 'canary', ns: 'payments', sa: 'api', identity: 'id-payments', audience: 'api://custom', line: 20 });
    const { checks } = diff({ bindings: [stg, canary], observed: observedMap([[idA, []]]) });
    expect(checks).toMatchObject([{ name: 'federated-credential-audience', ok: false, severity: 'error', at: canary.at }]);
  });

  it('matches identities by resource ID case-insensitively', () => {
    const b = binding({ ns: 'payments', sa: 'api', identity: 'id-payments' });
    b.identity.resourceId = b.identity.resourceId.toLowerCase();
    const { changes } = diff({ bindings: [b], observed: observedMap([[idA, []]]) });
    expect(summary(changes)).toEqual(['create id-payments/staging-payments-api']);
  });

  describe('the 20-per-identity limit', () => {
    const existing = Array.from({ length: 18 }, (_, i) => fic(`other-${i}`, `repo:octo/app${i}:ref:refs/heads/main`, 'https://token.actions.githubusercontent.com'));
    const bindings = Array.from({ length: 3 }, (_, i) => binding({ ns: 'payments', sa: `sa-${i}`, identity: 'id-payments', line: 10 + 7 * i }));

    it('refuses the 21st credential at plan time, pointing at the binding that does not fit', () => {
      const { checks, changes } = diff({ bindings, observed: observedMap([[idA, existing]]) });
      expect(changes.filter((c) => c.action === 'create')).toHaveLength(3);
      expect(checks).toHaveLength(1);
      expect(checks[0]).toMatchObject({ name: 'federated-credential-limit', ok: false, severity: 'error', at: bindings[2]!.identityAt });
      expect(checks[0]!.detail).toContain('21');
    });

    it('counts exactly 20 as fine', () => {
      const { checks } = diff({ bindings: bindings.slice(0, 2), observed: observedMap([[idA, existing]]) });
      expect(checks).toEqual([]);
    });

    it('counts deletes, and orders them first when the creates only fit after them', () => {
      const stale = [...existing.slice(0, 17), fic('staging-payments-stale', sa('payments', 'stale'))];
      const { checks, changes } = diff({ bindings, observed: observedMap([[idA, stale]]), prune: true });
      expect(checks).toEqual([]);
      expect(changes.map((c) => c.action)).toEqual(['delete', 'create', 'create', 'create']);
    });

    it('orders creates before deletes when there is room', () => {
      const stale = [fic('staging-payments-stale', sa('payments', 'stale'))];
      const { changes } = diff({ bindings, observed: observedMap([[idA, stale]]), prune: true });
      expect(changes.map((c) => c.action)).toEqual(['create', 'create', 'create', 'delete']);
    });
  });
});
