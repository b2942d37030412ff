// The mapping module's public surface (DESIGN §4): load + validate, resolve, FIC naming.
export { loadMapping, parseMapping, MAX_ALIAS_COUNT } from './load.ts';
export type { LoadResult } from './load.ts';
export { checkMapping, desiredCredentialsPerIdentity, issuerProblem, MAX_FEDERATED_CREDENTIALS_PER_IDENTITY } from './checks.ts';
export type { DesiredCredential, IdentityCredentials } from './checks.ts';
export { federatedCredentialName, FIC_NAME_PATTERN } from './fic-name.ts';
export { resolveBindings, selectEnvironment } from './resolve.ts';
export { identityResourceId, parseIdentityResourceId } from './identity.ts';
export type * from './types.ts';
export { DEFAULT_AUDIENCE } from './types.ts';
