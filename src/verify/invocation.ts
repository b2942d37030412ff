// Who made a verification pod: this action, in this invocation (DESIGN §2 cross-stage
// decisions). The post step of one matrix job must never delete another job's pods, and a
// re-run (a new attempt) must not delete the pods of the attempt still running, so the
// label names the run id, the attempt, the job and a random part drawn once per invocation.
import { createHash, randomBytes } from 'node:crypto';

export const MANAGED_BY_LABEL = 'app.kubernetes.io/managed-by';
export const MANAGED_BY = 'workload-identity-action';
export const COMPONENT_LABEL = 'app.kubernetes.io/component';
export const COMPONENT = 'verification';
export const INVOCATION_LABEL = 'workload-identity-action/invocation';
export const RUN_ID_LABEL = 'workload-identity-action/run-id';
export const RUN_ATTEMPT_LABEL = 'workload-identity-action/run-attempt';
export const JOB_LABEL = 'workload-identity-action/job';
/** core.saveState key: the post step reads the invocation from it. */
export const INVOCATION_STATE_KEY = 'verification-invocation';

export interface Invocation {
  runId: string;
  attempt: string;
  job: string;
  /** The label value that identifies this invocation's pods: ≤ 63 characters. */
  id: string;
}

/** A label value: ≤ 63 characters of [A-Za-z0-9._-], alphanumeric at both ends. */
export function labelValue(raw: string): string {
  const v = raw.replace(/[^A-Za-z0-9._-]/g, '-').slice(0, 63).replace(/^[^A-Za-z0-9]+|[^A-Za-z0-9]+$/g, '');
  return v;
}

const short = (s: string, n: number) => createHash('sha256').update(s).digest('hex').slice(0, n);

export function newInvocation(env: Record<string, string | undefined>, random: string = randomBytes(4).toString('hex')): Invocation {
  const runId = labelValue(env['GITHUB_RUN_ID'] ?? '') || 'local';
  const attempt = labelValue(env['GITHUB_RUN_ATTEMPT'] ?? '') || '1';
  const job = labelValue(env['GITHUB_JOB'] ?? '') || 'job';
  // The job name can be long (and matrix jobs share it): a hash keeps the id short and exact.
  const id = labelValue(`${runId.slice(0, 20)}-${attempt.slice(0, 4)}-${short(env['GITHUB_JOB'] ?? '', 6)}-${random}`);
  return { runId, attempt, job, id };
}

/** Labels every verification pod of this invocation carries. */
export function invocationLabels(inv: Invocation): Record<string, string> {
  return {
    [MANAGED_BY_LABEL]: MANAGED_BY,
    [COMPONENT_LABEL]: COMPONENT,
    [INVOCATION_LABEL]: inv.id,
    [RUN_ID_LABEL]: inv.runId,
    [RUN_ATTEMPT_LABEL]: inv.attempt,
    [JOB_LABEL]: inv.job,
  };
}

/** The selector of exactly this invocation's pods (the only ones ever deleted by label). */
export function invocationSelector(id: string): string {
  return `${MANAGED_BY_LABEL}=${MANAGED_BY},${INVOCATION_LABEL}=${id}`;
}

/** Deterministic per binding and invocation: a retried create cannot make a second pod. */
export function verificationPodName(inv: Invocation, environment: string, namespace: string, serviceAccount: string): string {
  const readable = serviceAccount.replace(/[^a-z0-9-]/g, '-').slice(0, 30).replace(/-+$/, '');
  return `wi-verify-${readable}-${short(`${inv.id}\n${environment}\n${namespace}\n${serviceAccount}`, 10)}`;
}

/** What main records (core.saveState) before the first pod, for the post step. */
export interface RecordedPods {
  id: string;
  namespaces: string[];
}

export function parseRecordedPods(state: string): RecordedPods | undefined {
  if (!state) return undefined;
  try {
    const v = JSON.parse(state) as Partial<RecordedPods>;
    if (typeof v.id !== 'string' || !v.id || !Array.isArray(v.namespaces)) return undefined;
    return { id: v.id, namespaces: v.namespaces.filter((n): n is string => typeof n === 'string') };
  } catch {
    return undefined;
  }
}
