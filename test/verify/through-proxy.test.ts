// The verification pod on a sandbox behind its CONNECT proxy, as on a runner with no
// endpoint inputs: the pod is created through the kubeconfig azure/aks-set-context writes
// (the cluster's fqdn, reached through `proxy-url`), the webhook injects the public cloud's
// authority (https://login.microsoftonline.com/), and the probe's exchange goes out through
// the proxy like any pod's egress.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CoreV1Api, KubeConfig, type V1Pod } from '@kubernetes/client-node';
import { startSandbox, type Sandbox } from '../sandbox/index.ts';
import { trustSandboxCa } from '../sandbox-azure/helpers.ts';
import { newInvocation } from '../../src/verify/invocation.ts';
import { verificationPod } from '../../src/verify/pod.ts';
import { RESULT_PREFIX, type ProbeResult } from '../../src/verify/probe.ts';

let sb: Sandbox;
let core: CoreV1Api;
const SUBJECT = 'system:serviceaccount:payments:payments-api';

beforeAll(async () => {
  sb = await startSandbox({
    proxy: true,
    scenario: {
      resourceGroups: ['rg-identities'],
      identities: [{ name: 'id-payments', federatedCredentials: [{ name: 'stg_payments_payments-api', issuer: '{{issuer:aks-stg}}', subject: SUBJECT }] }],
      clusters: [{ name: 'aks-stg', resourceGroup: 'rg-aks', location: 'northeurope' }],
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

describe('the verification pod through the sandbox proxy', () => {
  it('exchanges its token at login.microsoftonline.com through the proxy, for the issuer on its AKS origin', async () => {
    const id = sb.state.identityByName('id-payments')!;
    expect(sb.issuerUrl.startsWith('https://northeurope.oic.prod-aks.azure.com/')).toBe(true);
    const inv = newInvocation({ GITHUB_RUN_ID: '8', GITHUB_RUN_ATTEMPT: '1', GITHUB_JOB: 'deploy' });
    const body = verificationPod({
      invocation: inv,
      environment: 'staging',
      namespace: 'payments',
      serviceAccount: 'payments-api',
      image: 'mcr.microsoft.com/azurelinux/base/nodejs:24',
      timeoutSeconds: 60,
      expect: {
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
      },
    }) as unknown as V1Pod;
    const { name, namespace } = body.metadata as { name: string; namespace: string };
    const created = await core.createNamespacedPod({ namespace, body });
    expect(created.spec?.containers[0]?.env).toContainEqual({ name: 'AZURE_AUTHORITY_HOST', value: 'https://login.microsoftonline.com/' });
    let pod: V1Pod;
    const end = Date.now() + 30_000;
    do {
      await new Promise((r) => setTimeout(r, 50));
      pod = await core.readNamespacedPod({ name, namespace });
    } while (pod.status?.phase !== 'Succeeded' && pod.status?.phase !== 'Failed' && Date.now() < end);
    const log = await core.readNamespacedPodLog({ name, namespace, container: 'probe' });
    const line = log.split('\n').find((l) => l.startsWith(RESULT_PREFIX));
    const result = JSON.parse(line!.slice(RESULT_PREFIX.length)) as ProbeResult;
    expect(result.checks.filter((c) => !c.ok)).toEqual([]);
    expect(pod.status?.phase).toBe('Succeeded');
    expect(result.access).toEqual({ tid: sb.tenantId, oid: id.principalId, appid: id.clientId });
    // The pod's exchange and the client's API calls went through the proxy to the public names.
    const targets = new Set(sb.proxy!.connects.map((c) => `${c.allowed ? '' : 'refused '}${c.target}`));
    expect([...targets].sort()).toEqual(['aks-stg-dns-sandbox.hcp.northeurope.azmk8s.io:443', 'login.microsoftonline.com:443']);
  });
});
