// Kubernetes' side of the network policy (src/net): each API call carries the request
// timeout and the run's deadline as its fetch signal (client-node 2.x sends through
// undici's fetch with `RequestContext.getSignal()`), and its failures are classified for
// the one retry policy — which, unlike the loop this replaces, honours Retry-After (the API
// server sends it with 429 under API Priority and Fairness, and with some 5xx).
import type { ConfigurationOptions, RequestContext, ResponseContext } from '@kubernetes/client-node';
import { retryOptions, type Failure, type Network, type RetryOptions, type RetryPolicy } from '../net/index.ts';
import type { KubeApiError } from './port.ts';

/**
 * Per-call options that set the attempt's signal, keeping `extra`'s middleware (a
 * Content-Type for patches). client-node chains per-call middleware through its rxjs stub,
 * which only calls `toPromise()` on what `pre`/`post` return (as setHeaderMiddleware's `of`).
 */
export function withSignal(signal: AbortSignal, extra?: ConfigurationOptions): ConfigurationOptions {
  const setSignal = {
    pre: (context: RequestContext) => {
      context.setSignal(signal);
      return { toPromise: () => Promise.resolve(context) };
    },
    post: (response: ResponseContext) => ({ toPromise: () => Promise.resolve(response) }),
  };
  return {
    ...extra,
    middleware: [...(extra?.middleware ?? []), setSignal as never],
    middlewareMergeStrategy: 'append',
  };
}

export function kubeFailure(e: KubeApiError): Failure {
  return {
    code: e.reason ?? (e.status !== undefined ? `HTTP${e.status}` : 'NetworkError'),
    ...(e.status !== undefined ? { status: e.status } : {}),
    ...(e.retryAfterMs !== undefined ? { retryAfterMs: e.retryAfterMs } : {}),
  };
}

/** Retry options of one Kubernetes call under the run's network policy, logging each retry. */
export const kubeRetry = (net: Network, policy: RetryPolicy, what: string, overrides: Partial<RetryOptions<KubeApiError>> = {}): RetryOptions<KubeApiError> =>
  retryOptions(net, policy, what, overrides);
