// The `result` output (DESIGN §6): one JSON document a later step can parse.
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
