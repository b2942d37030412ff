// What discover reads, all read-only: the Pod Identity objects cluster-wide, the pods that
// opt in with `aadpodidbinding` and the workloads of their namespaces, KEDA's
// authentications, and the AKS-managed add-on's view in ARM. Where RBAC (or a missing CRD)
// hides something, it is named in `unseen` instead of failing the run: a partial estate is
// still a useful first draft, as long as it says what it could not see.
import { isKubeApiError, type AnyObject, type KindRef, type ListAnyRequest } from '../kube/port.ts';
import type { ArmPodIdentity, EstateInput } from './estate.ts';

export interface DiscoverSource {
  /** undefined when the cluster does not serve the kind (its CRD is not installed). */
  listAny(kind: KindRef, request: ListAnyRequest): Promise<AnyObject[] | undefined>;
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

const kindRef = (group: string, version: string, kind: string, plural: string): KindRef => ({ group, version, kind, plural });
// Plurals as the CRD manifests declare them (Azure/aad-pod-identity charts/…/crds, kedacore/keda config/crd).
const AZURE_IDENTITY = kindRef('aadpodidentity.k8s.io', 'v1', 'AzureIdentity', 'azureidentities');
const AZURE_IDENTITY_BINDING = kindRef('aadpodidentity.k8s.io', 'v1', 'AzureIdentityBinding', 'azureidentitybindings');
const AZURE_POD_IDENTITY_EXCEPTION = kindRef('aadpodidentity.k8s.io', 'v1', 'AzurePodIdentityException', 'azurepodidentityexceptions');
const TRIGGER_AUTHENTICATION = kindRef('keda.sh', 'v1alpha1', 'TriggerAuthentication', 'triggerauthentications');
const CLUSTER_TRIGGER_AUTHENTICATION = kindRef('keda.sh', 'v1alpha1', 'ClusterTriggerAuthentication', 'clustertriggerauthentications');
const POD = kindRef('', 'v1', 'Pod', 'pods');
const WORKLOADS: KindRef[] = [
  kindRef('apps', 'v1', 'Deployment', 'deployments'),
  kindRef('apps', 'v1', 'StatefulSet', 'statefulsets'),
  kindRef('apps', 'v1', 'DaemonSet', 'daemonsets'),
  kindRef('batch', 'v1', 'CronJob', 'cronjobs'),
  kindRef('batch', 'v1', 'Job', 'jobs'),
  POD,
];

export async function readPodIdentityEstate(source: DiscoverSource): Promise<DiscoverReading> {
  const unseen: string[] = [];
  const read = async (ref: KindRef, request: ListAnyRequest = {}): Promise<AnyObject[]> => {
    try {
      return (await source.listAny(ref, request)) ?? [];
    } catch (err) {
      const where = request.namespace ? `in namespace ${request.namespace}` : 'in all namespaces';
      unseen.push(`${ref.kind} ${where}: ${isKubeApiError(err) && err.status === 403 ? `the credentials may not list ${ref.plural} (403 Forbidden)` : (err as Error).message}`);
      return [];
    }
  };
  const [azureIdentities, azureIdentityBindings, exceptions, labelledPods, triggerAuths, clusterTriggerAuths] = await Promise.all([
    read(AZURE_IDENTITY),
    read(AZURE_IDENTITY_BINDING),
    read(AZURE_POD_IDENTITY_EXCEPTION),
    read(POD, { labelSelector: 'aadpodidbinding' }),
    read(TRIGGER_AUTHENTICATION),
    read(CLUSTER_TRIGGER_AUTHENTICATION),
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
  const workloads = (await Promise.all(namespaces.flatMap((namespace) => WORKLOADS.map((ref) => read(ref, { namespace }))))).flat();
  return {
    input: { azureIdentities, azureIdentityBindings, exceptions, workloads, kedaAuthentications: [...triggerAuths, ...clusterTriggerAuths], armPodIdentities },
    namespaces,
    unseen,
  };
}
