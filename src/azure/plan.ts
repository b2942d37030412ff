// Observe and diff the Azure side: resolve the environment's identities, LIST the FICs of
// each one once (paged; never a GET per binding: 200 bindings over 20 identities cost 40
// reads, not 220), and hand both to the pure diff. Reads only: `mode: plan` makes zero writes.
import pLimit from 'p-limit';
import { identityKey } from '../mapping/identity.ts';
import type { ResolvedBinding, SourcePosition } from '../mapping/types.ts';
import { diffFederatedCredentials } from '../plan/federated-credentials.ts';
import type { FederatedCredential, FicChange, ManagedIdentity, PreflightCheck } from '../plan/types.ts';
import { AzureCallError, isForbidden, isNotFound } from './errors.ts';
import type { AzurePort } from './port.ts';
import { resolveIdentities } from './resolve.ts';

export interface FicPlanInput {
  /** The environment's bindings; may include other environments' bindings on the same issuer (see FicDiffInput). */
  bindings: ResolvedBinding[];
  issuer: string;
  environment: string;
  prune: boolean;
  concurrency: number;
  /**
   * With prune: bindings of every other environment. Identities only they name are listed
   * too, so that this issuer's leftovers on them are pruned (a binding moved to another
   * identity). Their resolution problems are theirs to report, not this plan's.
   */
  elsewhere?: ResolvedBinding[];
  /**
   * The issuer the cluster reports (undefined: could not be read), read while Azure is: the
   * diff advises deleting a credential only when it is known not to be the cluster's.
   */
  clusterIssuer?: Promise<string | undefined>;
}

export interface FicPlan {
  changes: FicChange[];
  checks: PreflightCheck[];
  /** Resolved identities by identityKey(resourceId): the ServiceAccount annotations need their clientId. */
  identities: Map<string, ManagedIdentity>;
}

function listFailed(identity: ManagedIdentity, err: AzureCallError, at: SourcePosition | undefined): PreflightCheck {
  const named = `identity '${identity.name}' (resource group '${identity.resourceGroup}', subscription ${identity.subscriptionId})`;
  const where = at ? ` (named at ${at.file}:${at.line})` : '';
  const base = { name: 'identity', ok: false, severity: 'error' as const, ...(at ? { at } : {}) };
  if (isForbidden(err)) {
    return {
      ...base,
      detail: `Not allowed to list the federated credentials of ${named}${where}: ${err.message}`,
      fix: "Grant the action's login identity 'Managed Identity Contributor' on the identity or its resource group.",
    };
  }
  if (isNotFound(err)) {
    return {
      ...base,
      detail: `Could not list the federated credentials of ${named}${where}: ${err.code} — it was found a moment before, so it was probably deleted meanwhile.`,
      fix: 'Check that the identity still exists (az identity show), recreate it or fix the mapping, and run again.',
    };
  }
  const status = err.statusCode ? ` (HTTP ${err.statusCode})` : '';
  return {
    ...base,
    detail: `Could not list the federated credentials of ${named}${where}: ${err.code}${status} after retries, so its bindings are not planned. ARM said: ${err.message}`,
    fix: 'Usually transient on the Azure side: run again. If it persists, check https://status.azure.com and the ARM error above.',
  };
}

/** Identities only other environments name: a failure to read them only costs pruning them. */
async function resolveForPrune(foreign: ResolvedBinding[], port: AzurePort, concurrency: number, checks: PreflightCheck[]): Promise<[string, ManagedIdentity][]> {
  try {
    return [...(await resolveIdentities(foreign, port, { concurrency })).identities];
  } catch (err) {
    checks.push({
      name: 'prune',
      ok: false,
      severity: 'warning',
      detail: `Could not read the identities only other environments name, so their credentials on this issuer were not considered for pruning: ${(err as Error).message}`,
    });
    return [];
  }
}

export async function planFederatedCredentials(input: FicPlanInput, port: AzurePort): Promise<FicPlan> {
  const own = input.bindings.filter((b) => b.environment === input.environment);
  const { identities, checks } = await resolveIdentities(own, port, { concurrency: input.concurrency });
  const ownKeys = new Set(input.bindings.map((b) => identityKey(b.identity.resourceId)));
  const foreign = input.prune ? (input.elsewhere ?? []).filter((b) => b.identity.resourceId && !ownKeys.has(identityKey(b.identity.resourceId))) : [];
  const pruneOnly = foreign.length ? await resolveForPrune(foreign, port, input.concurrency, checks) : [];
  for (const [key, identity] of pruneOnly) identities.set(key, identity);
  const pruneOnlyKeys = new Set(pruneOnly.map(([key]) => key));

  const limit = pLimit(Math.max(1, input.concurrency));
  const observed = new Map<string, FederatedCredential[]>();
  const failed = await Promise.all(
    [...identities].map(([key, identity]) =>
      limit(async (): Promise<PreflightCheck | undefined> => {
        try {
          observed.set(key, await port.listFederatedCredentials(identity));
          return undefined;
        } catch (err) {
          // Any ARM answer (the port already retried what is worth retrying) fails this
          // identity only: its bindings get no changes, the others are still planned.
          if (!(err instanceof AzureCallError)) throw err;
          const check = listFailed(identity, err, own.find((b) => identityKey(b.identity.resourceId) === key)?.identityAt);
          // Only pruning was at stake on an identity other environments name: warn, don't block.
          return pruneOnlyKeys.has(key) ? { ...check, severity: 'warning' } : check;
        }
      }),
    ),
  );
  // In the identities' order (the mapping's), not completion order.
  checks.push(...failed.filter((c) => c !== undefined));

  const diff = diffFederatedCredentials({
    environment: input.environment,
    issuer: input.issuer,
    bindings: input.bindings,
    identities,
    observed,
    prune: input.prune,
    pruneOnly: [...pruneOnlyKeys],
    clusterIssuer: await input.clusterIssuer,
  });
  return { changes: diff.changes, checks: [...checks, ...diff.checks], identities };
}
