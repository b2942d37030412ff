// After verification (apply, verify): read the Pod Identity estate again and list what now
// serves nothing. Read-only; skipped silently on a cluster without Pod Identity (its CRDs are
// not served and no AKS add-on is named), so a cluster migrated long ago sees nothing new.
import type { ClusterRef } from '../mapping/types.ts';
import type { Ports } from '../plan/environment.ts';
import { cleanupPlan, type CleanupPlan } from './cleanup.ts';
import { readPodIdentityEstate } from './read.ts';

export async function cleanupStage(ports: Ports, verified: Set<string>, cluster: (ClusterRef & { subscriptionId?: string }) | undefined, subscriptionId: string): Promise<CleanupPlan | undefined> {
  const listAny = ports.kube.listAny?.bind(ports.kube);
  if (!listAny) return undefined;
  const sub = cluster?.subscriptionId ?? subscriptionId;
  const reading = await readPodIdentityEstate({
    listAny,
    ...(cluster && sub
      ? { armPodIdentities: async () => (await ports.azure.getClusterIssuer({ subscriptionId: sub, resourceGroup: cluster.resourceGroup, name: cluster.name })).podIdentities ?? [] }
      : {}),
  });
  const input = reading.input;
  const anything = input.azureIdentities.length + input.azureIdentityBindings.length + input.armPodIdentities.length + reading.namespaces.length;
  if (!anything && !reading.unseen.length) return undefined;
  return cleanupPlan(input, { verified, unseen: reading.unseen, ...(cluster ? { cluster } : {}) });
}
