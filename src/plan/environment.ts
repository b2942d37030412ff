// Plan one environment: resolve its issuer, observe Azure (identities, FICs) and the
// cluster (preflight, ServiceAccounts), and diff. Reads only — `mode: plan` is safe on a
// pull request. The result is plain data (types.ts) for the report and for apply.
import type { AzurePort } from '../azure/port.ts';
import { resolveIssuer } from '../azure/issuer.ts';
import { planFederatedCredentials } from '../azure/plan.ts';
import { identityKey } from '../mapping/identity.ts';
import type { KubePort } from '../kube/port.ts';
import { otherClusterReason } from '../kube/cluster-host.ts';
import { preflight } from '../kube/preflight/index.ts';
import { observeServiceAccounts, planServiceAccounts } from '../kube/plan.ts';
import { createClusterSnapshot, type ClusterSnapshot } from '../kube/snapshot.ts';
import { resolveBindings, selectEnvironment } from '../mapping/index.ts';
import type { ClusterRef, Mapping, ResolvedBinding, SourcePosition } from '../mapping/types.ts';
import type { Plan, PreflightCheck } from './types.ts';

export interface PlanInput {
  mapping: Mapping;
  /** As the mapping spells it (selectEnvironment's spec.name); '' when it declares none. */
  environment: string;
  mode: 'plan' | 'apply' | 'verify';
  verify: boolean;
  verifyImage: string;
  prune: boolean;
  concurrency: number;
  subscriptionId: string; // the azure-subscription-id input, fallback for the mapping
}

export interface Ports {
  azure: AzurePort;
  kube: KubePort;
}

interface IssuerSource {
  cluster?: ClusterRef;
  issuer?: string;
  at: SourcePosition;
}

function issuerSource(mapping: Mapping, environment: string): IssuerSource {
  const { spec, problem } = selectEnvironment(mapping, environment);
  if (!spec) throw new Error(problem); // the pipeline selected it already
  return { cluster: spec.cluster, issuer: spec.issuer, at: spec.at };
}

const sameCluster = (a?: ClusterRef, b?: ClusterRef): boolean =>
  !!a && !!b && a.name.toLowerCase() === b.name.toLowerCase() && a.resourceGroup.toLowerCase() === b.resourceGroup.toLowerCase();

interface Neighbours {
  /** Bindings of other environments federated to our issuer: they share FICs with ours. */
  same: ResolvedBinding[];
  /** Bindings of other environments whose issuer could not be read: protected all the same. */
  unknown: ResolvedBinding[];
}

/**
 * Other environments deploying to the same cluster (two GitHub environments may share one)
 * share FICs with ours and must be protected from prune. An environment may name the
 * cluster while ours writes its issuer (or the other way round), so each one's issuer is
 * resolved — one ARM read per cluster — and compared byte for byte. When it cannot be read,
 * its bindings are protected anyway: prune deletes only what is known to be ours.
 */
async function neighbourBindings(input: PlanInput, own: IssuerSource, issuer: string, azure: AzurePort): Promise<Neighbours> {
  const result: Neighbours = { same: [], unknown: [] };
  await Promise.all(
    input.mapping.environments
      .filter((e) => e.name !== input.environment)
      .map(async (e) => {
        let theirs: string | undefined = e.issuer;
        if (!theirs && sameCluster(e.cluster, own.cluster)) theirs = issuer;
        if (!theirs && e.cluster) {
          try {
            theirs = (await resolveIssuer({ cluster: e.cluster, at: e.at }, azure, input.subscriptionId)).issuer;
          } catch {
            theirs = undefined;
          }
        }
        if (theirs !== undefined && theirs !== issuer) return;
        const bindings = resolveBindings(input.mapping, e.name, { subscriptionId: input.subscriptionId });
        (theirs === issuer ? result.same : result.unknown).push(...bindings);
      }),
  );
  return result;
}

/**
 * A ServiceAccount carries one client-id annotation. Two environments that deploy to the
 * same cluster and bind one ServiceAccount to different identities would flip it on every
 * apply; refuse that before anything is written.
 */
function sharedServiceAccountConflicts(own: ResolvedBinding[], neighbours: ResolvedBinding[]): PreflightCheck[] {
  return own.flatMap((b) => {
    const other = neighbours.find(
      (n) => n.namespace === b.namespace && n.serviceAccount === b.serviceAccount && identityKey(n.identity.resourceId) !== identityKey(b.identity.resourceId),
    );
    if (!other) return [];
    return [
      {
        name: 'service-account',
        ok: false,
        severity: 'error' as const,
        detail: `ServiceAccount ${b.namespace}/${b.serviceAccount} is bound to identity '${b.identity.name}' here and to '${other.identity.name}' in environment '${other.environment}' (${other.at.file}:${other.at.line}), which uses the same cluster: one ServiceAccount can carry only one client ID.`,
        fix: 'Bind the same identity in both environments, or use a different ServiceAccount per environment.',
        at: b.at,
      },
    ];
  });
}

const otherEnvironments = (input: PlanInput): ResolvedBinding[] =>
  input.mapping.environments
    .filter((e) => e.name !== input.environment)
    .flatMap((e) => resolveBindings(input.mapping, e.name, { subscriptionId: input.subscriptionId }));

/**
 * `snapshot` is the run's view of the cluster (src/kube/snapshot.ts): pass the one apply and
 * verification will read after the plan; a fresh one is made when absent.
 */
export async function planEnvironment(
  input: PlanInput,
  ports: Ports,
  snapshot: ClusterSnapshot = createClusterSnapshot(ports.kube, { concurrency: input.concurrency }),
): Promise<Plan> {
  const bindings = resolveBindings(input.mapping, input.environment, { subscriptionId: input.subscriptionId });
  const source = issuerSource(input.mapping, input.environment);
  const resolved = await resolveIssuer(source, ports.azure, input.subscriptionId);
  const plan: Plan = { environment: input.environment, issuer: resolved.issuer ?? '', federatedCredentials: [], serviceAccounts: [], preflight: [...resolved.checks] };
  if (!resolved.issuer) return withMappingLines(plan, source.at); // nothing can be federated to an unknown issuer

  // Before the first Kubernetes call: is the kubeconfig this environment's cluster at all?
  const elsewhere = resolved.cluster && otherClusterReason(ports.kube.server, resolved.cluster, input.environment);
  if (elsewhere) {
    // apply would write this environment's ServiceAccounts into another cluster: blocked. A
    // plan still shows what it can, with the warning on top.
    const blocking = input.mode !== 'plan';
    plan.preflight.push({
      name: 'cluster',
      ok: false,
      severity: blocking ? 'error' : 'warning',
      detail: elsewhere,
      fix: `Check azure/aks-set-context (or the kubeconfig input) before this step: it must name cluster ${resolved.cluster!.name} for this environment.`,
      at: source.at,
    });
    if (blocking) return withMappingLines(plan, source.at);
  }

  // The ServiceAccounts are read while Azure is planned: only their diff needs the client IDs.
  const observation = observeServiceAccounts(bindings, snapshot);
  // The cluster's own issuer, read once: the issuer check compares it, and the FIC diff keeps
  // from advising to delete a credential that carries it.
  const discovery = ports.kube.getOpenIdConfiguration();
  const clusterIssuer = discovery.then(
    (d) => d.issuer,
    () => undefined,
  );
  const neighbours = await neighbourBindings(input, source, resolved.issuer, ports.azure);
  plan.preflight.push(...sharedServiceAccountConflicts(bindings, neighbours.same));
  const [fics, cluster] = await Promise.all([
    planFederatedCredentials(
      {
        bindings: [...bindings, ...neighbours.same, ...neighbours.unknown],
        issuer: resolved.issuer,
        environment: input.environment,
        prune: input.prune,
        concurrency: input.concurrency,
        ...(input.prune ? { elsewhere: otherEnvironments(input) } : {}),
        clusterIssuer,
      },
      ports.azure,
    ),
    preflight({ bindings, issuer: resolved.issuer, mode: input.mode, verify: input.verify, image: input.verifyImage, concurrency: input.concurrency, discovery, snapshot }, ports.kube),
  ]);
  plan.federatedCredentials = fics.changes;
  plan.preflight.push(...fics.checks, ...cluster);

  // ServiceAccounts need each identity's client ID: only bindings whose identity resolved.
  const clientIds = new Map([...fics.identities].map(([key, identity]) => [key, identity.clientId]));
  // Each identity's tenant from ARM, for bindings whose mapping names none.
  const tenantIds = new Map([...fics.identities].map(([key, identity]) => [key, identity.tenantId]));
  const known = bindings.filter((b) => clientIds.has(identityKey(b.identity.resourceId)));
  const sas = await planServiceAccounts({ bindings: known, clientIds, tenantIds, observation }, snapshot);
  plan.serviceAccounts = sas.changes;
  plan.preflight.push(...sas.checks);
  return withMappingLines(plan, source.at);
}

/**
 * Every finding points at a mapping line, so it can be an annotation there: one about a
 * binding carries its line already; one about the cluster or the environment as a whole
 * (issuer, RBAC, webhook) points at the environment.
 */
function withMappingLines(plan: Plan, environmentAt: SourcePosition): Plan {
  for (const c of plan.preflight) c.at ??= environmentAt;
  return plan;
}

export const blockingChecks = (plan: Plan) => plan.preflight.filter((c) => !c.ok && c.severity === 'error');
