// Workload readiness through dist/index.js on a cluster still on Pod Identity
// (scenarios/pod-identity.yaml): the plan names, per workload of each binding, what stands
// between it and a token — and a namespace whose workloads it may not list is skipped with
// a warning naming the verb, never a failed plan.
import { beforeEach, describe, expect, it } from 'vitest';
import { useDemoSandbox } from './demo-sandbox.ts';
import { runAction, workspaceWith } from './run-action.ts';

const SUB = '5f0c3a1e-2b4d-4c6e-8f90-1a2b3c4d5e6f';
const MAPPING = `version: 1
defaults: { subscriptionId: ${SUB}, resourceGroup: rg-identities }
environments:
  staging:
    cluster: { resourceGroup: rg-aks-staging, name: aks-staging }
bindings:
  - { namespace: payments, serviceAccount: payments-api, identity: id-payments }
  - { namespace: orders, serviceAccount: orders-worker, identity: id-orders }
`;

const estate = useDemoSandbox('pod-identity.yaml');
beforeEach(() => estate.sb.faults.clear());

type Workload = { namespace: string; kind: string; name: string; findings: { code: string }[] };
const plan = () => runAction({ workspace: workspaceWith(MAPPING), env: estate.sb.env, inputs: { mode: 'plan', environment: 'staging' } });

describe('workload readiness (dist/index.js)', () => {
  it('names, per workload, what stands between it and a token', async () => {
    const run = await plan();
    expect(run.code, run.stdout).toBe(0);
    const workloads = JSON.parse(run.outputs.result!).workloads as Workload[];
    const byWorkload = Object.fromEntries(workloads.map((w) => [`${w.kind} ${w.namespace}/${w.name}`, w.findings.map((f) => f.code)]));
    expect(byWorkload).toEqual({
      // Still on Pod Identity: no use label yet, aadpodidbinding still there.
      'Deployment payments/payments-api': ['use-label-missing', 'pod-identity-label'],
      // The orders pods run as `default`: the ServiceAccount the mapping creates has no user.
      'ServiceAccount orders/orders-worker': ['unused-service-account'],
    });
    expect(run.summary).toMatch(/Workloads to change: 2/);
    expect(run.stdout).toMatch(/workload warning Deployment payments\/payments-api .*azure\.workload\.identity\/use/);
  });

  it('a namespace whose workloads may not be listed is skipped with a warning naming the verb', async () => {
    estate.sb.faults.inject({ service: 'kube', method: 'GET', pathIncludes: '/namespaces/payments/deployments', status: 403, times: 1000 });
    const run = await plan();
    expect(run.code, run.stdout).toBe(0);
    const workloads = JSON.parse(run.outputs.result!).workloads as Workload[];
    expect(workloads.map((w) => w.namespace)).toEqual(['orders']);
    expect(run.stdout).toMatch(/workload readiness skipped in payments: list deployments in payments is forbidden/);
  });
});
