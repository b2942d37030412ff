import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ClientAssertionCredential } from '@azure/identity';
import { decodeJwt } from 'jose';
import { startSandboxCore, type SandboxCore } from '../sandbox/sandbox.ts';
import { ARM_SCOPE, baseScenario, credential, saToken, SA_SUBJECT, trustSandboxCa } from './helpers.ts';

let sb: SandboxCore<undefined>;

beforeAll(async () => {
  sb = await startSandboxCore<undefined>({ scenario: baseScenario() });
  trustSandboxCa(sb.tls.caPem);
});
afterAll(async () => {
  await sb?.stop();
});

const payments = () => sb.state.identityByName('id-payments')!;

/** Adds a FIC to id-orders for the duration of `body`, removing it afterwards whatever happens. */
async function withOrdersFic(fic: { name: string; issuer: string; subject: string; propagatesAt?: number }, body: (identity: ReturnType<typeof payments>) => Promise<void>): Promise<void> {
  const identity = sb.state.identityByName('id-orders')!;
  sb.state.addFic(identity, fic);
  try {
    await body(identity);
  } finally {
    identity.fics = identity.fics.filter((f) => f.name !== fic.name);
  }
}

async function exchangeError(clientId: string, assertion: string): Promise<Error> {
  const err = await credential(sb, clientId, assertion)
    .getToken(ARM_SCOPE)
    .then(
      () => undefined,
      (e: unknown) => e as Error,
    );
  if (!err) throw new Error('expected the exchange to fail');
  return err;
}

describe('Entra token exchange through @azure/identity ClientAssertionCredential', () => {
  it('exchanges a cluster token for an ARM access token', async () => {
    const token = await credential(sb, payments().clientId, await saToken(sb)).getToken(ARM_SCOPE);
    const claims = decodeJwt(token.token);
    expect(claims).toMatchObject({
      tid: sb.tenantId,
      oid: payments().principalId,
      appid: payments().clientId,
      aud: 'https://management.azure.com',
      iss: `https://sts.windows.net/${sb.tenantId}/`,
    });
    expect(claims.xms_mirid).toMatch(/userAssignedIdentities\/id-payments$/);
  });

  it('AADSTS700016 for an unknown client id', async () => {
    const err = await exchangeError('11111111-2222-4333-8444-555555555555', await saToken(sb));
    expect(err.message).toContain('AADSTS700016');
  });

  it('AADSTS700211 when no FIC names the issuer (trailing slash missing)', async () => {
    await withOrdersFic({ name: 'noslash', issuer: sb.issuerUrl.replace(/\/$/, ''), subject: SA_SUBJECT }, async (identity) => {
      const err = await exchangeError(identity.clientId, await saToken(sb));
      expect(err.message).toContain('AADSTS700211');
      expect(err.message).toContain(`presented assertion issuer '${sb.issuerUrl}'`);
    });
  });

  it('AADSTS700213 for another subject', async () => {
    const err = await exchangeError(payments().clientId, await saToken(sb, { sub: 'system:serviceaccount:payments:other' }));
    expect(err.message).toContain('AADSTS700213');
  });

  it('AADSTS7002138 when the subject differs only in case', async () => {
    const err = await exchangeError(payments().clientId, await saToken(sb, { sub: 'system:serviceaccount:Payments:payments-api' }));
    expect(err.message).toContain('AADSTS7002138');
  });

  it('AADSTS700212 for another audience', async () => {
    const err = await exchangeError(payments().clientId, await saToken(sb, { aud: 'api://other' }));
    expect(err.message).toContain('AADSTS700212');
  });

  it('AADSTS700024 for an expired assertion', async () => {
    const hourAgo = Math.floor(Date.now() / 1000) - 7200;
    const err = await exchangeError(payments().clientId, await saToken(sb, { now: hourAgo, lifetime: 3600 }));
    expect(err.message).toContain('AADSTS700024');
    expect(err.message).toContain('Client assertion is not within its valid time range');
  });

  it('AADSTS90061 when the issuer is unreachable', async () => {
    sb.setIssuerUnreachable(true);
    try {
      const err = await exchangeError(payments().clientId, await saToken(sb));
      expect(err.message).toContain('AADSTS90061');
    } finally {
      sb.setIssuerUnreachable(false);
    }
  });

  it('AADSTS90061 when the issuer answers 503 (a fault on the issuer service, plain text)', async () => {
    sb.faults.inject({ service: 'issuer', status: 503, times: 1 });
    try {
      const err = await exchangeError(payments().clientId, await saToken(sb));
      expect(err.message).toContain('AADSTS90061');
      expect(sb.log.of('issuer').some((c) => c.status === 503)).toBe(true);
      sb.faults.inject({ service: 'issuer', status: 503, times: 1 });
      const res = await fetch(`${sb.issuerUrl}.well-known/openid-configuration`);
      expect(res.status).toBe(503);
      expect(res.headers.get('content-type')).toBe('text/plain');
      expect(await res.text()).toBe('Service Unavailable\n');
    } finally {
      sb.faults.clear();
    }
  });

  it('AADSTS50166 when the issuer refuses Entra with 403 (an issuer in a storage account limited to selected networks)', async () => {
    sb.faults.inject({ service: 'issuer', status: 403, times: 1 });
    try {
      const err = await exchangeError(payments().clientId, await saToken(sb));
      expect(err.message).toContain('AADSTS50166: Request to External OIDC endpoint failed.');
      expect(sb.log.of('issuer').some((c) => c.status === 403)).toBe(true);
    } finally {
      sb.faults.clear();
    }
  });

  it('AADSTS900612 when the issuer serves a JWKS that does not parse', async () => {
    sb.setIssuerJwksMalformed(true, sb.issuerUrl);
    try {
      const err = await exchangeError(payments().clientId, await saToken(sb));
      expect(err.message).toContain('AADSTS900612');
      const jwks = await (await fetch(`${sb.issuerUrl}openid/v1/jwks`)).text();
      expect(() => JSON.parse(jwks)).toThrow();
    } finally {
      sb.setIssuerJwksMalformed(false);
    }
    // and back: the same assertion is accepted
    await credential(sb, payments().clientId, await saToken(sb)).getToken(ARM_SCOPE);
  });

  it('AADSTS70021 while a FIC propagates, then success once it has (no waiting on a clock)', async () => {
    await withOrdersFic({ name: 'fresh', issuer: sb.issuerUrl, subject: SA_SUBJECT, propagatesAt: Date.now() + 3_600_000 }, async (identity) => {
      const assertion = await saToken(sb);
      const err = await exchangeError(identity.clientId, assertion);
      expect(err.message).toContain('AADSTS70021');
      expect(err.message).toContain(`Assertion Issuer: '${sb.issuerUrl}'`);
      identity.fics.find((f) => f.name === 'fresh')!.propagatesAt = Date.now() - 1;
      const token = await credential(sb, identity.clientId, assertion).getToken(ARM_SCOPE);
      expect(decodeJwt(token.token).oid).toBe(identity.principalId);
    });
  });

  it("setMismatchStyle('generic'): issuer, subject and audience mismatches all answer AADSTS70021", async () => {
    sb.setMismatchStyle('generic');
    try {
      const bySubject = await exchangeError(payments().clientId, await saToken(sb, { sub: 'system:serviceaccount:payments:other' }));
      expect(bySubject.message).toContain('AADSTS70021');
      expect(bySubject.message).toContain(
        `No matching federated identity record found for presented assertion. Assertion Issuer: '${sb.issuerUrl}'. Assertion Subject: 'system:serviceaccount:payments:other'. Assertion Audience: 'api://AzureADTokenExchange'.`,
      );
      expect(bySubject.message).not.toContain('AADSTS700213');
      const byAudience = await exchangeError(payments().clientId, await saToken(sb, { aud: 'api://other' }));
      expect(byAudience.message).toContain("AADSTS70021: No matching federated identity record found for presented assertion. Assertion Issuer: ");
      expect(byAudience.message).toContain("Assertion Audience: 'api://other'.");
      await withOrdersFic({ name: 'noslash', issuer: sb.issuerUrl.replace(/\/$/, ''), subject: SA_SUBJECT }, async (identity) => {
        const byIssuer = await exchangeError(identity.clientId, await saToken(sb));
        expect(byIssuer.message).toContain('AADSTS70021');
        expect(byIssuer.message).not.toContain('AADSTS700211');
      });
      // a subject that differs only in case keeps its own code
      const caseOnly = await exchangeError(payments().clientId, await saToken(sb, { sub: 'system:serviceaccount:Payments:payments-api' }));
      expect(caseOnly.message).toContain('AADSTS7002138');
      // a match still succeeds
      await credential(sb, payments().clientId, await saToken(sb)).getToken(ARM_SCOPE);
    } finally {
      sb.setMismatchStyle('specific');
    }
    const specific = await exchangeError(payments().clientId, await saToken(sb, { sub: 'system:serviceaccount:payments:other' }));
    expect(specific.message).toContain('AADSTS700213');
  });

  it('injected faults answer with the AADSTS envelope (503 temporarily_unavailable AADSTS90033)', async () => {
    const body = new URLSearchParams({ grant_type: 'client_credentials', client_id: payments().clientId, scope: ARM_SCOPE });
    try {
      // through @azure/identity (retries off): MSAL reads the envelope
      sb.faults.inject({ service: 'entra', method: 'POST', status: 503, times: 1 });
      const once = new ClientAssertionCredential(sb.tenantId, payments().clientId, () => saToken(sb), { authorityHost: sb.urls.entra, disableInstanceDiscovery: true, retryOptions: { maxRetries: 0 } });
      const viaSdk = await once.getToken(ARM_SCOPE).then(
        () => undefined,
        (e: unknown) => e as Error,
      );
      expect(viaSdk?.message).toContain('AADSTS90033');

      sb.faults.inject({ service: 'entra', method: 'POST', status: 503, retryAfterSeconds: 3, times: 1 });
      const res = await fetch(`${sb.urls.entra}/${sb.tenantId}/oauth2/v2.0/token`, { method: 'POST', body, headers: { 'client-request-id': 'c0ffee00-0000-4000-8000-000000000001' } });
      expect(res.status).toBe(503);
      expect(res.headers.get('retry-after')).toBe('3');
      const json = (await res.json()) as Record<string, unknown>;
      expect(json).toMatchObject({ error: 'temporarily_unavailable', error_codes: [90033], correlation_id: 'c0ffee00-0000-4000-8000-000000000001' });
      expect(json.error_description).toMatch(/^AADSTS90033: A transient error has occurred\. Please try again\. Trace ID: /);
      sb.faults.inject({ service: 'entra', method: 'POST', status: 500, times: 1 });
      const five = (await (await fetch(`${sb.urls.entra}/${sb.tenantId}/oauth2/v2.0/token`, { method: 'POST', body })).json()) as Record<string, unknown>;
      expect(five).toMatchObject({ error: 'server_error', error_codes: [50000] });
    } finally {
      sb.faults.clear();
    }
  });

  it('the error body has the real envelope', async () => {
    const body = new URLSearchParams({
      grant_type: 'client_credentials',
      client_id: payments().clientId,
      scope: ARM_SCOPE,
      client_assertion_type: 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer',
      client_assertion: await saToken(sb, { aud: 'api://other' }),
    });
    const res = await fetch(`${sb.urls.entra}/${sb.tenantId}/oauth2/v2.0/token`, { method: 'POST', body, headers: { 'client-request-id': 'c0ffee00-0000-4000-8000-000000000000' } });
    expect(res.status).toBe(401);
    const json = (await res.json()) as Record<string, unknown>;
    expect(Object.keys(json).sort()).toEqual(['correlation_id', 'error', 'error_codes', 'error_description', 'error_uri', 'timestamp', 'trace_id']);
    expect(json.error).toBe('invalid_client');
    expect(json.error_codes).toEqual([700212]);
    expect(json.correlation_id).toBe('c0ffee00-0000-4000-8000-000000000000');
    expect(json.error_description).toMatch(/^AADSTS700212: .* Trace ID: [0-9a-f-]{36} Correlation ID: c0ffee00-0000-4000-8000-000000000000 Timestamp: \d{4}-\d\d-\d\d \d\d:\d\d:\d\dZ$/);
  });

  it('accepts a GitHub Actions OIDC token for the action login', async () => {
    const token = await credential(sb, sb.loginApp.clientId, () => sb.githubIdToken('api://AzureADTokenExchange')).getToken(ARM_SCOPE);
    expect(decodeJwt(token.token).appid).toBe(sb.loginApp.clientId);
  });

  it('serves MSAL metadata with an issuer on the same origin', async () => {
    const meta = (await (await fetch(`${sb.urls.entra}/${sb.tenantId}/v2.0/.well-known/openid-configuration`)).json()) as Record<string, string>;
    expect(meta.issuer).toBe(`${sb.urls.entra}/${sb.tenantId}/v2.0`);
    expect(meta.token_endpoint).toBe(`${sb.urls.entra}/${sb.tenantId}/oauth2/v2.0/token`);
    const inst = (await (await fetch(`${sb.urls.entra}/common/discovery/instance?api-version=1.1&authorization_endpoint=${encodeURIComponent(`${sb.urls.entra}/${sb.tenantId}/oauth2/v2.0/authorize`)}`)).json()) as Record<string, unknown>;
    expect(inst.tenant_discovery_endpoint).toBe(`${sb.urls.entra}/${sb.tenantId}/v2.0/.well-known/openid-configuration`);
  });
});

describe('AKS OIDC issuer', () => {
  it('serves discovery and JWKS byte-exact', async () => {
    const res = await fetch(`${sb.issuerUrl}.well-known/openid-configuration`);
    expect(await res.json()).toEqual({
      issuer: sb.issuerUrl,
      jwks_uri: `${sb.issuerUrl}openid/v1/jwks`,
      response_types_supported: ['id_token'],
      subject_types_supported: ['public'],
      id_token_signing_alg_values_supported: ['RS256'],
    });
    const jwks = (await (await fetch(`${sb.issuerUrl}openid/v1/jwks`)).json()) as { keys: { kid: string }[] };
    expect(jwks.keys[0]!.kid).toBe(sb.clusterIssuer.kid);
    expect((await fetch(`${sb.urls.issuer}/nope/.well-known/openid-configuration`)).status).toBe(404);
  });
});
