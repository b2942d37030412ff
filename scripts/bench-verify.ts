// The verify scenario of `npm run bench`: 50 bindings (5 namespaces, 5 identities with ten
// federated credentials each) verified on the sandbox by the real runner — one pod per
// binding through the emulated API server, webhook and kubelet, a real `node` probe and a
// real exchange at Entra. Each pod's time is fixed by the emulated image pull (PULL_MS),
// so that the pods, not this machine's two cores, set the pace; `one_pod_ms` is measured
// the same way with one binding. Target: wall ≤ 1.5 × ceil(50 / concurrency) × one pod.
import tls from 'node:tls';
import { KubeConfig } from '@kubernetes/client-node';
import { createCleanupRegistry } from '../src/cleanup.ts';
import { createKubePort } from '../src/kube/client.ts';
import { createNetwork } from '../src/net/index.ts';
import { memorySink } from '../src/output/sink.ts';
import { newInvocation } from '../src/verify/invocation.ts';
import { runVerifications, type VerificationTarget } from '../src/verify/runner.ts';
import { TIMINGS } from '../test/sandbox/kube/kubelet.ts';
import { startSandbox, type Sandbox } from '../test/sandbox/index.ts';

const BINDINGS = 50;
const NAMESPACES = 5;
const IDENTITIES = 5;
const CONCURRENCY = 10;
const PULL_MS = 1000;

const ns = (i: number) => `team-${i % NAMESPACES}`;
const sa = (i: number) => `app-${i}`;
const id = (i: number) => `id-${i % IDENTITIES}`;

async function sandbox(): Promise<Sandbox> {
  const identities = Array.from({ length: IDENTITIES }, (_, k) => ({
    name: `id-${k}`,
    federatedCredentials: Array.from({ length: BINDINGS }, (_, i) => i)
      .filter((i) => i % IDENTITIES === k)
      .map((i) => ({ name: `bench_${ns(i)}_${sa(i)}`, issuer: '{{issuer:aks-bench}}', subject: `system:serviceaccount:${ns(i)}:${sa(i)}` })),
  }));
  return startSandbox({
    scenario: {
      resourceGroups: ['rg-identities'],
      identities,
      clusters: [{ name: 'aks-bench', resourceGroup: 'rg-aks' }],
      kube: {
        namespaces: Array.from({ length: NAMESPACES }, (_, k) => ({ name: `team-${k}`, labels: { 'pod-security.kubernetes.io/enforce': 'restricted' } })),
        serviceAccounts: Array.from({ length: BINDINGS }, (_, i) => ({ namespace: ns(i), name: sa(i), annotations: { 'azure.workload.identity/client-id': `{{identity:${id(i)}.clientId}}` } })),
      },
    },
  });
}

function targets(sb: Sandbox, n: number): VerificationTarget[] {
  return Array.from({ length: n }, (_, i) => {
    const identity = sb.state.identityByName(id(i))!;
    return {
      environment: 'bench',
      namespace: ns(i),
      serviceAccount: sa(i),
      identity: id(i),
      clientId: identity.clientId,
      tenantId: sb.tenantId,
      issuer: sb.issuerUrl,
      subject: `system:serviceaccount:${ns(i)}:${sa(i)}`,
      audience: 'api://AzureADTokenExchange',
      scope: 'https://management.azure.com/.default',
      ficInArm: true,
    };
  });
}

export interface VerifyBench {
  bindings: number;
  concurrency: number;
  wall_ms: number;
  one_pod_ms: number;
  target_ms: number;
  ok: number;
  pull_ms: number;
}

export async function benchVerify(): Promise<VerifyBench> {
  const sb = await sandbox();
  const saved = TIMINGS.pull;
  TIMINGS.pull = PULL_MS;
  try {
    tls.setDefaultCACertificates([...tls.getCACertificates('default'), sb.tls.caPem]);
    const kc = new KubeConfig();
    kc.loadFromFile(sb.kubeconfigPath);
    const kube = createKubePort(kc, createNetwork());
    const run = async (n: number, concurrency: number) => {
      const started = performance.now();
      const results = await runVerifications(targets(sb, n), {
        kube,
        cleanups: createCleanupRegistry(),
        sink: memorySink(),
        invocation: newInvocation({ GITHUB_RUN_ID: 'bench', GITHUB_JOB: `n${n}` }),
        image: 'mcr.microsoft.com/azurelinux/base/nodejs:24',
        timeoutSeconds: 120,
        concurrency,
      });
      return { ms: performance.now() - started, ok: results.filter((r) => r.ok).length };
    };
    await run(1, 1); // warm-up: connections, the first node start
    const one = await run(1, 1);
    const all = await run(BINDINGS, CONCURRENCY);
    const target = 1.5 * Math.ceil(BINDINGS / CONCURRENCY) * one.ms;
    return { bindings: BINDINGS, concurrency: CONCURRENCY, wall_ms: Math.round(all.ms), one_pod_ms: Math.round(one.ms), target_ms: Math.round(target), ok: all.ok, pull_ms: PULL_MS };
  } finally {
    TIMINGS.pull = saved;
    await sb.stop();
  }
}
