// Time through dist/index.js on the demo sandbox: a request that never answers, in each
// service the action talks to, is cut off at the request timeout and retried; a run whose
// deadline (the `timeout` input) passes ends with the summary and outputs written; the
// SDK's background token refresh failing during an Entra outage does not fail an apply
// that succeeded. Each test has a sandbox of its own (they apply), so any order works.
import { resolve } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { startSandbox, type Sandbox } from '../sandbox/index.ts';
import { ROOT } from './demo-sandbox.ts';
import { runAction } from './run-action.ts';

let sb: Sandbox;
beforeEach(async () => {
  sb = await startSandbox({ scenario: resolve(ROOT, 'test/sandbox/scenarios/demo.yaml') });
});
afterEach(async () => {
  await sb?.stop();
});

const run = (inputs: Record<string, string>, requestTimeoutMs: number) =>
  runAction({
    workspace: ROOT,
    env: { ...sb.env, WORKLOAD_IDENTITY_REQUEST_TIMEOUT_MS: String(requestTimeoutMs) },
    inputs: { mode: 'apply', environment: 'staging', 'mapping-file': 'examples/workload-identity.yaml', verify: 'false', ...inputs },
  });

const RETRIED = /: no answer within the request timeout, retrying in \d+\.\d s \(attempt 2 of \d\)$/;

describe('a call that never answers (dist/index.js)', () => {
  it.each([
    { service: 'arm', method: 'PUT', pathIncludes: '/federatedIdentityCredentials/', line: /^federated credential '.*' on identity '.*'/ },
    { service: 'kube', method: 'PATCH', pathIncludes: '/serviceaccounts/', line: /^ServiceAccount orders\/orders-worker/ },
    { service: 'entra', method: 'POST', pathIncludes: '/oauth2/v2.0/token', line: /^Entra token request \(POST / },
    { service: 'github', method: 'GET', pathIncludes: '/_apis/actions/idtoken', line: /^GitHub OIDC token request/ },
  ] as const)('$service $method: cut off at the request timeout and retried, the apply succeeds', async ({ service, method, pathIncludes, line }) => {
    sb.faults.inject({ service, method, pathIncludes, hang: true, times: 1 });
    const started = Date.now();
    const apply = await run({}, 1500);
    expect(apply.code, apply.stdout).toBe(0);
    expect(sb.faults.hung).toBe(1);
    // The hung call, retried once. (A loaded machine may time out another call too, at 1.5 s:
    // that is the policy working, not this test's subject.)
    const retries = apply.stdout.split('\n').filter((l) => RETRIED.test(l) && line.test(l));
    expect(retries).toHaveLength(1);
    expect(Date.now() - started).toBeLessThan(30_000);
    expect(JSON.parse(apply.outputs.result!).applied.every((a: { ok: boolean }) => a.ok)).toBe(true);
  });
});

describe('the run deadline (timeout input)', () => {
  it('a write hung past the deadline: the run ends at it, the summary says outcome unknown, nothing else is started', async () => {
    // The request timeout (60 s) is longer than the whole run may take (10 s): only the deadline ends it.
    sb.faults.inject({ service: 'arm', method: 'PUT', pathIncludes: '/id-payments/federatedIdentityCredentials/', hang: true, times: 100 });
    const started = Date.now();
    const apply = await run({ timeout: '10', concurrency: '1' }, 60_000);
    const took = Date.now() - started;
    expect(apply.code).toBe(1);
    expect(took).toBeLessThan(10_000 + 8_000); // the deadline, plus start-up and reporting
    const result = JSON.parse(apply.outputs.result!);
    const payments = result.applied.find((a: { target: string }) => a.target === 'id-payments/staging_payments_payments-api');
    expect(payments).toMatchObject({ ok: false, outcomeUnknown: true, error: expect.stringContaining('outcome unknown — the next plan will show it') });
    expect(apply.summary).toContain('outcome unknown — the next plan will show it');
    expect(apply.stdout).toMatch(/::error::.*the run's deadline passed \(timeout: 10 s\)/);
    // The ServiceAccount of the cut-off credential is not pointed at it.
    expect(sb.log.writes('kube').some((c) => c.path.includes('/namespaces/payments/serviceaccounts'))).toBe(false);
  });

  it('a plan whose cluster read hangs ends within its deadline with the summary written', async () => {
    sb.faults.inject({ service: 'arm', method: 'GET', pathIncludes: '/managedClusters/', hang: true, times: 100 });
    const started = Date.now();
    const plan = await run({ mode: 'plan', timeout: '10' }, 60_000);
    expect(Date.now() - started).toBeLessThan(10_000 + 8_000);
    expect(plan.code).toBe(1);
    expect(plan.summary).toContain("the run's deadline passed (timeout: 10 s)");
    expect(plan.outputs.result).toBeDefined();
    expect(plan.stdout).not.toMatch(/Unexpected error/);
  });
});

describe('the SDK refreshing its token in the background', () => {
  it('an Entra outage at refresh time is a warning, not a failed apply', async () => {
    // Tokens shorter than the SDK's 2-minute refresh window: every ARM call after a client's
    // first starts a background refresh. Entra goes down once every ARM client has its token:
    // the refreshes fail until the token expires, the last one unawaited, while the writes
    // still carry the valid token. The action's first two token requests are the two clients'
    // own (AKS for the issuer, then MSI for the identities: a client refreshes only after it
    // has a token, and the AKS client makes one call), so the outage starts at the third —
    // counted by the sandbox, not raced against the run by the clock.
    sb.entra.setTokenLifetime(12);
    sb.faults.inject({ service: 'entra', method: 'POST', pathIncludes: '/oauth2/v2.0/token', status: 503, skip: 2, times: 1000 });
    const apply = await run({}, 5000);
    expect(sb.log.of('entra').filter((c) => c.status === 503).length).toBeGreaterThan(0);
    expect(JSON.parse(apply.outputs.result!).applied.every((a: { ok: boolean }) => a.ok)).toBe(true);
    expect(apply.code, apply.stderr).toBe(0); // before: exit 1, from the unhandled rejection after the summary
    expect(apply.stdout).toMatch(/::warning::The Azure SDK's background token refresh failed/);
  });
});
