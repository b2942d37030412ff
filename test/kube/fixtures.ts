// Bindings as the mapping loader resolves them, for the Kubernetes tests.
import type { ResolvedBinding } from '../../src/mapping/types.ts';

export const TENANT = '72f988bf-0000-0000-0000-000000000000';
export const SUB = '00000000-0000-0000-0000-000000000000';

export function identityId(name: string, rg = 'rg-identities'): string {
  return `/subscriptions/${SUB}/resourceGroups/${rg}/providers/Microsoft.ManagedIdentity/userAssignedIdentities/${name}`;
}

let line = 10;

export function binding(namespace: string, serviceAccount: string, identity: string, extra: Partial<ResolvedBinding> = {}): ResolvedBinding {
  const at = { file: '.github/workload-identity.yaml', line: line, column: 5 };
  line += 7;
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
