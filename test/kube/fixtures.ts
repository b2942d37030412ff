// Bindings as the mapping loader resolves them, for the Kubernetes tests.
import type { ResolvedBinding } from '../../src/mapping/types.ts';

export const TENANT = '72f988bf-0000-0000-0000-000000000000';
export const SUB = '00000000-0000-0000-0000-000000000000';

export function identityId(name: string, rg = 'rg-identities'): string {
  return `/subscriptions/${SUB}/resourceGroups/${rg}/providers/Microsoft.ManagedIdentity/userAssignedIdentities/${name}`;
}

/** The mapping line of a binding's list item when a test does not say (identity: is 2 lines below). */
export const DEFAULT_LINE = 10;

/**
 * A resolved binding. Its mapping position is `line` (the list item; `identity:` two lines
 * below), DEFAULT_LINE unless given: a test that tells bindings apart by position gives each
 * its own line, so positions never depend on how many bindings other tests built before.
 */
export function binding(namespace: string, serviceAccount: string, identity: string, extra: Partial<ResolvedBinding> = {}, line = DEFAULT_LINE): ResolvedBinding {
  const at = { file: '.github/workload-identity.yaml', line, column: 5 };
  return {
    environment: 'staging',
    namespace,
    serviceAccount,
    identity: { name: identity, resourceGroup: 'rg-identities', subscriptionId: SUB, resourceId: identityId(identity) },
    audience: 'api://AzureADTokenExchange',
    createServiceAccount: true,
    annotations: {},
    verify: { enabled: true },
    ficName: `staging-${namespace}-${serviceAccount}`,
    subject: `system:serviceaccount:${namespace}:${serviceAccount}`,
    at,
    identityAt: { ...at, line: at.line + 2, column: 15 },
    ...extra,
  };
}
