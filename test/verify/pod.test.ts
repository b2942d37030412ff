// The verification pod as DESIGN §6 and issue 17 pin it: what a cluster admin, a policy
// engine or the post step of another matrix job would look at.
import { describe, expect, it } from 'vitest';
import type { V1Pod } from '@kubernetes/client-node';
import { newInvocation } from '../../src/verify/invocation.ts';
import { verificationPod } from '../../src/verify/pod.ts';
import { EXPECT_ENV, probeSource, type ProbeExpectation } from '../../src/verify/probe.ts';

const EXPECT: ProbeExpectation = {
  clientId: '11111111-2222-4333-8444-555555555555',
  tenantId: '0b1e6c2a-7d3f-4e59-a1c8-5f2e9b4d7a10',
  issuer: 'https://westeurope.oic.prod-aks.azure.com/t/u/',
  subject: 'system:serviceaccount:payments:payments-api',
  audience: 'api://AzureADTokenExchange',
  scope: 'https://management.azure.com/.default',
  retryPropagation: true,
  budgetMs: 150_000,
  fetchTimeoutMs: 15_000,
  backoffMs: 2000,
};
const ENV = { GITHUB_RUN_ID: '9876543210', GITHUB_RUN_ATTEMPT: '2', GITHUB_JOB: 'deploy-staging' };
const pod = (env = ENV, random = 'a1b2c3d4', serviceAccount = 'payments-api') => {
  const p = verificationPod({ invocation: newInvocation(env, random), environment: 'staging', namespace: 'payments', serviceAccount, image: 'mcr.microsoft.com/azurelinux/base/nodejs:24', timeoutSeconds: 180, expect: EXPECT });
  // As the API server receives it.
  return p as unknown as V1Pod & { metadata: { name: string; labels: Record<string, string> }; spec: NonNullable<V1Pod['spec']> };
};

/** Bytes of a Kubernetes quantity such as 128Mi. */
const bytes = (q: string) => Number(/^(\d+)Mi$/.exec(q)?.[1] ?? 0) * 1024 * 1024;

describe('the verification pod', () => {
  it('meets Pod Security "restricted" and runs only on Linux nodes, with no mesh sidecar and no token of its own', () => {
    const { spec, metadata } = pod();
    const c = spec.containers[0]!;
    expect(spec.securityContext).toMatchObject({ runAsNonRoot: true, seccompProfile: { type: 'RuntimeDefault' } });
    expect(spec.securityContext!.runAsUser).toBeGreaterThan(0);
    expect(c.securityContext).toMatchObject({ allowPrivilegeEscalation: false, readOnlyRootFilesystem: true, capabilities: { drop: ['ALL'] } });
    expect(spec).toMatchObject({ restartPolicy: 'Never', activeDeadlineSeconds: 180, automountServiceAccountToken: false, serviceAccountName: 'payments-api', nodeSelector: { 'kubernetes.io/os': 'linux' } });
    expect(metadata.annotations).toMatchObject({ 'sidecar.istio.io/inject': 'false', 'linkerd.io/inject': 'disabled' });
    expect(metadata.labels).toMatchObject({ 'azure.workload.identity/use': 'true' });
  });

  it('asks for at least 128Mi and limits memory to no less (Node with one fetch peaks near 60 MB)', () => {
    const r = pod().spec.containers[0]!.resources!;
    expect(bytes(r.limits!.memory!)).toBeGreaterThanOrEqual(128 * 1024 * 1024);
    expect(bytes(r.requests!.memory!)).toBeGreaterThan(0);
    expect(r.requests!.cpu).toBeTruthy();
  });

  it('runs the probe as `node -e` with its expectations and NODE_USE_ENV_PROXY=1 (fetch follows an injected HTTPS_PROXY), and nothing secret in its spec', () => {
    const c = pod().spec.containers[0]!;
    expect(c.command).toEqual(['node', '-e', probeSource()]);
    expect(c.env).toEqual([
      { name: 'NODE_USE_ENV_PROXY', value: '1' },
      { name: EXPECT_ENV, value: JSON.stringify(EXPECT) },
    ]);
    expect(JSON.stringify(pod())).not.toMatch(/eyJ[\w-]{10,}/);
  });

  it("is labelled with the action, the run id, the attempt, the job and this invocation's random part", () => {
    const labels = pod().metadata.labels!;
    expect(labels).toMatchObject({
      'app.kubernetes.io/managed-by': 'workload-identity-action',
      'workload-identity-action/run-id': '9876543210',
      'workload-identity-action/run-attempt': '2',
      'workload-identity-action/job': 'deploy-staging',
    });
    expect(labels['workload-identity-action/invocation']).toMatch(/^9876543210-2-.*a1b2c3d4$/);
    for (const v of Object.values(labels)) expect(v.length).toBeLessThanOrEqual(63);
  });

  it("has one name per binding and invocation: a retried create meets its own pod, another matrix job's never", () => {
    expect(pod().metadata.name).toBe(pod().metadata.name);
    expect(pod().metadata.name).toMatch(/^wi-verify-payments-api-[0-9a-f]+$/);
    expect(pod().metadata.name.length).toBeLessThanOrEqual(63);
    expect(pod(ENV, 'ffff0000').metadata.name).not.toBe(pod().metadata.name);
    expect(pod({ ...ENV, GITHUB_JOB: 'deploy-prod' }).metadata.name).not.toBe(pod().metadata.name);
    expect(pod(ENV, 'a1b2c3d4', 'orders-worker').metadata.name).not.toBe(pod().metadata.name);
  });
});
