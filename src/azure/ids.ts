// ARM resource IDs of user-assigned identities. Pure helpers, shared by the port and the diff.

export interface IdentityLocator {
  subscriptionId: string;
  resourceGroup: string;
  name: string;
}

export const identityResourceId = (ref: IdentityLocator): string =>
  `/subscriptions/${ref.subscriptionId}/resourceGroups/${ref.resourceGroup}/providers/Microsoft.ManagedIdentity/userAssignedIdentities/${ref.name}`;

/** ARM resource IDs are case-insensitive (and ARM itself returns them lower-cased in places). */
export const identityKey = (resourceId: string): string => resourceId.toLowerCase();
