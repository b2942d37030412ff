// May the action do its job here? Exactly the verbs this mode calls, per namespace; a
// missing one comes with the Role that grants it.
import { Document, isScalar, isSeq, visit } from 'yaml';
import type { PreflightCheck } from '../../plan/types.ts';
import { MANAGED_BY } from '../../plan/service-accounts.ts';
import type { AccessQuery } from '../port.ts';
import { check, type PreflightContext, type PreflightMode } from './check.ts';

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
  /**
   * A verb that does the job more slowly where this one is denied: `list serviceaccounts`
   * reads a namespace in one request, `get` one ServiceAccount per request (the snapshot
   * falls back to it). Missing with the fallback allowed is a warning naming this verb.
   */
  fallback?: string;
}

const ns = (verb: string, resource: string, subresource?: string): Permission => ({ verb, resource, group: '', subresource, scope: 'namespace' });

// What the port is called with (client.ts), per mode:
// - every mode plans the ServiceAccounts from the run's snapshot (snapshot.ts): one LIST of
//   serviceaccounts per namespace (one GET each where only get is allowed) and, where a
//   client ID changes, one LIST of pods;
// - preflight reads namespaces and webhook registrations cluster-wide, but those checks
//   degrade to a warning: a CI identity with namespace-scoped Roles can still plan and apply;
// - apply: createServiceAccount (create) and patchServiceAccountAnnotations (patch);
// - verification runs a pod: create, watch it (get), read its log, its events, delete it.
// The dry-run pod (create pods) is asked for on its own and skipped when not allowed.
const PLAN_PERMISSIONS: Permission[] = [
  { ...ns('list', 'serviceaccounts'), fallback: 'get' },
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

export interface PermissionQuery {
  permission: Permission;
  namespace?: string;
}

/** Every permission of the mode, once per namespace where it is namespaced. */
export function permissionQueries(permissions: Permission[], namespaces: string[]): PermissionQuery[] {
  const queries: PermissionQuery[] = [];
  for (const p of permissions) {
    if (p.scope === 'cluster') queries.push({ permission: p });
    else for (const n of namespaces) queries.push({ permission: p, namespace: n });
  }
  return queries;
}

export const toAccessQuery = (q: PermissionQuery): AccessQuery => ({
  verb: q.permission.verb,
  resource: q.permission.resource,
  group: q.permission.group,
  subresource: q.permission.subresource,
  namespace: q.namespace,
});

function rules(missing: PermissionQuery[]): { apiGroups: string[]; resources: string[]; verbs: string[] }[] {
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
export function rbacSnippet(missing: PermissionQuery[]): string {
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

/**
 * Asks every query of the mode (the reachability check has asked the first). Returns the
 * findings and the optional permissions known to be missing: their checks are skipped.
 */
export async function checkRbac(
  ctx: PreflightContext,
  permissions: Permission[],
  queries: PermissionQuery[],
): Promise<{ checks: PreflightCheck[]; skipped: Set<Permission> }> {
  const { input, limit, namespaces, ask } = ctx;
  const checks: PreflightCheck[] = [];
  const skipped = new Set<Permission>();
  const missing: PermissionQuery[] = [];
  let failure: string | undefined;
  await Promise.all(
    queries.map((q) =>
      limit(async () => {
        try {
          if (!(await ask(toAccessQuery(q)))) missing.push(q);
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
  const order = (m: PermissionQuery) => `${m.namespace ?? ''}|${permissions.indexOf(m.permission).toString().padStart(3, '0')}`;
  missing.sort((x, y) => order(x).localeCompare(order(y)));
  // Denied, but its slower fallback allowed: the run works, one request per object.
  const degraded: PermissionQuery[] = [];
  await Promise.all(
    missing
      .filter((m) => m.permission.fallback)
      .map((m) =>
        limit(async () => {
          try {
            if (await ask({ ...toAccessQuery(m), verb: m.permission.fallback! })) degraded.push(m);
          } catch {
            // cannot tell: reported as missing
          }
        }),
      ),
  );
  degraded.sort((x, y) => order(x).localeCompare(order(y)));
  const needed = missing.filter((m) => !m.permission.onlyFor && !degraded.includes(m));
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
  if (degraded.length) {
    const what = degraded.map((m) => permissionText(m.permission, m.namespace));
    checks.push(
      check(
        'rbac',
        false,
        'warning',
        `The action's Kubernetes identity may not ${what.join('; ')}: it reads ${degraded.length === 1 ? 'that namespace' : 'those namespaces'} with ${degraded[0]!.permission.fallback} instead, one request per object instead of one per namespace (slower, and more load on the API server).`,
        `Grant the missing verb: ${howTo.charAt(0).toLowerCase()}${howTo.slice(1)}\n${rbacSnippet(degraded)}`,
      ),
    );
  }
  if (!missing.length && !failure) {
    checks.push(check('rbac', true, 'info', `The action's Kubernetes identity has every permission mode ${modeText} needs in ${namespaces.length} namespace(s).`));
  }
  return { checks, skipped };
}
