// Scenario files: a YAML description of the world the sandbox starts with — tenant and
// subscriptions, managed identities with their FICs, AKS clusters (OIDC issuer, AKS-managed
// pod identity), the Kubernetes objects to seed, the GitHub repository (PR, existing
// comments, workflow environment), the action's login app, and faults.
// Strings may use templates resolved at start, once URLs and ids exist:
//   {{tenant}} {{subscription}} {{issuer:CLUSTER}} {{github-issuer}} {{url:SERVICE}}
//   {{identity:NAME.clientId}} {{identity:NAME.principalId}} {{identity:NAME.resourceId}}
// The format is documented in test/sandbox/README.md.
import { readFileSync } from 'node:fs';
import { parse } from 'yaml';
import type { InjectedFault, LatencyFault, ServiceName } from './http.ts';
import { unknownScenarioKeys } from './scenario-keys.ts';

export interface ScenarioFic {
  name: string;
  issuer: string;
  subject: string;
  audiences?: string[];
  /** false: written "just now", still inside the propagation delay. Default true. */
  propagated?: boolean;
}

export interface ScenarioIdentity {
  name: string;
  resourceGroup?: string; // default: first resource group, else rg-identities
  subscriptionId?: string; // default: the first subscription
  location?: string;
  clientId?: string;
  principalId?: string;
  tags?: Record<string, string>;
  federatedCredentials?: ScenarioFic[];
}

export interface ScenarioCluster {
  name: string;
  resourceGroup: string;
  subscriptionId?: string;
  location?: string;
  kubernetesVersion?: string;
  /** OIDC issuer enabled (default true). */
  oidcIssuer?: boolean;
  /** The uuid in the issuer URL (default derived from the cluster name). */
  issuerId?: string;
  /** securityProfile.workloadIdentity.enabled (default: same as oidcIssuer). */
  workloadIdentity?: boolean;
  /** AKS-managed pod identity (ARM podIdentityProfile). */
  podIdentity?: {
    enabled?: boolean;
    identities: { name: string; namespace: string; identity: string; bindingSelector?: string }[];
  };
}

export interface ScenarioKube {
  /** Which scenario cluster the Kubernetes emulator is (default: the first). */
  cluster?: string;
  webhook?: boolean;
  webhookNamespace?: 'kube-system' | 'azure-workload-identity-system';
  /** 'v1.5' (default) or 'v1.6': where the webhook mounts the projected token. */
  webhookVersion?: 'v1.5' | 'v1.6';
  images?: string[];
  unschedulable?: boolean;
  namespaces?: (string | { name: string; labels?: Record<string, string>; annotations?: Record<string, string> })[];
  serviceAccounts?: { namespace: string; name: string; annotations?: Record<string, string>; labels?: Record<string, string> }[];
  /** Any Kubernetes objects (Deployments, AzureIdentity, …), passed to kube.seed as they are. */
  objects?: object[];
}

export interface ScenarioGithub {
  owner?: string;
  repo?: string;
  event?: 'pull_request' | 'push' | 'workflow_dispatch' | 'deployment';
  /** GitHub environment of the job (OIDC subject `repo:o/r:environment:<env>`). */
  environment?: string;
  ref?: string;
  sha?: string;
  readOnly?: boolean;
  pullRequest?: {
    number: number;
    title?: string;
    headSha?: string;
    headRef?: string;
    baseRef?: string;
    mergeCommitSha?: string;
    merged?: boolean;
    state?: 'open' | 'closed';
  };
  comments?: { body: string; user?: string; bot?: boolean; createdAt?: string }[];
}

export interface ScenarioFaults {
  ficPropagationDelayMs?: number;
  issuerUnreachable?: boolean;
  githubReadOnly?: boolean;
  armPageSize?: number;
  armWriteHoldMs?: number;
  /** How Entra reports a FIC mismatch: 'specific' (default) or 'generic' (AADSTS70021). */
  entraMismatchStyle?: 'specific' | 'generic';
  /** Lifetime of the access tokens Entra issues (seconds); default Entra's (1 h, 24 h for managed identities). */
  entraTokenLifetimeSeconds?: number;
  latency?: Partial<Record<ServiceName, LatencyFault>>;
  inject?: InjectedFault[];
}

export interface Scenario {
  name?: string;
  description?: string;
  tenantId?: string;
  subscriptions?: { id: string; name?: string }[];
  resourceGroups?: (string | { name: string; subscriptionId?: string; location?: string })[];
  identities?: ScenarioIdentity[];
  clusters?: ScenarioCluster[];
  kube?: ScenarioKube;
  github?: ScenarioGithub;
  /** The action's own login: an app registration trusting GitHub's OIDC issuer. */
  login?: { clientId?: string; principalId?: string; displayName?: string; subjects?: string[] };
  faults?: ScenarioFaults;
}

export const DEFAULT_TENANT = '72f988bf-0000-0000-0000-000000000000';
export const DEFAULT_SUBSCRIPTION = '00000000-0000-0000-0000-000000000000';

/** Used when a sandbox starts without a scenario: one cluster, an empty identities group. */
export const DEFAULT_SCENARIO: Scenario = {
  name: 'default',
  resourceGroups: ['rg-identities'],
  clusters: [{ name: 'aks-sandbox', resourceGroup: 'rg-aks' }],
  github: { pullRequest: { number: 1 } },
};

export class ScenarioError extends Error {
  constructor(file: string, message: string) {
    super(`${file}: ${message}`);
    this.name = 'ScenarioError';
  }
}

/** Reads and checks a scenario YAML file (shape only; references are checked at start). */
export function loadScenario(file: string): Scenario {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    throw new ScenarioError(file, `cannot read the scenario: ${(err as Error).message}`);
  }
  return parseScenario(text, file);
}

export function parseScenario(text: string, file = '<scenario>'): Scenario {
  let doc: unknown;
  try {
    doc = parse(text, { maxAliasCount: 100 });
  } catch (err) {
    throw new ScenarioError(file, `invalid YAML: ${(err as Error).message}`);
  }
  if (doc === null || doc === undefined) return {};
  if (typeof doc !== 'object' || Array.isArray(doc)) throw new ScenarioError(file, 'the scenario must be a mapping');
  const unknown = unknownScenarioKeys(text);
  if (unknown.length) throw new ScenarioError(file, unknown.join('\n'));
  const s = doc as Scenario;
  const arrays: (keyof Scenario)[] = ['subscriptions', 'resourceGroups', 'identities', 'clusters'];
  for (const k of arrays) if (s[k] !== undefined && !Array.isArray(s[k])) throw new ScenarioError(file, `'${k}' must be a list`);
  for (const [i, id] of (s.identities ?? []).entries()) {
    if (!id?.name) throw new ScenarioError(file, `identities[${i}] needs a name`);
    for (const [j, f] of (id.federatedCredentials ?? []).entries()) {
      if (!f?.name || !f.issuer || !f.subject) throw new ScenarioError(file, `identities[${i}].federatedCredentials[${j}] needs name, issuer and subject`);
    }
  }
  for (const [i, c] of (s.clusters ?? []).entries()) {
    if (!c?.name || !c.resourceGroup) throw new ScenarioError(file, `clusters[${i}] needs name and resourceGroup`);
  }
  if (s.kube?.objects !== undefined && !Array.isArray(s.kube.objects)) throw new ScenarioError(file, "'kube.objects' must be a list");
  const style = s.faults?.entraMismatchStyle;
  if (style !== undefined && style !== 'specific' && style !== 'generic') throw new ScenarioError(file, "'faults.entraMismatchStyle' must be specific or generic");
  return s;
}

export interface TemplateContext {
  tenantId: string;
  subscriptionId: string;
  issuers: Map<string, string>; // cluster name (lower-case) → issuer URL
  githubIssuer: string;
  urls: Record<string, string>;
  identity(name: string): { clientId: string; principalId: string; resourceId: string } | undefined;
}

/** Replaces {{…}} templates in every string of a value (objects and lists deeply). */
export function expandTemplates<T>(value: T, ctx: TemplateContext): T {
  const one = (s: string): string =>
    s.replace(/\{\{\s*([^}]+?)\s*\}\}/g, (whole, expr: string) => {
      if (expr === 'tenant') return ctx.tenantId;
      if (expr === 'subscription') return ctx.subscriptionId;
      if (expr === 'github-issuer') return ctx.githubIssuer;
      let m = /^issuer:(.+)$/.exec(expr);
      if (m) {
        const url = ctx.issuers.get(m[1]!.toLowerCase());
        if (!url) throw new Error(`template ${whole}: no cluster '${m[1]}' with an OIDC issuer`);
        return url;
      }
      m = /^url:(.+)$/.exec(expr);
      if (m) {
        const url = ctx.urls[m[1]!];
        if (!url) throw new Error(`template ${whole}: no service '${m[1]}'`);
        return url;
      }
      m = /^identity:([^.]+)\.(clientId|principalId|resourceId)$/.exec(expr);
      if (m) {
        const id = ctx.identity(m[1]!);
        if (!id) throw new Error(`template ${whole}: no identity '${m[1]}'`);
        return id[m[2] as 'clientId' | 'principalId' | 'resourceId'];
      }
      throw new Error(`unknown template ${whole}`);
    });
  const walk = (v: unknown): unknown => {
    if (typeof v === 'string') return one(v);
    if (Array.isArray(v)) return v.map(walk);
    if (v && typeof v === 'object') return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, walk(x)]));
    return v;
  };
  return walk(value) as T;
}

/** The Kubernetes objects a scenario seeds: convenience namespaces and ServiceAccounts first. */
export function kubeObjects(kube: ScenarioKube | undefined): object[] {
  if (!kube) return [];
  const out: object[] = [];
  for (const ns of kube.namespaces ?? []) {
    const spec = typeof ns === 'string' ? { name: ns } : ns;
    out.push({ apiVersion: 'v1', kind: 'Namespace', metadata: { name: spec.name, labels: spec.labels ?? {}, annotations: spec.annotations ?? {} } });
  }
  for (const sa of kube.serviceAccounts ?? []) {
    out.push({ apiVersion: 'v1', kind: 'ServiceAccount', metadata: { name: sa.name, namespace: sa.namespace, labels: sa.labels ?? {}, annotations: sa.annotations ?? {} } });
  }
  return [...out, ...(kube.objects ?? [])];
}
