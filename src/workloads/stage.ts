// Workload readiness in the pipeline (plan, apply, verify): the workloads of every binding's
// namespace from the run's cluster snapshot — one LIST per kind per namespace, shared with
// the plan — then the pure findings (readiness.ts). Read-only, and never a failed run:
// where RBAC denies listing a kind, that namespace is skipped with a warning naming the verb
// (plans on pull requests run with least privilege).
import type { ClusterSnapshot } from '../kube/snapshot.ts';
import { isKubeApiError, type PodState, type WorkloadKind, type WorkloadState } from '../kube/port.ts';
import type { Plan } from '../plan/types.ts';
import { workloadReadiness, type ReadinessBinding, type WorkloadReadiness } from './readiness.ts';

const WORKLOAD_KINDS: WorkloadKind[] = ['deployments', 'statefulsets', 'daemonsets', 'jobs', 'cronjobs'];
const CLIENT_ID = 'azure.workload.identity/client-id';

export interface ReadinessReport {
  workloads: WorkloadReadiness[];
  /** Namespaces not looked at, with why ("list deployments is forbidden in payments"). */
  skipped: string[];
}

export async function readinessStage(plan: Plan, snapshot: ClusterSnapshot): Promise<ReadinessReport> {
  const bindings: ReadinessBinding[] = plan.serviceAccounts.map((c) => ({
    namespace: c.namespace,
    serviceAccount: c.name,
    clientId: c.annotations[CLIENT_ID],
    created: c.action === 'create',
  }));
  const namespaces = [...new Set(bindings.map((b) => b.namespace))].sort();
  await Promise.all([...WORKLOAD_KINDS, 'pods' as const].map((kind) => snapshot.read(kind, namespaces)));
  const workloads: WorkloadState[] = [];
  const pods: PodState[] = [];
  const skipped: string[] = [];
  const readable = new Set<string>();
  for (const namespace of namespaces) {
    try {
      const lists = await Promise.all(WORKLOAD_KINDS.map((kind) => snapshot.list(kind, namespace)));
      const running = await snapshot.list('pods', namespace);
      workloads.push(...lists.flat());
      pods.push(...running);
      readable.add(namespace);
    } catch (err) {
      const denied = isKubeApiError(err) && err.status === 403;
      skipped.push(`workload readiness skipped in ${namespace}: ${denied ? `${err.operation} is forbidden — grant 'list' on deployments, statefulsets, daemonsets, jobs, cronjobs and pods there to see it` : (err as Error).message}`);
    }
  }
  return { workloads: workloadReadiness({ bindings: bindings.filter((b) => readable.has(b.namespace)), workloads, pods }), skipped };
}
