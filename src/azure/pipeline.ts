// The network policy (src/net) as core-rest-pipeline policies, for the ARM clients and the
// Entra token requests of @azure/identity (its IdentityClient is MSAL's network client, so
// its pipeline carries every token request).
import type { PipelinePolicy, PipelineRequest, PipelineResponse } from '@azure/core-rest-pipeline';
import { isRetryable, networkCode, requestSignal, retryAfterMs, retryOptions, withRetry, type Failure, type Network } from '../net/index.ts';

const hostOf = (url: string): string => {
  try {
    return new URL(url).host;
  } catch {
    return url;
  }
};

/**
 * Bounds each attempt by the request timeout and the run's deadline, body included (the
 * SDK's own `timeout` stops at the headers). Placed after signing, so that a token request
 * is bounded by its own pipeline and not twice.
 */
export function timeoutPolicy(net: Network): PipelinePolicy {
  return {
    name: 'workloadIdentityRequestTimeout',
    async sendRequest(request: PipelineRequest, next): Promise<PipelineResponse> {
      const original = request.abortSignal;
      // Past the deadline nothing is sent (and a write not sent is not "outcome unknown").
      net.deadline.check(`${request.method} ${hostOf(request.url)}`);
      const attempt = requestSignal(net.timeoutMs, net.deadline, original as AbortSignal | undefined);
      request.abortSignal = attempt.signal;
      try {
        return await next(request);
      } catch (err) {
        throw attempt.explain(err, `${request.method} ${hostOf(request.url)}`);
      } finally {
        attempt.done();
        request.abortSignal = original;
      }
    },
  };
}

class StatusFailure extends Error {
  readonly response: PipelineResponse;
  constructor(response: PipelineResponse) {
    super(`HTTP ${response.status}`);
    this.response = response;
  }
}

/**
 * The one retry policy inside a pipeline (Entra's token requests, where no port of ours
 * wraps the call): an answer the policy retries is retried; the last answer is handed to
 * the SDK as it came, so its error handling (AADSTS codes) stays the SDK's.
 */
export function retryPipelinePolicy(net: Network, what: string): PipelinePolicy {
  return {
    name: 'workloadIdentityRetry',
    async sendRequest(request: PipelineRequest, next): Promise<PipelineResponse> {
      const result = await withRetry(
        async () => {
          const response = await next(request);
          if (isRetryable({ status: response.status, code: '' })) throw new StatusFailure(response);
          return response;
        },
        (err): { error: unknown; failure: Failure } => {
          if (err instanceof StatusFailure) {
            const ms = retryAfterMs((n) => err.response.headers.get(n));
            return { error: err, failure: { status: err.response.status, code: `HTTP${err.response.status}`, ...(ms !== undefined ? { retryAfterMs: ms } : {}) } };
          }
          return { error: err, failure: { code: networkCode(err) ?? 'NetworkError' } };
        },
        retryOptions(net, net.read, `${what} (${request.method} ${hostOf(request.url)})`),
      );
      if ('value' in result) return result.value;
      if (result.error instanceof StatusFailure) return result.error.response;
      throw result.error;
    },
  };
}
