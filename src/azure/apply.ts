// Execute the federated-credential changes of a plan. Azure serializes FIC writes per
// identity (a parallel write on the same identity gets 409
// ConcurrentFederatedIdentityCredentialsWritesForSingleManagedIdentity), and writes to
// different identities are independent. So: one chain of writes per identity, in the order
// the plan gives (federated-credentials.ts decides creates vs deletes first near the 20
// limit). With `concurrency: auto` every identity gets its own worker (at most 32), so the
// wall time is about the longest chain, not the sum of all writes; a number caps the
// identities written at once. Every write, first or retried, waits for write-pacing.ts:
// writes start slowly and are paced to ARM's documented limits once a 429 says they apply,
// so identities take turns instead of one identity's writes going out in a row.
import pLimit from 'p-limit';
import { identityKey } from '../mapping/identity.ts';
import type { AppliedChange, FicChange } from '../plan/types.ts';
import type { AzurePort } from './port.ts';
import { createNetwork, cutOffInFlight, type Network } from '../net/index.ts';
import { outcomeOf } from '../net/outcome.ts';
import { toAzureError } from './errors.ts';
import { armRetry, withRetry, type RetryOptions } from './retry.ts';
import { createWritePacer, type WritePacer } from './write-pacing.ts';

export interface ApplyOptions {
  /** How many identities are written at the same time (the `concurrency` input): 'auto' = each its own, at most 32. */
  concurrency: number | 'auto';
  log?: (message: string) => void;
  /** Request timeout, deadline and retry log (src/net); retry lines go to `net.log`, or `log` without it. */
  net?: Network;
  /** Overrides of the write retry policy (tests use short delays). */
  retry?: Partial<RetryOptions>;
  /** Paces the writes (tests may share one between runs); default a new one per call. */
  pacer?: WritePacer;
}

/** Identities written at once with `concurrency: auto`: each its own writer, up to this. */
export const AUTO_WRITERS = 32;

/** One attempt of a write, when the pacer lets it start; its outcome goes back to the pacer. */
async function paced<T>(pacer: WritePacer, change: FicChange, operation: string, write: () => Promise<T>, net: Network): Promise<T> {
  const ticket = await pacer.acquire(change.identity.subscriptionId, identityKey(change.identity.resourceId), net.deadline.signal);
  try {
    const value = await write();
    pacer.done(ticket, { ok: true });
    return value;
  } catch (err) {
    const error = toAzureError(operation, err);
    pacer.done(ticket, { ok: false, ...(error.statusCode !== undefined ? { status: error.statusCode } : {}), ...(error.retryAfterMs !== undefined ? { retryAfterMs: error.retryAfterMs } : {}), ...(error.exhausted ? { exhausted: error.exhausted } : {}) });
    throw error;
  }
}

const isWrite = (c: FicChange): boolean => c.action === 'create' || c.action === 'update' || c.action === 'delete';

const past = { create: 'created', update: 'updated', delete: 'deleted' } as const;

/** Applies the writes among `changes` (adopt/unchanged are skipped); results keep the input order. */
export async function applyFederatedCredentials(changes: FicChange[], port: AzurePort, opts: ApplyOptions): Promise<AppliedChange[]> {
  const chains = new Map<string, { change: FicChange; index: number }[]>();
  changes.forEach((change, index) => {
    if (!isWrite(change)) return;
    const key = identityKey(change.identity.resourceId);
    const chain = chains.get(key);
    if (chain) chain.push({ change, index });
    else chains.set(key, [{ change, index }]);
  });

  const net = opts.net ?? createNetwork({ log: (line) => opts.log?.(line) });
  const results = new Map<number, AppliedChange>();
  const writers = opts.concurrency === 'auto' ? Math.min(AUTO_WRITERS, chains.size) : opts.concurrency;
  const limit = pLimit(Math.max(1, writers));
  const pacer = opts.pacer ?? createWritePacer({ writers, log: (line) => opts.log?.(line) });
  // Longest chains first: when there are more identities than `concurrency`, starting the
  // long chains early keeps the wall time close to the longest chain (LPT scheduling).
  const ordered = [...chains.values()].sort((a, b) => b.length - a.length);
  await Promise.all(
    ordered.map((chain) =>
      limit(async () => {
        // Serial within the identity, and a failed write does not stop the next ones: they
        // are independent credentials, and the report lists each failure with its code.
        for (const { change, index } of chain) {
          const what = `federated credential '${change.name}' on identity '${change.identity.name}'`;
          if (net.deadline.passed()) {
            results.set(index, { change, ok: false, attempts: 0, error: `${what}: not started, the run's deadline passed (timeout: ${net.deadline.seconds} s)` });
            continue;
          }
          const retry: RetryOptions = armRetry(net, net.write, what, opts.retry);
          const operation = `${change.action.toUpperCase()} ${what}`;
          const write = (): Promise<unknown> =>
            change.action === 'delete' ? port.deleteFederatedCredential(change.identity, change.name) : port.putFederatedCredential(change.identity, change.desired!);
          const result = await withRetry(operation, () => paced(pacer, change, operation, write, net), retry);
          if ('error' in result) {
            const unknown = cutOffInFlight(result.error);
            const error = unknown ? outcomeOf(what) : result.error.message;
            opts.log?.(`${what}: failed after ${result.attempts} attempt(s): ${error}`);
            results.set(index, { change, ok: false, error, attempts: result.attempts, ...(unknown ? { outcomeUnknown: true } : {}) });
          } else {
            opts.log?.(`${past[change.action as keyof typeof past]} ${what}`);
            results.set(index, { change, ok: true, attempts: result.attempts });
          }
        }
      }),
    ),
  );
  return [...results.entries()].sort((a, b) => a[0] - b[0]).map(([, r]) => r);
}
