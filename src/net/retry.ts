// The one retry policy (DESIGN §2, "one retry policy"), for ARM, Entra, Kubernetes and
// GitHub alike. Shaped like core-rest-pipeline's retryPolicy: each service turns its error
// into a Failure (status, code, Retry-After); one decision says whether and how long to
// wait; one loop waits, retries and logs every retry with its reason.
//
// Retried: 429 (waiting at least Retry-After, never less; a Retry-After beyond the cap ends
// the retries rather than retrying early), 408, 5xx except 501/505, a request that got no
// answer (reset, refused, DNS, our request timeout), and what the service marks as healing
// (ARM's 409 ConcurrentFederatedIdentityCredentialsWritesForSingleManagedIdentity).
// Everything else (400, 401, 403, 404, other 409s, 422) is final: retrying cannot change the
// answer. No wait reaches past the run's deadline, and the deadline itself is final.
import { NO_DEADLINE, isDeadlineError, type Deadline } from './deadline.ts';
import { formatSeconds } from './timeout.ts';

/** A failed attempt as the policy sees it. */
export interface Failure {
  /** HTTP status; undefined when no answer came (network error, timeout). */
  status?: number;
  /** The service's error code (ARM code, Kubernetes reason), or a Node network code. */
  code: string;
  /** From Retry-After / retry-after-ms / x-ms-retry-after-ms, in ms. */
  retryAfterMs?: number;
  /** The service says this one heals by itself (e.g. ARM's concurrent-writes 409). */
  heals?: boolean;
  /** Must not be repeated whatever it was (a POST that may have been processed). */
  final?: boolean;
}

export interface RetryPolicy {
  /** Total attempts, first one included. */
  maxAttempts: number;
  /** First backoff step; doubles per attempt, with jitter. */
  baseDelayMs: number;
  /** Cap of one backoff step. */
  maxDelayMs: number;
  /** A Retry-After longer than this ends the retries. */
  maxRetryAfterMs: number;
}

export const WRITE_RETRY: RetryPolicy = { maxAttempts: 6, baseDelayMs: 1000, maxDelayMs: 15_000, maxRetryAfterMs: 60_000 };
export const READ_RETRY: RetryPolicy = { maxAttempts: 4, baseDelayMs: 500, maxDelayMs: 8_000, maxRetryAfterMs: 60_000 };

export interface RetryEvent<E> {
  /** The attempt that failed, 1-based. */
  attempt: number;
  maxAttempts: number;
  delayMs: number;
  error: E;
  failure: Failure;
  /** E.g. "ServiceUnavailable (HTTP 503)", "RequestTimeout", "TooManyRequests (HTTP 429), Retry-After 7 s". */
  reason: string;
}

export interface RetryOptions<E = Error> extends RetryPolicy {
  sleep?: (ms: number) => Promise<void>;
  random?: () => number;
  /** No wait past it; once passed, no further attempt. */
  deadline?: Deadline;
  onRetry?: (event: RetryEvent<E>) => void;
}

/** Codes of a request that got no answer: worth another try. */
export const NO_ANSWER_CODES = new Set([
  'RequestTimeout',
  'ETIMEDOUT',
  'ESOCKETTIMEDOUT',
  'ECONNREFUSED',
  'ECONNRESET',
  'EPIPE',
  'ENOTFOUND',
  'EAI_AGAIN',
  'REQUEST_SEND_ERROR',
  'UND_ERR_SOCKET',
  'UND_ERR_CONNECT_TIMEOUT',
  'UND_ERR_HEADERS_TIMEOUT',
  'UND_ERR_BODY_TIMEOUT',
]);

export function isRetryable(f: Failure): boolean {
  if (f.final || f.code === 'DeadlineExceeded') return false;
  if (f.heals) return true;
  const s = f.status;
  if (s === undefined) return NO_ANSWER_CODES.has(f.code);
  return s === 429 || s === 408 || (s >= 500 && s !== 501 && s !== 505);
}

/** "ServiceUnavailable (HTTP 503)" — the words a retry line gives as its reason. */
export function reasonOf(f: Failure): string {
  if (f.code === 'RequestTimeout' && f.status === undefined) return 'no answer within the request timeout';
  if (f.status !== undefined && f.code === `HTTP${f.status}`) return `HTTP ${f.status}`;
  return `${f.code}${f.status ? ` (HTTP ${f.status})` : ''}`;
}

/**
 * Delay before the next attempt, or undefined when the failure is final. `attempt` is the
 * 1-based attempt that failed.
 */
export function retryDelay(f: Failure, attempt: number, opts: RetryPolicy & { random?: () => number }): number | undefined {
  if (attempt >= opts.maxAttempts || !isRetryable(f)) return undefined;
  if ((f.status === 429 || f.status === 503) && f.retryAfterMs !== undefined) {
    return f.retryAfterMs > opts.maxRetryAfterMs ? undefined : f.retryAfterMs;
  }
  // Equal jitter: half the step fixed, half random, so two runs that collided (409 on one
  // identity, a throttled API server) do not collide again on the same beat.
  const step = Math.min(opts.maxDelayMs, opts.baseDelayMs * 2 ** (attempt - 1));
  return step / 2 + (opts.random ?? Math.random)() * (step / 2);
}

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

export type Attempted<T, E> = { value: T; attempts: number } | { error: E; attempts: number };

/**
 * Runs `fn` until it succeeds, the failure is final, the attempts are spent or the next
 * wait would pass the deadline. `classify` turns what `fn` threw into the caller's error
 * type and its Failure. Reports the attempts made.
 */
export async function withRetry<T, E>(
  fn: (attempt: number) => Promise<T>,
  classify: (err: unknown) => { error: E; failure: Failure },
  opts: RetryOptions<E>,
): Promise<Attempted<T, E>> {
  const deadline = opts.deadline ?? NO_DEADLINE;
  for (let attempt = 1; ; attempt++) {
    try {
      return { value: await fn(attempt), attempts: attempt };
    } catch (err) {
      const { error, failure } = classify(err);
      const delayMs = isDeadlineError(err) ? undefined : retryDelay(failure, attempt, opts);
      if (delayMs === undefined || delayMs >= deadline.remainingMs()) return { error, attempts: attempt };
      const honoured = delayMs === failure.retryAfterMs ? `, Retry-After ${formatSeconds(delayMs)}` : '';
      opts.onRetry?.({ attempt, maxAttempts: opts.maxAttempts, delayMs, error, failure, reason: reasonOf(failure) + honoured });
      await (opts.sleep ?? sleep)(delayMs);
      if (deadline.passed()) return { error, attempts: attempt };
    }
  }
}

/** The standard retry line: "<what>: <reason>, retrying in 1.2 s (attempt 2 of 4)". */
export function retryLine(what: string, e: { reason: string; delayMs: number; attempt: number; maxAttempts: number }): string {
  return `${what}: ${e.reason}, retrying in ${(e.delayMs / 1000).toFixed(1)} s (attempt ${e.attempt + 1} of ${e.maxAttempts})`;
}
