// The chain the product promises, on the sandbox with nothing faked in between: the
// verification pod, admitted under Pod Security "restricted", mutated by the webhook, run
// by the kubelet (a real `node -e <probe>` with the projected token), exchanges that token
// at Entra, which checks it against the cluster issuer's keys and the FICs in ARM.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CoreV1Api, KubeConfig, type V1Pod } from '@kubernetes/client-node';
import { startSandbox, type Sandbox } from '../sandbox/index.ts';
import { trustSandboxCa } from '../sandbox-azure/helpers.ts';
import { newInvocation } from '../../src/verify/invocation.ts';
import { verificationPod } from '../../src/verify/pod.ts';
import { probeSource, RESULT_PREFIX, type ProbeExpectation, type ProbeResult } from '../../src/verify/probe.ts';

let sb: Sandbox;
let core: CoreV1Api;
const SUBJECT = 'system:serviceaccount:payments:payments-api';

beforeAll(async () => {
  sb = await startSandbox({
    scenario: {
      resourceGroups: ['rg-identities'],
      identities: [{ name: 'id-payments', federatedCredentials: [{ name: 'stg_payments_payments-api', issuer: '{{issuer:aks-stg}}', subject: SUBJECT }] }],
      clusters: [{ name: 'aks-stg', resourceGroup: 'rg-aks' }],
      kube: {
        namespaces: [{ name: 'payments', labels: { 'pod-security.kubernetes.io/enforce': 'restricted' } }],
        serviceAccounts: [{ namespace: 'payments', name: 'payments-api', annotations: { 'azure.workload.identity/client-id': '{{identity:id-payments.clientId}}' } }],
      },
    },
  });
  trustSandboxCa(sb.tls.caPem);
  const kc = new KubeConfig();
  kc.loadFromFile(sb.kubeconfigPath);
  core = kc.makeApiClient(CoreV1Api);
});
afterAll(async () => {
  await sb?.stop();
});

function expectation(over: Partial<ProbeExpectation> = {}): ProbeExpectation {
  const id = sb.state.identityByName('id-payments')!;
  return {
    clientId: id.clientId,
    tenantId: sb.tenantId,
    issuer: sb.issuerUrl,
    subject: SUBJECT,
    audience: 'api://AzureADTokenExchange',
    scope: 'https://management.azure.com/.default',
    retryPropagation: false,
    budgetMs: 20_000,
    fetchTimeoutMs: 5_000,
    backoffMs: 200,
    ...over,
  };
}

async function runToEnd(body: V1Pod): Promise<{ pod: V1Pod; log: string }> {
  const { name, namespace } = body.metadata as { name: string; namespace: string };
  await core.createNamespacedPod({ namespace, body });
  const end = Date.now() + 30_000;
  for (;;) {
    const pod = await core.readNamespacedPod({ name, namespace });
    if (pod.status?.phase === 'Succeeded' || pod.status?.phase === 'Failed') {
      const log = await core.readNamespacedPodLog({ name, namespace, container: 'probe' });
      await core.deleteNamespacedPod({ name, namespace, gracePeriodSeconds: 0 });
      return { pod, log };
    }
    if (Date.now() > end) throw new Error(`pod ${name} still ${pod.status?.phase}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

const resultOf = (log: string): ProbeResult => {
  const lines = log.split('\n').filter((l) => l.startsWith(RESULT_PREFIX));
  expect(lines).toHaveLength(1);
  return JSON.parse(lines[0]!.slice(RESULT_PREFIX.length)) as ProbeResult;
};

describe('the verification pod on the sandbox', () => {
  it('a pod really exchanges its projected token: tid and oid of the identity, no token in the log', async () => {
    sb.log.reset(); // the exchanges counted below are this test's, whatever ran before
    const inv = newInvocation({ GITHUB_RUN_ID: '7', GITHUB_RUN_ATTEMPT: '1', GITHUB_JOB: 'deploy' });
    const body = verificationPod({ invocation: inv, environment: 'staging', namespace: 'payments', serviceAccount: 'payments-api', image: 'mcr.microsoft.com/azurelinux/base/nodejs:24', timeoutSeconds: 60, expect: expectation() }) as unknown as V1Pod;
    const { pod, log } = await runToEnd(body);
    const result = resultOf(log);
    const id = sb.state.identityByName('id-payments')!;
    expect(result.checks.filter((c) => !c.ok)).toEqual([]);
    expect(result.ok).toBe(true);
    expect(pod.status?.phase).toBe('Succeeded');
    expect(result.token).toMatchObject({ iss: sb.issuerUrl, sub: SUBJECT, aud: ['api://AzureADTokenExchange'] });
    expect(result.access).toEqual({ tid: sb.tenantId, oid: id.principalId, appid: id.clientId });
    expect(log).not.toMatch(/eyJ[\w-]+\.[\w-]+/);
    // As the webhook injects it: with its trailing slash, which the probe must not double.
    expect(result.env.authorityHost).toBe(`${sb.urls.entra}/`);
    expect(result.env.tokenFile).toMatch(/\/azure-identity-token$/);
    // Exactly one exchange reached Entra, from the pod.
    expect(sb.log.calls.filter((c) => c.service === 'entra' && c.method === 'POST' && c.path.endsWith('/oauth2/v2.0/token'))).toHaveLength(1);
  });

  it('a token whose subject no FIC names fails with the AADSTS code and both values', async () => {
    const inv = newInvocation({ GITHUB_RUN_ID: '7', GITHUB_RUN_ATTEMPT: '1', GITHUB_JOB: 'deploy' });
    await core.createNamespacedServiceAccount({ namespace: 'payments', body: { metadata: { name: 'other', annotations: { 'azure.workload.identity/client-id': sb.state.identityByName('id-payments')!.clientId } } } });
    const body = verificationPod({ invocation: inv, environment: 'staging', namespace: 'payments', serviceAccount: 'other', image: 'mcr.microsoft.com/azurelinux/base/nodejs:24', timeoutSeconds: 60, expect: expectation() }) as unknown as V1Pod;
    const { pod, log } = await runToEnd(body);
    const result = resultOf(log);
    expect(pod.status?.phase).toBe('Failed');
    expect(result.ok).toBe(false);
    expect(result.aadsts).toBe(700213);
    expect(result.checks.find((c) => c.name === 'subject')).toEqual({
      name: 'subject',
      ok: false,
      detail: `the token says 'system:serviceaccount:payments:other', the federated credential expects '${SUBJECT}'`,
    });
    expect(result.attempts).toBe(1);
  });

  it('the probe fits a `node -e` argument many times over', () => {
    expect(probeSource().length).toBeLessThan(8 * 1024);
  });
});

describe('webhook v1.6 (token under /var/run/secrets/azure/wi/token)', () => {
  it('the probe reads $AZURE_FEDERATED_TOKEN_FILE wherever the webhook put it', async () => {
    const v16 = await startSandbox({
      scenario: {
        resourceGroups: ['rg-identities'],
        identities: [{ name: 'id-payments', federatedCredentials: [{ name: 'p', issuer: '{{issuer:aks-stg}}', subject: SUBJECT }] }],
        clusters: [{ name: 'aks-stg', resourceGroup: 'rg-aks' }],
        kube: {
          webhookVersion: 'v1.6',
          namespaces: [{ name: 'payments', labels: { 'pod-security.kubernetes.io/enforce': 'restricted' } }],
          serviceAccounts: [{ namespace: 'payments', name: 'payments-api', annotations: { 'azure.workload.identity/client-id': '{{identity:id-payments.clientId}}' } }],
        },
      },
    });
    try {
      const kc = new KubeConfig();
      kc.loadFromFile(v16.kubeconfigPath);
      const api = kc.makeApiClient(CoreV1Api);
      const id = v16.state.identityByName('id-payments')!;
      const expect16: ProbeExpectation = { ...expectation(), clientId: id.clientId, tenantId: v16.tenantId, issuer: v16.issuerUrl };
      const body = verificationPod({ invocation: newInvocation({}), environment: 'staging', namespace: 'payments', serviceAccount: 'payments-api', image: 'mcr.microsoft.com/azurelinux/base/nodejs:24', timeoutSeconds: 60, expect: expect16 }) as unknown as V1Pod;
      const created = await api.createNamespacedPod({ namespace: 'payments', body });
      expect(created.spec!.containers[0]!.env).toContainEqual({ name: 'AZURE_FEDERATED_TOKEN_FILE', value: '/var/run/secrets/azure/wi/token/azure-identity-token' });
      let log = '';
      for (const end = Date.now() + 30_000; Date.now() < end; await new Promise((r) => setTimeout(r, 50))) {
        const pod = await api.readNamespacedPod({ name: body.metadata!.name!, namespace: 'payments' });
        if (pod.status?.phase === 'Succeeded' || pod.status?.phase === 'Failed') {
          log = await api.readNamespacedPodLog({ name: body.metadata!.name!, namespace: 'payments', container: 'probe' });
          break;
        }
      }
      const result = resultOf(log);
      expect(result.ok, JSON.stringify(result.checks)).toBe(true);
      expect(result.access?.oid).toBe(id.principalId);
    } finally {
      await v16.stop();
    }
  });
});
