// The verify stage: from the plan (and what apply did) to one target per binding, then the
// runner. A binding whose federated credential or ServiceAccount is not in place is
// reported "not applied" without a pod: in `mode: verify` that is drift, and it fails the run.
import type { CleanupRegistry } from '../cleanup.ts';
import type { KubePort } from '../kube/port.ts';
import type { ResolvedBinding } from '../mapping/types.ts';
import type { LogSink } from '../output/sink.ts';
import type { AppliedChange, FicChange, Plan, ServiceAccountChange } from '../plan/types.ts';
import type { VerificationResult } from '../result.ts';
import type { Invocation } from './invocation.ts';
import { logVerification, runVerifications, type VerificationTarget } from './runner.ts';

const CLIENT_ID = 'azure.workload.identity/client-id';
const TENANT_ID = 'azure.workload.identity/tenant-id';

export interface VerifyStageInput {
  plan: Plan;
  bindings: ResolvedBinding[];
  /** What apply did; undefined in mode verify (nothing was written). */
  applied?: AppliedChange[];
  scope: string;
  image: string;
  timeoutSeconds: number;
  concurrency: number;
  invocation: Invocation;
  kube: KubePort;
  cleanups: CleanupRegistry;
  sink: LogSink;
  signal?: AbortSignal;
  backoffMs?: number;
  /** Called with the namespaces before the first pod is made (the post step needs them). */
  beforePods?: (namespaces: string[]) => void;
}

const serves = (c: FicChange, b: ResolvedBinding) => c.bindings.some((k) => k.environment === b.environment && k.namespace === b.namespace && k.serviceAccount === b.serviceAccount);

/** In place: unchanged or adopted before, or written by this apply. */
function inPlace(change: FicChange | ServiceAccountChange | undefined, applied: AppliedChange[] | undefined): boolean {
  if (!change) return false;
  if (change.action === 'unchanged' || change.action === 'adopt') return true;
  return !!applied?.some((a) => a.change === change && a.ok);
}

function notApplied(b: ResolvedBinding, why: string): VerificationResult {
  return {
    namespace: b.namespace,
    serviceAccount: b.serviceAccount,
    identity: b.identity.name,
    ok: false,
    notApplied: true,
    checks: [{ name: 'applied', ok: false, detail: why }],
    durationMs: 0,
    cause: `Not applied: ${why}. No pod was made.`,
    fix: 'Run this action in apply mode for this environment (plan shows what it would write).',
  };
}

export async function verifyStage(input: VerifyStageInput): Promise<VerificationResult[]> {
  const { plan } = input;
  const results: VerificationResult[] = [];
  const targets: VerificationTarget[] = [];
  for (const b of input.bindings.filter((b) => b.verify.enabled)) {
    const fic = plan.federatedCredentials.find((c) => c.action !== 'delete' && serves(c, b));
    const sa = plan.serviceAccounts.find((c) => c.namespace === b.namespace && c.name === b.serviceAccount);
    const missing = [
      ...(inPlace(fic, input.applied) ? [] : [`federated credential ${fic ? `'${fic.name}' on '${fic.identity.name}' (${fic.action})` : `for identity '${b.identity.name}'`}`]),
      ...(inPlace(sa, input.applied) ? [] : [`ServiceAccount ${b.namespace}/${b.serviceAccount}${sa ? ` (${sa.action})` : ''}`]),
    ];
    if (!fic || !sa || missing.length) {
      results.push(notApplied(b, `${missing.join(' and ')} not in place`));
      continue;
    }
    targets.push({
      environment: b.environment,
      namespace: b.namespace,
      serviceAccount: b.serviceAccount,
      identity: b.identity.name,
      clientId: sa.annotations[CLIENT_ID] ?? fic.identity.clientId,
      tenantId: sa.annotations[TENANT_ID] ?? fic.identity.tenantId,
      issuer: plan.issuer,
      subject: b.subject,
      audience: b.audience,
      scope: b.verify.scope || input.scope,
      // Unchanged, adopted or just written: ARM holds a FIC with exactly these values.
      ficInArm: true,
      ficName: fic.name,
      ficWritten: !!input.applied?.some((a) => a.change === fic && a.ok),
    });
  }
  for (const r of results) logVerification(input.sink, r);
  if (targets.length) {
    input.beforePods?.([...new Set(targets.map((t) => t.namespace))]);
    results.push(
      ...(await runVerifications(targets, {
        kube: input.kube,
        cleanups: input.cleanups,
        sink: input.sink,
        invocation: input.invocation,
        image: input.image,
        timeoutSeconds: input.timeoutSeconds,
        concurrency: input.concurrency,
        signal: input.signal,
        backoffMs: input.backoffMs,
      })),
    );
  }
  const order = (r: VerificationResult) => input.bindings.findIndex((b) => b.namespace === r.namespace && b.serviceAccount === r.serviceAccount);
  return results.sort((a, b) => order(a) - order(b));
}
