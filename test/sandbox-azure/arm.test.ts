import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ManagedServiceIdentityClient } from '@azure/arm-msi';
import { ContainerServiceClient } from '@azure/arm-containerservice';
import type { ClientAssertionCredential } from '@azure/identity';
import { startSandboxCore, type SandboxCore } from '../sandbox/sandbox.ts';
import { baseScenario, credential, SA_SUBJECT, trustSandboxCa } from './helpers.ts';

let sb: SandboxCore<undefined>;
let cred: ClientAssertionCredential;
let msi: ManagedServiceIdentityClient;

beforeAll(async () => {
  sb = await startSandboxCore<undefined>({ scenario: baseScenario() });
  trustSandboxCa(sb.tls.caPem);
  // The action's own login: GitHub OIDC token → Entra → ARM.
  cred = credential(sb, sb.loginApp.clientId, () => sb.githubIdToken('api://AzureADTokenExchange'));
  msi = new ManagedServiceIdentityClient(cred, sb.subscriptionId, { endpoint: sb.urls.arm });
});
afterAll(async () => {
  await sb?.stop();
});

interface RestErr {
  statusCode?: number;
  code?: string;
  message: string;
}
async function failure(p: Promise<unknown>): Promise<RestErr> {
  return p.then(
    () => {
      throw new Error('expected the call to fail');
    },
    (e: unknown) => e as RestErr,
  );
}

const fic = (issuer: string, subject: string, audiences = ['api://AzureADTokenExchange']) => ({ issuer, subject, audiences });

describe('ARM userAssignedIdentities through @azure/arm-msi', () => {
  it('gets an identity (ids lower-case resourcegroups)', async () => {
    const id = await msi.userAssignedIdentities.get('rg-identities', 'ID-PAYMENTS');
    const seeded = sb.state.identityByName('id-payments')!;
    expect(id.clientId).toBe(seeded.clientId);
    expect(id.principalId).toBe(seeded.principalId);
    expect(id.tenantId).toBe(sb.tenantId);
    expect(id.id).toBe(`/subscriptions/${sb.subscriptionId}/resourcegroups/rg-identities/providers/Microsoft.ManagedIdentity/userAssignedIdentities/id-payments`);
  });

  it('404 ResourceNotFound with ARM\'s message', async () => {
    const err = await failure(msi.userAssignedIdentities.get('rg-identities', 'x'));
    expect(err.statusCode).toBe(404);
    expect(err.code).toBe('ResourceNotFound');
    expect(err.message).toBe(
      "The Resource 'Microsoft.ManagedIdentity/userAssignedIdentities/x' under resource group 'rg-identities' was not found. For more details please go to https://aka.ms/ARMResourceNotFoundFix",
    );
  });

  it('404 ResourceGroupNotFound', async () => {
    const err = await failure(msi.userAssignedIdentities.get('rg-nope', 'x'));
    expect(err.statusCode).toBe(404);
    expect(err.code).toBe('ResourceGroupNotFound');
  });
});

describe('ARM federatedIdentityCredentials through @azure/arm-msi', () => {
  it('PUT creates (201 + location) then updates (200); GET; DELETE 200 then 204', async () => {
    const statuses: number[] = [];
    const locations: (string | undefined)[] = [];
    const onResponse = (r: { status: number; headers: { get(n: string): string | undefined } }) => {
      statuses.push(r.status);
      locations.push(r.headers.get('location'));
    };
    const body = { ...fic(sb.issuerUrl, 'system:serviceaccount:orders:worker') };
    const created = await msi.federatedIdentityCredentials.createOrUpdate('rg-identities', 'id-orders', 'orders-worker', body, { onResponse });
    expect(created.issuer).toBe(sb.issuerUrl);
    expect(created.id).toContain('/resourcegroups/rg-identities/');
    await msi.federatedIdentityCredentials.createOrUpdate('rg-identities', 'id-orders', 'ORDERS-WORKER', { ...body, subject: 'system:serviceaccount:orders:worker2' }, { onResponse });
    expect(statuses).toEqual([201, 200]);
    expect(locations[0]).toMatch(/^https:\/\/127\.0\.0\.1:\d+\/subscriptions\/.*\/federatedIdentityCredentials\/orders-worker/);
    const got = await msi.federatedIdentityCredentials.get('rg-identities', 'id-orders', 'orders-worker');
    expect(got.name).toBe('orders-worker');
    expect(got.subject).toBe('system:serviceaccount:orders:worker2');

    const del: number[] = [];
    await msi.federatedIdentityCredentials.delete('rg-identities', 'id-orders', 'orders-worker', { onResponse: (r) => del.push(r.status) });
    await msi.federatedIdentityCredentials.delete('rg-identities', 'id-orders', 'orders-worker', { onResponse: (r) => del.push(r.status) });
    expect(del).toEqual([200, 204]);
    const err = await failure(msi.federatedIdentityCredentials.get('rg-identities', 'id-orders', 'orders-worker'));
    expect(err.statusCode).toBe(404);
  });

  it('lists across pages (nextLink with $skipToken)', async () => {
    const identity = sb.state.identityByName('id-orders')!;
    for (let i = 0; i < 12; i++) sb.state.addFic(identity, { name: `page-${i}`, issuer: sb.issuerUrl, subject: `system:serviceaccount:ns:sa${i}` });
    sb.setArmPageSize(5);
    sb.log.reset();
    const names: string[] = [];
    for await (const f of msi.federatedIdentityCredentials.list('rg-identities', 'id-orders')) names.push(f.name!);
    expect(names).toEqual(Array.from({ length: 12 }, (_, i) => `page-${i}`));
    const lists = sb.log.of('arm').filter((c) => c.path.includes('/federatedIdentityCredentials'));
    expect(lists).toHaveLength(3);
    expect(lists[1]!.path).toContain('$skipToken=5');
    sb.setArmPageSize(10);
    identity.fics = [];
  });

  it('rejects bodies the way ARM does (400)', async () => {
    const cases: [string, object, RegExp][] = [
      ['no-subject', { issuer: sb.issuerUrl, audiences: ['api://AzureADTokenExchange'] }, /must specify 'issuer', 'subject' and 'audience'/],
      ['two-audiences', fic(sb.issuerUrl, 's', ['a', 'b']), /must have exactly one audience/],
      ['http-issuer', fic('http://example.com/', 's'), /https/],
      ['-bad-name', fic(sb.issuerUrl, 's'), /Federated Identity Credential name '-bad-name' is invalid/],
      ['dup', fic(sb.issuerUrl, SA_SUBJECT), /^Issuer and subject combination already exists for this Managed Identity\.$/],
    ];
    for (const [name, body, message] of cases) {
      const err = await failure(msi.federatedIdentityCredentials.createOrUpdate('rg-identities', 'id-payments', name, body));
      expect(err.statusCode, name).toBe(400);
      expect(err.message, name).toMatch(message);
    }
  });

  it('refuses the 21st FIC', async () => {
    const identity = sb.state.identityByName('id-orders')!;
    for (let i = 0; i < 20; i++) sb.state.addFic(identity, { name: `limit-${i}`, issuer: sb.issuerUrl, subject: `sub-${i}` });
    const err = await failure(msi.federatedIdentityCredentials.createOrUpdate('rg-identities', 'id-orders', 'limit-20', fic(sb.issuerUrl, 'sub-20')));
    expect(err.statusCode).toBe(400);
    // an update of an existing one is still fine
    await msi.federatedIdentityCredentials.createOrUpdate('rg-identities', 'id-orders', 'limit-0', fic(sb.issuerUrl, 'sub-0b'));
    identity.fics = [];
  });

  it('404 when the parent identity does not exist', async () => {
    const err = await failure(msi.federatedIdentityCredentials.createOrUpdate('rg-identities', 'id-ghost', 'x-1', fic(sb.issuerUrl, 's')));
    expect(err.statusCode).toBe(404);
  });

  it('two parallel writes on one identity: exactly one 409 ConcurrentFederatedIdentityCredentialsWritesForSingleManagedIdentity', async () => {
    await msi.userAssignedIdentities.get('rg-identities', 'id-race'); // token warm
    const results = await Promise.allSettled([
      msi.federatedIdentityCredentials.createOrUpdate('rg-identities', 'id-race', 'race-a', fic(sb.issuerUrl, 'a')),
      msi.federatedIdentityCredentials.createOrUpdate('rg-identities', 'id-race', 'race-b', fic(sb.issuerUrl, 'b')),
    ]);
    const rejected = results.filter((r): r is PromiseRejectedResult => r.status === 'rejected');
    expect(rejected).toHaveLength(1);
    const err = rejected[0]!.reason as RestErr;
    expect(err.statusCode).toBe(409);
    expect(err.code).toBe('ConcurrentFederatedIdentityCredentialsWritesForSingleManagedIdentity');
    expect(err.message).toContain('/resourcegroups/rg-identities/providers/microsoft.managedidentity/userassignedidentities/id-race');
    expect(sb.state.identityByName('id-race')!.fics).toHaveLength(1);
    // parallel across identities is fine, and serial writes on one identity too
    await Promise.all([
      msi.federatedIdentityCredentials.createOrUpdate('rg-identities', 'id-race', 'race-c', fic(sb.issuerUrl, 'c')),
      msi.federatedIdentityCredentials.createOrUpdate('rg-identities', 'id-orders', 'race-d', fic(sb.issuerUrl, 'd')),
    ]);
    await msi.federatedIdentityCredentials.createOrUpdate('rg-identities', 'id-race', 'race-e', fic(sb.issuerUrl, 'e'));
  });

  it('overlap is real under injected write latency too', async () => {
    sb.faults.latency.arm = { writeMs: 150 };
    try {
      const first = msi.federatedIdentityCredentials.createOrUpdate('rg-identities', 'id-race', 'lat-a', fic(sb.issuerUrl, 'lat-a'));
      await new Promise((r) => setTimeout(r, 60)); // second arrives while the first is still in flight
      const second = await failure(msi.federatedIdentityCredentials.createOrUpdate('rg-identities', 'id-race', 'lat-b', fic(sb.issuerUrl, 'lat-b')));
      expect(second.statusCode).toBe(409);
      await first;
    } finally {
      sb.faults.latency = {};
    }
  });

  it('429 with Retry-After is retried by the SDK', async () => {
    sb.log.reset();
    sb.faults.inject({ service: 'arm', method: 'GET', pathIncludes: 'userAssignedIdentities/id-payments', status: 429, retryAfterSeconds: 1, times: 1 });
    const id = await msi.userAssignedIdentities.get('rg-identities', 'id-payments');
    expect(id.name).toBe('id-payments');
    const calls = sb.log.of('arm').filter((c) => c.path.includes('id-payments'));
    expect(calls.map((c) => c.status)).toEqual([429, 200]);
    expect(calls[1]!.start - calls[0]!.end).toBeGreaterThanOrEqual(900);
  });

  it('403 AuthorizationFailed for a denied action', async () => {
    sb.arm.deny({ action: 'Microsoft.ManagedIdentity/userAssignedIdentities/federatedIdentityCredentials/write' });
    try {
      const err = await failure(msi.federatedIdentityCredentials.createOrUpdate('rg-identities', 'id-orders', 'denied', fic(sb.issuerUrl, 'x')));
      expect(err.statusCode).toBe(403);
      expect(err.code).toBe('AuthorizationFailed');
      expect(err.message).toContain(`The client '${sb.loginApp.principalId}'`);
    } finally {
      sb.arm.clearDenials();
    }
  });
});

describe('ARM managedClusters through @azure/arm-containerservice', () => {
  it('returns the OIDC issuer, workload identity and pod identity profile', async () => {
    const aks = new ContainerServiceClient(cred, sb.subscriptionId, { endpoint: sb.urls.arm });
    const mc = await aks.managedClusters.get('rg-aks-stg', 'aks-stg');
    expect(mc.oidcIssuerProfile?.enabled).toBe(true);
    expect(mc.oidcIssuerProfile?.issuerURL).toBe(sb.issuers['aks-stg']!.url);
    expect(mc.securityProfile?.workloadIdentity?.enabled).toBe(true);
    const pi = mc.podIdentityProfile?.userAssignedIdentities?.[0];
    expect(pi?.name).toBe('payments');
    expect(pi?.identity.clientId).toBe(sb.state.identityByName('id-payments')!.clientId);
    const legacy = await aks.managedClusters.get('rg-aks-stg', 'aks-legacy');
    expect(legacy.oidcIssuerProfile?.enabled).toBe(false);
    expect(legacy.oidcIssuerProfile?.issuerURL).toBeUndefined();
    const err = await failure(aks.managedClusters.get('rg-aks-stg', 'nope'));
    expect(err.statusCode).toBe(404);
  });
});

describe('ARM request checks (raw https)', () => {
  it('401 without a token, with WWW-Authenticate', async () => {
    const res = await fetch(`${sb.urls.arm}/subscriptions?api-version=2022-12-01`);
    expect(res.status).toBe(401);
    expect(res.headers.get('www-authenticate')).toMatch(/^Bearer authorization_uri=/);
    expect(await res.json()).toEqual({ error: { code: 'AuthenticationFailed', message: "Authentication failed. The 'Authorization' header is missing." } });
  });

  it('401 InvalidAuthenticationToken for a token Entra did not sign', async () => {
    const forged = await sb.clusterIssuer.sign({ aud: 'https://management.azure.com/' }, 600);
    const res = await fetch(`${sb.urls.arm}/subscriptions?api-version=2022-12-01`, { headers: { authorization: `Bearer ${forged}` } });
    expect(res.status).toBe(401);
    expect(((await res.json()) as { error: { code: string } }).error.code).toBe('InvalidAuthenticationToken');
  });

  it('401 InvalidAuthenticationTokenAudience for another resource', async () => {
    const t = await sb.entra.issueAccessToken({ tenantId: sb.tenantId, clientId: sb.loginApp.clientId, principalId: sb.loginApp.principalId, resource: 'https://vault.azure.net' });
    const res = await fetch(`${sb.urls.arm}/subscriptions?api-version=2022-12-01`, { headers: { authorization: `Bearer ${t}` } });
    expect(((await res.json()) as { error: { code: string } }).error.code).toBe('InvalidAuthenticationTokenAudience');
  });

  it('400 MissingApiVersionParameter', async () => {
    const res = await fetch(`${sb.urls.arm}/subscriptions`, { headers: { authorization: `Bearer ${await sb.armToken()}` } });
    expect(res.status).toBe(400);
    expect(await res.json()).toEqual({ error: { code: 'MissingApiVersionParameter', message: 'The api-version query parameter (?api-version=) is required for all requests.' } });
  });

  it('lists subscriptions (az CLI after login)', async () => {
    const res = await fetch(`${sb.urls.arm}/subscriptions?api-version=2022-12-01`, { headers: { authorization: `Bearer ${await sb.armToken()}` } });
    const body = (await res.json()) as { value: { subscriptionId: string; tenantId: string }[] };
    expect(body.value).toEqual([expect.objectContaining({ subscriptionId: sb.subscriptionId, tenantId: sb.tenantId, state: 'Enabled' })]);
  });
});
