// Semantic checks: what a schema cannot say (references between environments and bindings,
// uniqueness, Azure's limits). Each problem says what is wrong, where, and what to write
// instead. They run beside the schema problems, on the parts the schema accepted (Trust):
// a binding the schema refused is left out of the mapping they get.
import {
  bindingEnvironments,
  identityKey,
  identityResourceId,
  inheritIdentity,
  parseIdentityResourceId,
  RESOURCE_ID_SHAPE,
} from './identity.ts';
import { isAksIssuerHost, isInClusterIssuer } from './issuer.ts';
import { didYouMean } from './suggest.ts';
import { TRUST_ALL } from './trust.ts';
import type { Trust } from './trust.ts';
import type { BindingSpec, EnvironmentSpec, Mapping, MappingProblem, SourcePosition } from './types.ts';

/** Azure: at most 20 federated identity credentials per user-assigned identity. */
export const MAX_FEDERATED_CREDENTIALS_PER_IDENTITY = 20;

/** ServiceAccount annotations the action writes itself; a binding must not set them. */
const OWNED_ANNOTATIONS: Record<string, string> = {
  'azure.workload.identity/client-id': 'the action sets it from the identity',
  'azure.workload.identity/tenant-id': 'the action sets it from tenantId (defaults or environment defaults)',
  'azure.workload.identity/service-account-token-expiration': "use the binding's tokenExpiration instead",
};

export interface CheckScope {
  /** What the schema accepted; default: everything. */
  trust?: Trust;
  /** The file's index of each entry of mapping.bindings, when bindings were left out; default: their own. */
  bindingIndices?: readonly number[];
}

export function checkMapping(mapping: Mapping, scope: CheckScope = {}): MappingProblem[] {
  const trust = scope.trust ?? TRUST_ALL;
  const indexOf = (k: number): number => scope.bindingIndices?.[k] ?? k;
  // Which environments exist: unknown when the schema refused the environments block itself.
  const environmentsKnown = trust.intact(['environments']);
  return [
    ...checkEnvironments(mapping, trust),
    ...mapping.bindings.flatMap((binding, k) => checkBinding(mapping, binding, indexOf(k), trust)),
    ...(environmentsKnown ? checkDuplicateBindings(mapping, indexOf) : []),
    ...(environmentsKnown ? checkCredentialLimit(mapping) : []),
  ];
}

/** "environment 'staging'", "environments 'staging' and 'production'" */
function environmentList(names: readonly string[]): string {
  const quoted = names.map((n) => `'${n}'`);
  if (quoted.length <= 1) return `environment ${quoted.join('')}`;
  return `environments ${quoted.slice(0, -1).join(', ')} and ${quoted[quoted.length - 1]}`;
}

/** Why an issuer URL cannot work, or undefined. The URL is never rewritten: tokens carry it byte for byte. */
function issuerProblem(issuer: string): string | undefined {
  if (/\s/.test(issuer)) return 'contains whitespace';
  if (!issuer.startsWith('https://')) return 'must be an https URL (Azure federates only https issuers)';
  let url: URL;
  try {
    url = new URL(issuer);
  } catch {
    return 'is not a valid URL';
  }
  if (url.hostname === '') return 'has no host';
  // OpenID Connect Discovery 1.0 §3: the issuer has no query or fragment.
  if (issuer.includes('?') || issuer.includes('#')) return 'must not have a query or fragment';
  if (url.username || url.password) return 'must not contain a user name or password';
  if (isInClusterIssuer(issuer))
    return "is the cluster's internal default: the OIDC issuer is not enabled (az aks update --enable-oidc-issuer), and Azure cannot reach it";
  // An empty path segment ('//') is in no issuer any cluster reports, and Entra compares byte
  // for byte: a FIC with it never matches (AADSTS700211).
  if (issuer.slice('https://'.length).includes('//')) return "has an empty path segment ('//'): no cluster reports such an issuer, so tokens would never match it";
  if (isAksIssuerHost(url.hostname) && !issuer.endsWith('/'))
    return "lacks the trailing '/': AKS tokens carry the issuer with it and Azure compares issuers byte for byte";
  return undefined;
}

function checkEnvironments(mapping: Mapping, trust: Trust): MappingProblem[] {
  const problems: MappingProblem[] = [];
  // Whether the mapping declares environments decides what the top-level cluster and issuer mean.
  if (!trust.intact(['environments'])) return problems;
  const declared = mapping.environments.length > 0;
  if (declared && mapping.clusterAt)
    problems.push({ ...mapping.clusterAt, message: "top-level 'cluster' is only for a mapping without environments; move it under each environment's 'cluster'" });
  if (declared && mapping.issuerAt)
    problems.push({ ...mapping.issuerAt, message: "top-level 'issuer' is only for a mapping without environments; move it under each environment's 'issuer'" });
  if (!declared && mapping.issuer !== undefined && trust.clean(['issuer'])) {
    const why = issuerProblem(mapping.issuer);
    if (why) problems.push({ ...(mapping.issuerAt ?? firstLine(mapping)), message: `issuer '${mapping.issuer}' ${why}` });
  }
  const seen = new Map<string, EnvironmentSpec>();
  for (const env of mapping.environments) {
    // GitHub environment names are case-insensitive, and FIC names compare case-insensitively.
    const other = trust.intact(['environments', env.name]) ? seen.get(env.name.toLowerCase()) : undefined;
    if (other)
      problems.push({ ...env.at, message: `environment '${env.name}' differs from '${other.name}' (line ${other.at.line}) only in case; GitHub treats them as one environment — rename one` });
    if (trust.intact(['environments', env.name])) seen.set(env.name.toLowerCase(), env);
    // A refused environment (unknown key, wrong shape) has its schema problem; guessing more would repeat it.
    if (!trust.clean(['environments', env.name])) continue;
    if (!env.cluster && env.issuer === undefined)
      problems.push({ ...env.at, message: `environment '${env.name}' needs a cluster ({ resourceGroup, name }) or an issuer URL, so the action knows which OIDC issuer the federated credentials trust` });
    if (env.issuer !== undefined) {
      const why = issuerProblem(env.issuer);
      if (why) problems.push({ ...(env.issuerAt ?? env.at), message: `issuer '${env.issuer}' of environment '${env.name}' ${why}` });
    }
  }
  return problems;
}

function checkBinding(mapping: Mapping, binding: BindingSpec, index: number, trust: Trust): MappingProblem[] {
  const problems: MappingProblem[] = [];
  const label = `bindings[${index}]`;
  const known = mapping.environments.map((e) => e.name);
  // When the schema refused the environments block itself, which names are declared is unknown.
  const environmentsKnown = trust.intact(['environments']);
  if (!environmentsKnown) {
    // nothing to compare the binding's environments with
  } else if (binding.environments && known.length === 0) {
    problems.push({
      ...(binding.environmentsAt?.[0] ?? binding.at),
      message: `${label} lists environments, but the mapping declares none; remove its 'environments' or declare them under the top-level 'environments'`,
    });
  } else {
    binding.environments?.forEach((name, j) => {
      if (known.includes(name)) return;
      problems.push({
        ...(binding.environmentsAt?.[j] ?? binding.at),
        message: `${label} names environment '${name}', which the mapping does not declare${didYouMean(name, known)} (declared: ${known.join(', ')})`,
      });
    });
  }

  const id = binding.identity;
  if (id.resourceId !== undefined) {
    if (!parseIdentityResourceId(id.resourceId))
      problems.push({ ...binding.identityAt, message: `identity '${id.resourceId}' is not a user-assigned managed identity resource ID; expected ${RESOURCE_ID_SHAPE}` });
  } else if (environmentsKnown && trust.clean(['defaults', 'resourceGroup'])) {
    // Only environments whose defaults.resourceGroup the schema accepted: a refused one (or a
    // misspelled key beside it) already has its problem.
    const missing = bindingEnvironments(mapping, binding)
      .filter((env) => env === undefined || trust.clean(['environments', env.name, 'defaults', 'resourceGroup']))
      .filter((env) => inheritIdentity(mapping, binding, env).resourceGroup === undefined);
    if (missing.length > 0) problems.push({ ...binding.identityAt, message: missingResourceGroup(id.name, missing) });
  }

  for (const [key, why] of Object.entries(OWNED_ANNOTATIONS)) {
    if (key in binding.annotations)
      problems.push({ ...(binding.annotationsAt?.[key] ?? binding.at), message: `${label} must not set annotation '${key}': ${why}` });
  }
  return problems;
}

function missingResourceGroup(name: string, envs: (EnvironmentSpec | undefined)[]): string {
  const fix = `write identity: { name: ${name}, resourceGroup: <group> }`;
  const named = envs.filter((e): e is EnvironmentSpec => e !== undefined);
  if (named.length === 0) return `identity '${name}' has no resource group: ${fix}, or set defaults.resourceGroup`;
  const envFix = named.map((e) => `environments.${e.name}.defaults.resourceGroup`).join(', ');
  return `identity '${name}' has no resource group in ${environmentList(named.map((e) => e.name))}: ${fix}, or set ${envFix} or defaults.resourceGroup`;
}

function checkDuplicateBindings(mapping: Mapping, indexOf: (k: number) => number): MappingProblem[] {
  const problems: MappingProblem[] = [];
  const first = new Map<string, BindingSpec>();
  mapping.bindings.forEach((binding, k) => {
    const again: string[] = [];
    let earlier: BindingSpec | undefined;
    for (const env of bindingEnvironments(mapping, binding)) {
      // NUL-joined, not JSON.stringify: this runs once per binding and environment.
      const key = `${env?.name ?? ''}\u0000${binding.namespace}\u0000${binding.serviceAccount}`;
      const seen = first.get(key);
      if (seen && seen !== binding) {
        again.push(env?.name ?? '');
        earlier ??= seen;
      } else first.set(key, binding);
    }
    if (!earlier) return;
    const inEnvs = again[0] === '' ? '' : ` in ${environmentList(again)}`;
    problems.push({
      ...binding.at,
      message: `bindings[${indexOf(k)}] binds ${binding.namespace}/${binding.serviceAccount}${inEnvs} again; it is already bound at line ${earlier.at.line} (a ServiceAccount carries one identity per environment) — remove one or narrow its 'environments'`,
    });
  });
  return problems;
}

export interface DesiredCredential {
  /** The issuer when the mapping names it, else `environment <name>` (issuer read from ARM later). */
  issuerOrEnvironment: string;
  environment: string; // '' when the mapping declares none
  subject: string; // system:serviceaccount:<ns>:<sa>
  at: SourcePosition;
}

export interface IdentityCredentials {
  /** Lower-cased ARM resource ID ('' for a subscription not named in the mapping). */
  identityKey: string;
  /** As written in the mapping, for messages. */
  identity: string;
  credentials: DesiredCredential[];
}

/**
 * The federated credentials the mapping wants, per identity: one per distinct
 * (issuer or environment, subject). Environments that name the same issuer share one. The plan
 * stage adds the credentials already in Azure (those not among these) to check the limit.
 */
export function desiredCredentialsPerIdentity(mapping: Mapping): Map<string, IdentityCredentials> {
  const result = new Map<string, IdentityCredentials>();
  // Per identity, the (issuer or environment, subject) pairs already counted: a set, not a
  // scan of the list, so a thousand bindings on one identity stay linear.
  const counted = new Map<string, Set<string>>();
  const keys = new Map<string, string>();
  for (const binding of mapping.bindings) {
    const subject = `system:serviceaccount:${binding.namespace}:${binding.serviceAccount}`;
    for (const env of bindingEnvironments(mapping, binding)) {
      const resolved = inheritIdentity(mapping, binding, env);
      // Many (binding, environment) pairs resolve to one identity: build its key once.
      const parts = `${resolved.resourceId ?? ''}\u0000${resolved.name}\u0000${resolved.resourceGroup ?? ''}\u0000${resolved.subscriptionId ?? ''}`;
      let key = keys.get(parts);
      if (key === undefined) {
        key = identityKey(
          resolved.resourceId ?? identityResourceId({ name: resolved.name, resourceGroup: resolved.resourceGroup ?? '', subscriptionId: resolved.subscriptionId ?? '' }),
        );
        keys.set(parts, key);
      }
      const issuer = env ? env.issuer : mapping.issuer;
      const issuerOrEnvironment = issuer ?? (env ? `environment ${env.name}` : 'default');
      let entry = result.get(key);
      let seen = counted.get(key);
      if (!entry || !seen) {
        entry = { identityKey: key, identity: binding.identity.resourceId ?? binding.identity.name, credentials: [] };
        seen = new Set();
        result.set(key, entry);
        counted.set(key, seen);
      }
      const pair = `${issuerOrEnvironment}\u0000${subject}`; // NUL: in neither an issuer URL nor a subject
      if (seen.has(pair)) continue;
      seen.add(pair);
      entry.credentials.push({ issuerOrEnvironment, environment: env?.name ?? '', subject, at: binding.identityAt });
    }
  }
  return result;
}

function checkCredentialLimit(mapping: Mapping): MappingProblem[] {
  const problems: MappingProblem[] = [];
  for (const { identity, credentials } of desiredCredentialsPerIdentity(mapping).values()) {
    const over = credentials[MAX_FEDERATED_CREDENTIALS_PER_IDENTITY];
    if (!over) continue;
    const where = over.environment ? ` in environment '${over.environment}'` : '';
    problems.push({
      ...over.at,
      message:
        `identity '${identity}' would need ${credentials.length} federated credentials (one per environment, namespace and ServiceAccount); ` +
        `Azure allows at most ${MAX_FEDERATED_CREDENTIALS_PER_IDENTITY} per identity — ${over.subject.replace('system:serviceaccount:', '').replace(':', '/')}${where} is the first over the limit; split these bindings across more identities`,
    });
  }
  return problems;
}

function firstLine(mapping: Mapping): SourcePosition {
  return { file: mapping.file, line: 1, column: 1 };
}
