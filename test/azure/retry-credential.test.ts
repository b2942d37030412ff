import { describe, expect, it } from 'vitest';
import { AzureLoginError, createAzureCredential, decodeJwtClaims, explainLoginError, isKnownAuthorityHost, warnOnBackgroundTokenRefresh } from '../../src/azure/credential.ts';
import { AzureCallError, CONCURRENT_FIC_WRITES, retryAfterFromHeaders, toAzureError } from '../../src/azure/errors.ts';
import { WRITE_RETRY, retryDelay } from '../../src/azure/retry.ts';

const err = (statusCode: number | undefined, code: string, retryAfterMs?: number) =>
  new AzureCallError('PUT x', code, 'm', { ...(statusCode ? { statusCode } : {}), ...(retryAfterMs !== undefined ? { retryAfterMs } : {}) });

describe('retry policy', () => {
  const opts = { ...WRITE_RETRY, random: () => 0.5 };
  it('retries concurrent writes on one identity, throttling, 5xx and network errors', () => {
    expect(retryDelay(err(409, CONCURRENT_FIC_WRITES), 1, opts)).toBe(750);
    expect(retryDelay(err(503, 'ServiceUnavailable'), 2, opts)).toBe(1500);
    expect(retryDelay(err(undefined, 'ECONNRESET'), 1, opts)).toBe(750);
    expect(retryDelay(err(429, 'TooManyRequests', 7000), 1, opts)).toBe(7000);
  });
  it('does not retry what cannot change', () => {
    for (const e of [err(400, 'BadRequest'), err(403, 'AuthorizationFailed'), err(404, 'ResourceNotFound'), err(409, 'Conflict'), err(501, 'NotImplemented')]) {
      expect(retryDelay(e, 1, opts)).toBeUndefined();
    }
  });
  it('stops after maxAttempts, and rather than retry early against a Retry-After beyond the cap', () => {
    expect(retryDelay(err(500, 'InternalServerError'), WRITE_RETRY.maxAttempts, opts)).toBeUndefined();
    expect(retryDelay(err(429, 'TooManyRequests', 3_600_000), 1, opts)).toBeUndefined();
  });
  it('caps the backoff', () => {
    expect(retryDelay(err(500, 'InternalServerError'), 5, { ...opts, maxAttempts: 99 })).toBeLessThanOrEqual(WRITE_RETRY.maxDelayMs);
  });
  it('reads Retry-After as seconds, milliseconds or a date', () => {
    const h = (m: Record<string, string>) => ({ get: (n: string) => m[n] });
    expect(retryAfterFromHeaders(h({ 'retry-after': '3' }))).toBe(3000);
    expect(retryAfterFromHeaders(h({ 'retry-after-ms': '250' }))).toBe(250);
    expect(retryAfterFromHeaders(h({ 'retry-after': new Date(10_000).toUTCString() }), 4_000)).toBe(6000);
  });
  it('keeps the ARM code and status of an SDK error', () => {
    const e = toAzureError('PUT fic', { name: 'RestError', code: CONCURRENT_FIC_WRITES, statusCode: 409, message: 'Too many' });
    expect(e).toMatchObject({ code: CONCURRENT_FIC_WRITES, statusCode: 409 });
    expect(e.message).toContain('PUT fic');
    const fromBody = toAzureError('GET', { statusCode: 404, response: { status: 404, bodyAsText: '{"error":{"code":"ResourceNotFound","message":"gone"}}', headers: { get: () => undefined } } });
    expect(fromBody).toMatchObject({ code: 'ResourceNotFound', statusCode: 404 });
  });
});

describe('login errors', () => {
  const ctx = { clientId: 'cid', tenantId: 'tid', authorityHost: 'https://login.microsoftonline.com', audience: 'api://AzureADTokenExchange' };
  const githubToken = `e30.${Buffer.from(JSON.stringify({ iss: 'https://token.actions.githubusercontent.com', sub: 'repo:octo/app:environment:production' })).toString('base64url')}.sig`;

  it('names the FIC to add on the login identity for AADSTS70021', () => {
    const e = explainLoginError(new Error('AADSTS70021: No matching federated identity record found for presented assertion.'), { ...ctx, claims: decodeJwtClaims(githubToken) });
    expect(e).toBeInstanceOf(AzureLoginError);
    expect(e.code).toBe('AADSTS70021');
    expect(e.message).toContain("issuer 'https://token.actions.githubusercontent.com'");
    expect(e.message).toContain("subject 'repo:octo/app:environment:production'");
    expect(e.message).toContain('client id cid');
  });

  it('says to add id-token: write when the job cannot get a GitHub OIDC token', async () => {
    const credential = createAzureCredential(
      { clientId: 'cid', tenantId: 'tid', subscriptionId: '', cloud: 'AzureCloud', armEndpoint: 'https://management.azure.com', authorityHost: 'https://login.microsoftonline.com', audience: 'api://AzureADTokenExchange' },
      async () => {
        throw new Error('Unable to get ACTIONS_ID_TOKEN_REQUEST_URL env variable');
      },
    );
    await expect(credential.getToken('https://management.azure.com/.default')).rejects.toThrow(/permissions: id-token: write/);
  });

  it('skips instance discovery only off the known clouds', () => {
    expect(isKnownAuthorityHost('https://login.microsoftonline.com/')).toBe(true);
    expect(isKnownAuthorityHost('https://login.chinacloudapi.cn')).toBe(true);
    expect(isKnownAuthorityHost('https://127.0.0.1:8443')).toBe(false);
  });
});

describe('the SDK background token refresh', () => {
  const listen = () => {
    const warnings: string[] = [];
    let listener: ((reason: unknown) => void) | undefined;
    warnOnBackgroundTokenRefresh((m) => warnings.push(m), { on: ((_event: string, fn: (reason: unknown) => void) => void (listener = fn)) as never });
    return { warnings, reject: (reason: unknown) => listener!(reason) };
  };

  it('a refresh that fails unawaited (a login error) is a warning', () => {
    const { warnings, reject } = listen();
    reject(new AzureLoginError('AADSTS90033', 'Login with the GitHub OIDC token failed: temporarily_unavailable'));
    expect(warnings).toEqual([expect.stringContaining("The Azure SDK's background token refresh failed")]);
  });

  it('any other unhandled rejection stays fatal: a bug is not hidden', () => {
    const { warnings, reject } = listen();
    expect(() => reject(new TypeError("Cannot read properties of undefined (reading 'name')"))).toThrow(TypeError);
    expect(warnings).toEqual([]);
  });
});
