// ARM's side of the one retry policy (src/net/retry.ts): which ARM failures heal. The SDK
// clients are built with their own retries off (port.ts) so that a throttled write is not
// retried twice by two layers (the SDK's defaultRetryPolicy retries 429/503 only when
// Retry-After is present, and 5xx/408/network errors 3 times with its own backoff;
// stacking ours on top would multiply attempts and hide them from AppliedChange.attempts).
//
// Besides what the policy retries for every service (429 with Retry-After, 408, 5xx, no
// answer, our request timeout), ARM's 409
// ConcurrentFederatedIdentityCredentialsWritesForSingleManagedIdentity heals: another
// writer holds the identity (Azure serializes FIC writes per identity).
import * as net from '../net/index.ts';
import { AzureCallError, CONCURRENT_FIC_WRITES, toAzureError } from './errors.ts';

export type RetryOptions = net.RetryOptions<AzureCallError>;
export const { WRITE_RETRY, READ_RETRY } = net;

export function armFailure(error: AzureCallError): net.Failure {
  return {
    code: error.code,
    ...(error.statusCode !== undefined ? { status: error.statusCode } : {}),
    ...(error.retryAfterMs !== undefined ? { retryAfterMs: error.retryAfterMs } : {}),
    heals: error.statusCode === 409 && error.code === CONCURRENT_FIC_WRITES,
  };
}

/** Delay before the next attempt, or undefined when the error is final. `attempt` is 1-based (the one that failed). */
export function retryDelay(error: AzureCallError, attempt: number, opts: net.RetryPolicy & { random?: () => number }): number | undefined {
  return net.retryDelay(armFailure(error), attempt, opts);
}

/** Runs `fn` until it succeeds or the error is final; reports the attempts made. */
export function withRetry<T>(operation: string, fn: () => Promise<T>, opts: RetryOptions): Promise<net.Attempted<T, AzureCallError>> {
  return net.withRetry(
    fn,
    (err) => {
      const error = toAzureError(operation, err);
      return { error, failure: armFailure(error) };
    },
    opts,
  );
}

/** Like withRetry, but throws the final error (for reads, where attempts do not matter). */
export async function retrying<T>(operation: string, fn: () => Promise<T>, opts: RetryOptions = READ_RETRY): Promise<T> {
  const result = await withRetry(operation, fn, opts);
  if ('error' in result) throw result.error;
  return result.value;
}

/** The retry options of one ARM call under the run's network policy, logging each retry. */
export const armRetry = (network: net.Network, policy: net.RetryPolicy, what: string, overrides: Partial<RetryOptions> = {}): RetryOptions =>
  net.retryOptions(network, policy, what, overrides);
