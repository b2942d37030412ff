// One environment's bindings with everything inherited filled in: what the plan compares
// with Azure and the cluster. Pure: no I/O, the mapping has been checked already.
import { federatedCredentialName } from './fic-name.ts';
import { bindingEnvironments, identityResourceId, inheritIdentity } from './identity.ts';
import { DEFAULT_AUDIENCE } from './types.ts';
import type { EnvironmentSpec, Mapping, ResolvedBinding } from './types.ts';

/**
 * The environment the run acts on. For a mapping without environments, a synthesized spec
 * named '' that carries the top-level cluster and issuer.
 */
export function selectEnvironment(mapping: Mapping, environment: string): { spec?: EnvironmentSpec; problem?: string } {
  const known = mapping.environments.map((e) => e.name);
  const wanted = environment.trim();
  if (known.length === 0) {
    if (wanted !== '')
      return { problem: `the environment input is '${wanted}', but ${mapping.file} declares no environments; leave the input empty or declare '${wanted}' under 'environments'` };
    return {
      spec: { name: '', cluster: mapping.cluster, issuer: mapping.issuer, defaults: {}, at: mapping.issuerAt ?? mapping.clusterAt ?? { file: mapping.file, line: 1, column: 1 } },
    };
  }
  if (wanted === '')
    return { problem: `${mapping.file} declares environments (${known.join(', ')}); set the environment input to one of them` };
  // GitHub environment names are case-insensitive; the checks refuse names differing only in case.
  const spec = mapping.environments.find((e) => e.name.toLowerCase() === wanted.toLowerCase());
  if (!spec) return { problem: `environment '${wanted}' is not declared in ${mapping.file}; it declares ${known.join(', ')}` };
  return { spec };
}

/**
 * The FIC name's scope: the environment, else the cluster name, else 'default'. The cluster
 * name keeps two single-cluster mappings (one repository per cluster) that share an identity
 * from writing the same credential name.
 */
function credentialScope(mapping: Mapping, environment: string): string {
  return environment || mapping.cluster?.name || 'default';
}

/**
 * Bindings of one environment, inheritance filled: mapping defaults < environment defaults <
 * the binding's identity fields. Throws the selectEnvironment problem for an unknown
 * environment (callers that want a message call selectEnvironment first).
 * `fallback.subscriptionId` is the action's azure-subscription-id, used when the mapping names none.
 */
export function resolveBindings(mapping: Mapping, environment: string, fallback: { subscriptionId?: string } = {}): ResolvedBinding[] {
  const { spec, problem } = selectEnvironment(mapping, environment);
  if (!spec) throw new Error(problem);
  const env = spec.name === '' ? undefined : spec;
  const scope = credentialScope(mapping, spec.name);
  return mapping.bindings
    .filter((binding) => bindingEnvironments(mapping, binding).includes(env))
    .map((binding) => {
      const id = inheritIdentity(mapping, binding, env);
      const subscriptionId = id.subscriptionId ?? fallback.subscriptionId ?? '';
      const resourceGroup = id.resourceGroup ?? '';
      const resourceId =
        id.resourceId ?? (subscriptionId ? identityResourceId({ subscriptionId, resourceGroup, name: id.name }) : '');
      return {
        environment: spec.name,
        namespace: binding.namespace,
        serviceAccount: binding.serviceAccount,
        identity: { name: id.name, resourceGroup, subscriptionId, resourceId },
        tenantId: spec.defaults.tenantId ?? mapping.defaults.tenantId,
        audience: spec.defaults.audience ?? mapping.defaults.audience ?? DEFAULT_AUDIENCE,
        createServiceAccount: binding.createServiceAccount,
        tokenExpiration: binding.tokenExpiration,
        annotations: { ...binding.annotations },
        verify: { ...binding.verify },
        ficName: federatedCredentialName(scope, binding.namespace, binding.serviceAccount),
        subject: `system:serviceaccount:${binding.namespace}:${binding.serviceAccount}`,
        at: binding.at,
        identityAt: binding.identityAt,
      };
    });
}
