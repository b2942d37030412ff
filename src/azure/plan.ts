// Observe and diff the Azure side: resolve the environment's identities, LIST the FICs of
// each one once (paged; never a GET per binding: 200 bindings over 20 identities cost 40
// reads, not 220), and hand both to the pure diff. Reads only: `mode: plan` makes zero writes.
import pLimit from 'p-limit';
import type { ResolvedBinding } from '../mapping/types.ts';
import { diffFederatedCredentials } from '../plan/federated-credentials.ts';
import type { FederatedCredential, FicChange, ManagedIdentity, PreflightCheck } from '../plan/types.ts';
import { isForbidden } from './errors.ts';
import { identityKey } from './ids.ts';
import type { AzurePort } from './port.ts';
import { resolveIdentities } from './resolve.ts';

export interface FicPlanInput {
  /** The environment's bindings; may include other environments' bindings on the same issuer (see FicDiffInput). */
  bindings: ResolvedBinding[];
  issuer: string;
  environment: string;
  prune: boolean;
  concurrency: number;
}

export interface FicPlan {
  changes: FicChange[];
  checks: PreflightCheck[];
  /** Resolved identities by identityKey(resourceId): the ServiceAccount annotations need their clientId. */
  identities: Map<string, ManagedIdentity>;
}

export async function planFederatedCredentials(input: FicPlanInput, port: AzurePort): Promise<FicPlan> {
  const own = input.bindings.filter((b) => b.environment === input.environment);
  const { identities, checks } = await resolveIdentities(own, port, { concurrency: input.concurrency });

  const limit = pLimit(Math.max(1, input.concurrency));
  const observed = new Map<string, FederatedCredential[]>();
  await Promise.all(
    [...identities].map(([key, identity]) =>
      limit(async () => {
        try {
          observed.set(key, await port.listFederatedCredentials(identity));
        } catch (err) {
          if (!isForbidden(err)) throw err;
          const at = own.find((b) => identityKey(b.identity.resourceId) === key)?.identityAt;
          checks.push({
            name: 'identity',
            ok: false,
            severity: 'error',
            detail: `Not allowed to list the federated credentials of identity '${identity.name}': ${(err as Error).message}`,
            fix: "Grant the action's login identity 'Managed Identity Contributor' on the identity or its resource group.",
            ...(at ? { at } : {}),
          });
        }
      }),
    ),
  );

  const diff = diffFederatedCredentials({
    environment: input.environment,
    issuer: input.issuer,
    bindings: input.bindings,
    identities,
    observed,
    prune: input.prune,
  });
  return { changes: diff.changes, checks: [...checks, ...diff.checks], identities };
}
