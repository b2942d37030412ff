// Is this cluster ready for Workload Identity, and may the action do its job here?
// Every answer is a PreflightCheck with a plain-language detail and a fix, so the plan
// comment tells the user what to do before anything is written. Reads only (plus one
// server-side dry run, which stores nothing).
import { randomBytes } from 'node:crypto';
import pLimit from 'p-limit';
import { Document, isScalar, isSeq, visit } from 'yaml';
import { withoutTrailingSlash } from '../mapping/issuer.ts';
import type { ResolvedBinding, SourcePosition } from '../mapping/types.ts';
import { DEFAULT_AUDIENCE } from '../mapping/types.ts';
import type { PreflightCheck, Severity } from '../plan/types.ts';
import { LABEL_MANAGED_BY, MANAGED_BY } from '../plan/service-accounts.ts';
import { isKubeApiError, isUnreachable, type AccessQuery, type DryRunPodResult, type KubePort, type NamespaceState } from './port.ts';

const WEBHOOK_CONFIGURATION = 'azure-wi-webhook-mutating-webhook-configuration';
const WEBHOOK_NAME = 'mutation.azure-workload-identity.io';
const WEBHOOK_SERVICE = 'azure-wi-webhook-webhook-service';
const USE_LABEL = 'azure.workload.identity/use';
/** Env the webhook injects (DESIGN §5). */
const INJECTED_ENV = ['AZURE_CLIENT_ID', 'AZURE_TENANT_ID', 'AZURE_FEDERATED_TOKEN_FILE', 'AZURE_AUTHORITY_HOST'] as const;
/** The verify-image default (DESIGN §3); the dry-run pod is never pulled, but admission policies read it. */
const DEFAULT_DRY_RUN_IMAGE = 'mcr.microsoft.com/azurelinux/base/nodejs:24';

export type PreflightMode = 'plan' | 'apply' | 'verify';

export interface PreflightInput {
  bindings: ResolvedBinding[];
  /** The issuer the federated credentials use; '' when unknown (then not compared). */
  issuer: string;
  mode: PreflightMode;
  /** In apply, whether verification pods will run. */
  verify: boolean;
  /** Parallel access reviews and reads; default 8. */
  concurrency?: number;
  /**
   * Image of the dry-run pod (pass the verify-image setting): clusters whose admission
   * policies allow only some registries refuse any other. Default the verify-image default.
   */
  image?: string;
}

export interface Permission {
  verb: string;
  resource: string;
  group: string;
  subresource?: string;
  scope: 'namespace' | 'cluster';
  /**
   * Set for a permission only a preflight check needs (that check, in words): without it
   * the check cannot run, which is a warning, not an error — plan and apply still work.
   */
  onlyFor?: string;
}

const ns = (verb: string, resource: string, subresource?: string): Permission => ({ verb, resource, group: '', subresource, scope: 'namespace' });

// What the port is called with (client.ts), per mode:
// - every mode plans the ServiceAccounts: readServiceAccount (get serviceaccounts) and,
//   where a client ID changes, listPodsUsingServiceAccount (list pods);
// - preflight reads namespaces and webhook registrations cluster-wide, but those checks
//   degrade to a warning: a CI identity with namespace-scoped Roles can still plan and apply;
// - apply: createServiceAccount (create) and patchServiceAccountAnnotations (patch);
// - verification runs a pod: create, watch it (get), read its log, its events, delete it.
// The dry-run pod (create pods) is asked for on its own and skipped when not allowed.
const PLAN_PERMISSIONS: Permission[] = [
  ns('get', 'serviceaccounts'),
  ns('list', 'pods'),
  { verb: 'get', resource: 'namespaces', group: '', scope: 'cluster', onlyFor: "the check that the bindings' namespaces exist" },
  {
    verb: 'list',
    resource: 'mutatingwebhookconfigurations',
    group: 'admissionregistration.k8s.io',
    scope: 'cluster',
    onlyFor: 'the check that the Azure Workload Identity webhook is installed',
  },
];
const APPLY_PERMISSIONS: Permission[] = [ns('create', 'serviceaccounts'), ns('patch', 'serviceaccounts')];
const VERIFY_PERMISSIONS: Permission[] = [ns('create', 'pods'), ns('get', 'pods'), ns('delete', 'pods'), ns('get', 'pods', 'log'), ns('list', 'events')];

/** Exactly what a mode calls: plan reads; apply also writes ServiceAccounts; verification runs pods. */
export function requiredPermissions(mode: PreflightMode, verify: boolean): Permission[] {
  const out = [...PLAN_PERMISSIONS];
  if (mode === 'apply') out.push(...APPLY_PERMISSIONS);
  if (mode === 'verify' || (mode === 'apply' && verify)) out.push(...VERIFY_PERMISSIONS);
  return out;
}

const permissionText = (p: Permission, namespace?: string): string =>
  `${p.verb} ${p.group ? `${p.resource}.${p.group}` : p.resource}${p.subresource ? `/${p.subresource}` : ''}${namespace ? ` in ${namespace}` : ' (cluster-wide)'}`;

interface Missing {
  permission: Permission;
  namespace?: string;
}

function rules(missing: Missing[]): { apiGroups: string[]; resources: string[]; verbs: string[] }[] {
  const byResource = new Map<string, { group: string; resource: string; verbs: Set<string> }>();
  for (const { permission: p } of missing) {
    const resource = p.subresource ? `${p.resource}/${p.subresource}` : p.resource;
    const key = `${p.group}|${resource}`;
    const entry = byResource.get(key) ?? { group: p.group, resource, verbs: new Set<string>() };
    entry.verbs.add(p.verb);
    byResource.set(key, entry);
  }
  return [...byResource.values()].map((r) => ({ apiGroups: [r.group], resources: [r.resource], verbs: [...r.verbs].sort() }));
}

const SUBJECT_PLACEHOLDER = [{ kind: 'User', name: '<the action\'s user, from `kubectl auth whoami`>', apiGroup: 'rbac.authorization.k8s.io' }];

/** A Role (+RoleBinding) per namespace and a ClusterRole (+binding) for cluster-wide reads: exactly the missing rules. */
export function rbacSnippet(missing: Missing[]): string {
  const docs: unknown[] = [];
  const cluster = missing.filter((m) => !m.namespace);
  if (cluster.length) {
    docs.push(
      { apiVersion: 'rbac.authorization.k8s.io/v1', kind: 'ClusterRole', metadata: { name: MANAGED_BY }, rules: rules(cluster) },
      {
        apiVersion: 'rbac.authorization.k8s.io/v1',
        kind: 'ClusterRoleBinding',
        metadata: { name: MANAGED_BY },
        roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'ClusterRole', name: MANAGED_BY },
        subjects: SUBJECT_PLACEHOLDER,
      },
    );
  }
  const namespaces = [...new Set(missing.map((m) => m.namespace).filter((n): n is string => Boolean(n)))].sort();
  for (const namespace of namespaces) {
    docs.push(
      { apiVersion: 'rbac.authorization.k8s.io/v1', kind: 'Role', metadata: { name: MANAGED_BY, namespace }, rules: rules(missing.filter((m) => m.namespace === namespace)) },
      {
        apiVersion: 'rbac.authorization.k8s.io/v1',
        kind: 'RoleBinding',
        metadata: { name: MANAGED_BY, namespace },
        roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'Role', name: MANAGED_BY },
        subjects: SUBJECT_PLACEHOLDER,
      },
    );
  }
  return docs.map(toYaml).join('\n---\n');
}

/** Lists of plain values in flow style (`verbs: [create, patch]`), as RBAC examples are written. */
function toYaml(value: unknown): string {
  const doc = new Document(value);
  visit(doc, {
    Seq(_, node) {
      if (isSeq(node) && node.items.every((i) => isScalar(i))) node.flow = true;
    },
  });
  return doc.toString({ lineWidth: 0, flowCollectionPadding: false }).trimEnd();
}

/** Where exactly two issuer URLs differ, in words. They are compared byte for byte (DESIGN §5). */
export function describeIssuerDifference(cluster: string, mapping: string): string {
  if (cluster === mapping) return 'they are identical';
  if (withoutTrailingSlash(cluster) === withoutTrailingSlash(mapping)) {
    return cluster.endsWith('/')
      ? `only the trailing slash differs: the cluster's issuer ends with '/', the mapping's does not`
      : `only the trailing slash differs: the mapping's issuer ends with '/', the cluster's does not`;
  }
  if (cluster.trim() === mapping.trim()) return 'they differ only in surrounding whitespace';
  if (cluster.toLowerCase() === mapping.toLowerCase()) return 'they differ only in letter case (issuers are compared case-sensitively)';
  let a: URL | undefined;
  let b: URL | undefined;
  try {
    a = new URL(cluster);
    b = new URL(mapping);
  } catch {
    // fall through to the positional description
  }
  if (a && b) {
    if (a.protocol !== b.protocol) return `the scheme differs (cluster ${a.protocol}, mapping ${b.protocol})`;
    if (a.host !== b.host) return `the host differs (cluster ${a.host}, mapping ${b.host}): the mapping's issuer belongs to another cluster or region`;
    if (a.pathname !== b.pathname) {
      return `the path differs (cluster ${a.pathname}, mapping ${b.pathname}): the mapping's issuer belongs to another cluster, or the cluster's issuer was rotated`;
    }
  }
  let i = 0;
  while (i < cluster.length && cluster[i] === mapping[i]) i++;
  return `they differ from character ${i + 1} on`;
}

const IN_CLUSTER_ISSUERS = /^https:\/\/kubernetes\.default\.svc(\.cluster\.local)?\/?$/;

function check(name: string, ok: boolean, severity: Severity, detail: string, fix?: string, at?: SourcePosition): PreflightCheck {
  const c: PreflightCheck = { name, ok, severity, detail };
  if (fix) c.fix = fix;
  if (at) c.at = at;
  return c;
}

const lines = (bs: ResolvedBinding[]): string => bs.map((b) => `${b.at.file}:${b.at.line}`).join(', ');

export async function preflight(input: PreflightInput, port: KubePort): Promise<PreflightCheck[]> {
  const limit = pLimit(input.concurrency ?? 8);
  // A missing webhook blocks verification (and every migrated workload); when this run and
  // the apply it plans for do not verify, the writes themselves still work.
  const webhookSeverity: Severity = input.mode === 'verify' || input.verify ? 'error' : 'warning';
  const namespaces = [...new Set(input.bindings.map((b) => b.namespace))].sort();
  const bindingsIn = (n: string) => input.bindings.filter((b) => b.namespace === n);

  // 1. Reachable and authenticated: the first access review doubles as the ping.
  const permissions = requiredPermissions(input.mode, input.verify);
  const queries: { permission: Permission; namespace?: string }[] = [];
  for (const p of permissions) {
    if (p.scope === 'cluster') queries.push({ permission: p });
    else for (const n of namespaces) queries.push({ permission: p, namespace: n });
  }
  const toQuery = (q: { permission: Permission; namespace?: string }): AccessQuery => ({
    verb: q.permission.verb,
    resource: q.permission.resource,
    group: q.permission.group,
    subresource: q.permission.subresource,
    namespace: q.namespace,
  });

  const answers = new Map<string, boolean>();
  const answerKey = (q: AccessQuery) => `${q.verb}|${q.group ?? ''}|${q.resource}|${q.subresource ?? ''}|${q.namespace ?? ''}`;
  const ask = async (q: AccessQuery): Promise<boolean> => {
    const key = answerKey(q);
    const known = answers.get(key);
    if (known !== undefined) return known;
    const a = await port.selfSubjectAccessReview(q);
    answers.set(key, a.allowed);
    return a.allowed;
  };

  const checks: PreflightCheck[] = [];
  /** Optional permissions known to be missing: their checks are skipped (the rbac warning says so). */
  const skipped = new Set<Permission>();
  const isSkipped = (resource: string) => [...skipped].some((p) => p.resource === resource);
  try {
    await ask(toQuery(queries[0]!));
  } catch (err) {
    if (isUnreachable(err)) {
      return [
        check(
          'api',
          false,
          'error',
          `The Kubernetes API server at ${port.server} cannot be reached: ${(err as Error).message}.`,
          'Check the kubeconfig (azure/aks-set-context sets it) and that this runner can reach the API server: a private cluster needs a self-hosted runner in its network, and authorized IP ranges must include the runner.',
        ),
      ];
    }
    if (isKubeApiError(err) && err.status === 401) {
      return [
        check(
          'api',
          false,
          'error',
          `The Kubernetes API server at ${port.server} rejected the credentials (401 Unauthorized).`,
          'On AKS with Entra ID authentication, convert the kubeconfig after azure/aks-set-context: `kubelogin convert-kubeconfig -l azurecli` (or use azure/aks-set-context with use-kubelogin: true). An expired token also gives 401.',
        ),
      ];
    }
    // Access reviews themselves may be refused; every other check still tells something.
    checks.push(check('api', true, 'info', `The Kubernetes API server at ${port.server} answered.`));
    checks.push(
      check(
        'rbac',
        false,
        'warning',
        `Could not ask the API server which permissions the action has: ${(err as Error).message}.`,
        'Allow create on selfsubjectaccessreviews.authorization.k8s.io (every authenticated user has it by default through system:basic-user).',
      ),
    );
    queries.length = 0;
  }
  if (queries.length) checks.push(check('api', true, 'info', `The Kubernetes API server at ${port.server} answered.`));

  // 2. RBAC: exactly the verbs this mode needs, per namespace.
  if (queries.length) {
    const missing: Missing[] = [];
    let failure: string | undefined;
    await Promise.all(
      queries.map((q) =>
        limit(async () => {
          try {
            if (!(await ask(toQuery(q)))) missing.push(q);
          } catch (err) {
            failure ??= (err as Error).message;
          }
        }),
      ),
    );
    const modeText = input.mode === 'apply' ? (input.verify ? 'apply with verification' : 'apply without verification') : input.mode;
    if (failure) {
      checks.push(check('rbac', false, 'warning', `Some permission checks failed: ${failure}.`));
    }
    const order = (m: Missing) => `${m.namespace ?? ''}|${permissions.indexOf(m.permission).toString().padStart(3, '0')}`;
    missing.sort((x, y) => order(x).localeCompare(order(y)));
    const needed = missing.filter((m) => !m.permission.onlyFor);
    const optional = missing.filter((m) => m.permission.onlyFor);
    const howTo = "Apply this (put the action's identity in subjects; with Azure RBAC for Kubernetes, grant an equivalent Azure role assignment instead):";
    if (needed.length) {
      const verbs = needed.map((m) => permissionText(m.permission, m.namespace));
      checks.push(
        check(
          'rbac',
          false,
          'error',
          `The action's Kubernetes identity is missing ${needed.length} permission(s) that mode ${modeText} needs: ${verbs.join('; ')}.`,
          `${howTo}\n${rbacSnippet(needed)}`,
        ),
      );
    }
    if (optional.length) {
      for (const m of optional) skipped.add(m.permission);
      const what = optional.map((m) => `${permissionText(m.permission, m.namespace)}, so ${m.permission.onlyFor} could not run`);
      checks.push(
        check(
          'rbac',
          false,
          'warning',
          `The action's Kubernetes identity may not ${what.join('; ')}. Mode ${modeText} does not need ${optional.length === 1 ? 'it' : 'them'} otherwise.`,
          `To run ${optional.length === 1 ? 'that check' : 'those checks'} too, ${howTo.charAt(0).toLowerCase()}${howTo.slice(1)}\n${rbacSnippet(optional)}`,
        ),
      );
    }
    if (!missing.length && !failure) {
      checks.push(
        check('rbac', true, 'info', `The action's Kubernetes identity has every permission mode ${modeText} needs in ${namespaces.length} namespace(s).`),
      );
    }
  }

  // 3–5 are independent reads; a check whose permission is known to be missing is skipped.
  const [namespaceResult, webhookChecks, issuerChecks] = await Promise.all([
    isSkipped('namespaces') ? { checks: [], absent: new Set<string>() } : checkNamespaces(namespaces, bindingsIn, port, limit),
    // Unknown whether it is installed: the dry run below proves it either way.
    isSkipped('mutatingwebhookconfigurations') ? { checks: [], installed: 'unknown' as const } : checkWebhook(port, webhookSeverity),
    checkIssuer(input.issuer, port),
  ]);
  checks.push(...namespaceResult.checks, ...webhookChecks.checks, ...issuerChecks);

  // 6. Proof by dry run, where allowed: the API server runs admission (the webhook too) and stores nothing.
  if (webhookChecks.installed) {
    checks.push(await checkDryRun(input, port, namespaceResult.absent, ask, webhookSeverity, webhookChecks.installed === true));
  }
  return checks;
}

async function checkNamespaces(
  namespaces: string[],
  bindingsIn: (n: string) => ResolvedBinding[],
  port: KubePort,
  limit: ReturnType<typeof pLimit>,
): Promise<{ checks: PreflightCheck[]; absent: Set<string> }> {
  const checks: PreflightCheck[] = [];
  const existing = new Set<string>();
  /** Known not to exist, or being deleted: nothing can be created there. */
  const absent = new Set<string>();
  const found = new Map<string, NamespaceState | undefined | Error>();
  await Promise.all(
    namespaces.map((n) =>
      limit(async () => {
        try {
          found.set(n, await port.readNamespace(n));
        } catch (err) {
          found.set(n, err as Error);
        }
      }),
    ),
  );
  for (const n of namespaces) {
    const state = found.get(n);
    const bs = bindingsIn(n);
    if (state instanceof Error) {
      checks.push(check('namespace', false, 'warning', `Could not check that namespace ${n} exists: ${state.message}.`, undefined, bs[0]?.at));
    } else if (!state) {
      absent.add(n);
      checks.push(
        check(
          'namespace',
          false,
          'error',
          `Namespace ${n} does not exist in this cluster; ${bs.length === 1 ? 'the binding at' : 'the bindings at'} ${lines(bs)} name${bs.length === 1 ? 's' : ''} it.`,
          `Create the namespace (kubectl create namespace ${n}) or deploy the workload first, or correct the namespace in the mapping.`,
          bs[0]?.at,
        ),
      );
    } else if (state.phase === 'Terminating') {
      absent.add(n);
      checks.push(
        check('namespace', false, 'error', `Namespace ${n} is being deleted (Terminating); nothing can be created in it.`, 'Wait for the deletion to finish and recreate it, or remove its bindings from the mapping.', bs[0]?.at),
      );
    } else {
      existing.add(n);
    }
  }
  if (namespaces.length && existing.size === namespaces.length) {
    checks.push(check('namespace', true, 'info', `All ${namespaces.length} namespace(s) of the bindings exist.`));
  }
  return { checks, absent };
}

function installKind(serviceNamespace: string | undefined): string {
  if (serviceNamespace === 'kube-system') return 'the AKS add-on (kube-system)';
  if (serviceNamespace === 'azure-workload-identity-system') return 'Helm (azure-workload-identity-system)';
  return serviceNamespace ? `a custom install in namespace ${serviceNamespace}` : 'an unknown install';
}

async function checkWebhook(port: KubePort, severity: Severity): Promise<{ checks: PreflightCheck[]; installed: boolean | 'unknown' }> {
  let registrations;
  try {
    registrations = await port.listMutatingWebhookConfigurations();
  } catch (err) {
    return {
      checks: [
        check(
          'webhook',
          false,
          'warning',
          `Could not check whether the Azure Workload Identity webhook is installed: ${(err as Error).message}.`,
          'Allow list on mutatingwebhookconfigurations.admissionregistration.k8s.io (see the rbac check).',
        ),
      ],
      // Unknown: still try the dry run, which proves it either way.
      installed: 'unknown',
    };
  }
  const ours = registrations.filter((r) => r.configuration === WEBHOOK_CONFIGURATION || r.webhook === WEBHOOK_NAME || r.serviceName === WEBHOOK_SERVICE);
  if (!ours.length) {
    return {
      installed: false,
      checks: [
        check(
          'webhook',
          false,
          severity,
          `The Azure Workload Identity webhook is not installed: there is no MutatingWebhookConfiguration ${WEBHOOK_CONFIGURATION}. ` +
            `Without it, pods labelled ${USE_LABEL}: "true" get no ${INJECTED_ENV.join(', ')} and no projected ServiceAccount token, ` +
            'so verification cannot pass and migrated workloads cannot get Azure tokens.',
          'Enable it on AKS: `az aks update -g <resource-group> -n <cluster> --enable-oidc-issuer --enable-workload-identity`. ' +
            'On other clusters install the Helm chart azure-workload-identity/workload-identity-webhook into azure-workload-identity-system.',
        ),
      ],
    };
  }
  const installs = new Map<string, { configuration: string; serviceNamespace?: string; failurePolicy?: string }>();
  for (const r of ours) installs.set(`${r.configuration}|${r.serviceNamespace ?? ''}`, r);
  const list = [...installs.values()];
  const first = list[0]!;
  const checks = [
    check(
      'webhook',
      true,
      'info',
      `The Azure Workload Identity webhook is installed by ${installKind(first.serviceNamespace)} (MutatingWebhookConfiguration ${first.configuration}` +
        `${first.failurePolicy ? `, failurePolicy ${first.failurePolicy}` : ''}).`,
    ),
  ];
  if (list.length > 1) {
    checks.push(
      check(
        'webhook',
        false,
        'warning',
        `The webhook is installed ${list.length} times: ${list.map((i) => `${i.configuration} → ${installKind(i.serviceNamespace)}`).join('; ')}. ` +
          'Every labelled pod is then mutated by each of them, and they may disagree (versions, token path).',
        'Keep one: with the AKS add-on enabled, remove the Helm release (`helm uninstall workload-identity-webhook -n azure-workload-identity-system`).',
      ),
    );
  }
  return { checks, installed: true };
}

async function checkIssuer(issuer: string, port: KubePort): Promise<PreflightCheck[]> {
  if (!issuer) {
    return [check('issuer', true, 'info', "No issuer to compare with the cluster's (none resolved for this environment).")];
  }
  let clusterIssuer: string;
  try {
    clusterIssuer = (await port.getOpenIdConfiguration()).issuer;
  } catch (err) {
    const forbidden = isKubeApiError(err) && err.status === 403;
    return [
      check(
        'issuer',
        false,
        'warning',
        `Could not read the cluster's issuer from /.well-known/openid-configuration: ${(err as Error).message}.`,
        forbidden
          ? 'Allow get on the non-resource URLs /.well-known/openid-configuration and /openid/v1/jwks (ClusterRole system:service-account-issuer-discovery).'
          : undefined,
      ),
    ];
  }
  if (IN_CLUSTER_ISSUERS.test(clusterIssuer)) {
    return [
      check(
        'issuer',
        false,
        'error',
        `The cluster's OIDC issuer is not enabled: its tokens are issued by ${clusterIssuer}, which Entra ID cannot reach, so no federated credential can match them.`,
        'Enable it: `az aks update -g <resource-group> -n <cluster> --enable-oidc-issuer`, then use the issuer it reports (az aks show --query oidcIssuerProfile.issuerUrl -o tsv).',
      ),
    ];
  }
  if (clusterIssuer === issuer) {
    return [check('issuer', true, 'info', `The cluster's issuer equals the federated credentials' issuer (${issuer}).`)];
  }
  return [
    check(
      'issuer',
      false,
      'error',
      `The cluster signs its tokens with issuer ${clusterIssuer}, but the federated credentials would use ${issuer}: ${describeIssuerDifference(clusterIssuer, issuer)}. ` +
        'The token exchange would fail with AADSTS700211 (no matching federated identity record for the issuer).',
      `Use the cluster's issuer byte for byte: set \`issuer: ${clusterIssuer}\` for this environment in the mapping, or give \`cluster:\` and let the action read it from ARM.`,
    ),
  ];
}

/** Mutated means: a projected token volume and AZURE_FEDERATED_TOKEN_FILE (DESIGN §5). */
export function describeMutation(result: DryRunPodResult, audience: string): { mutated: boolean; env: string[]; tokens: string[] } {
  const env = [...new Set(result.containers.flatMap((c) => c.env.map((e) => e.name)))].filter((n) => (INJECTED_ENV as readonly string[]).includes(n));
  const tokens = result.volumes.flatMap((v) =>
    v.projectedTokens.filter((t) => !t.audience || t.audience === audience || t.audience === DEFAULT_AUDIENCE).map((t) => {
      const mount = result.containers.flatMap((c) => c.volumeMounts).find((m) => m.name === v.name);
      return `${v.name} (audience ${t.audience ?? 'default'}${mount ? `, at ${mount.mountPath}/${t.path}` : ''})`;
    }),
  );
  return { mutated: env.includes('AZURE_FEDERATED_TOKEN_FILE') && tokens.length > 0, env, tokens };
}

async function checkDryRun(
  input: PreflightInput,
  port: KubePort,
  absent: Set<string>,
  ask: (q: AccessQuery) => Promise<boolean>,
  severity: Severity,
  /** Its MutatingWebhookConfiguration was seen (false: that could not be checked). */
  registered: boolean,
): Promise<PreflightCheck> {
  // Namespaces that could not be checked are tried: the dry run tells.
  const candidates = input.bindings.filter((b) => !absent.has(b.namespace));
  const ordered = [...candidates.filter((b) => b.verify.enabled), ...candidates.filter((b) => !b.verify.enabled)];
  let binding: ResolvedBinding | undefined;
  for (const b of ordered) {
    try {
      if (await ask({ verb: 'create', resource: 'pods', group: '', namespace: b.namespace })) {
        binding = b;
        break;
      }
    } catch {
      // cannot tell: try the next namespace
    }
  }
  if (!binding) {
    return check(
      'webhook-dry-run',
      true,
      'info',
      candidates.length
        ? 'Skipped the dry-run proof that the webhook mutates pods: the action may not create pods in the bindings\' namespaces.'
        : 'Skipped the dry-run proof that the webhook mutates pods: none of the bindings\' namespaces exists.',
    );
  }
  // The ServiceAccount admission plugin rejects a pod whose ServiceAccount does not exist
  // yet (plan before the first apply): fall back to the namespace's default one.
  let serviceAccount = binding.serviceAccount;
  try {
    if (!(await port.readServiceAccount(binding.namespace, binding.serviceAccount))) serviceAccount = 'default';
  } catch {
    serviceAccount = 'default';
  }
  const image = input.image?.trim() || DEFAULT_DRY_RUN_IMAGE;
  const pod = {
    name: `wi-preflight-${randomBytes(4).toString('hex')}`,
    namespace: binding.namespace,
    labels: { [USE_LABEL]: 'true', [LABEL_MANAGED_BY]: MANAGED_BY },
    annotations: { 'sidecar.istio.io/inject': 'false', 'linkerd.io/inject': 'disabled' },
    serviceAccountName: serviceAccount,
    image,
  };
  const subject = `a labelled dry-run pod in ${binding.namespace} with ServiceAccount ${serviceAccount}`;
  let result: DryRunPodResult;
  try {
    result = await port.dryRunCreatePod(pod);
  } catch (err) {
    const message = (err as Error).message;
    if (message.includes(WEBHOOK_NAME) || /admission webhook .*azure-workload-identity/.test(message)) {
      return check(
        'webhook-dry-run',
        false,
        severity,
        `The webhook refused or failed on ${subject}: ${message}. With failurePolicy Fail, labelled pods cannot start until this is fixed.`,
        'Check the webhook pods: `kubectl get pods -A -l azure-workload-identity.io/system=true` and their logs; a rejected token expiration must be 3600..86400.',
        binding.at,
      );
    }
    const fix = message.includes(image)
      ? `The dry-run pod uses image ${image}, the same as the verification pods: set the verify-image input to an image your cluster's admission policies allow (e.g. a mirror in your registry).`
      : /PodSecurity|quota/i.test(message)
        ? 'The verification pod meets Pod Security "restricted" and sets resources; check the namespace\'s admission policies.'
        : undefined;
    return check(
      'webhook-dry-run',
      true,
      'warning',
      `Could not prove the webhook mutates pods: the dry run of ${subject} was refused before the webhook's answer could be seen: ${message}.`,
      fix,
      binding.at,
    );
  }
  const m = describeMutation(result, binding.audience);
  if (!m.mutated) {
    return check(
      'webhook-dry-run',
      false,
      severity,
      `${registered ? 'The webhook is registered but did not mutate' : 'The webhook (whose registration could not be checked) did not mutate'} ${subject}: ` +
        `${m.env.length ? `only ${m.env.join(', ')} injected` : 'no AZURE_* env injected'}, ${m.tokens.length ? 'a projected token' : 'no projected token volume'}. ` +
        'Verification cannot pass while pods are created unmutated.',
      (registered ? '' : 'If it is not installed, enable it: `az aks update -g <resource-group> -n <cluster> --enable-workload-identity`. Otherwise, check') +
        `${registered ? 'Check' : ''} that the webhook's pods run and that its namespaceSelector/objectSelector include namespace ${binding.namespace} and the label ${USE_LABEL}: "true".`,
      binding.at,
    );
  }
  return check(
    'webhook-dry-run',
    true,
    'info',
    `The webhook mutates pods: ${subject} got ${m.env.join(', ')} and the projected token ${m.tokens.join(', ')} (server-side dry run, nothing was created).`,
  );
}
