// The one retry policy for ARM calls. The SDK clients are built with their own retries off
// (port.ts) so that a throttled write is not retried twice by two layers (the SDK's
// defaultRetryPolicy retries 429/503 only when Retry-After is present, and 5xx/408/network
// errors 3 times with its own backoff; stacking ours on top would multiply attempts and
// hide them from AppliedChange.attempts).
//
// Retried: 409 ConcurrentFederatedIdentityCredentialsWritesForSingleManagedIdentity (another
// writer on the same identity: Azure serializes FIC writes per identity), 429 (waiting at
// least Retry-After, never less), 408, 5xx except 501/505, and network errors. Everything
// else (400, 403, 404, other 409s) is final: retrying cannot change the answer.
import { AzureCallError, CONCURRENT_FIC_WRITES, toAzureError } from './errors.ts';

export interface RetryOptions {
  /** Total attempts, first one included. */
  maxAttempts: number;
  /** First backoff step; doubles per attempt, with jitter. */
  baseDelayMs: number;
  /** Cap of one backoff step. */
  maxDelayMs: number;
  /** A Retry-After longer than this ends the retries (we do not retry early against a 429). */
  maxRetryAfterMs: number;
  sleep?: (ms: number) => Promise<void>;
  random?: () => number;
  onRetry?: (info: { attempt: number; delayMs: number; error: AzureCallError }) => void;
}

export const WRITE_RETRY: RetryOptions = { maxAttempts: 6, baseDelayMs: 1000, maxDelayMs: 15_000, maxRetryAfterMs: 60_000 };
export const READ_RETRY: RetryOptions = { maxAttempts: 4, baseDelayMs: 500, maxDelayMs: 8_000, maxRetryAfterMs: 60_000 };

const NETWORK_CODES = new Set(['ETIMEDOUT', 'ESOCKETTIMEDOUT', 'ECONNREFUSED', 'ECONNRESET', 'EPIPE', 'ENOTFOUND', 'EAI_AGAIN', 'REQUEST_SEND_ERROR']);

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

/** Delay before the next attempt, or undefined when the error is final. `attempt` is 1-based (the one that failed). */
export function retryDelay(error: AzureCallError, attempt: number, opts: RetryOptions): number | undefined {
  if (attempt >= opts.maxAttempts) return undefined;
  const status = error.statusCode;
  const retryable =
    (status === 409 && error.code === CONCURRENT_FIC_WRITES) ||
    status === 429 ||
    status === 408 ||
    (status !== undefined && status >= 500 && status !== 501 && status !== 505) ||
    (status === undefined && NETWORK_CODES.has(error.code));
  if (!retryable) return undefined;
  // Equal jitter: half the step fixed, half random, so two pipelines that collided on one
  // identity (409) do not collide again on the same beat.
  const step = Math.min(opts.maxDelayMs, opts.baseDelayMs * 2 ** (attempt - 1));
  const backoff = step / 2 + (opts.random ?? Math.random)() * (step / 2);
  if ((status === 429 || status === 503) && error.retryAfterMs !== undefined) {
    if (error.retryAfterMs > opts.maxRetryAfterMs) return undefined;
    return error.retryAfterMs;
  }
  return backoff;
}

/** Runs `fn` until it succeeds or the error is final; reports the attempts made. */
export async function withRetry<T>(
  operation: string,
  fn: () => Promise<T>,
  opts: RetryOptions,
): Promise<{ value: T; attempts: number } | { error: AzureCallError; attempts: number }> {
  for (let attempt = 1; ; attempt++) {
    try {
      return { value: await fn(), attempts: attempt };
    } catch (err) {
      const error = toAzureError(operation, err);
      const delayMs = retryDelay(error, attempt, opts);
      if (delayMs === undefined) return { error, attempts: attempt };
      opts.onRetry?.({ attempt, delayMs, error });
      await (opts.sleep ?? sleep)(delayMs);
    }
  }
}

/** Like withRetry, but throws the final error (for reads, where attempts do not matter). */
export async function retrying<T>(operation: string, fn: () => Promise<T>, opts: RetryOptions = READ_RETRY): Promise<T> {
  const result = await withRetry(operation, fn, opts);
  if ('error' in result) throw result.error;
  return result.value;
}
