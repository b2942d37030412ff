// What discover reads, all read-only: the Pod Identity objects cluster-wide, the pods that
// opt in with `aadpodidbinding` and the workloads of their namespaces, KEDA's
// authentications, and the AKS-managed add-on's view in ARM. Where RBAC (or a missing CRD)
// hides something, it is named in `unseen` instead of failing the run: a partial estate is
// still a useful first draft, as long as it says what it could not see.
import type { AnyObject, ListAnyRequest } from '../kube/any-objects.ts';
import { isKubeApiError } from '../kube/port.ts';
import type { ArmPodIdentity, EstateInput } from './estate.ts';

export interface DiscoverSource {
  listAny(apiVersion: string, kind: string, request: ListAnyRequest): Promise<AnyObject[] | undefined>;
  /** podIdentityProfile.userAssignedIdentities of the environment's cluster; undefined when it names none. */
  armPodIdentities?: () => Promise<ArmPodIdentity[]>;
}

export interface DiscoverReading {
  input: EstateInput;
  /** Namespaces where Pod Identity is in use (objects or labelled pods). */
  namespaces: string[];
  /** What could not be read, in words: "AzureIdentity in all namespaces: 403 Forbidden …". */
  unseen: string[];
}

const POD_IDENTITY = 'aadpodidentity.k8s.io/v1';
const KEDA = 'keda.sh/v1alpha1';
const WORKLOADS: [string, string][] = [
  ['apps/v1', 'Deployment'],
  ['apps/v1', 'StatefulSet'],
  ['apps/v1', 'DaemonSet'],
  ['batch/v1', 'CronJob'],
  ['batch/v1', 'Job'],
  ['v1', 'Pod'],
];

export async function readPodIdentityEstate(source: DiscoverSource): Promise<DiscoverReading> {
  const unseen: string[] = [];
  const read = async (apiVersion: string, kind: string, request: ListAnyRequest = {}): Promise<AnyObject[]> => {
    try {
      return (await source.listAny(apiVersion, kind, request)) ?? [];
    } catch (err) {
      const where = request.namespace ? `in namespace ${request.namespace}` : 'in all namespaces';
      unseen.push(`${kind} ${where}: ${isKubeApiError(err) && err.status === 403 ? `the credentials may not list ${kind} (403 Forbidden)` : (err as Error).message}`);
      return [];
    }
  };
  const [azureIdentities, azureIdentityBindings, exceptions, labelledPods, triggerAuths, clusterTriggerAuths] = await Promise.all([
    read(POD_IDENTITY, 'AzureIdentity'),
    read(POD_IDENTITY, 'AzureIdentityBinding'),
    read(POD_IDENTITY, 'AzurePodIdentityException'),
    read('v1', 'Pod', { labelSelector: 'aadpodidbinding' }),
    read(KEDA, 'TriggerAuthentication'),
    read(KEDA, 'ClusterTriggerAuthentication'),
  ]);
  let armPodIdentities: ArmPodIdentity[] = [];
  if (source.armPodIdentities) {
    try {
      armPodIdentities = await source.armPodIdentities();
    } catch (err) {
      unseen.push(`the AKS-managed pod identity (podIdentityProfile in ARM): ${(err as Error).message}`);
    }
  }
  const namespaces = [
    ...new Set(
      [...azureIdentityBindings, ...labelledPods].map((o) => o.metadata.namespace ?? 'default').concat(armPodIdentities.map((p) => p.namespace)),
    ),
  ].sort();
  // Workloads of those namespaces: a pod template opts in with its label, whether or not a
  // pod of it runs right now (a CronJob between runs, a Deployment scaled to zero).
  const workloads = (await Promise.all(namespaces.flatMap((namespace) => WORKLOADS.map(([v, k]) => read(v, k, { namespace }))))).flat();
  return {
    input: { azureIdentities, azureIdentityBindings, exceptions, workloads, kedaAuthentications: [...triggerAuths, ...clusterTriggerAuths], armPodIdentities },
    namespaces,
    unseen,
  };
}
