// Resolve every identity the environment's bindings name to what ARM knows of it (clientId,
// principalId, tenantId), once per identity however many bindings share it, a bounded number
// at a time. A missing or unreadable identity becomes a preflight error that names it and
// points at each mapping line that uses it; the plan still shows everything else.
import pLimit from 'p-limit';
import { identityKey } from '../mapping/identity.ts';
import type { ResolvedBinding, SourcePosition } from '../mapping/types.ts';
import type { ManagedIdentity, PreflightCheck } from '../plan/types.ts';
import { isForbidden, isNotFound } from './errors.ts';
import type { AzurePort } from './port.ts';

export interface IdentityResolution {
  /** By identityKey(resourceId) (lower-cased). */
  identities: Map<string, ManagedIdentity>;
  checks: PreflightCheck[];
}

const lines = (ats: SourcePosition[]): string => ats.map((a) => `${a.file}:${a.line}:${a.column}`).join(', ');

export async function resolveIdentities(bindings: ResolvedBinding[], port: AzurePort, opts: { concurrency: number }): Promise<IdentityResolution> {
  const byKey = new Map<string, ResolvedBinding[]>();
  for (const b of bindings) {
    const key = identityKey(b.identity.resourceId);
    const list = byKey.get(key);
    if (list) list.push(b);
    else byKey.set(key, [b]);
  }

  const limit = pLimit(Math.max(1, opts.concurrency));
  const identities = new Map<string, ManagedIdentity>();
  const checks: PreflightCheck[] = [];

  await Promise.all(
    [...byKey].map(([key, users]) =>
      limit(async () => {
        const ref = users[0]!.identity;
        const where = users.map((b) => b.identityAt);
        const named = `'${ref.name}' (resource group '${ref.resourceGroup}', subscription ${ref.subscriptionId})`;
        if (!ref.subscriptionId || !ref.resourceGroup) {
          checks.push({
            name: 'identity',
            ok: false,
            severity: 'error',
            detail: `Managed identity '${ref.name}' (named at ${lines(where)}) has no ${ref.subscriptionId ? 'resource group' : 'subscription'}.`,
            fix: ref.subscriptionId
              ? 'Set resourceGroup on the identity, in the environment defaults or in defaults.'
              : 'Set subscriptionId on the identity, in the environment defaults or in defaults, or the azure-subscription-id input.',
            at: where[0]!,
          });
          return;
        }
        try {
          const identity = await port.getIdentity(ref);
          identities.set(key, identity);
          for (const b of users) {
            if (b.tenantId && b.tenantId.toLowerCase() !== identity.tenantId.toLowerCase()) {
              checks.push({
                name: 'identity-tenant',
                ok: false,
                severity: 'error',
                detail: `Identity ${named} lives in tenant ${identity.tenantId}, but the binding ${b.namespace}/${b.serviceAccount} says tenantId ${b.tenantId}: the workload's token exchange would go to the wrong tenant.`,
                fix: `Set tenantId: ${identity.tenantId} (in defaults or the environment), or use an identity of tenant ${b.tenantId}.`,
                at: b.identityAt,
              });
            }
          }
        } catch (err) {
          if (isNotFound(err)) {
            checks.push({
              name: 'identity',
              ok: false,
              severity: 'error',
              detail: `Managed identity ${named} does not exist (named at ${lines(where)}).`,
              fix: `Create it (az identity create -g ${ref.resourceGroup} -n ${ref.name} --subscription ${ref.subscriptionId}) or fix the name, resource group or subscription in the mapping.`,
              at: where[0]!,
            });
          } else if (isForbidden(err)) {
            checks.push({
              name: 'identity',
              ok: false,
              severity: 'error',
              detail: `Not allowed to read managed identity ${named} (named at ${lines(where)}): ${(err as Error).message}`,
              fix: "Grant the action's login identity 'Managed Identity Contributor' on the identity or its resource group (read and write its federated credentials).",
              at: where[0]!,
            });
          } else {
            throw err;
          }
        }
      }),
    ),
  );
  // Completion order is not stable; the report is.
  checks.sort((a, b) => (a.at?.line ?? 0) - (b.at?.line ?? 0) || (a.at?.column ?? 0) - (b.at?.column ?? 0));
  return { identities, checks };
}
