import { describe, expect, it } from 'vitest';
import type { PodState, WorkloadState } from '../../src/kube/port.ts';
import { workloadReadiness } from '../../src/workloads/readiness.ts';

const USE = { 'azure.workload.identity/use': 'true' };
const NS = 'payments';
const SA = 'payments-api';
const CLIENT = '11111111-1111-1111-1111-111111111111';

function deployment(name: string, template: Partial<WorkloadState['template']> = {}, kind: WorkloadState['kind'] = 'deployments', owner?: string): WorkloadState {
  return {
    kind,
    namespace: NS,
    name,
    labels: {},
    annotations: {},
    template: { serviceAccountName: SA, labels: { ...USE }, annotations: {}, containers: [{ name: 'app', env: [] }], ...template },
    ...(owner ? { owner } : {}),
  };
}

function pod(name: string, owner: string | undefined, opts: Partial<PodState> = {}): PodState {
  return {
    namespace: NS,
    name,
    phase: 'Running',
    serviceAccountName: SA,
    usesWorkloadIdentity: true,
    owner,
    labels: { ...USE, ...(owner?.startsWith('ReplicaSet/') ? { 'pod-template-hash': owner.split('-').pop()! } : {}) },
    annotations: {},
    containers: [{ name: 'app', env: [{ name: 'AZURE_CLIENT_ID', value: CLIENT }] }],
    ...opts,
  };
}

const findings = (workloads: WorkloadState[], pods: PodState[], created = false) =>
  Object.fromEntries(workloadReadiness({ bindings: [{ namespace: NS, serviceAccount: SA, clientId: CLIENT, created }], workloads, pods }).map((w) => [`${w.kind}/${w.name}`, w.findings.map((f) => f.code)]));

describe('workload readiness: each finding on the workload that has it, and on no other', () => {
  it('one workload per problem', () => {
    const workloads = [
      deployment('ready'),
      deployment('no-label', { labels: {} }),
      deployment('hardcoded', { containers: [{ name: 'app', env: [{ name: 'AZURE_CLIENT_ID', value: 'old' }] }] }),
      deployment('legacy', { labels: { ...USE, aadpodidbinding: 'payments' } }),
      deployment('stale'),
      deployment('moved'),
      deployment('hostnet', { hostNetwork: true }),
      deployment('windows', { nodeSelector: { 'kubernetes.io/os': 'windows' } }),
      deployment('nightly', {}, 'cronjobs'),
      deployment('nightly-2901', {}, 'jobs', 'CronJob/nightly'), // a Job its CronJob made: reported through the CronJob
      deployment('other-sa', { serviceAccountName: 'someone-else', labels: {} }),
    ];
    const pods = [
      pod('ready-5d8f-abcde', 'ReplicaSet/ready-5d8f'),
      pod('stale-7c9d-x1', 'ReplicaSet/stale-7c9d', { containers: [{ name: 'app', env: [] }] }), // started before the webhook
      pod('moved-6b7a-y1', 'ReplicaSet/moved-6b7a', { containers: [{ name: 'app', env: [{ name: 'AZURE_CLIENT_ID', value: 'previous-identity' }] }] }),
      pod('finished-stale', 'ReplicaSet/ready-5d8f', { phase: 'Succeeded', containers: [{ name: 'app', env: [] }] }),
      pod('nightly-2901-q7', 'Job/nightly-2901', { hostNetwork: true }), // the CronJob's pod, through its Job
      pod('debug', undefined, { labels: {}, usesWorkloadIdentity: false, containers: [{ name: 'sh', env: [] }] }), // a bare pod
    ];
    expect(findings(workloads, pods)).toEqual({
      'Deployment/ready': [],
      'Deployment/no-label': ['use-label-missing'],
      'Deployment/hardcoded': ['env-override'],
      'Deployment/legacy': ['pod-identity-label'],
      'Deployment/stale': ['restart-needed'],
      'Deployment/moved': ['restart-needed'],
      'Deployment/hostnet': ['host-network'],
      'Deployment/windows': ['windows-node'],
      'CronJob/nightly': ['host-network'],
      'Pod/debug': ['use-label-missing'],
    });
  });

  it('the restart advice names the command for the workload kind', () => {
    const [w] = workloadReadiness({
      bindings: [{ namespace: NS, serviceAccount: SA, clientId: CLIENT, created: false }],
      workloads: [deployment('stale', {}, 'statefulsets')],
      pods: [pod('stale-0', 'StatefulSet/stale', { containers: [{ name: 'app', env: [] }] })],
    });
    expect(w!.findings[0]!.fix).toBe('Restart them: kubectl rollout restart statefulset/stale -n payments');
  });

  it('a ServiceAccount the mapping creates that no workload uses is a warning, not success', () => {
    expect(findings([], [], true)).toEqual({ 'ServiceAccount/payments-api': ['unused-service-account'] });
    // An existing ServiceAccount nobody uses (yet) is not the mapping's doing: nothing to say.
    expect(findings([], [], false)).toEqual({});
  });
});
