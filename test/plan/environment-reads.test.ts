// How many requests one environment's plan makes, from the sandbox's call log: the cluster
// is read per namespace (one snapshot, src/kube/snapshot.ts), Azure per identity — never
// per binding. Doubling the bindings in the same namespaces and identities adds no request.
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { parseMapping } from '../../src/mapping/index.ts';
import { planEnvironment, type Ports } from '../../src/plan/environment.ts';
import { startSandbox, type Sandbox } from '../sandbox/index.ts';
import { sandboxPorts, scaleMapping, scaleScenario } from './scale-scenario.ts';

const SHAPE = { namespaces: 4, perNamespace: 20, identities: 5 };

let sb: Sandbox;
let ports: Ports;

async function plan(bound: number) {
  const loaded = parseMapping(scaleMapping(sb, SHAPE, bound), 'scale.yaml');
  const input = { mapping: loaded.mapping!, environment: 'scale', mode: 'plan' as const, verify: true, verifyImage: '', prune: false, concurrency: 8, subscriptionId: sb.subscriptionId };
  sb.log.reset();
  const result = await planEnvironment(input, ports);
  // Kubernetes and ARM only: the login to Entra happens once per process, in whichever test runs first.
  const calls = Object.fromEntries(Object.entries(sb.log.counts()).filter(([kind]) => /^(kube|arm) /.test(kind)));
  return { result, calls };
}

beforeAll(async () => {
  sb = await startSandbox({ scenario: scaleScenario(SHAPE) });
  ports = sandboxPorts(sb);
}, 60_000);

afterAll(async () => {
  await sb?.stop();
});

beforeEach(() => {
  sb.kube.clearRbac();
});

describe('one environment\'s plan: requests per namespace and per identity, not per binding', () => {
  it('80 bindings in 4 namespaces: one LIST of ServiceAccounts and one of pods per namespace, two ARM reads per identity', async () => {
    const { result, calls } = await plan(SHAPE.perNamespace);
    expect(result.preflight.filter((c) => !c.ok && c.severity === 'error')).toEqual([]);
    expect(result.serviceAccounts).toHaveLength(80);
    // Half of them exist with a running pod still on Pod Identity (no use label): a restart
    // would not help it, so the plan names its missing label instead of a restart.
    expect(result.serviceAccounts.filter((c) => c.podsToRestart?.length)).toHaveLength(0);
    expect(result.serviceAccounts.filter((c) => c.reason.includes('lack the label azure.workload.identity/use'))).toHaveLength(40);
    expect(calls).toMatchObject({
      'kube list serviceaccounts': 4,
      'kube list pods': 4,
      'arm GET cluster': 1,
      'arm GET identity': 5,
      'arm GET fic-list': 5,
    });
    // No ServiceAccount is read on its own, except the one the webhook dry run runs as.
    expect(calls['kube get serviceaccounts'] ?? 0).toBeLessThanOrEqual(1);
  });

  it('twice the bindings in the same namespaces and identities: not one request more', async () => {
    const half = await plan(SHAPE.perNamespace / 2);
    const full = await plan(SHAPE.perNamespace);
    expect(full.result.serviceAccounts).toHaveLength(2 * half.result.serviceAccounts.length);
    expect(full.calls).toEqual(half.calls);
  });
});
