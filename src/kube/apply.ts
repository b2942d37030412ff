// Execute the ServiceAccount part of the plan. Creates carry our annotations and the
// managed-by label; existing ServiceAccounts get a merge patch of exactly our annotation
// keys (null for ours the mapping dropped), so their labels, other annotations, secrets
// and imagePullSecrets stay (unlike `azwi serviceaccount create`, which replaces the
// object). One failure does not stop the others.
import pLimit from 'p-limit';
import { isChange, type AppliedChange, type ServiceAccountChange } from '../plan/types.ts';
import { annotationPatch } from '../plan/service-accounts.ts';
import { isAlreadyExists, isKubeApiError, type KubePort, type ServiceAccountState } from './port.ts';

export interface ApplyServiceAccountsOptions {
  concurrency: number;
  /** Attempts per write for throttling, 5xx and network errors; default 3. */
  maxAttempts?: number;
  /** First backoff in ms, doubled per attempt; default 500. */
  retryDelayMs?: number;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

function transient(err: unknown): boolean {
  if (!isKubeApiError(err)) return false;
  return err.status === undefined || err.status === 429 || err.status >= 500;
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
  const maxAttempts = options.maxAttempts ?? 3;
  const delay = options.retryDelayMs ?? 500;

  const applyOne = async (change: ServiceAccountChange): Promise<AppliedChange> => {
    let attempts = 0;
    const write = async <T>(fn: () => Promise<T>): Promise<T> => {
      for (;;) {
        attempts += 1;
        try {
          return await fn();
        } catch (err) {
          if (!transient(err) || attempts >= maxAttempts) throw err;
          await sleep(delay * 2 ** (attempts - 1));
        }
      }
    };
    const { namespace, name } = change;
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
      return {
        change,
        ok: false,
        attempts,
        error: `ServiceAccount ${namespace}/${name} (binding at ${change.binding.at.file}:${change.binding.at.line}): ${(err as Error).message}`,
      };
    }
  };

  return Promise.all(changes.filter(isChange).map((c) => limit(() => applyOne(c))));
}
