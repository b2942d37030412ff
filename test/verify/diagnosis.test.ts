// Diagnosis edges that the sandbox runs (runner.test.ts, e2e/verify*.test.ts) do not reach in
// reasonable time: what the probe reported is given as data, as the runner parses it.
import { describe, expect, it } from 'vitest';
import { diagnoseAadsts, type DiagnosisContext } from '../../src/verify/diagnosis.ts';
import type { ProbeResult } from '../../src/verify/probe.ts';

const ISSUER = 'https://westeurope.oic.prod-aks.azure.com/t/u/';
const SUBJECT = 'system:serviceaccount:payments:payments-api';
const AUDIENCE = 'api://AzureADTokenExchange';
const context: DiagnosisContext = {
  namespace: 'payments',
  serviceAccount: 'payments-api',
  identity: 'id-payments',
  clientId: '11111111-2222-4333-8444-555555555555',
  issuer: ISSUER,
  subject: SUBJECT,
  audience: AUDIENCE,
  scope: 'https://management.azure.com/.default',
  ficInArm: true,
  ficName: 'staging_payments_payments-api',
};
const probe = (over: Partial<ProbeResult>): ProbeResult => ({
  ok: false,
  checks: [],
  token: { iss: ISSUER, sub: SUBJECT, aud: [AUDIENCE], exp: 1_800_000_000 },
  attempts: 1,
  env: {},
  ...over,
});

describe('diagnosis', () => {
  it('AADSTS70025 while ARM holds the credential with the token\'s values: wait, never a second credential', () => {
    const d = diagnoseAadsts(70025, probe({ attempts: 6 }), context);
    expect(d.cause).toContain('ARM lists one, so it may not have propagated yet');
    expect(d.fix).toBe("Nothing to change: federated credential 'staging_payments_payments-api' is right. Run verify again in a few minutes (mode: verify), or raise verify-timeout so that the wait after apply covers the propagation.");
    expect(d.fix).not.toContain('az identity federated-credential create');
  });

  it('AADSTS70025 with nothing in ARM: federate it, under a new name', () => {
    const d = diagnoseAadsts(70025, probe({}), { ...context, ficInArm: false, ficName: undefined });
    expect(d.fix).toContain(`az identity federated-credential create --identity-name id-payments --resource-group <rg> --name <new-name> --issuer ${ISSUER} --subject ${SUBJECT} --audiences ${AUDIENCE}`);
  });

  it('AADSTS700024 in words Entra did not use before: the description as Entra gave it, clocks to check', () => {
    const d = diagnoseAadsts(700024, probe({ error: 'AADSTS700024: Client assertion is not within its valid time range.' }), context);
    expect(d.cause).toBe('Entra found the token outside its valid time range (AADSTS700024): AADSTS700024: Client assertion is not within its valid time range.');
    expect(d.fix).toMatch(/^Synchronise the cluster's clocks/);
  });

  it('AADSTS700024 without Entra\'s times but with an expired token in the pod: expired', () => {
    const d = diagnoseAadsts(700024, probe({ error: 'AADSTS700024', checks: [{ name: 'expiry', ok: false, detail: 'expires in -30 s' }] }), context);
    expect(d.cause).toMatch(/^Entra refused the token as expired \(AADSTS700024\): it expired at 2027-01-15T08:00:00Z\. /);
  });

  it('AADSTS90061 for an issuer written without its slash: the discovery URL is still well formed', () => {
    const noSlash = ISSUER.replace(/\/$/, '');
    const d = diagnoseAadsts(90061, probe({ token: { iss: noSlash, sub: SUBJECT, aud: [AUDIENCE] } }), context);
    expect(d.fix).toContain(`Open ${noSlash}/.well-known/openid-configuration from outside your network`);
  });
});
