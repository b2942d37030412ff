// Observe the ServiceAccounts the bindings name and diff them (src/plan/service-accounts.ts).
// Reads only, and only through the run's cluster snapshot (snapshot.ts): one LIST of
// ServiceAccounts per namespace, and of pods where an identity changes — never a request
// per binding. Plan mode makes zero writes to the cluster.
import { identityKey } from '../mapping/identity.ts';
import type { ResolvedBinding } from '../mapping/types.ts';
import type { PreflightCheck, ServiceAccountChange } from '../plan/types.ts';
import { changesIdentity, diffServiceAccounts, serviceAccountKey, type ObservedServiceAccount } from '../plan/service-accounts.ts';
import { activePodsOf, type ClusterSnapshot } from './snapshot.ts';

export interface PlanServiceAccountsInput {
  bindings: ResolvedBinding[];
  /** Client ID by identityKey(binding.identity.resourceId). */
  clientIds: ReadonlyMap<string, string>;
  /** Tenant by identityKey(resourceId), from ARM: used when a binding's mapping names none. */
  tenantIds?: ReadonlyMap<string, string>;
  /** Last fallback for the tenant. */
  tenantId?: string;
  /**
   * The ServiceAccounts already being read (observeServiceAccounts), so the reads can run
   * while Azure is planned: only the diff needs the client IDs. Read here when absent.
   */
  observation?: Promise<ServiceAccountObservation>;
}

export interface ServiceAccountObservation {
  observed: Map<string, ObservedServiceAccount>;
  /** ServiceAccounts that could not be read, with the check that says why. */
  unreadable: Map<string, PreflightCheck>;
}

export interface ServiceAccountPlan {
  changes: ServiceAccountChange[];
  checks: PreflightCheck[];
}

/** Reads the ServiceAccounts the bindings name from the snapshot. Never rejects: a failed read is a check. */
export async function observeServiceAccounts(bindings: ResolvedBinding[], snapshot: ClusterSnapshot): Promise<ServiceAccountObservation> {
  const observed = new Map<string, ObservedServiceAccount>();
  const unreadable = new Map<string, PreflightCheck>();

  const first = new Map<string, ResolvedBinding>();
  for (const b of bindings) {
    const key = serviceAccountKey(b.namespace, b.serviceAccount);
    if (!first.has(key)) first.set(key, b);
  }
  await snapshot.read('serviceaccounts', [...first.values()].map((b) => b.namespace));

  await Promise.all(
    [...first].map(async ([key, b]) => {
      try {
        const sa = await snapshot.get('serviceaccounts', b.namespace, b.serviceAccount);
        if (sa) observed.set(key, { labels: sa.labels, annotations: sa.annotations });
      } catch (err) {
        unreadable.set(key, {
          name: 'service-account',
          ok: false,
          severity: 'error',
          detail: `Could not read ServiceAccount ${key}: ${(err as Error).message}`,
          fix: 'Grant the action list on serviceaccounts in this namespace (see the rbac check).',
          at: b.at,
        });
      }
    }),
  );
  return { observed, unreadable };
}

export async function planServiceAccounts(input: PlanServiceAccountsInput, snapshot: ClusterSnapshot): Promise<ServiceAccountPlan> {
  const { observed, unreadable } = await (input.observation ?? observeServiceAccounts(input.bindings, snapshot));
  const keys = new Set(input.bindings.map((b) => serviceAccountKey(b.namespace, b.serviceAccount)));
  // Only the ServiceAccounts planned here: the observation may cover more bindings.
  const checks = [...unreadable].filter(([key]) => keys.has(key)).map(([, check]) => check);

  const bindings = input.bindings.filter((b) => !unreadable.has(serviceAccountKey(b.namespace, b.serviceAccount)));
  const diffInput = {
    bindings,
    clientIdFor: (b: ResolvedBinding) => input.clientIds.get(identityKey(b.identity.resourceId)),
    tenantIdFor: (b: ResolvedBinding) => input.tenantIds?.get(identityKey(b.identity.resourceId)) ?? input.tenantId,
    observed,
  };
  const firstPass = diffServiceAccounts(diffInput);

  // Pods matter only where the identity changes: list them for those ServiceAccounts alone.
  const needPods = firstPass.changes.filter(changesIdentity);
  if (!needPods.length) return { changes: firstPass.changes, checks: [...checks, ...firstPass.checks] };

  await snapshot.read('pods', needPods.map((c) => c.namespace));
  await Promise.all(
    needPods.map(async (c) => {
      const key = serviceAccountKey(c.namespace, c.name);
      try {
        const pods = activePodsOf(await snapshot.list('pods', c.namespace), c.name);
        const sa = observed.get(key)!;
        observed.set(key, { ...sa, pods: pods.map((p) => ({ name: p.name, owner: p.owner, usesWorkloadIdentity: p.usesWorkloadIdentity })) });
      } catch (err) {
        checks.push({
          name: 'service-account',
          ok: false,
          severity: 'warning',
          detail: `Could not list the pods using ServiceAccount ${key}, so the pods to restart after the client ID change are unknown: ${(err as Error).message}`,
          fix: `List them with: kubectl get pods -n ${c.namespace} --field-selector spec.serviceAccountName=${c.name}`,
          at: c.binding.at,
        });
      }
    }),
  );
  const result = diffServiceAccounts(diffInput);
  return { changes: result.changes, checks: [...checks, ...result.checks] };
}
