// The sandbox's write throttle (test/sandbox/throttle.ts): the documented limits of the
// user-assigned identity API as token buckets, off unless a test or the bench turns it on.
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { AzureCallError, toAzureError } from '../../src/azure/errors.ts';
import type { AzurePort } from '../../src/azure/port.ts';
import { identityResourceId } from '../../src/mapping/identity.ts';
import type { ManagedIdentity } from '../../src/plan/types.ts';
import { createWriteThrottle, FIC_WRITE_LIMITS } from '../sandbox/throttle.ts';
import { connect, settle, startAzureSandbox, type AzureSandbox } from '../azure/sandbox-helpers.ts';

describe('write throttle buckets (documented table)', () => {
  const clock = { now: 0 };
  const throttle = () => createWriteThrottle(FIC_WRITE_LIMITS, () => clock.now);

  it('a subscription takes a burst of 2 writes, then one per half second; the refusal names the subscription and the wait', () => {
    clock.now = 0;
    const t = throttle();
    expect(t.take('t', 's', 'id-a').ok).toBe(true);
    expect(t.take('t', 's', 'id-b').ok).toBe(true);
    const refused = t.take('t', 's', 'id-c');
    expect(refused).toMatchObject({ ok: false, retryAfterSeconds: 1, headers: { 'x-ms-ratelimit-remaining-subscription-writes': '0' } });
    clock.now = 500;
    expect(t.take('t', 's', 'id-c').ok).toBe(true);
    expect(t.take('t', 'other-subscription', 'id-d').ok).toBe(true); // another subscription has its own bucket
  });

  it('an identity takes one write, then one per 4 s; a refused write costs no token', () => {
    clock.now = 0;
    const t = throttle();
    expect(t.take('t', 's', 'id-a').ok).toBe(true);
    const refused = t.take('t', 's', 'id-a');
    expect(refused).toMatchObject({ ok: false, retryAfterSeconds: 4 });
    expect(refused.headers['x-ms-ratelimit-remaining-resource']).toMatch(/;0$/);
    expect(refused.headers['x-ms-ratelimit-remaining-subscription-writes']).toBe('1'); // not taken by the refusal
    clock.now = 1000;
    expect(t.take('t', 's', 'id-a')).toMatchObject({ ok: false, retryAfterSeconds: 3 });
    clock.now = 4000;
    expect(t.take('t', 's', 'ID-A').ok).toBe(true); // resource IDs are case-insensitive
  });

  it('a tenant takes 10 writes at once across its subscriptions, then refuses', () => {
    clock.now = 0;
    const t = throttle();
    for (let i = 0; i < 10; i++) expect(t.take('t', `s-${i}`, `id-${i}`).ok, `write ${i}`).toBe(true);
    expect(t.take('t', 's-10', 'id-10')).toMatchObject({ ok: false, headers: { 'x-ms-ratelimit-remaining-tenant-writes': '0' } });
  });
});

describe('ARM with the write throttle on', () => {
  let sb: AzureSandbox;
  let port: AzurePort;
  let identity: ManagedIdentity;
  const fic = (n: number) => ({ name: `fic-${n}`, issuer: 'https://issuer.example/', subject: `system:serviceaccount:ns:sa-${n}`, audiences: ['api://AzureADTokenExchange'] });

  beforeAll(async () => {
    sb = await startAzureSandbox({ name: 'throttle', resourceGroups: ['rg-identities'], identities: [{ name: 'id-a' }], github: { event: 'deployment', environment: 'staging' } }, { writeHoldMs: 0 });
    port = connect(sb).port;
    const i = sb.state.identities[0]!;
    identity = { resourceId: identityResourceId(i), name: i.name, resourceGroup: i.resourceGroup, subscriptionId: i.subscriptionId, clientId: i.clientId, principalId: i.principalId, tenantId: i.tenantId };
  });
  afterAll(async () => {
    await sb?.stop();
  });
  beforeEach(() => {
    sb.arm.setWriteLimits(undefined);
    sb.state.identities[0]!.fics = [];
    sb.log.reset();
  });

  it('is off by default: writes in a row are all accepted', async () => {
    for (let n = 0; n < 5; n++) await port.putFederatedCredential(identity, fic(n));
    await settle(sb);
    expect(sb.log.calls.filter((c) => c.method === 'PUT').map((c) => c.status)).toEqual([201, 201, 201, 201, 201]);
  });

  it('answers a second write to the identity with 429, Retry-After and the limit it hit, which the client reads', async () => {
    sb.arm.setWriteLimits(FIC_WRITE_LIMITS);
    await port.putFederatedCredential(identity, fic(0));
    const err = await port.putFederatedCredential(identity, fic(1)).then(
      () => undefined,
      (e: unknown) => toAzureError('PUT', e),
    );
    expect(err).toBeInstanceOf(AzureCallError);
    expect(err).toMatchObject({ statusCode: 429, code: 'TooManyRequests', exhausted: ['resource'] });
    expect(err!.retryAfterMs).toBeGreaterThanOrEqual(3000); // whole seconds until the identity's next token, as ARM sends them
    expect(sb.state.identities[0]!.fics.map((f) => f.name)).toEqual(['fic-0']); // the refused write changed nothing
  });
});
