// Managed identity references: the three spellings the mapping accepts (name, object, ARM
// resource ID) and the inheritance that fills in resource group and subscription. Shared by
// the checks (which must find a missing resource group before anything runs), resolve, and
// the Azure stage (identityResourceId, identityKey).
import type { BindingSpec, Defaults, EnvironmentSpec, Mapping } from './types.ts';

// ARM resource IDs are case-insensitive (ARM itself answers with `/resourcegroups/` and
// lower-cased provider names), so the shape is matched case-insensitively.
const RESOURCE_ID =
  /^\/subscriptions\/([0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12})\/resourceGroups\/([-\w.()]{1,90})\/providers\/Microsoft\.ManagedIdentity\/userAssignedIdentities\/([a-zA-Z0-9][a-zA-Z0-9_-]{2,127})$/i;

export const RESOURCE_ID_SHAPE =
  '/subscriptions/<subscription-guid>/resourceGroups/<group>/providers/Microsoft.ManagedIdentity/userAssignedIdentities/<name>';

export interface IdentityParts {
  subscriptionId: string;
  resourceGroup: string;
  name: string;
}

export function parseIdentityResourceId(id: string): IdentityParts | undefined {
  const m = RESOURCE_ID.exec(id);
  if (!m || m[2]?.endsWith('.')) return undefined;
  return { subscriptionId: m[1] ?? '', resourceGroup: m[2] ?? '', name: m[3] ?? '' };
}

export function identityResourceId(parts: IdentityParts): string {
  return `/subscriptions/${parts.subscriptionId}/resourceGroups/${parts.resourceGroup}/providers/Microsoft.ManagedIdentity/userAssignedIdentities/${parts.name}`;
}

/**
 * One key per Azure identity, from its ARM resource ID however it is spelled (the mapping's,
 * identityResourceId's, or ARM's own, which lower-cases parts of it): lower-cased, because
 * ARM names and IDs compare case-insensitively. Every map keyed by identity uses it.
 */
export function identityKey(resourceId: string): string {
  return resourceId.toLowerCase();
}

/**
 * Inheritance, weakest first: mapping defaults < environment defaults < the binding's
 * identity fields. A resource ID wins outright: it names one identity exactly.
 * Fields stay undefined when nothing provides them.
 */
export function inheritIdentity(
  mapping: Mapping,
  binding: BindingSpec,
  env: EnvironmentSpec | undefined,
): { name: string; resourceGroup?: string; subscriptionId?: string; resourceId?: string } {
  const id = binding.identity;
  if (id.resourceId !== undefined) {
    const parts = parseIdentityResourceId(id.resourceId);
    return { ...parts, name: parts?.name ?? id.name, resourceId: id.resourceId };
  }
  const envDefaults: Defaults = env?.defaults ?? {};
  return {
    name: id.name,
    resourceGroup: id.resourceGroup ?? envDefaults.resourceGroup ?? mapping.defaults.resourceGroup,
    subscriptionId: id.subscriptionId ?? envDefaults.subscriptionId ?? mapping.defaults.subscriptionId,
  };
}

/**
 * The environments a binding applies to: the ones it lists (unknown names skipped, the
 * checks report them), else all; [undefined] for a mapping without environments.
 */
export function bindingEnvironments(mapping: Mapping, binding: BindingSpec): (EnvironmentSpec | undefined)[] {
  if (mapping.environments.length === 0) return [undefined];
  if (!binding.environments) return mapping.environments;
  return binding.environments
    .map((name) => mapping.environments.find((e) => e.name === name))
    .filter((e): e is EnvironmentSpec => e !== undefined);
}
