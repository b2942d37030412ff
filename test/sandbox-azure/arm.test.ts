import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ManagedServiceIdentityClient } from '@azure/arm-msi';
import { ContainerServiceClient } from '@azure/arm-containerservice';
import type { ClientAssertionCredential } from '@azure/identity';
import { API_VERSIONS, DEFAULT_WRITE_HOLD_MS } from '../sandbox/arm.ts';
import { startSandboxCore, type SandboxCore } from '../sandbox/sandbox.ts';
import { ARM_SCOPE, baseScenario, credential, SA_SUBJECT, saToken, trustSandboxCa } from './helpers.ts';

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
async function waitFor(check: () => boolean, timeoutMs = 5000): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > end) throw new Error('timed out');
    await new Promise((r) => setTimeout(r, 5));
  }
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
  it("an update not replicated yet: ARM shows the new audience at once, Entra still compares with the old one", async () => {
    const id = sb.state.identityByName('id-payments')!;
    const saved = structuredClone(id.fics);
    const [current] = id.fics;
    sb.setFicPropagationDelay(3_600_000);
    try {
      const body = { issuer: current!.issuer, subject: current!.subject, audiences: ['api://contoso-workloads'] };
      const updated = await msi.federatedIdentityCredentials.createOrUpdate('rg-identities', 'id-payments', current!.name, body);
      expect(updated.audiences).toEqual(['api://contoso-workloads']);
      // A token for the new audience is refused as Entra still holds the old one; one for the old audience passes.
      const refused = await credential(sb, id.clientId, await saToken(sb, { aud: 'api://contoso-workloads' })).getToken(ARM_SCOPE).then(() => undefined, (e: Error) => e);
      expect(refused?.message).toContain("AADSTS700212: No matching federated identity record found for presented assertion audience 'api://contoso-workloads'");
      await credential(sb, id.clientId, await saToken(sb)).getToken(ARM_SCOPE);
      // Replicated: the other way round.
      id.fics[0]!.propagatesAt = Date.now() - 1;
      await credential(sb, id.clientId, await saToken(sb, { aud: 'api://contoso-workloads' })).getToken(ARM_SCOPE);
    } finally {
      sb.setFicPropagationDelay(0);
      id.fics = saved;
    }
  });

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
    // a path as real ARM sends it (no origin, no api-version), `resourcegroups` lower-case
    expect(locations[0]).toBe(`/subscriptions/${sb.subscriptionId}/resourcegroups/rg-identities/providers/Microsoft.ManagedIdentity/userAssignedIdentities/id-orders/federatedIdentityCredentials/orders-worker`);
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
    try {
      for (let i = 0; i < 12; i++) sb.state.addFic(identity, { name: `page-${i}`, issuer: sb.issuerUrl, subject: `system:serviceaccount:ns:sa${i}` });
      sb.setArmPageSize(5);
      sb.log.reset();
      const names: string[] = [];
      for await (const f of msi.federatedIdentityCredentials.list('rg-identities', 'id-orders')) names.push(f.name!);
      expect(names).toEqual(Array.from({ length: 12 }, (_, i) => `page-${i}`));
      const lists = sb.log.of('arm').filter((c) => c.path.includes('/federatedIdentityCredentials'));
      expect(lists).toHaveLength(3);
      expect(lists[1]!.path).toContain('$skipToken=5');
    } finally {
      sb.setArmPageSize(10);
      identity.fics = [];
    }
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
      expect(err.code, name).toBe('BadRequest');
      expect(err.message, name).toMatch(message);
    }
  });

  it('refuses the 21st FIC with 400 BadRequest', async () => {
    const identity = sb.state.identityByName('id-orders')!;
    try {
      for (let i = 0; i < 20; i++) sb.state.addFic(identity, { name: `limit-${i}`, issuer: sb.issuerUrl, subject: `sub-${i}` });
      const err = await failure(msi.federatedIdentityCredentials.createOrUpdate('rg-identities', 'id-orders', 'limit-20', fic(sb.issuerUrl, 'sub-20')));
      expect(err.statusCode).toBe(400);
      expect(err.code).toBe('BadRequest');
      expect(err.message).toMatch(/Too many Federated Identity Credentials/);
      // an update of an existing one is still fine
      await msi.federatedIdentityCredentials.createOrUpdate('rg-identities', 'id-orders', 'limit-0', fic(sb.issuerUrl, 'sub-0b'));
    } finally {
      identity.fics = [];
    }
  });

  it('404 ParentResourceNotFound when the parent identity does not exist', async () => {
    const err = await failure(msi.federatedIdentityCredentials.createOrUpdate('rg-identities', 'id-ghost', 'x-1', fic(sb.issuerUrl, 's')));
    expect(err.statusCode).toBe(404);
    expect(err.code).toBe('ParentResourceNotFound');
    const list = await failure(msi.federatedIdentityCredentials.list('rg-identities', 'id-ghost').next());
    expect(list.code).toBe('ParentResourceNotFound');
  });

  it('404 ResourceNotFound for a FIC GET of a missing name', async () => {
    const err = await failure(msi.federatedIdentityCredentials.get('rg-identities', 'id-payments', 'nope'));
    expect(err.statusCode).toBe(404);
    expect(err.code).toBe('ResourceNotFound');
    expect(err.message).toContain("'Microsoft.ManagedIdentity/userAssignedIdentities/id-payments/federatedIdentityCredentials/nope' under resource group 'rg-identities'");
  });

  it('two parallel writes on one identity: exactly one 409 ConcurrentFederatedIdentityCredentialsWritesForSingleManagedIdentity', async () => {
    await msi.userAssignedIdentities.get('rg-identities', 'id-race'); // token warm
    // A hold far longer than a new TLS connection takes, so the second write always overlaps.
    sb.arm.setWriteHold(600);
    try {
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
    } finally {
      sb.arm.setWriteHold(DEFAULT_WRITE_HOLD_MS);
      sb.state.identityByName('id-race')!.fics = [];
      sb.state.identityByName('id-orders')!.fics = [];
    }
  });

  it('a write counts as in flight from its arrival: overlap during injected write latency is a 409', async () => {
    // No hold at all: the only window is the 500 ms of latency before the first write's handler runs.
    sb.arm.setWriteHold(0);
    sb.faults.latency.arm = { writeMs: 500 };
    sb.log.reset();
    try {
      const first = msi.federatedIdentityCredentials.createOrUpdate('rg-identities', 'id-race', 'lat-a', fic(sb.issuerUrl, 'lat-a'));
      // the second is sent once the first has reached the server, not after a guessed sleep
      await waitFor(() => sb.log.of('arm').some((c) => c.method === 'PUT' && c.path.includes('/lat-a')));
      const second = await failure(msi.federatedIdentityCredentials.createOrUpdate('rg-identities', 'id-race', 'lat-b', fic(sb.issuerUrl, 'lat-b')));
      expect(second.statusCode).toBe(409);
      await first;
    } finally {
      sb.faults.latency = {};
      sb.arm.setWriteHold(DEFAULT_WRITE_HOLD_MS);
      sb.state.identityByName('id-race')!.fics = [];
    }
  });

  it('429 with Retry-After is retried by the SDK', async () => {
    sb.log.reset();
    sb.faults.inject({ service: 'arm', method: 'GET', pathIncludes: 'userAssignedIdentities/id-payments', status: 429, retryAfterSeconds: 1, times: 1 });
    try {
      const id = await msi.userAssignedIdentities.get('rg-identities', 'id-payments');
      expect(id.name).toBe('id-payments');
      const calls = sb.log.of('arm').filter((c) => c.path.includes('id-payments'));
      expect(calls.map((c) => c.status)).toEqual([429, 200]);
      expect(calls[1]!.start - calls[0]!.end).toBeGreaterThanOrEqual(900);
    } finally {
      sb.faults.clear();
    }
  });

  it('injected faults answer in ARM\'s error shape, code by status', async () => {
    const once = new ManagedServiceIdentityClient(cred, sb.subscriptionId, { endpoint: sb.urls.arm, retryOptions: { maxRetries: 0 } });
    try {
      for (const [status, code] of [[503, 'ServiceUnavailable'], [500, 'InternalServerError'], [429, 'TooManyRequests']] as const) {
        sb.faults.inject({ service: 'arm', method: 'GET', pathIncludes: 'userAssignedIdentities/id-payments', status, times: 1 });
        const err = await failure(once.userAssignedIdentities.get('rg-identities', 'id-payments'));
        expect(err.statusCode, String(status)).toBe(status);
        expect(err.code, String(status)).toBe(code);
      }
      sb.faults.inject({ service: 'arm', pathIncludes: '/subscriptions', status: 503, retryAfterSeconds: 7, times: 1 });
      const res = await fetch(`${sb.urls.arm}/subscriptions?api-version=2022-12-01`, { headers: { authorization: `Bearer ${await sb.armToken()}` } });
      expect(res.headers.get('retry-after')).toBe('7');
      expect(await res.json()).toEqual({ error: { code: 'ServiceUnavailable', message: expect.any(String) } });
    } finally {
      sb.faults.clear();
    }
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

  it('lists clusters by subscription and by resource group (az aks list)', async () => {
    const aks = new ContainerServiceClient(cred, sb.subscriptionId, { endpoint: sb.urls.arm });
    const all: string[] = [];
    for await (const c of aks.managedClusters.list()) all.push(c.name!);
    expect(all.sort()).toEqual(['aks-legacy', 'aks-stg']);
    const inGroup: string[] = [];
    for await (const c of aks.managedClusters.listByResourceGroup('rg-aks-stg')) inGroup.push(c.name!);
    expect(inGroup.sort()).toEqual(['aks-legacy', 'aks-stg']);
    const err = await failure(aks.managedClusters.listByResourceGroup('rg-nowhere').next());
    expect(err.code).toBe('ResourceGroupNotFound');
  });

  it('listClusterUserCredential returns the kubeconfig of the cluster fqdn with a local account (what az aks get-credentials merges)', async () => {
    const aks = new ContainerServiceClient(cred, sb.subscriptionId, { endpoint: sb.urls.arm });
    const mc = await aks.managedClusters.get('rg-aks-stg', 'aks-stg');
    const creds = await aks.managedClusters.listClusterUserCredentials('rg-aks-stg', 'aks-stg');
    expect(creds.kubeconfigs?.map((k) => k.name)).toEqual(['clusterUser']);
    const text = Buffer.from(creds.kubeconfigs![0]!.value!).toString('utf8');
    expect(text).toContain(`server: https://${mc.fqdn}:443`);
    expect(text).toContain('user: "clusterUser_rg-aks-stg_aks-stg"');
    expect(text).toContain(`certificate-authority-data: ${Buffer.from(sb.tls.caPem).toString('base64')}`);
    expect(text).not.toContain('exec:'); // local accounts: no kubelogin
    const admin = await aks.managedClusters.listClusterAdminCredentials('rg-aks-stg', 'aks-stg');
    expect(Buffer.from(admin.kubeconfigs![0]!.value!).toString('utf8')).toContain('clusterAdmin_rg-aks-stg_aks-stg');
    const missing = await failure(aks.managedClusters.listClusterUserCredentials('rg-aks-stg', 'nope'));
    expect(missing.code).toBe('ResourceNotFound');
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

  it('401 ExpiredAuthenticationToken for an expired Entra token', async () => {
    const t = await sb.entra.issueAccessToken({ tenantId: sb.tenantId, clientId: sb.loginApp.clientId, principalId: sb.loginApp.principalId, resource: 'https://management.azure.com/', lifetime: -120 });
    const res = await fetch(`${sb.urls.arm}/subscriptions?api-version=2022-12-01`, { headers: { authorization: `Bearer ${t}` } });
    expect(res.status).toBe(401);
    expect(res.headers.get('www-authenticate')).toContain('error="invalid_token"');
    const body = (await res.json()) as { error: { code: string; message: string } };
    expect(body.error.code).toBe('ExpiredAuthenticationToken');
    expect(body.error.message).toMatch(/^The access token expiry UTC time '.+' is earlier than current UTC time '.+'\.$/);
  });

  it('401 InvalidAuthenticationTokenTenant for a token from another tenant', async () => {
    const other = '11111111-2222-4333-8444-555555555555';
    const t = await sb.entra.issueAccessToken({ tenantId: other, clientId: sb.loginApp.clientId, principalId: sb.loginApp.principalId, resource: 'https://management.azure.com/' });
    const res = await fetch(`${sb.urls.arm}/subscriptions/${sb.subscriptionId}/resourceGroups/rg-identities/providers/Microsoft.ManagedIdentity/userAssignedIdentities/id-payments?api-version=2024-11-30`, {
      headers: { authorization: `Bearer ${t}` },
    });
    expect(res.status).toBe(401);
    const body = (await res.json()) as { error: { code: string; message: string } };
    expect(body.error.code).toBe('InvalidAuthenticationTokenTenant');
    expect(body.error.message).toContain(`The access token is from the wrong issuer 'https://sts.windows.net/${other}/'`);
  });

  it('404 SubscriptionNotFound for a subscription ARM does not know', async () => {
    const elsewhere = new ManagedServiceIdentityClient(cred, '99999999-9999-4999-8999-999999999999', { endpoint: sb.urls.arm });
    const err = await failure(elsewhere.userAssignedIdentities.get('rg-identities', 'id-payments'));
    expect(err.statusCode).toBe(404);
    expect(err.code).toBe('SubscriptionNotFound');
    expect(err.message).toBe("The subscription '99999999-9999-4999-8999-999999999999' could not be found.");
  });

  it('400 for an unsupported api-version: InvalidApiVersionParameter (Microsoft.Resources), NoRegisteredProviderFound (providers)', async () => {
    const auth = { authorization: `Bearer ${await sb.armToken()}` };
    const subs = await fetch(`${sb.urls.arm}/subscriptions?api-version=2015-01-01`, { headers: auth });
    expect(subs.status).toBe(400);
    expect(await subs.json()).toEqual({
      error: { code: 'InvalidApiVersionParameter', message: `The api-version '2015-01-01' is invalid. The supported versions are '${[...API_VERSIONS.subscriptions].reverse().join(',')}'.` },
    });
    const idPath = `${sb.urls.arm}/subscriptions/${sb.subscriptionId}/resourceGroups/rg-identities/providers/Microsoft.ManagedIdentity/userAssignedIdentities/id-payments`;
    const fics = await fetch(`${idPath}/federatedIdentityCredentials?api-version=2018-11-30`, { headers: auth });
    expect(fics.status).toBe(400);
    const body = (await fics.json()) as { error: { code: string; message: string } };
    expect(body.error.code).toBe('NoRegisteredProviderFound');
    expect(body.error.message).toMatch(
      /^No registered resource provider found for location 'westeurope' and API version '2018-11-30' for type 'userAssignedIdentities\/federatedIdentityCredentials'\. The supported api-versions are '2022-01-31-preview, 2023-01-31, 2023-07-31-preview, 2024-11-30, 2025-01-31-preview, 2025-05-31-preview, 2026-05-31'\. The supported locations are '.+'\.$/,
    );
    // every version the specs publish for the type is served (what the SDKs and az CLI send among them)
    for (const v of API_VERSIONS.userAssignedIdentities) expect((await fetch(`${idPath}?api-version=${v}`, { headers: auth })).status, v).toBe(200);
    expect((await fetch(`${sb.urls.arm}/subscriptions?api-version=2019-11-01`, { headers: auth })).status).toBe(200);
    const aksPath = `${sb.urls.arm}/subscriptions/${sb.subscriptionId}/resourceGroups/rg-aks-stg/providers/Microsoft.ContainerService/managedClusters/aks-stg`;
    // az 2.45 reads clusters with 2022-11-01, @azure/arm-containerservice 25 with 2026-04-01
    for (const v of ['2022-11-01', '2026-04-01', '2024-05-02-preview']) expect((await fetch(`${aksPath}?api-version=${v}`, { headers: auth })).status, v).toBe(200);
    const aks = await fetch(`${aksPath}?api-version=2024-01-15`, { headers: auth });
    expect(((await aks.json()) as { error: { code: string } }).error.code).toBe('NoRegisteredProviderFound');
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
