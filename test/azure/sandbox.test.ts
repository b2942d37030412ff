// The Azure stage against the sandbox: a mapping file as the user writes it, the real SDKs,
// the action's GitHub OIDC login, ARM's paging, limits, 409s and 429s as the emulator serves them.
import { afterEach, describe, expect, it } from 'vitest';
import { applyFederatedCredentials } from '../../src/azure/apply.ts';
import { AzureLoginError, createAzureCredential } from '../../src/azure/credential.ts';
import { AzureCallError, CONCURRENT_FIC_WRITES } from '../../src/azure/errors.ts';
import { resolveIssuer } from '../../src/azure/issuer.ts';
import { planFederatedCredentials, type FicPlan } from '../../src/azure/plan.ts';
import { createArmPort, type AzurePort } from '../../src/azure/port.ts';
import { READ_RETRY, WRITE_RETRY, withRetry } from '../../src/azure/retry.ts';
import { parseMapping, resolveBindings, selectEnvironment } from '../../src/mapping/index.ts';
import { parseSettings } from '../../src/settings.ts';
import { isChange, type AppliedChange, type FederatedCredential, type FicChange, type ManagedIdentity } from '../../src/plan/types.ts';
import type { Scenario } from '../sandbox/scenario.ts';
import { armCallKind, azureSettings, connect, githubIdToken, settle, startAzureSandbox, until, type AzureSandbox } from './sandbox-helpers.ts';

const SUB = '00000000-0000-0000-0000-000000000000';
const TENANT = '72f988bf-0000-0000-0000-000000000000';
const fast = { baseDelayMs: 50, maxDelayMs: 400 };

function scenario(extra: Partial<Scenario> = {}): Scenario {
  return {
    resourceGroups: ['rg-identities'],
    identities: [{ name: 'id-payments' }, { name: 'id-orders' }],
    clusters: [
      { name: 'aks-stg', resourceGroup: 'rg-aks' },
      { name: 'aks-other', resourceGroup: 'rg-aks' },
    ],
    github: { event: 'deployment', environment: 'staging' },
    ...extra,
  };
}

function mappingText(bindings: string, cluster = 'aks-stg'): string {
  return [
    'version: 1',
    'defaults:',
    `  tenantId: ${TENANT}`,
    `  subscriptionId: ${SUB}`,
    '  resourceGroup: rg-identities',
    'environments:',
    '  staging:',
    `    cluster: { resourceGroup: rg-aks, name: ${cluster} }`,
    'bindings:',
    bindings,
  ].join('\n');
}

const THREE_BINDINGS = `  - namespace: payments
    serviceAccount: api
    identity: id-payments
  - namespace: payments
    serviceAccount: worker
    identity: id-payments
  - namespace: orders
    serviceAccount: api
    identity: id-orders`;

let sb: AzureSandbox | undefined;
afterEach(async () => {
  const running = sb;
  sb = undefined; // reset even if stopping fails
  await running?.stop();
});

interface Run {
  plan: FicPlan;
  issuer: string;
  /** ARM writes the plan made (must be 0). */
  planWrites: number;
}

/** mapping → environment → issuer (from the cluster, through ARM) → plan, as the pipeline does it. */
async function planFor(port: AzurePort, text: string, opts: { prune?: boolean } = {}): Promise<Run> {
  const loaded = parseMapping(text, '.github/workload-identity.yaml');
  expect(loaded.problems).toEqual([]);
  const mapping = loaded.mapping!;
  const env = selectEnvironment(mapping, 'staging').spec!;
  const before = sb!.log.writes('arm').length;
  const issuer = await resolveIssuer({ ...(env.cluster ? { cluster: env.cluster } : {}), ...(env.issuer ? { issuer: env.issuer } : {}), at: env.at }, port, SUB);
  expect(issuer.checks.filter((c) => !c.ok)).toEqual([]);
  const plan = await planFederatedCredentials(
    { bindings: resolveBindings(mapping, 'staging'), issuer: issuer.issuer!, environment: 'staging', prune: opts.prune ?? false, concurrency: 8 },
    port,
  );
  return { plan, issuer: issuer.issuer!, planWrites: sb!.log.writes('arm').length - before };
}

/** The other pipeline's credential, and how long its write holds the identity (the window for apply's first PUT to arrive in). */
const OTHER_FIC: FederatedCredential = { name: 'other-pipeline', issuer: 'https://token.actions.githubusercontent.com', subject: 'repo:contoso/other:ref:refs/heads/main', audiences: ['api://AzureADTokenExchange'] };
const OTHER_HOLD_MS = 2000;

/**
 * Starts another pipeline's write of OTHER_FIC on `identity` (held `holdMs` by the emulator,
 * retried on 409 as that pipeline would) and returns once that write holds the identity's
 * FIC write lock. Seeing its PUT in the log is not enough (the emulator takes the lock only
 * after verifying the token), so the proof is a probe: a write on the same identity that
 * rewrites the identity's first credential as it is, answered 409
 * ConcurrentFederatedIdentityCredentialsWritesForSingleManagedIdentity. Nothing else writes,
 * so only the other write can hold the lock then. Should the probe get the lock first (it
 * changes nothing), the other write is waited out and started again. `done` settles with
 * the other write's result.
 */
async function otherPipelineHolding(other: AzurePort, identity: ManagedIdentity, holdMs: number) {
  const seeded = sb!.state.identityByName(identity.name)!.fics[0]!;
  const probe: FederatedCredential = { name: seeded.name, issuer: seeded.issuer, subject: seeded.subject, audiences: [...seeded.audiences] };
  sb!.arm.setWriteHold(holdMs);
  for (;;) {
    const before = ficPuts(OTHER_FIC.name).length;
    const write = withRetry(`PUT ${OTHER_FIC.name}`, () => other.putFederatedCredential(identity, OTHER_FIC), { ...WRITE_RETRY, baseDelayMs: 50, maxDelayMs: 400, maxAttempts: 30 });
    // Its PUT reached ARM and is unanswered (in flight).
    await until(() => ficPuts(OTHER_FIC.name).slice(before).some((c) => c.status === 0), `the other pipeline's PUT is in flight`);
    const answer = await other.putFederatedCredential(identity, probe).then(
      () => undefined,
      (err: unknown) => err,
    );
    if (answer instanceof AzureCallError && answer.statusCode === 409 && answer.code === CONCURRENT_FIC_WRITES) return { done: write }; // wrapped: an async function returning the promise would wait for it
    if (answer !== undefined) throw answer;
    await write; // the probe was first: let the other write finish, then start over
  }
}

const actions = (changes: FicChange[]) => changes.map((c) => `${c.action} ${c.identity.name}/${c.name}`).sort();
const fics = (name: string) => sb!.state.identityByName(name)!.fics.map((f) => `${f.name} ${f.subject}`).sort();
const ficPuts = (name?: string) => sb!.log.of('arm').filter((c) => c.method === 'PUT' && (!name || c.path.includes(`/federatedIdentityCredentials/${name}?`)));

describe('federated credentials on the sandbox', () => {
  it('plan → apply → plan: the second plan is empty, and planning writes nothing', async () => {
    sb = await startAzureSandbox(scenario());
    sb.setArmPageSize(2); // id-payments ends with 2 FICs + 1 page boundary: paging is followed
    sb.state.addFic(sb.state.identityByName('id-payments')!, { name: 'github-deploy', issuer: 'https://token.actions.githubusercontent.com', subject: 'repo:contoso/platform:environment:staging' });
    const { port } = connect(sb);

    const first = await planFor(port, mappingText(THREE_BINDINGS));
    expect(first.planWrites).toBe(0);
    expect(first.plan.checks).toEqual([]);
    expect(actions(first.plan.changes)).toEqual(['create id-orders/staging_orders_api', 'create id-payments/staging_payments_api', 'create id-payments/staging_payments_worker']);
    // One LIST per identity, never a GET per binding.
    const kinds = sb.log.of('arm').map(armCallKind);
    expect(kinds.filter((k) => k === 'GET fic')).toEqual([]);
    expect(kinds.filter((k) => k === 'GET identity')).toHaveLength(2);

    const applied = await applyFederatedCredentials(first.plan.changes, port, { concurrency: 8 });
    expect(applied.map((a) => [a.ok, a.attempts])).toEqual([[true, 1], [true, 1], [true, 1]]);
    expect(fics('id-payments')).toEqual([
      'github-deploy repo:contoso/platform:environment:staging',
      'staging_payments_api system:serviceaccount:payments:api',
      'staging_payments_worker system:serviceaccount:payments:worker',
    ]);

    sb.log.reset();
    const second = await planFor(port, mappingText(THREE_BINDINGS));
    expect(second.planWrites).toBe(0);
    expect(second.plan.changes.filter(isChange)).toEqual([]);
    expect(second.plan.changes.map((c) => c.action)).toEqual(['unchanged', 'unchanged', 'unchanged']);
    // id-payments has 3 FICs at page size 2: its LIST took two pages.
    expect(sb.log.of('arm').map(armCallKind).filter((k) => k === 'GET fic-list')).toHaveLength(3);
    expect(await applyFederatedCredentials(second.plan.changes, port, { concurrency: 8 })).toEqual([]);
    expect(sb.log.writes('arm')).toEqual([]);
  });

  it('adopts a credential made by hand with az CLI instead of duplicating it', async () => {
    sb = await startAzureSandbox(
      scenario({
        identities: [
          { name: 'id-payments', federatedCredentials: [{ name: 'payments-api-by-hand', issuer: '{{issuer:aks-stg}}', subject: 'system:serviceaccount:payments:api' }] },
          { name: 'id-orders' },
        ],
      }),
    );
    const { port } = connect(sb);
    const { plan } = await planFor(port, mappingText(THREE_BINDINGS.split('\n').slice(0, 3).join('\n')));
    expect(actions(plan.changes)).toEqual(['adopt id-payments/payments-api-by-hand']);
    expect(plan.changes[0]!.reason).toContain('adopted');
    expect(await applyFederatedCredentials(plan.changes, port, { concurrency: 8 })).toEqual([]);
    expect(sb.log.writes('arm')).toEqual([]);
    expect(fics('id-payments')).toEqual(['payments-api-by-hand system:serviceaccount:payments:api']);
  });

  it('a credential of this issuer holding our name for another subject is not ours: apply leaves it and creates ours under the second name', async () => {
    sb = await startAzureSandbox(
      scenario({
        identities: [{ name: 'id-payments', federatedCredentials: [{ name: 'staging_payments_api', issuer: '{{issuer:aks-stg}}', subject: 'system:serviceaccount:payments:api-old' }] }],
      }),
    );
    const { port } = connect(sb);
    const { plan } = await planFor(port, mappingText(THREE_BINDINGS.split('\n').slice(0, 3).join('\n')));
    expect(plan.changes.map((c) => c.action)).toEqual(['create']);
    const second = plan.changes[0]!.name;
    expect(second).toMatch(/^staging_payments_api_[0-9a-f]{10}$/);
    expect(plan.checks.find((c) => c.name === 'federated-credential-name')).toMatchObject({ severity: 'warning' });
    const applied = await applyFederatedCredentials(plan.changes, port, { concurrency: 8 });
    expect(applied[0]).toMatchObject({ ok: true, attempts: 1 });
    await settle(sb);
    expect(ficPuts('staging_payments_api')).toEqual([]); // never repointed
    expect(fics('id-payments').sort()).toEqual(['staging_payments_api system:serviceaccount:payments:api-old', `${second} system:serviceaccount:payments:api`]);
  });

  it('prunes only when asked, and only credentials federated to this cluster’s issuer', async () => {
    sb = await startAzureSandbox(
      scenario({
        identities: [
          {
            name: 'id-payments',
            federatedCredentials: [
              { name: 'staging_payments_api', issuer: '{{issuer:aks-stg}}', subject: 'system:serviceaccount:payments:api' },
              { name: 'staging_payments_gone', issuer: '{{issuer:aks-stg}}', subject: 'system:serviceaccount:payments:gone' },
              { name: 'other-cluster', issuer: '{{issuer:aks-other}}', subject: 'system:serviceaccount:payments:gone' },
              { name: 'github', issuer: '{{github-issuer}}', subject: 'repo:contoso/platform:environment:staging' },
            ],
          },
        ],
      }),
    );
    const { port } = connect(sb);
    const text = mappingText(THREE_BINDINGS.split('\n').slice(0, 3).join('\n'));

    const keep = await planFor(port, text);
    expect(actions(keep.plan.changes)).toEqual(['unchanged id-payments/staging_payments_api']);

    const prune = await planFor(port, text, { prune: true });
    expect(prune.planWrites).toBe(0);
    expect(actions(prune.plan.changes)).toEqual(['delete id-payments/staging_payments_gone', 'unchanged id-payments/staging_payments_api']);
    const applied = await applyFederatedCredentials(prune.plan.changes, port, { concurrency: 8 });
    expect(applied).toMatchObject([{ ok: true, attempts: 1 }]);
    expect(fics('id-payments')).toEqual([
      'github repo:contoso/platform:environment:staging',
      'other-cluster system:serviceaccount:payments:gone',
      'staging_payments_api system:serviceaccount:payments:api',
    ]);
  });

  it('refuses the 21st credential at plan time', async () => {
    const existing = Array.from({ length: 19 }, (_, i) => ({ name: `github-${i}`, issuer: '{{github-issuer}}', subject: `repo:contoso/app-${i}:environment:prod` }));
    sb = await startAzureSandbox(scenario({ identities: [{ name: 'id-payments', federatedCredentials: existing }, { name: 'id-orders' }] }));
    const { port } = connect(sb);
    const text = mappingText(THREE_BINDINGS);
    const { plan, planWrites } = await planFor(port, text);
    expect(planWrites).toBe(0);
    const limit = plan.checks.find((c) => c.name === 'federated-credential-limit');
    expect(limit).toMatchObject({ ok: false, severity: 'error' });
    expect(limit!.detail).toContain("Identity 'id-payments' would hold 21 federated credentials");
    // It points at the binding that does not fit: the second one on id-payments (line of its identity:).
    const line = text.split('\n').findIndex((l) => l.includes('serviceAccount: worker')) + 2;
    expect(limit!.at).toMatchObject({ file: '.github/workload-identity.yaml', line });
  });

  it('survives another pipeline writing the same identity at the same time (409)', async () => {
    sb = await startAzureSandbox(
      scenario({ identities: [{ name: 'id-payments', federatedCredentials: [{ name: 'github-deploy', issuer: '{{github-issuer}}', subject: 'repo:contoso/platform:environment:staging' }] }, { name: 'id-orders' }] }),
    );
    const { port } = connect(sb);
    const { plan } = await planFor(port, mappingText(THREE_BINDINGS));
    const payments = plan.changes.find((c) => c.identity.name === 'id-payments')!.identity;

    // The other pipeline (its own login) holds id-payments' write lock when apply starts.
    const other = createArmPort(createAzureCredential(azureSettings(sb), githubIdToken(sb)), { armEndpoint: sb.urls.arm });
    const { done: otherWrite } = await otherPipelineHolding(other, payments, OTHER_HOLD_MS);
    // apply's own writes hold nothing: its chain on id-payments then meets no lock but the other pipeline's.
    sb.arm.setWriteHold(0);

    const log: string[] = [];
    // Enough retries to outlast the other write's hold (≥ 25 + 50 + 100 + 17 × 200 ms of backoff).
    const applied = await applyFederatedCredentials(plan.changes, port, { concurrency: 8, retry: { ...fast, maxDelayMs: 400, maxAttempts: 20 }, log: (m) => log.push(m) });
    const otherResult = await otherWrite;
    await settle(sb);

    expect(otherResult).not.toHaveProperty('error'); // the other pipeline's write went through too
    expect(applied.every((a) => a.ok)).toBe(true);
    const byName = Object.fromEntries(applied.map((a) => [(a.change as FicChange).name, a]));
    // apply's first write on id-payments met the held lock: 409s, retried, then created.
    expect(byName.staging_payments_api!.attempts, "apply's first PUT reached ARM after the other write's hold ended").toBeGreaterThan(1);
    const statuses = ficPuts('staging_payments_api').map((c) => c.status);
    expect(statuses.slice(0, -1)).toEqual(Array(statuses.length - 1).fill(409));
    expect(statuses.at(-1)).toBe(201);
    const conflicts = log.filter((l) => l.startsWith(`federated credential 'staging_payments_api' on identity 'id-payments': ${CONCURRENT_FIC_WRITES} (HTTP 409), retrying`));
    expect(conflicts).toHaveLength(byName.staging_payments_api!.attempts - 1);
    // The rest of id-payments' chain ran after the lock was free; id-orders never shared it.
    expect(byName.staging_payments_worker).toMatchObject({ ok: true, attempts: 1 });
    expect(byName.staging_orders_api).toMatchObject({ ok: true, attempts: 1 });
    expect(fics('id-payments')).toEqual([
      'github-deploy repo:contoso/platform:environment:staging',
      `${OTHER_FIC.name} ${OTHER_FIC.subject}`,
      'staging_payments_api system:serviceaccount:payments:api',
      'staging_payments_worker system:serviceaccount:payments:worker',
    ]);
  });

  it('waits out a 429 for its Retry-After, retried once (not again by the SDK)', async () => {
    sb = await startAzureSandbox(scenario());
    const { port } = connect(sb);
    const { plan } = await planFor(port, mappingText(THREE_BINDINGS.split('\n').slice(0, 3).join('\n')));
    sb.faults.inject({ service: 'arm', method: 'PUT', pathIncludes: '/federatedIdentityCredentials/', status: 429, retryAfterSeconds: 1, times: 1 });
    // The waits the retry asks for, and how many PUTs ARM had seen then: recorded, not timed.
    const waits: { ms: number; putsBefore: number }[] = [];
    const sleep = async (ms: number) => {
      waits.push({ ms, putsBefore: ficPuts('staging_payments_api').length });
    };
    const applied = await applyFederatedCredentials(plan.changes, port, { concurrency: 8, retry: { ...fast, sleep } });
    expect(applied).toMatchObject([{ ok: true, attempts: 2 }]);
    expect(waits).toEqual([{ ms: 1000, putsBefore: 1 }]); // Retry-After: 1, not the 25–400 ms backoff, between the two PUTs
    await settle(sb);
    expect(ficPuts('staging_payments_api').map((c) => c.status)).toEqual([429, 201]); // no second retry layer (the SDK's)
  });

  it('survives transient 5xx with backoff, and reports a write that keeps failing with its code while the other identity is applied', async () => {
    sb = await startAzureSandbox(scenario());
    const { port } = connect(sb);
    const { plan } = await planFor(port, mappingText(THREE_BINDINGS));
    sb.faults.inject({ service: 'arm', method: 'PUT', pathIncludes: 'staging_orders_api', status: 503, times: 2 });
    sb.faults.inject({ service: 'arm', method: 'PUT', pathIncludes: 'staging_payments_worker', status: 500, times: 99 });
    const applied = await applyFederatedCredentials(plan.changes, port, { concurrency: 8, retry: { ...fast, maxAttempts: 4 } });
    const byName = Object.fromEntries(applied.map((a: AppliedChange) => [(a.change as FicChange).name, a]));
    expect(byName.staging_orders_api).toMatchObject({ ok: true, attempts: 3 });
    expect(byName.staging_payments_api).toMatchObject({ ok: true, attempts: 1 });
    expect(byName.staging_payments_worker).toMatchObject({ ok: false, attempts: 4 });
    expect(byName.staging_payments_worker!.error).toContain('InternalServerError (HTTP 500)');
    expect(fics('id-orders')).toEqual(['staging_orders_api system:serviceaccount:orders:api']);
  });

  it('reports a missing identity with its name and mapping line', async () => {
    sb = await startAzureSandbox(scenario());
    const { port } = connect(sb);
    const text = mappingText(`${THREE_BINDINGS}
  - namespace: billing
    serviceAccount: api
    identity: id-billing`);
    const { plan } = await planFor(port, text);
    const line = text.split('\n').findIndex((l) => l.includes('identity: id-billing')) + 1;
    expect(plan.checks).toMatchObject([{ name: 'identity', ok: false, severity: 'error', at: { file: '.github/workload-identity.yaml', line } }]);
    expect(plan.checks[0]!.detail).toContain(`'id-billing' (resource group 'rg-identities', subscription ${SUB}) does not exist`);
    expect(plan.checks[0]!.detail).toContain(`.github/workload-identity.yaml:${line}`);
    expect(plan.changes).toHaveLength(3); // the others are still planned
  });

  it('a second cluster with an environment of the same name on a shared identity leaves the first cluster’s credential alone', async () => {
    // Repository A deploys 'staging' to aks-stg, repository B 'staging' to aks-other; both bind payments/api to id-payments.
    sb = await startAzureSandbox(scenario());
    const { port } = connect(sb);
    const onePayments = THREE_BINDINGS.split('\n').slice(0, 3).join('\n');
    const repoA = mappingText(onePayments, 'aks-stg');
    const repoB = mappingText(onePayments, 'aks-other');

    const a = await planFor(port, repoA);
    await applyFederatedCredentials(a.plan.changes, port, { concurrency: 8 });
    const issuerA = sb.state.identityByName('id-payments')!.fics.find((f) => f.name === 'staging_payments_api')!.issuer;

    for (const prune of [false, true]) {
      const b = await planFor(port, repoB, { prune });
      expect(b.plan.changes.map((c) => c.action)).toEqual(['create']);
      expect(b.plan.changes[0]!.name).toMatch(/^staging_payments_api_[0-9a-f]{10}$/);
      expect(b.plan.checks).toMatchObject([{ name: 'federated-credential-name', severity: 'warning' }]);
      expect(b.plan.checks[0]!.detail).toContain(issuerA);
    }
    const b = await planFor(port, repoB, { prune: true });
    sb.log.reset();
    expect((await applyFederatedCredentials(b.plan.changes, port, { concurrency: 8 })).map((r) => r.ok)).toEqual([true]);
    await settle(sb);
    expect(ficPuts('staging_payments_api')).toEqual([]);
    expect(sb.log.of('arm').filter((c) => c.method === 'DELETE')).toEqual([]);
    const after = sb.state.identityByName('id-payments')!.fics;
    expect(after.find((f) => f.name === 'staging_payments_api')).toMatchObject({ issuer: issuerA, subject: 'system:serviceaccount:payments:api' });
    expect(after.find((f) => f.name === b.plan.changes[0]!.name)).toMatchObject({ issuer: b.issuer, subject: 'system:serviceaccount:payments:api' });

    // Both repositories' next runs are quiet, pruning or not.
    for (const text of [repoA, repoB]) {
      const again = await planFor(port, text, { prune: true });
      expect(again.plan.changes.filter(isChange)).toEqual([]);
      expect(again.plan.checks).toEqual([]);
    }
  });

  it('reports an identity whose credentials cannot be listed (deleted meanwhile, or ARM keeps failing) and plans the others', async () => {
    sb = await startAzureSandbox(scenario({ identities: [{ name: 'id-payments' }, { name: 'id-orders' }, { name: 'id-billing' }] }));
    const quick = createArmPort(connect(sb).credential, { armEndpoint: sb.urls.arm, readRetry: { ...READ_RETRY, baseDelayMs: 5, maxDelayMs: 20 } });
    const text = mappingText(`${THREE_BINDINGS}
  - namespace: billing
    serviceAccount: api
    identity: id-billing`);
    sb.faults.inject({
      service: 'arm',
      method: 'GET',
      pathIncludes: '/userAssignedIdentities/id-orders/federatedIdentityCredentials',
      status: 404,
      body: { error: { code: 'ResourceNotFound', message: "The Resource 'Microsoft.ManagedIdentity/userAssignedIdentities/id-orders' was not found." } },
      times: 99,
    });
    sb.faults.inject({
      service: 'arm',
      method: 'GET',
      pathIncludes: '/userAssignedIdentities/id-payments/federatedIdentityCredentials',
      status: 500,
      body: { error: { code: 'InternalServerError', message: 'Encountered internal server error.' } },
      times: 99,
    });
    const { plan } = await planFor(quick, text);
    const line = (needle: string) => text.split('\n').findIndex((l) => l.includes(needle)) + 1;
    const byLine = [...plan.checks].sort((x, y) => x.at!.line - y.at!.line);
    expect(byLine).toMatchObject([
      { name: 'identity', ok: false, severity: 'error', at: { line: line('identity: id-payments') } },
      { name: 'identity', ok: false, severity: 'error', at: { line: line('identity: id-orders') } },
    ]);
    expect(byLine[0]!.detail).toContain('InternalServerError (HTTP 500)');
    expect(byLine[1]!.detail).toContain('ResourceNotFound');
    expect(actions(plan.changes)).toEqual(['create id-billing/staging_billing_api']);
  });

  it('tells how to enable the OIDC issuer of a cluster that has none', async () => {
    sb = await startAzureSandbox(scenario({ clusters: [{ name: 'aks-stg', resourceGroup: 'rg-aks', oidcIssuer: false }] }));
    const { port } = connect(sb);
    const at = { file: '.github/workload-identity.yaml', line: 8, column: 5 };
    const r = await resolveIssuer({ cluster: { resourceGroup: 'rg-aks', name: 'aks-stg' }, at }, port, SUB);
    expect(r.issuer).toBeUndefined();
    expect(r.checks[0]!.fix).toBe(`az aks update --subscription ${SUB} -g rg-aks -n aks-stg --enable-oidc-issuer --enable-workload-identity`);
  });
});

describe('the action’s own login with the GitHub OIDC token', () => {
  it('logs in through ACTIONS_ID_TOKEN_REQUEST_URL and Entra, then reads ARM', async () => {
    sb = await startAzureSandbox(scenario());
    const credential = createAzureCredential(azureSettings(sb), githubIdToken(sb, { viaActionsCore: true }));
    const token = await credential.getToken(`${sb.urls.arm}/.default`);
    expect(token?.token).toMatch(/^ey/);
    const port = createArmPort(credential, { armEndpoint: sb.urls.arm });
    await expect(port.getIdentity({ subscriptionId: SUB, resourceGroup: 'rg-identities', name: 'id-payments' })).resolves.toMatchObject({ name: 'id-payments', tenantId: TENANT });
    const paths = sb.log.calls.map((c) => `${c.service} ${c.method} ${c.path.split('?')[0]}`);
    expect(paths).toContain('github GET /_apis/actions/idtoken');
    expect(paths).toContain(`entra POST /${TENANT}/oauth2/v2.0/token`);
  });

  it('names the federated credential to add when the login identity trusts another subject (AADSTS700213)', async () => {
    sb = await startAzureSandbox(scenario({ login: { subjects: ['repo:contoso/platform:environment:production'] } }));
    const credential = createAzureCredential(azureSettings(sb), githubIdToken(sb));
    const port = createArmPort(credential, { armEndpoint: sb.urls.arm });
    const err = await port.getIdentity({ subscriptionId: SUB, resourceGroup: 'rg-identities', name: 'id-payments' }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(AzureLoginError);
    expect((err as AzureLoginError).code).toBe('AADSTS700213');
    expect((err as Error).message).toContain("subject 'repo:contoso/platform:environment:staging'");
    expect((err as Error).message).toContain(`issuer '${sb.github.issuer}'`);
    expect(sb.log.writes('arm')).toEqual([]);
  });

  it('a login identity with no federated credential at all gets AADSTS70025 and its own explanation', async () => {
    sb = await startAzureSandbox(scenario());
    sb.loginApp.fics = []; // an identity that only ever logged in through Pod Identity or a secret
    const credential = createAzureCredential(azureSettings(sb), githubIdToken(sb));
    const err = await credential.getToken(`${sb.urls.arm}/.default`).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(AzureLoginError);
    expect((err as AzureLoginError).code).toBe('AADSTS70025');
    expect((err as Error).message).toContain(`The login identity (client id ${sb.loginApp.clientId}) has no federated credential at all`);
    expect((err as Error).message).toContain("subject 'repo:contoso/platform:environment:staging'");
  });

  it("asks GitHub for the cloud's audience (AzureUSGovernment: api://AzureADTokenExchangeUSGov), names it when the login fails, and the audience input overrides it", async () => {
    sb = await startAzureSandbox(scenario());
    const inputs = (over: Record<string, string>) =>
      parseSettings((name) => ({ 'azure-cloud': 'AzureUSGovernment', 'arm-endpoint': sb!.urls.arm, 'authority-host': sb!.urls.entra, 'azure-client-id': sb!.loginApp.clientId, 'azure-tenant-id': sb!.tenantId, ...over })[name] ?? '').azure;
    const usgov = inputs({});
    expect(usgov.audience).toBe('api://AzureADTokenExchangeUSGov');
    // The login identity's credential lists the public cloud's audience only.
    const err = await createAzureCredential(usgov, githubIdToken(sb)).getToken(`${sb.urls.arm}/.default`).catch((e: unknown) => e);
    expect((err as AzureLoginError).code).toBe('AADSTS700212');
    expect((err as Error).message).toContain("audience 'api://AzureADTokenExchangeUSGov' (the audience input, default from azure-cloud)");
    // The input wins: the credential's audience, and the login works.
    const token = await createAzureCredential(inputs({ audience: 'api://AzureADTokenExchange' }), githubIdToken(sb)).getToken(`${sb.urls.arm}/.default`);
    expect(token?.token).toMatch(/^ey/);
  });

  it('names the federated credential to add on AADSTS70021 (no matching record yet)', async () => {
    sb = await startAzureSandbox(scenario());
    for (const f of sb.loginApp.fics) f.propagatesAt = Date.now() + 60_000; // just created: not replicated yet
    const credential = createAzureCredential(azureSettings(sb), githubIdToken(sb));
    const err = await credential.getToken(`${sb.urls.arm}/.default`).catch((e: unknown) => e);
    expect((err as AzureLoginError).code).toBe('AADSTS70021');
    expect((err as Error).message).toContain(`client id ${sb.loginApp.clientId}`);
    expect((err as Error).message).toContain("subject 'repo:contoso/platform:environment:staging'");
  });

  it('says to add id-token: write when the job has no OIDC token URL', async () => {
    sb = await startAzureSandbox(scenario());
    const credential = createAzureCredential(azureSettings(sb), githubIdToken(sb, { viaActionsCore: true, withoutRequestUrl: true }));
    const err = await credential.getToken(`${sb.urls.arm}/.default`).catch((e: unknown) => e);
    expect((err as AzureLoginError).code).toBe('MissingIdTokenPermission');
    expect((err as Error).message).toContain("'permissions: id-token: write'");
  });
});
