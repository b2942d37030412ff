// Small builders for the federated-credential tests: bindings as the mapping loader
// resolves them, identities as ARM reports them.
import type { ResolvedBinding } from '../../src/mapping/types.ts';
import type { FederatedCredential, ManagedIdentity } from '../../src/plan/types.ts';
import { identityKey, identityResourceId } from '../../src/mapping/identity.ts';

export const SUB = '00000000-0000-0000-0000-000000000000';
export const TENANT = '72f988bf-0000-0000-0000-000000000000';
export const ISSUER = 'https://westeurope.oic.prod-aks.azure.com/72f988bf-0000-0000-0000-000000000000/11111111-2222-3333-4444-555555555555/';
export const OTHER_ISSUER = 'https://northeurope.oic.prod-aks.azure.com/72f988bf-0000-0000-0000-000000000000/99999999-2222-3333-4444-555555555555/';
export const AUD = 'api://AzureADTokenExchange';

/** The mapping line of a binding's list item when a test does not say (identity: is 2 lines below). */
export const DEFAULT_LINE = 10;

export function identity(name: string, resourceGroup = 'rg-identities'): ManagedIdentity {
  const n = name.length;
  return {
    resourceId: identityResourceId({ subscriptionId: SUB, resourceGroup, name }),
    name,
    resourceGroup,
    subscriptionId: SUB,
    clientId: `00000000-0000-0000-0000-${String(n).padStart(12, '0')}`,
    principalId: `11111111-0000-0000-0000-${String(n).padStart(12, '0')}`,
    tenantId: TENANT,
  };
}

/**
 * A resolved binding. Its mapping position is `line` (the list item; `identity:` two lines
 * below), DEFAULT_LINE unless given: a test that tells bindings apart by position gives each
 * its own line, so positions never depend on how many bindings other tests built before.
 */
export function binding(opts: { env?: string; ns: string; sa: string; identity: string; ficName?: string; audience?: string; resourceGroup?: string; line?: number }): ResolvedBinding {
  const env = opts.env ?? 'staging';
  const rg = opts.resourceGroup ?? 'rg-identities';
  const line = opts.line ?? DEFAULT_LINE;
  return {
    environment: env,
    namespace: opts.ns,
    serviceAccount: opts.sa,
    identity: { name: opts.identity, resourceGroup: rg, subscriptionId: SUB, resourceId: identityResourceId({ subscriptionId: SUB, resourceGroup: rg, name: opts.identity }) },
    tenantId: TENANT,
    audience: opts.audience ?? AUD,
    createServiceAccount: true,
    annotations: {},
    verify: { enabled: true },
    ficName: opts.ficName ?? `${env || 'default'}-${opts.ns}-${opts.sa}`,
    subject: `system:serviceaccount:${opts.ns}:${opts.sa}`,
    at: { file: '.github/workload-identity.yaml', line, column: 5 },
    identityAt: { file: '.github/workload-identity.yaml', line: line + 2, column: 15 },
  };
}

export function fic(name: string, subject: string, issuer = ISSUER, audiences = [AUD]): FederatedCredential {
  return { name, issuer, subject, audiences };
}

export const sa = (ns: string, name: string): string => `system:serviceaccount:${ns}:${name}`;

export function identityMap(...ids: ManagedIdentity[]): Map<string, ManagedIdentity> {
  return new Map(ids.map((i) => [identityKey(i.resourceId), i]));
}

export function observedMap(entries: [ManagedIdentity, FederatedCredential[]][]): Map<string, FederatedCredential[]> {
  return new Map(entries.map(([i, f]) => [identityKey(i.resourceId), f]));
}
