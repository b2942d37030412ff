// The ServiceAccount part of the plan: what the mapping wants on each ServiceAccount
// against what the cluster has. Pure — no I/O — so the planner, the report and the tests
// share one definition of "changed".
//
// We own the three webhook annotations (DESIGN §5); a ServiceAccount we create also gets
// the managed-by label. Everything else on an existing ServiceAccount (its labels, other
// annotations, secrets, imagePullSecrets) belongs to someone else and is never written.
// Extra annotations from the mapping's `annotations:` are written but not tracked: dropped
// from the mapping, they stay on the ServiceAccount (nothing records that we wrote them, so
// they cannot be told from someone else's).
import { bindingKey } from './binding-key.ts';
import type { ResolvedBinding } from '../mapping/types.ts';
import type { PreflightCheck, ServiceAccountChange } from './types.ts';

export const ANNOTATION_CLIENT_ID = 'azure.workload.identity/client-id';
export const ANNOTATION_TENANT_ID = 'azure.workload.identity/tenant-id';
export const ANNOTATION_TOKEN_EXPIRATION = 'azure.workload.identity/service-account-token-expiration';
export const LABEL_MANAGED_BY = 'app.kubernetes.io/managed-by';
export const MANAGED_BY = 'workload-identity-action';

/** The webhook reads these when a pod is created; pods already running keep the old values. */
const IDENTITY_ANNOTATIONS = [ANNOTATION_CLIENT_ID, ANNOTATION_TENANT_ID];
/** Ours: removed from an existing ServiceAccount when the mapping no longer asks for them. */
const OWNED_ANNOTATIONS = [ANNOTATION_CLIENT_ID, ANNOTATION_TENANT_ID, ANNOTATION_TOKEN_EXPIRATION];

/** A ServiceAccount as observed, plus its pods that have not finished. */
export interface ObservedServiceAccount {
  labels: Record<string, string>;
  annotations: Record<string, string>;
  /** Pods using it that have not finished; only needed when an identity annotation changes. */
  pods?: { name: string; owner?: string; usesWorkloadIdentity: boolean }[];
}

export interface ServiceAccountDiffInput {
  bindings: ResolvedBinding[];
  /** The identity's client ID; undefined when the identity was not found. */
  clientIdFor: (binding: ResolvedBinding) => string | undefined;
  /** Fallback tenant when the binding does not carry one (the identity's tenant from ARM). */
  tenantIdFor?: (binding: ResolvedBinding) => string | undefined;
  /** By serviceAccountKey(namespace, name); absent = the ServiceAccount does not exist. */
  observed: ReadonlyMap<string, ObservedServiceAccount>;
}

export interface ServiceAccountDiff {
  changes: ServiceAccountChange[];
  checks: PreflightCheck[];
}

export const serviceAccountKey = (namespace: string, name: string): string => `${namespace}/${name}`;

const where = (at: { file: string; line: number }): string => `${at.file}:${at.line}`;

/** The annotations this action writes on the binding's ServiceAccount, as they should be. */
function desiredAnnotations(b: ResolvedBinding, clientId: string, tenantId: string | undefined): Record<string, string> {
  const out: Record<string, string> = { ...b.annotations };
  // Ours win over a same-named key under `annotations:` in the mapping.
  out[ANNOTATION_CLIENT_ID] = clientId;
  if (tenantId) out[ANNOTATION_TENANT_ID] = tenantId;
  if (b.tokenExpiration !== undefined) out[ANNOTATION_TOKEN_EXPIRATION] = String(b.tokenExpiration);
  return out;
}

/** True when a change alters what the webhook injects into new pods (client or tenant). */
export function changesIdentity(change: Pick<ServiceAccountChange, 'action' | 'before'>): boolean {
  return change.action === 'annotate' && IDENTITY_ANNOTATIONS.some((k) => k in change.before);
}

/** Who else manages this ServiceAccount and may revert our annotations on their next sync. */
function otherManager(sa: ObservedServiceAccount): string | undefined {
  const managedBy = sa.labels[LABEL_MANAGED_BY];
  if (sa.annotations['meta.helm.sh/release-name'] || managedBy === 'Helm') {
    return `Helm (release ${sa.annotations['meta.helm.sh/release-name'] ?? 'unknown'})`;
  }
  if (sa.annotations['argocd.argoproj.io/tracking-id']) return 'Argo CD';
  if (sa.labels['kustomize.toolkit.fluxcd.io/name']) return `Flux (kustomization ${sa.labels['kustomize.toolkit.fluxcd.io/name']})`;
  if (managedBy && managedBy !== MANAGED_BY) return managedBy;
  return undefined;
}

/** Keys of `before` that are absent from `annotations`: our annotations to remove. */
const removedKeys = (change: Pick<ServiceAccountChange, 'annotations' | 'before'>): string[] =>
  Object.keys(change.before).filter((k) => !(k in change.annotations));

/**
 * The merge patch of an 'annotate' change: every wanted annotation, and null (RFC 7386:
 * delete) for each of ours the mapping no longer asks for.
 */
export function annotationPatch(change: Pick<ServiceAccountChange, 'annotations' | 'before'>): Record<string, string | null> {
  const patch: Record<string, string | null> = { ...change.annotations };
  for (const k of removedKeys(change)) patch[k] = null;
  return patch;
}

function describeBefore(before: Record<string, string>, after: Record<string, string>): string {
  return Object.keys(before)
    .sort()
    .map((k) => {
      const short = k.replace('azure.workload.identity/', '');
      if (!(k in after)) return `remove ${short} (was ${before[k]})`;
      return before[k] === '' ? `add ${short}=${after[k]}` : `${short} ${before[k]} → ${after[k]}`;
    })
    .join('; ');
}

export function diffServiceAccounts(input: ServiceAccountDiffInput): ServiceAccountDiff {
  const changes: ServiceAccountChange[] = [];
  const checks: PreflightCheck[] = [];
  const seen = new Map<string, { binding: ResolvedBinding; annotations: Record<string, string> }>();

  for (const b of input.bindings) {
    const key = serviceAccountKey(b.namespace, b.serviceAccount);
    const clientId = input.clientIdFor(b);
    if (!clientId) {
      checks.push({
        name: 'service-account',
        ok: false,
        severity: 'error',
        detail: `ServiceAccount ${key}: the client ID of identity '${b.identity.name}' is unknown (the identity was not found), so its annotations cannot be planned.`,
        fix: `Check that the identity '${b.identity.resourceId || b.identity.name}' exists and that the action's Azure login can read it.`,
        at: b.identityAt,
      });
      continue;
    }
    const tenantId = b.tenantId ?? input.tenantIdFor?.(b);
    const annotations = desiredAnnotations(b, clientId, tenantId);

    const earlier = seen.get(key);
    if (earlier) {
      // Two bindings (from different environments handed in together) on one ServiceAccount.
      const same = JSON.stringify(Object.entries(earlier.annotations).sort()) === JSON.stringify(Object.entries(annotations).sort());
      if (!same) {
        checks.push({
          name: 'service-account',
          ok: false,
          severity: 'error',
          detail: `ServiceAccount ${key} is bound twice with different annotations (${where(earlier.binding.at)} and ${where(b.at)}); a ServiceAccount can name one identity only.`,
          fix: 'Bind the ServiceAccount once per cluster, or use a different ServiceAccount for the second identity.',
          at: b.at,
        });
      }
      continue;
    }
    seen.set(key, { binding: b, annotations });

    const observed = input.observed.get(key);
    const base = { kind: 'service-account' as const, namespace: b.namespace, name: b.serviceAccount, binding: bindingKey(b) };

    if (!observed) {
      if (!b.createServiceAccount) {
        checks.push({
          name: 'service-account',
          ok: false,
          severity: 'error',
          detail: `ServiceAccount ${key} does not exist and the binding says createServiceAccount: false, so nothing would carry the identity.`,
          fix: `Create the ServiceAccount (with your chart or manifests) before applying, or set createServiceAccount: true at ${where(b.at)}.`,
          at: b.at,
        });
        continue;
      }
      changes.push({
        ...base,
        action: 'create',
        annotations,
        before: Object.fromEntries(Object.keys(annotations).map((k) => [k, ''])),
        labels: { [LABEL_MANAGED_BY]: MANAGED_BY },
        podsToRestart: [],
        reason: `ServiceAccount ${key} does not exist: create it for client ID ${clientId}.`,
      });
      continue;
    }

    const before: Record<string, string> = {};
    for (const [k, v] of Object.entries(annotations)) {
      const current = observed.annotations[k] ?? '';
      if (current !== v) before[k] = current;
    }
    for (const k of OWNED_ANNOTATIONS) {
      const current = observed.annotations[k];
      if (current === undefined || k in annotations) continue;
      // An unknown tenant is not "no tenant wanted": keep the one the ServiceAccount has.
      if (k === ANNOTATION_TENANT_ID) continue;
      // Only on ServiceAccounts this action created: on someone else's (Helm, by hand) the
      // annotation may be theirs, and removing it would fight their next sync forever.
      if (observed.labels[LABEL_MANAGED_BY] !== MANAGED_BY) continue;
      before[k] = current; // e.g. tokenExpiration dropped from the mapping
    }
    if (!Object.keys(before).length) {
      changes.push({ ...base, action: 'unchanged', annotations, before: {}, labels: {}, podsToRestart: [], reason: `ServiceAccount ${key} already carries client ID ${clientId}.` });
      continue;
    }

    // Only our annotations change on an existing ServiceAccount: its labels stay as they are
    // (no managed-by label: it is someone else's object, and Helm refuses to adopt objects
    // whose managed-by it does not own).
    const change: ServiceAccountChange = { ...base, action: 'annotate', annotations, before, labels: {}, podsToRestart: [], reason: '' };
    const parts = [`ServiceAccount ${key}: ${describeBefore(before, annotations)}.`];
    if (changesIdentity(change)) {
      // Only pods labelled for injection pick up the new identity when restarted; the others
      // get nothing from the webhook at all (workload readiness names their missing label).
      const pods = (observed.pods ?? []).filter((p) => p.usesWorkloadIdentity);
      const unlabelled = (observed.pods ?? []).length - pods.length;
      change.podsToRestart = pods.map((p) => p.name);
      if (pods.length) {
        const owners = [...new Set(pods.map((p) => p.owner).filter((o): o is string => Boolean(o)))];
        parts.push(
          `${pods.length} running pod(s) keep their current identity until restarted (the webhook only mutates new pods)` +
            (owners.length ? `: restart ${owners.join(', ')}.` : '.'),
        );
      }
      if (unlabelled) parts.push(`${unlabelled} running pod(s) lack the label azure.workload.identity/use: restarting them changes nothing (see workload readiness).`);
    }
    const manager = otherManager(observed);
    if (manager) {
      parts.push(`It is managed by ${manager}, which may revert these annotations on its next sync.`);
      const removed = removedKeys(change);
      checks.push({
        name: 'service-account',
        ok: false,
        severity: 'warning',
        detail: `ServiceAccount ${key} is managed by ${manager}; the annotations this action changes can be reverted on its next sync.`,
        fix:
          `Set the annotations in the source of the ServiceAccount as well:\n${Object.entries(annotations)
            .map(([k, v]) => `  ${k}: "${v}"`)
            .join('\n')}` + (removed.length ? `\nand remove there:\n${removed.map((k) => `  ${k}`).join('\n')}` : ''),
        at: b.at,
      });
    }
    change.reason = parts.join(' ');
    changes.push(change);
  }
  return { changes, checks };
}
