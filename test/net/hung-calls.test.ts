// A request that never answers, in each service the action talks to (the sandbox's `hang`
// fault: the request is accepted, no status ever comes). Before the network policy each of
// these held the run until the job was killed; now each is cut off at the request timeout
// (lowered to 300 ms here) and retried by the one policy, the retry logged with its reason.
import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { applyFederatedCredentials } from '../../src/azure/apply.ts';
import { createAzureCredential } from '../../src/azure/credential.ts';
import { requestIdToken } from '../../src/azure/github-id-token.ts';
import { createArmPort } from '../../src/azure/port.ts';
import { applyServiceAccounts } from '../../src/kube/apply.ts';
import { createKubePort, loadKubeConfig, type LoadedKubeConfig } from '../../src/kube/client.ts';
import { createClusterSnapshot } from '../../src/kube/snapshot.ts';
import { planServiceAccounts } from '../../src/kube/plan.ts';
import { identityKey } from '../../src/mapping/identity.ts';
import { createDeadline, createNetwork, policyFetch, type Network } from '../../src/net/index.ts';
import type { FicChange } from '../../src/plan/types.ts';
import { startSandbox, type Sandbox } from '../sandbox/index.ts';
import { azureSettings, trustCa } from '../azure/sandbox-helpers.ts';
import { binding, SUB, TENANT } from '../kube/fixtures.ts';

let sb: Sandbox;
let kubeconfig: LoadedKubeConfig;
let lines: string[];
/** 300 ms per request, retries without real waits (recorded instead). */
let net: Network;
let waits: number[];

beforeAll(async () => {
  sb = await startSandbox({
    scenario: {
      tenantId: TENANT,
      resourceGroups: ['rg-identities'],
      identities: [{ name: 'id-payments' }],
      clusters: [{ name: 'aks-stg', resourceGroup: 'rg-aks' }],
      github: { event: 'deployment', environment: 'staging', pullRequest: { number: 17 } },
    },
  });
  trustCa(sb.tls.caPem);
  sb.kube.seed([{ apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'payments' } }]);
  kubeconfig = loadKubeConfig({ kubeconfig: readFileSync(sb.kubeconfigPath, 'utf8') }, { env: { RUNNER_TEMP: sb.workDir } });
}, 60_000);
afterAll(async () => {
  kubeconfig?.cleanup();
  await sb?.stop();
});
beforeEach(() => {
  sb.faults.clear();
  sb.log.reset();
  lines = [];
  waits = [];
  net = createNetwork({ timeoutMs: 300, log: (l) => lines.push(l), sleep: async (ms) => void waits.push(ms), random: () => 0.5 });
});

const idTokenEndpoint = () => ({ url: sb.env.ACTIONS_ID_TOKEN_REQUEST_URL, token: sb.env.ACTIONS_ID_TOKEN_REQUEST_TOKEN });
const azure = () => {
  const credential = createAzureCredential(azureSettings(sb), (aud) => requestIdToken(idTokenEndpoint(), aud, net, () => undefined), net);
  return { credential, port: createArmPort(credential, { armEndpoint: sb.urls.arm, net }) };
};
const identity = { name: 'id-payments', resourceGroup: 'rg-identities', subscriptionId: SUB };

describe('a call that never answers is cut off and retried', () => {
  it('ARM: a hung GET of an identity', async () => {
    sb.faults.inject({ service: 'arm', method: 'GET', pathIncludes: '/userAssignedIdentities/id-payments', hang: true, times: 1 });
    const found = await azure().port.getIdentity(identity);
    expect(found.name).toBe('id-payments');
    expect(sb.faults.hung).toBe(1);
    expect(lines).toEqual([expect.stringMatching(/^GET identity 'id-payments' .*: no answer within the request timeout, retrying in 0\.4 s \(attempt 2 of 4\)$/)]);
  });

  it('ARM: a hung PUT of a federated credential is written on the second attempt', async () => {
    const { port } = azure();
    const target = await port.getIdentity(identity);
    sb.faults.inject({ service: 'arm', method: 'PUT', pathIncludes: '/federatedIdentityCredentials/', hang: true, times: 1 });
    const desired = { name: 'staging-payments-api', issuer: 'https://issuer.example/', subject: 'system:serviceaccount:payments:api', audiences: ['api://AzureADTokenExchange'] };
    const change: FicChange = { kind: 'federated-credential', action: 'create', identity: target, name: desired.name, desired, bindings: [], reason: 'test' };
    const [applied] = await applyFederatedCredentials([change], port, { concurrency: 1, net });
    expect(applied).toMatchObject({ ok: true, attempts: 2 });
    expect(sb.state.identityByName('id-payments')!.fics.map((f) => f.name)).toEqual(['staging-payments-api']);
    expect(lines.some((l) => l.startsWith("federated credential 'staging-payments-api' on identity 'id-payments': no answer within the request timeout, retrying"))).toBe(true);
  });

  it('Entra: a hung token request', async () => {
    sb.faults.inject({ service: 'entra', method: 'POST', pathIncludes: '/oauth2/v2.0/token', hang: true, times: 1 });
    const token = await azure().credential.getToken(`${sb.urls.arm}/.default`);
    expect(token?.token).toBeTruthy();
    expect(sb.faults.hung).toBe(1);
    expect(lines).toEqual([expect.stringMatching(/^Entra token request \(POST 127\.0\.0\.1:\d+\): no answer within the request timeout, retrying/)]);
  });

  it('GitHub: a hung OIDC token request, the token masked', async () => {
    sb.faults.inject({ service: 'github', pathIncludes: '/_apis/actions/idtoken', hang: true, times: 1 });
    const masked: string[] = [];
    const token = await requestIdToken(idTokenEndpoint(), 'api://AzureADTokenExchange', net, (s) => masked.push(s));
    expect(token.split('.')).toHaveLength(3);
    expect(masked).toContain(token);
    expect(lines).toEqual([expect.stringMatching(/^GitHub OIDC token request: no answer within the request timeout, retrying/)]);
  });

  it('Kubernetes: a hung GET of a ServiceAccount', async () => {
    sb.faults.inject({ service: 'kube', method: 'GET', pathIncludes: '/serviceaccounts/', hang: true, times: 1 });
    const port = createKubePort(kubeconfig.kc, net);
    expect(await port.readServiceAccount('payments', 'default')).toMatchObject({ name: 'default' });
    expect(lines).toEqual(['read ServiceAccount payments/default: no answer within the request timeout, retrying in 0.4 s (attempt 2 of 4)']);
  });
});

describe('Kubernetes under the one retry policy', () => {
  // Each test its own ServiceAccount: the tests pass in any order on one sandbox.
  const plan = async (port: ReturnType<typeof createKubePort>, serviceAccount: string) => {
    const b = binding('payments', serviceAccount, 'id-payments');
    const clientIds = new Map([[identityKey(b.identity.resourceId), '3f2a1b4c-0000-4000-8000-00000000aaaa']]);
    return (await planServiceAccounts({ bindings: [b], clientIds, tenantId: TENANT }, createClusterSnapshot(port))).changes;
  };

  it('a 500 on a ServiceAccount read is retried instead of failing the run', async () => {
    sb.faults.inject({ service: 'kube', method: 'GET', pathIncludes: '/serviceaccounts/never-created', status: 500, times: 1 });
    const port = createKubePort(kubeconfig.kc, net);
    expect(await port.readServiceAccount('payments', 'never-created')).toBeUndefined(); // the 404 after the retry: it does not exist
    expect(lines).toEqual([expect.stringMatching(/^read ServiceAccount payments\/never-created: InternalError \(HTTP 500\), retrying/)]);
  });

  it('a throttled read waits the Retry-After the API server sent', async () => {
    sb.faults.inject({ service: 'kube', method: 'GET', pathIncludes: '/serviceaccounts/default', status: 429, retryAfterSeconds: 4, times: 1 });
    const port = createKubePort(kubeconfig.kc, net);
    expect(await port.readServiceAccount('payments', 'default')).toMatchObject({ name: 'default' });
    expect(waits).toEqual([4000]); // Retry-After, not the backoff
    expect(lines).toEqual([expect.stringMatching(/^read ServiceAccount payments\/default: TooManyRequests \(HTTP 429\), Retry-After 4 s, retrying in 4\.0 s/)]);
  });

  it('a throttled write waits the Retry-After the API server sent', async () => {
    const port = createKubePort(kubeconfig.kc, net);
    const changes = await plan(port, 'payments-api');
    sb.faults.inject({ service: 'kube', method: 'POST', pathIncludes: '/namespaces/payments/serviceaccounts', status: 429, retryAfterSeconds: 3, times: 1 });
    const [applied] = await applyServiceAccounts(changes, port, { concurrency: 1, net });
    expect(applied).toMatchObject({ ok: true, attempts: 2 });
    expect(waits).toEqual([3000]); // Retry-After, not the 0.5–1 s backoff
    expect(lines).toEqual([expect.stringMatching(/^ServiceAccount payments\/payments-api: TooManyRequests \(HTTP 429\), Retry-After 3 s, retrying in 3\.0 s/)]);
  });

  it('a write the run deadline cuts off in flight is reported as outcome unknown', async () => {
    const changes = await plan(createKubePort(kubeconfig.kc, net), 'payments-worker');
    const late = { ...net, timeoutMs: 60_000, deadline: createDeadline(0.5) };
    sb.faults.inject({ service: 'kube', method: 'POST', pathIncludes: '/namespaces/payments/serviceaccounts', hang: true, times: 1 });
    const started = Date.now();
    const [applied] = await applyServiceAccounts(changes, createKubePort(kubeconfig.kc, late), { concurrency: 1, net: late });
    expect(Date.now() - started).toBeLessThan(5000);
    expect(applied).toMatchObject({ ok: false, outcomeUnknown: true, error: expect.stringContaining('outcome unknown — the next plan will show it') });
  });
});

describe('GitHub REST through policyFetch (what Octokit gets as request.fetch)', () => {
  const api = (path: string) => `${sb.urls.github}/repos/contoso/platform${path}`;
  const auth = () => ({ authorization: `token ${sb.github.token}`, accept: 'application/vnd.github+json' });

  it('a hung read is retried and the answer handed back whole', async () => {
    sb.faults.inject({ service: 'github', method: 'GET', pathIncludes: '/issues/17/comments', hang: true, times: 1 });
    const res = await policyFetch(net)(api('/issues/17/comments'), { headers: auth() });
    expect(res.status).toBe(200);
    expect(Array.isArray(await res.json())).toBe(true);
    expect(lines).toEqual([expect.stringMatching(/^GitHub API GET \/repos\/contoso\/platform\/issues\/17\/comments: no answer within the request timeout, retrying/)]);
  });

  it('a hung comment POST is not repeated (it may have been posted): the timeout is the answer', async () => {
    sb.faults.inject({ service: 'github', method: 'POST', pathIncludes: '/issues/17/comments', hang: true, times: 1 });
    const err = await policyFetch(net)(api('/issues/17/comments'), { method: 'POST', headers: auth(), body: JSON.stringify({ body: 'plan' }) }).catch((e: unknown) => e);
    expect((err as Error).message).toMatch(/no answer within 0\.3 s/);
    expect(sb.log.of('github').filter((c) => c.method === 'POST')).toHaveLength(1);
    expect(lines).toEqual([]);
  });

  it('a 429 is retried after its Retry-After even for a POST, and a final 4xx is handed back as the answer', async () => {
    sb.faults.inject({ service: 'github', method: 'POST', pathIncludes: '/issues/17/comments', status: 429, retryAfterSeconds: 2, times: 1 });
    const res = await policyFetch(net)(api('/issues/17/comments'), { method: 'POST', headers: auth(), body: JSON.stringify({ body: 'plan' }) });
    expect(res.status).toBe(201);
    expect(waits).toEqual([2000]);
    const missing = await policyFetch(net)(api('/issues/999999/comments'), { headers: auth() });
    expect(missing.status).toBe(404);
  });
});
