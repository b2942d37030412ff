// The mapping module's public surface (DESIGN §4): load + validate, resolve, FIC naming.
// Identity keys (identityKey, identityResourceId) and issuer comparisons are imported from
// ./identity.ts and ./issuer.ts directly by the Azure and Kubernetes stages.
export { loadMapping, parseMapping } from './load.ts';
export type { LoadResult } from './load.ts';
export { desiredCredentialsPerIdentity } from './checks.ts';
export type { DesiredCredential, IdentityCredentials } from './checks.ts';
export { federatedCredentialName, FIC_NAME_PATTERN } from './fic-name.ts';
export { resolveBindings, selectEnvironment } from './resolve.ts';
export type * from './types.ts';
export { DEFAULT_AUDIENCE } from './types.ts';
