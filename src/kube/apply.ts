// Execute the ServiceAccount part of the plan. Creates carry our annotations and the
// managed-by label; existing ServiceAccounts get a merge patch of exactly our annotation
// keys (null for ours the mapping dropped), so their labels, other annotations, secrets
// and imagePullSecrets stay (unlike `azwi serviceaccount create`, which replaces the
// object). One failure does not stop the others.
import pLimit from 'p-limit';
import { isChange, type AppliedChange, type ServiceAccountChange } from '../plan/types.ts';
import { annotationPatch } from '../plan/service-accounts.ts';
import { createNetwork, cutOffInFlight, isDeadlineError, withRetry, type Network, type RetryOptions } from '../net/index.ts';
import { outcomeOf } from '../net/outcome.ts';
import { kubeFailure, kubeRetry } from './policy.ts';
import { isAlreadyExists, KubeApiError, type KubePort, type ServiceAccountState } from './port.ts';
import type { ClusterSnapshot } from './snapshot.ts';

export interface ApplyServiceAccountsOptions {
  concurrency: number;
  /** Request timeout, deadline and retry log (src/net). */
  net?: Network;
  /** Overrides of the write retry policy (tests use short delays). */
  retry?: Partial<RetryOptions<KubeApiError>>;
  /** The run's snapshot: every ServiceAccount written goes into it as the API server returned it, for verification to read. */
  snapshot?: ClusterSnapshot;
  /** One line per write, when it completes (as the FICs' apply logs them). */
  log?: (message: string) => void;
}

/** The first of our annotations that did not stick (an admission policy may strip, rewrite or keep them). */
function notApplied(patch: Record<string, string | null>, sa: ServiceAccountState): string | undefined {
  return Object.keys(patch).find((k) => (sa.annotations[k] ?? null) !== patch[k]);
}

/**
 * Applies every change that is not 'unchanged' and returns one AppliedChange per change
 * acted on ('unchanged' ones make no call and are not returned). `attempts` counts writes.
 */
export async function applyServiceAccounts(
  changes: ServiceAccountChange[],
  port: KubePort,
  options: ApplyServiceAccountsOptions,
): Promise<AppliedChange[]> {
  const limit = pLimit(Math.max(1, options.concurrency));
  const net = options.net ?? createNetwork();

  const applyOne = async (change: ServiceAccountChange): Promise<AppliedChange> => {
    const { namespace, name } = change;
    const what = `ServiceAccount ${namespace}/${name}`;
    if (net.deadline.passed()) return { change, ok: false, attempts: 0, error: `${what}: not started, the run's deadline passed (timeout: ${net.deadline.seconds} s)` };
    let attempts = 0;
    const write = async <T>(fn: () => Promise<T>): Promise<T> => {
      const result = await withRetry(
        fn,
        (err) => {
          const error = err instanceof KubeApiError ? err : new KubeApiError(what, (err as Error)?.message ?? String(err), undefined, isDeadlineError(err) ? 'DeadlineExceeded' : undefined, err);
          return { error, failure: kubeFailure(error) };
        },
        kubeRetry(net, net.write, what, options.retry),
      );
      attempts += result.attempts;
      if ('error' in result) throw result.error;
      return result.value;
    };
    const patch = annotationPatch(change);
    try {
      let sa: ServiceAccountState;
      if (change.action === 'create') {
        try {
          sa = await write(() => port.createServiceAccount({ namespace, name, labels: change.labels, annotations: change.annotations }));
        } catch (err) {
          if (!isAlreadyExists(err)) throw err;
          // Created by someone else since the plan: it is theirs now, so only our
          // annotations go onto it (no managed-by label), as for any existing ServiceAccount.
          sa = await write(() => port.patchServiceAccountAnnotations(namespace, name, patch));
        }
      } else {
        sa = await write(() => port.patchServiceAccountAnnotations(namespace, name, patch));
      }
      options.snapshot?.record('serviceaccounts', sa);
      const lost = notApplied(patch, sa);
      if (lost) {
        const wanted = patch[lost];
        return {
          change,
          ok: false,
          attempts,
          error:
            `ServiceAccount ${namespace}/${name}: written, but the API server returned ${lost}='${sa.annotations[lost] ?? ''}' ` +
            `${wanted === null ? 'instead of removing it' : `instead of '${wanted}'`} (an admission policy may strip or rewrite it) ` +
            `(binding at ${change.binding.at.file}:${change.binding.at.line})`,
        };
      }
      return { change, ok: true, attempts };
    } catch (err) {
      if (cutOffInFlight(err)) return { change, ok: false, attempts, error: outcomeOf(what), outcomeUnknown: true };
      return {
        change,
        ok: false,
        attempts,
        error: `ServiceAccount ${namespace}/${name} (binding at ${change.binding.at.file}:${change.binding.at.line}): ${(err as Error).message}`,
      };
    }
  };

  const past = { create: 'created', annotate: 'annotated', update: 'updated' } as Record<string, string>;
  return Promise.all(
    changes.filter(isChange).map((c) =>
      limit(async () => {
        const applied = await applyOne(c);
        options.log?.(applied.ok ? `${past[c.action] ?? c.action} ServiceAccount ${c.namespace}/${c.name}` : `${applied.error ?? `ServiceAccount ${c.namespace}/${c.name}: failed`}`);
        return applied;
      }),
    ),
  );
}
