// Observe the ServiceAccounts the bindings name and diff them (src/plan/service-accounts.ts).
// Reads only: plan mode must make zero writes to the cluster.
import pLimit from 'p-limit';
import type { ResolvedBinding } from '../mapping/types.ts';
import type { PreflightCheck, ServiceAccountChange } from '../plan/types.ts';
import { changesIdentity, diffServiceAccounts, serviceAccountKey, type ObservedServiceAccount } from '../plan/service-accounts.ts';
import type { KubePort } from './port.ts';

/**
 * Key of `clientIds`: the identity's ARM resource ID, lower-cased (ARM IDs are
 * case-insensitive, DESIGN §5) — one entry per identity, shared by all its bindings.
 */
export const clientIdKey = (binding: ResolvedBinding): string => binding.identity.resourceId.toLowerCase();

export interface PlanServiceAccountsInput {
  bindings: ResolvedBinding[];
  /** Client ID by clientIdKey(binding): the identity's resource ID, lower-cased. */
  clientIds: ReadonlyMap<string, string>;
  /** Used when a binding carries no tenantId (typically the identities' tenant from ARM). */
  tenantId?: string;
  /** Parallel reads; default 8. */
  concurrency?: number;
}

export interface ServiceAccountPlan {
  changes: ServiceAccountChange[];
  checks: PreflightCheck[];
}

export async function planServiceAccounts(input: PlanServiceAccountsInput, port: KubePort): Promise<ServiceAccountPlan> {
  const limit = pLimit(input.concurrency ?? 8);
  const checks: PreflightCheck[] = [];
  const observed = new Map<string, ObservedServiceAccount>();
  const unreadable = new Set<string>();

  const first = new Map<string, ResolvedBinding>();
  for (const b of input.bindings) {
    const key = serviceAccountKey(b.namespace, b.serviceAccount);
    if (!first.has(key)) first.set(key, b);
  }

  await Promise.all(
    [...first].map(([key, b]) =>
      limit(async () => {
        try {
          const sa = await port.readServiceAccount(b.namespace, b.serviceAccount);
          if (sa) observed.set(key, { labels: sa.labels, annotations: sa.annotations });
        } catch (err) {
          unreadable.add(key);
          checks.push({
            name: 'service-account',
            ok: false,
            severity: 'error',
            detail: `Could not read ServiceAccount ${key}: ${(err as Error).message}`,
            fix: 'Grant the action get on serviceaccounts in this namespace (see the rbac check).',
            at: b.at,
          });
        }
      }),
    ),
  );

  const bindings = input.bindings.filter((b) => !unreadable.has(serviceAccountKey(b.namespace, b.serviceAccount)));
  const diffInput = {
    bindings,
    clientIdFor: (b: ResolvedBinding) => input.clientIds.get(clientIdKey(b)) ?? input.clientIds.get(b.identity.resourceId),
    tenantIdFor: () => input.tenantId,
    observed,
  };
  const firstPass = diffServiceAccounts(diffInput);

  // Pods matter only where the identity changes: list them for those ServiceAccounts alone.
  const needPods = firstPass.changes.filter(changesIdentity);
  if (!needPods.length) return { changes: firstPass.changes, checks: [...checks, ...firstPass.checks] };

  await Promise.all(
    needPods.map((c) =>
      limit(async () => {
        const key = serviceAccountKey(c.namespace, c.name);
        try {
          const pods = await port.listPodsUsingServiceAccount(c.namespace, c.name);
          const sa = observed.get(key)!;
          observed.set(key, { ...sa, pods: pods.map((p) => ({ name: p.name, owner: p.owner })) });
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
    ),
  );
  const result = diffServiceAccounts(diffInput);
  return { changes: result.changes, checks: [...checks, ...result.checks] };
}
