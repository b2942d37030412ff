// The verification runner (DESIGN §6): one pod per binding, at most `concurrency` at once,
// followed by watch; the result line read from the log, and when there is none, the reason
// from the server (admission, image pull, scheduling, crash, deadline). Every pod it makes
// is deleted in every case: in `finally`, by the CleanupRegistry on SIGINT/SIGTERM, and by
// the post step through the invocation's label.
import pLimit from 'p-limit';
import type { CleanupRegistry } from '../cleanup.ts';
import { isAlreadyExists, isKubeApiError, type KubePort, type PodView } from '../kube/port.ts';
import type { LogSink } from '../output/sink.ts';
import type { VerificationResult } from '../result.ts';
import { diagnoseProbe, type Diagnosis, type DiagnosisContext } from './diagnosis.ts';
import type { Invocation } from './invocation.ts';
import { PROBE_CONTAINER, verificationPod } from './pod.ts';
import { RESULT_PREFIX, type ProbeExpectation, type ProbeResult } from './probe.ts';

export interface VerificationTarget extends DiagnosisContext {
  environment: string;
  tenantId: string;
}

export interface RunnerOptions {
  kube: KubePort;
  cleanups: CleanupRegistry;
  sink: LogSink;
  invocation: Invocation;
  image: string;
  /** verify-timeout: one pod, creation to result, the propagation wait included. */
  timeoutSeconds: number;
  concurrency: number;
  /** Aborts every verification (the run's deadline, a signal): pods are still deleted. */
  signal?: AbortSignal;
  /** First wait between propagation retries inside the pod (default 2 s). */
  backoffMs?: number;
}

/** Waiting reasons that will not heal by waiting (kubelet's image and config errors). */
const STUCK = new Set(['ErrImagePull', 'ImagePullBackOff', 'InvalidImageName', 'ErrImageNeverPull', 'CreateContainerConfigError', 'CreateContainerError', 'CrashLoopBackOff']);
const JWT = /eyJ[\w-]{4,}\.[\w-]{4,}\.[\w-]*/g;

/** How long the probe may retry, and one request's timeout: both inside verify-timeout. */
export function probeTimings(timeoutSeconds: number): { budgetMs: number; fetchTimeoutMs: number } {
  const total = timeoutSeconds * 1000;
  return { budgetMs: total - Math.min(30_000, total / 4), fetchTimeoutMs: Math.min(15_000, Math.floor(total / 4)) };
}

export function parseResultLine(log: string): ProbeResult | undefined {
  const line = log.split('\n').find((l) => l.startsWith(RESULT_PREFIX));
  if (!line) return undefined;
  try {
    return JSON.parse(line.slice(RESULT_PREFIX.length)) as ProbeResult;
  } catch {
    return undefined;
  }
}

function admissionFailure(err: unknown, t: VerificationTarget): Diagnosis {
  const e = isKubeApiError(err) ? err : undefined;
  // The API server's own words: without our operation prefix and the status line ("400: ", "403 Forbidden: ").
  const message = (e?.message ?? String(err)).replace(/^create pod [^:]+: (\d{3}(?: [A-Za-z]+)?: )?/, '');
  if (/violates PodSecurity/.test(message)) {
    return { cause: `Pod Security admission refused the verification pod: ${message}`, fix: `The pod meets "restricted"; check the enforce labels of namespace ${t.namespace} and any custom policy engine.` };
  }
  if (/error looking up service account|serviceaccount ".*" not found/.test(message)) {
    return { cause: `ServiceAccount ${t.namespace}/${t.serviceAccount} does not exist: ${message}`, fix: 'Run apply (createServiceAccount: true creates it), or deploy the chart that owns it first.' };
  }
  if (/admission webhook "mutation\.azure-workload-identity\.io"|failed calling webhook/.test(message)) {
    return { cause: `The workload identity webhook refused the pod: ${message}`, fix: 'The same happens to every workload pod of this ServiceAccount: fix what the webhook names (its token-expiration annotation, or the webhook Deployment in kube-system).' };
  }
  if (e?.status === 403) return { cause: `Not allowed to create the verification pod: ${message}`, fix: `Grant create, get, watch, delete on pods and get on pods/log in ${t.namespace} to the action's identity.` };
  return { cause: `The verification pod could not be created: ${message}`, fix: 'See the API server message.' };
}

async function eventsSummary(kube: KubePort, ns: string, name: string, reasons: string[], pattern = /./): Promise<string> {
  try {
    const events = await kube.listPodEvents(ns, name);
    const picked = events.filter((e) => reasons.includes(e.reason) && pattern.test(e.message)).map((e) => e.message);
    return [...new Set(picked)].slice(-2).join('; ');
  } catch {
    return '';
  }
}

/** Why the pod gave no result line, from its last state and events. */
async function podFailure(kube: KubePort, t: VerificationTarget, name: string, last: PodView | undefined, timedOut: boolean, timeoutSeconds: number, log: string): Promise<Diagnosis> {
  if (!last) return { cause: `The verification pod ${name} was deleted before it finished (by someone else, or the namespace went).`, fix: 'Run verify again.' };
  const w = last.waiting;
  if (w && /Image|ImageName|ImageNeverPull/.test(w.reason)) {
    const events = await eventsSummary(kube, t.namespace, name, ['Failed'], /^Failed to pull image/);
    return {
      cause: `The node could not pull the verification image (${w.reason}): ${events || w.message || ''}`,
      fix: "Set verify-image to an image the nodes can pull (AKS egress rules always allow mcr.microsoft.com), or pin the default by digest; private registries need the cluster's pull access.",
    };
  }
  if (last.unschedulable) {
    const events = await eventsSummary(kube, t.namespace, name, ['FailedScheduling']);
    return {
      cause: `The verification pod was never scheduled within verify-timeout (${timeoutSeconds} s): ${events || last.unschedulable}`,
      fix: 'Free or add Linux nodes (the pod asks for 50m CPU and 128Mi memory with nodeSelector kubernetes.io/os: linux); taints without a matching toleration also keep it Pending.',
    };
  }
  if (last.reason === 'DeadlineExceeded' || (timedOut && last.phase === 'Running')) {
    return { cause: `The probe did not finish within verify-timeout (${timeoutSeconds} s).`, fix: 'Raise verify-timeout; a slow node or image start counts against it.' };
  }
  if (w && STUCK.has(w.reason)) return { cause: `The probe container cannot start (${w.reason}): ${w.message ?? ''}`, fix: 'Check the image: it needs node on PATH.' };
  if (last.terminated || last.phase === 'Failed') {
    const tail = log.replace(JWT, '[token removed]').trim().split('\n').slice(-3).join(' | ');
    return {
      cause: `The probe exited with code ${last.terminated?.exitCode ?? '?'} (${last.terminated?.reason ?? last.phase}) without a result${tail ? `: ${tail}` : ''}.`,
      fix: last.terminated?.exitCode === 137 ? 'It was killed (OOMKilled needs more than the 128Mi limit: a LimitRange may lower it).' : 'Check that verify-image runs `node -e` (Node 20.16 or later).',
    };
  }
  return { cause: `The verification pod stayed ${last.phase}${w ? ` (${w.reason})` : ''} until verify-timeout (${timeoutSeconds} s).`, fix: 'Look at `kubectl describe pod` for a pod of this ServiceAccount.' };
}

function resultOf(t: VerificationTarget, started: number, pod: string, probe: ProbeResult | undefined, d: Diagnosis | undefined): VerificationResult {
  return {
    namespace: t.namespace,
    serviceAccount: t.serviceAccount,
    identity: t.identity,
    ok: !!probe?.ok && !d,
    checks: probe?.checks ?? [{ name: 'pod', ok: false, detail: d?.cause ?? 'no result' }],
    ...(probe?.aadsts !== undefined ? { aadsts: probe.aadsts } : {}),
    durationMs: Date.now() - started,
    pod,
    ...(probe?.token || probe?.access ? { claims: { ...(probe.token ? { token: probe.token } : {}), ...(probe.access ? { access: probe.access } : {}) } } : {}),
    ...(probe?.attempts ? { attempts: probe.attempts } : {}),
    ...(d ? { cause: d.cause, fix: d.fix } : {}),
  };
}

async function verifyOne(t: VerificationTarget, o: RunnerOptions): Promise<VerificationResult> {
  const started = Date.now();
  const { budgetMs, fetchTimeoutMs } = probeTimings(o.timeoutSeconds);
  const expect: ProbeExpectation = {
    clientId: t.clientId,
    tenantId: t.tenantId,
    issuer: t.issuer,
    subject: t.subject,
    audience: t.audience,
    scope: t.scope,
    retryPropagation: t.ficInArm,
    budgetMs,
    fetchTimeoutMs,
    backoffMs: o.backoffMs ?? 2000,
  };
  const pod = verificationPod({ invocation: o.invocation, environment: t.environment, namespace: t.namespace, serviceAccount: t.serviceAccount, image: o.image, timeoutSeconds: o.timeoutSeconds, expect });
  const { name, namespace } = pod.metadata;
  const deadline = AbortSignal.any([AbortSignal.timeout(o.timeoutSeconds * 1000), ...(o.signal ? [o.signal] : [])]);
  // Registered before the create: a signal during the call must still delete what it makes.
  const unregister = o.cleanups.add(`verification pod ${namespace}/${name}`, () => o.kube.deletePod(namespace, name));
  try {
    try {
      await o.kube.createPod(pod);
    } catch (err) {
      // The same name again (a retried create): it is this invocation's pod, follow it.
      if (!isAlreadyExists(err)) return resultOf(t, started, name, undefined, admissionFailure(err, t));
    }
    let last: PodView | undefined;
    let gone = false;
    await o.kube.followPod(
      namespace,
      name,
      (view) => {
        if (!view) return (gone = true);
        last = view;
        if (view.phase === 'Succeeded' || view.phase === 'Failed') return true;
        return !!view.waiting && STUCK.has(view.waiting.reason) && view.waiting.reason !== 'CrashLoopBackOff';
      },
      deadline,
    );
    const finished = !gone && (last?.phase === 'Succeeded' || last?.phase === 'Failed');
    const log = finished || last?.terminated ? await o.kube.readPodLog(namespace, name, PROBE_CONTAINER).catch(() => '') : '';
    const probe = parseResultLine(log);
    if (probe) return resultOf(t, started, name, probe, diagnoseProbe(probe, t));
    if (o.signal?.aborted) return resultOf(t, started, name, undefined, { cause: 'Stopped before the probe finished (the run was cancelled or reached its timeout).', fix: 'Run verify again.' });
    return resultOf(t, started, name, undefined, await podFailure(o.kube, t, name, gone ? undefined : last, deadline.aborted, o.timeoutSeconds, log));
  } finally {
    try {
      await o.kube.deletePod(namespace, name);
      unregister();
    } catch (err) {
      o.sink.warning(`Could not delete verification pod ${namespace}/${name} (the post step retries by label): ${(err as Error).message}`);
    }
  }
}

const seconds = (ms: number) => `${(ms / 1000).toFixed(1)} s`;

/** One line per binding in the job log; the diagnosis beneath a failure. */
export function logVerification(sink: LogSink, r: VerificationResult): void {
  const who = `${r.namespace}/${r.serviceAccount} → ${r.identity}`;
  if (r.ok) {
    const a = r.claims?.access;
    sink.info(`  verified  ${who}: token exchanged (tid ${a?.tid ?? '?'}, oid ${a?.oid ?? '?'}) in ${seconds(r.durationMs)}${r.attempts && r.attempts > 1 ? ` after ${r.attempts} attempts` : ''}`);
    return;
  }
  sink.info(`  FAILED    ${who}${r.aadsts !== undefined ? ` (AADSTS${r.aadsts})` : ''} after ${seconds(r.durationMs)}`);
  for (const c of r.checks.filter((c) => !c.ok)) sink.info(`            ${c.name}: ${c.detail}`);
  if (r.cause) sink.info(`            cause: ${r.cause}`);
  if (r.fix) sink.info(`            fix: ${r.fix}`);
}

export async function runVerifications(targets: VerificationTarget[], o: RunnerOptions): Promise<VerificationResult[]> {
  const limit = pLimit(Math.max(1, o.concurrency));
  return Promise.all(
    targets.map((t) =>
      limit(async () => {
        if (o.signal?.aborted) {
          return resultOf(t, Date.now(), '', undefined, { cause: 'Not started: the run was cancelled or reached its timeout.', fix: 'Run verify again.' });
        }
        const r = await verifyOne(t, o);
        logVerification(o.sink, r);
        return r;
      }),
    ),
  );
}
