// Entra's refusals of a verification pod, through the built dist/index.js on the demo
// scenario, each brought about by its real cause in the sandbox (the mapping's audience, an
// edit of a credential that has not reached Entra, the API server's clock, the issuer's
// discovery and keys). What is asserted is what the user sees: the binding's row failed with
// the AADSTS code, the job log line, the annotation, the summary, the cause naming the values,
// and a fix that never deletes or repoints a credential that works.
import { beforeAll, describe, expect, it } from 'vitest';
import { ROOT, useDemoSandbox } from './demo-sandbox.ts';
import type { VerificationResult } from '../../src/result.ts';
import { runAction, verificationsOf, workspaceWith, type ActionRun } from './run-action.ts';

const demo = useDemoSandbox();
const PAYMENTS_FIC = 'staging_payments_payments-api';
const SUBJECT = 'system:serviceaccount:payments:payments-api';
const WEBHOOK_AUDIENCE = 'api://AzureADTokenExchange';
/** Advice that would delete a credential, or change one by hand. */
const HARMFUL = /\bdelete\b|\bremove\b.*credential|federated-credential (update|delete)/i;

const run = (mode: string, extra: Record<string, string> = {}, workspace = ROOT): Promise<ActionRun> =>
  runAction({
    workspace,
    env: demo.sb.env,
    inputs: { mode, environment: 'staging', ...(workspace === ROOT ? { 'mapping-file': 'examples/workload-identity.yaml' } : {}), ...extra },
  });

/** The payments-api row, failed with `code`, as the user meets it in every place it is shown. */
function failedRow(r: ActionRun, code: number): VerificationResult {
  expect(r.code, r.stdout).toBe(1);
  expect(r.outputs.verified).toBe('false');
  const v = verificationsOf(r).find((x) => x.serviceAccount === 'payments-api')!;
  expect(v).toMatchObject({ namespace: 'payments', ok: false, aadsts: code });
  expect(v.checks.find((c) => c.name === 'exchange')).toMatchObject({ ok: false, detail: expect.stringContaining(`AADSTS${code}:`) });
  expect(r.stdout).toContain(`FAILED    payments/payments-api → id-payments (AADSTS${code})`);
  expect(r.stdout).toContain(`cause: ${v.cause}`);
  expect(r.stdout).toContain(`fix: ${v.fix}`);
  expect(r.annotations.some((a) => a.level === 'error' && a.props.title?.includes('payments/payments-api') && a.message.includes(`AADSTS${code}`))).toBe(true);
  expect(r.summary).toMatch(new RegExp(`payments/payments-api.*AADSTS${code}`));
  expect(v.fix).not.toMatch(HARMFUL);
  return v;
}

/** Runs `body` with id-payments' credentials as they are now, and puts them back after. */
async function keepingCredentials(body: () => Promise<void>): Promise<void> {
  const id = demo.sb.state.identityByName('id-payments')!;
  const saved = structuredClone(id.fics);
  try {
    await body();
  } finally {
    id.fics = saved;
    demo.sb.setFicPropagationDelay(0);
  }
}

beforeAll(async () => {
  demo.sb.log.reset();
  const apply = await run('apply', { verify: 'false' });
  expect(apply.code, apply.stdout).toBe(0);
  // verify: false — no verification pod (the preflight's dry-run pods are never stored), no verification, and the summary says nothing was proved.
  expect(verificationsOf(apply)).toEqual([]);
  expect(apply.outputs.verified).toBe('false');
  expect(apply.summary).toContain('Not verified (verify: false): nothing proved that a pod can exchange its token.');
  expect(demo.sb.log.calls.filter((c) => c.service === 'kube' && c.method === 'POST' && /\/pods(\?|$)/.test(c.path) && !c.path.includes('dryRun=All'))).toEqual([]);
});

describe("Entra's refusals through dist/, from their real causes", () => {
  it.each([
    { style: 'specific', code: 700212, cause: `The webhook projects tokens for audience '${WEBHOOK_AUDIENCE}', but the federated credential of identity 'id-payments' for '${SUBJECT}' expects 'api://contoso-workloads' (AADSTS700212)` },
    // Tenants that answer every mismatch with the generic code: diagnosed at once from the token's claims, not waited on.
    { style: 'generic', code: 70021, cause: `the credential's audience is 'api://contoso-workloads' but the token says '${WEBHOOK_AUDIENCE}'` },
  ] as const)('AADSTS$code ($style tenant): the mapping asks for an audience the webhook does not project — set the audience the webhook projects', async ({ style, code, cause }) => {
    demo.sb.setMismatchStyle(style);
    await keepingCredentials(async () => {
      // The credential as the mapping had it written (plan's webhook dry run now stops such an
      // apply; verify still runs the pod, to show what the finding means for a real one).
      const fic = demo.sb.state.identityByName('id-payments')!.fics.find((f) => f.name === PAYMENTS_FIC)!;
      fic.audiences = ['api://contoso-workloads'];
      const ws = workspaceWith(
        [
          'version: 1',
          'defaults:',
          `  tenantId: ${demo.sb.tenantId}`,
          `  subscriptionId: ${demo.sb.subscriptionId}`,
          '  resourceGroup: rg-identities',
          '  audience: api://contoso-workloads',
          'environments:',
          '  staging:',
          '    cluster: { resourceGroup: rg-aks-staging, name: aks-staging }',
          'bindings:',
          '  - namespace: payments',
          '    serviceAccount: payments-api',
          '    identity: id-payments',
          '',
        ].join('\n'),
      );
      const verify = await run('verify', {}, ws);
      expect(verify.stdout).toMatch(/preflight ERROR webhook-dry-run: The webhook projects tokens with audience api:\/\/AzureADTokenExchange/);
      const v = failedRow(verify, code);
      expect(v.checks.find((c) => c.name === 'audience')).toMatchObject({ ok: false, detail: `the token says '${WEBHOOK_AUDIENCE}', the federated credential expects 'api://contoso-workloads'` });
      expect(v.cause).toContain(cause);
      expect(v.fix).toContain(`Set \`audience: ${WEBHOOK_AUDIENCE}\` in the mapping's defaults`);
      expect(v.attempts).toBe(1);
    }).finally(() => demo.sb.setMismatchStyle('specific'));
  });

  it("AADSTS700212 right after apply corrected the audience: Entra still holds the old one — nothing to change, verify again", async () => {
    await keepingCredentials(async () => {
      // The credential was written for an audience an earlier mapping asked for.
      const fic = demo.sb.state.identityByName('id-payments')!.fics.find((f) => f.name === PAYMENTS_FIC)!;
      fic.audiences = ['api://contoso-workloads'];
      demo.sb.setFicPropagationDelay(600_000);
      const apply = await run('apply', { 'verify-timeout': '30' });
      // ARM holds the corrected audience; Entra has not received the change.
      expect(fic.audiences).toEqual([WEBHOOK_AUDIENCE]);
      const v = failedRow(apply, 700212);
      expect(v.checks.filter((c) => !c.ok).map((c) => c.name)).toEqual(['exchange']);
      expect(v.cause).toContain(`ARM holds federated credential '${PAYMENTS_FIC}' on identity 'id-payments' with exactly the token's issuer '${demo.sb.issuerUrl}', subject '${SUBJECT}' and audience '${WEBHOOK_AUDIENCE}'`);
      expect(v.cause).toContain('this run changed it and the change had not propagated');
      expect(v.fix).toBe(`Nothing to change: federated credential '${PAYMENTS_FIC}' is right. Run verify again in a few minutes (mode: verify).`);
    });
  });

  it("AADSTS700024: the API server's clock runs ahead — the token is not valid yet for Entra", async () => {
    demo.sb.kube.setClockSkew(900);
    try {
      const verify = await run('verify');
      const v = failedRow(verify, 700024);
      // The pod's own checks pass: its token is right, only its time window is not Entra's.
      expect(v.checks.filter((c) => !c.ok).map((c) => c.name)).toEqual(['exchange']);
      expect(v.cause).toMatch(/^Entra refused the token as not valid yet \(AADSTS700024\): it is valid from \S+Z, (8[89]\d|900) s after Entra's time \S+Z — the clock of the API server that issued it runs ahead/);
      expect(v.fix).toMatch(/^Synchronise the cluster's clocks/);
      expect(v.fix).toContain('Nothing in Azure needs to change');
    } finally {
      demo.sb.kube.setClockSkew(0);
    }
  });

  it("AADSTS700024: the API server's clock runs behind by more than the token's lifetime — the token is expired on arrival", async () => {
    demo.sb.kube.setClockSkew(-7200);
    try {
      const verify = await run('verify');
      const v = failedRow(verify, 700024);
      expect(v.checks.find((c) => c.name === 'expiry')).toMatchObject({ ok: false });
      const [, late] = /^Entra refused the token as expired \(AADSTS700024\): it expired at \S+Z, (\d+) s before Entra's time \S+Z\. .*runs behind by more than the token's lifetime/.exec(v.cause ?? '') ?? [];
      // Issued 7200 s early for 3600 s: expired 3600 s before Entra saw it (give or take the run's seconds).
      expect(Math.abs(Number(late) - 3600)).toBeLessThan(30);
      expect(v.fix).toContain('Nothing in Azure needs to change');
    } finally {
      demo.sb.kube.setClockSkew(0);
    }
  });

  it.each([
    // The issuer's discovery document is missing (an AKS issuer whose deployment failed: azure-workload-identity#955).
    { code: 90061, status: 404 },
    // The issuer refuses Entra (a self-hosted issuer in a storage account limited to selected networks: azure-workload-identity#1130).
    { code: 50166, status: 403 },
  ])("AADSTS$code: Entra cannot fetch the cluster issuer's discovery document (HTTP $status) — the issuer, not the credentials", async ({ code, status }) => {
    demo.sb.faults.inject({ service: 'issuer', pathIncludes: '/.well-known/openid-configuration', status, times: 1000 });
    try {
      const verify = await run('verify');
      const v = failedRow(verify, code);
      const discovery = `${demo.sb.issuerUrl}.well-known/openid-configuration`;
      expect(v.cause).toContain(`Entra could not fetch the cluster issuer's discovery document or keys (AADSTS${code}: Request to External OIDC endpoint failed): ${discovery}`);
      expect(v.fix).toContain(`Open ${discovery} from outside your network: it must answer 200 with "issuer": "${demo.sb.issuerUrl}"`);
      expect(v.fix).toContain('The federated credentials are not the problem: leave them as they are.');
    } finally {
      demo.sb.faults.clear();
    }
  });

  it("AADSTS900612: the cluster issuer serves keys Entra cannot parse — the issuer, not the credentials", async () => {
    demo.sb.setIssuerJwksMalformed(true);
    try {
      const verify = await run('verify');
      const v = failedRow(verify, 900612);
      expect(v.cause).toContain(`The issuer '${demo.sb.issuerUrl}' serves a JSON Web Key Set that Entra cannot parse (AADSTS900612)`);
      expect(v.fix).toContain('The federated credentials are not the problem: leave them as they are.');
    } finally {
      demo.sb.setIssuerJwksMalformed(false);
    }
  });
});
