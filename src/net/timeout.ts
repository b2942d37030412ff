// One request timeout for every call the action makes (ARM, Entra, Kubernetes, GitHub):
// 30 s unless an internal setting lowers it (tests; not an action input). A request that
// gets no complete answer in that time is aborted and fails with RequestTimeoutError,
// which the retry policy treats like a reset connection. The same signal also carries the
// run's deadline: a call in flight when it passes fails with a DeadlineError instead.
import { recognisedAcrossBundles } from '../cross-bundle.ts';
import { DeadlineError, NO_DEADLINE, type Deadline } from './deadline.ts';

export const DEFAULT_REQUEST_TIMEOUT_MS = 30_000;
/** Internal: tests lower the timeout of the built action with it. Not documented as an input on purpose. */
export const REQUEST_TIMEOUT_ENV = 'WORKLOAD_IDENTITY_REQUEST_TIMEOUT_MS';

export class RequestTimeoutError extends Error {
  /** Reads like a Node network code, so every error classifier treats it as one. */
  readonly code = 'RequestTimeout';
  constructor(operation: string, timeoutMs: number, kind: 'request' | 'idle' = 'request') {
    super(kind === 'idle' ? `${operation}: no data for ${formatSeconds(timeoutMs)} (idle timeout)` : `${operation}: no answer within ${formatSeconds(timeoutMs)} (request timeout)`);
    this.name = 'RequestTimeoutError';
  }
}
recognisedAcrossBundles(RequestTimeoutError, 'RequestTimeoutError');

export const formatSeconds = (ms: number): string => `${Number((ms / 1000).toFixed(1))} s`;

/** The timeout from the internal setting (a positive number of ms), else 30 s. */
export function requestTimeoutFrom(env: Record<string, string | undefined>): number {
  const raw = Number(env[REQUEST_TIMEOUT_ENV]);
  return Number.isFinite(raw) && raw > 0 ? raw : DEFAULT_REQUEST_TIMEOUT_MS;
}

export interface RequestSignal {
  /** Aborts at the request timeout, at the run's deadline, or with `parent`. */
  signal: AbortSignal;
  /**
   * What a failure of the request means: a RequestTimeoutError when our timeout cut it
   * off, a DeadlineError when the deadline did, else the error itself.
   */
  explain(err: unknown, operation: string): unknown;
  /** Stops the timer (call when the answer is complete). */
  done(): void;
}

/** A signal for one attempt of one request. */
export function requestSignal(timeoutMs: number, deadline: Deadline = NO_DEADLINE, parent?: AbortSignal | null): RequestSignal {
  const timer = new AbortController();
  const handle = setTimeout(() => timer.abort(), timeoutMs);
  handle.unref?.();
  const signals = [timer.signal, deadline.signal, ...(parent ? [parent] : [])];
  return {
    signal: AbortSignal.any(signals),
    explain(err, operation) {
      if (deadline.signal.aborted) return new DeadlineError(`${operation}: cut off in flight, the run's deadline passed (timeout: ${deadline.seconds} s)`, true);
      if (timer.signal.aborted && !parent?.aborted) return new RequestTimeoutError(operation, timeoutMs);
      return err;
    },
    done: () => clearTimeout(handle),
  };
}

/** Runs one attempt of a request under the timeout and the deadline. */
export async function withRequestTimeout<T>(
  operation: string,
  net: { timeoutMs: number; deadline: Deadline },
  fn: (signal: AbortSignal) => Promise<T>,
  parent?: AbortSignal | null,
): Promise<T> {
  net.deadline.check(operation);
  const request = requestSignal(net.timeoutMs, net.deadline, parent);
  try {
    return await fn(request.signal);
  } catch (err) {
    throw request.explain(err, operation);
  } finally {
    request.done();
  }
}
