// The `result` output (DESIGN §6): one JSON document a later step can parse.
import type { CleanupPlan } from './discover/cleanup.ts';
import type { AppliedChange, FicChange, PreflightCheck, ServiceAccountChange } from './plan/types.ts';
import type { Mode } from './settings.ts';

export interface VerificationResult {
  namespace: string;
  serviceAccount: string;
  identity: string;
  ok: boolean;
  checks: { name: string; ok: boolean; detail: string }[];
  aadsts?: number;
  durationMs: number;
  /** The verification pod's name ('' when none was made). */
  pod?: string;
  /** iss/sub/aud of the projected token; tid/oid/appid of the access token. Never a token. */
  claims?: { token?: { iss?: string; sub?: string; aud?: string[]; exp?: number }; access?: { tid?: string; oid?: string; appid?: string } };
  /** Exchanges tried (more than one: propagation retries). */
  attempts?: number;
  /** A failure in plain language, naming the values, and what to do. */
  cause?: string;
  fix?: string;
  /** Set when the binding is not applied yet (mode verify): no pod was made. */
  notApplied?: boolean;
}

export interface ResultPlanEntry {
  kind: FicChange['kind'] | ServiceAccountChange['kind'];
  action: string;
  target: string; // identity/ficName or namespace/serviceAccount
  reason: string;
}

export interface ResultJson {
  version: 1;
  environment: string;
  mode: Mode;
  issuer: string;
  plan: ResultPlanEntry[];
  applied: { target: string; action: string; ok: boolean; error?: string; outcomeUnknown?: boolean }[];
  verifications: VerificationResult[];
  preflight: PreflightCheck[];
  /** After verification: Pod Identity objects that now serve nothing (src/discover/cleanup.ts). */
  podIdentityCleanup?: CleanupPlan;
  /** Workload readiness (DESIGN §6): every workload of every binding, with what stands between it and a token. */
  workloads?: { namespace: string; kind: string; name: string; serviceAccount: string; findings: { code: string; severity: string; detail: string; fix?: string }[] }[];
  problems: string[];
  /** Present only when the whole result would pass GitHub's 1 MB output limit: what was counted instead of listed. */
  truncated?: { reason: string; plan: number; applied: number; verifications: number; preflight: number; failuresListed?: number };
}

export function describeTarget(change: FicChange | ServiceAccountChange): string {
  return change.kind === 'federated-credential'
    ? `${change.identity.name}/${change.name}`
    : `${change.namespace}/${change.name}`;
}

export function planEntries(changes: (FicChange | ServiceAccountChange)[]): ResultPlanEntry[] {
  return changes.map((c) => ({ kind: c.kind, action: c.action, target: describeTarget(c), reason: c.reason }));
}

export function appliedEntries(applied: AppliedChange[]): ResultJson['applied'] {
  return applied.map((a) => ({
    target: describeTarget(a.change),
    action: a.change.action,
    ok: a.ok,
    ...(a.error ? { error: a.error } : {}),
    ...(a.outcomeUnknown ? { outcomeUnknown: true } : {}),
  }));
}
