// What every preflight check shares: the run's inputs, the cluster port, one memoised
// access review, and the shape of a finding (a PreflightCheck, carrying its mapping line
// where one binding is the cause, so the summary and annotations can point at it).
import type pLimit from 'p-limit';
import type { ResolvedBinding, SourcePosition } from '../../mapping/types.ts';
import type { PreflightCheck, Severity } from '../../plan/types.ts';
import type { AccessQuery, KubePort, OpenIdConfiguration } from '../port.ts';
import type { ClusterSnapshot } from '../snapshot.ts';

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
  /** The cluster's discovery document when the caller has asked for it already (plan reads it once). */
  discovery?: Promise<OpenIdConfiguration>;
  /** The run's cluster snapshot (src/kube/snapshot.ts): the dry run reads its ServiceAccount from it. */
  snapshot?: ClusterSnapshot;
}

/** Handed to every check: what they read, computed once. */
export interface PreflightContext {
  input: PreflightInput;
  port: KubePort;
  limit: ReturnType<typeof pLimit>;
  /** The bindings' distinct namespaces, sorted. */
  namespaces: string[];
  bindingsIn(namespace: string): ResolvedBinding[];
  /** A SelfSubjectAccessReview, asked once per query. */
  ask(query: AccessQuery): Promise<boolean>;
}

export function check(name: string, ok: boolean, severity: Severity, detail: string, fix?: string, at?: SourcePosition): PreflightCheck {
  const c: PreflightCheck = { name, ok, severity, detail };
  if (fix) c.fix = fix;
  if (at) c.at = at;
  return c;
}

/** `file:line` of each binding, for messages that name several. */
export const lines = (bs: ResolvedBinding[]): string => bs.map((b) => `${b.at.file}:${b.at.line}`).join(', ');

/** Asks each distinct access query once, however many checks need its answer. */
export function accessReviews(port: KubePort): (q: AccessQuery) => Promise<boolean> {
  const answers = new Map<string, boolean>();
  const answerKey = (q: AccessQuery) => `${q.verb}|${q.group ?? ''}|${q.resource}|${q.subresource ?? ''}|${q.namespace ?? ''}`;
  return async (q) => {
    const key = answerKey(q);
    const known = answers.get(key);
    if (known !== undefined) return known;
    const a = await port.selfSubjectAccessReview(q);
    answers.set(key, a.allowed);
    return a.allowed;
  };
}
