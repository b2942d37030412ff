// The mapping file, version 1 (DESIGN §4), as the rest of the pipeline sees it once loaded
// and validated. Positions are kept so that later stages (a missing identity, a missing
// namespace) can point at the mapping line too.

export interface SourcePosition {
  file: string;
  line: number; // 1-based
  column: number; // 1-based
}

export interface MappingProblem extends SourcePosition {
  message: string;
}

export interface Defaults {
  tenantId?: string;
  subscriptionId?: string;
  resourceGroup?: string;
  audience?: string;
}

export interface ClusterRef {
  name: string;
  resourceGroup: string;
  subscriptionId?: string;
}

export interface EnvironmentSpec {
  name: string;
  cluster?: ClusterRef;
  issuer?: string;
  defaults: Defaults;
  at: SourcePosition; // the environment's name
  issuerAt?: SourcePosition;
}

/** As written in the file: a name, an object, or an ARM resource ID. */
export interface IdentityRef {
  name: string;
  resourceGroup?: string;
  subscriptionId?: string;
  /** Set when the mapping gave a full ARM resource ID. */
  resourceId?: string;
}

export interface BindingSpec {
  namespace: string;
  serviceAccount: string;
  identity: IdentityRef;
  /** undefined = every environment of the mapping. */
  environments?: string[];
  createServiceAccount: boolean;
  tokenExpiration?: number;
  annotations: Record<string, string>;
  verify: { enabled: boolean; scope?: string };
  at: SourcePosition;
  identityAt: SourcePosition;
  /** One per entry of `environments`, same order (for "unknown environment" problems). */
  environmentsAt?: SourcePosition[];
  /** Position of each annotation key. */
  annotationsAt?: Record<string, SourcePosition>;
}

export interface Mapping {
  file: string;
  version: 1;
  defaults: Defaults;
  /** Empty when the mapping declares no environments: then top-level cluster/issuer apply. */
  environments: EnvironmentSpec[];
  cluster?: ClusterRef;
  issuer?: string;
  clusterAt?: SourcePosition;
  issuerAt?: SourcePosition;
  bindings: BindingSpec[];
}

/** A binding with everything inherited filled in, for one environment. */
export interface ResolvedBinding {
  environment: string; // '' when the mapping declares none
  namespace: string;
  serviceAccount: string;
  /**
   * subscriptionId and resourceId are '' when neither the mapping nor the caller's fallback
   * names a subscription: the Azure stage then uses the login's subscription.
   */
  identity: { name: string; resourceGroup: string; subscriptionId: string; resourceId: string };
  tenantId?: string;
  audience: string;
  createServiceAccount: boolean;
  tokenExpiration?: number;
  annotations: Record<string, string>;
  verify: { enabled: boolean; scope?: string };
  ficName: string;
  subject: string; // system:serviceaccount:<ns>:<sa>
  at: SourcePosition;
  identityAt: SourcePosition;
}

export const DEFAULT_AUDIENCE = 'api://AzureADTokenExchange';
