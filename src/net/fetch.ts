// fetch under the policy, for the plain HTTPS calls (the GitHub OIDC token, Octokit via its
// `request.fetch` option): each attempt bounded by the request timeout, body included (a
// server that sends headers and then nothing is cut off too), retried by the one policy.
// Only idempotent methods are retried after a failure that may have been processed; a 429
// is retried for any method (the server said it did not process it).
import { recognisedAcrossBundles } from '../cross-bundle.ts';
import { retryOptions, type Network } from './network.ts';
import { withRetry, type Failure } from './retry.ts';
import { withRequestTimeout } from './timeout.ts';
import { retryAfterMs } from './retry-after.ts';

const IDEMPOTENT = new Set(['GET', 'HEAD', 'OPTIONS', 'PUT', 'DELETE']);

/** A fetch failure that keeps the status (undefined when no answer came) and the code. */
export class FetchError extends Error {
  readonly status?: number;
  readonly code: string;
  readonly retryAfterMs?: number;
  constructor(message: string, failure: Failure, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'FetchError';
    this.code = failure.code;
    if (failure.status !== undefined) this.status = failure.status;
    if (failure.retryAfterMs !== undefined) this.retryAfterMs = failure.retryAfterMs;
  }
}
recognisedAcrossBundles(FetchError, 'FetchError');

/** The Node/undici code of an error without an answer (ECONNRESET, UND_ERR_SOCKET, RequestTimeout …), looking through causes. */
export function networkCode(err: unknown): string | undefined {
  let e: unknown = err;
  for (let i = 0; i < 5 && e && typeof e === 'object'; i++) {
    const code = (e as { code?: unknown }).code;
    if (typeof code === 'string') return code;
    e = (e as { cause?: unknown }).cause;
  }
  return undefined;
}

export interface PolicyFetchOptions {
  /** Names the call in retry lines and errors, e.g. "GitHub OIDC token". */
  operation: string;
  /** Statuses that are an answer, not a failure (default: 2xx and 3xx). */
  ok?: (status: number) => boolean;
  /** The fetch to bound and retry (default: the global one); @actions/github's follows the runner's proxy. */
  fetch?: typeof fetch;
}

/**
 * One request under the policy; resolves with the complete response (body read) once a
 * status counts as ok, else rejects with the last FetchError after the retries.
 */
export async function fetchWithPolicy(net: Network, url: string | URL, init: RequestInit, options: PolicyFetchOptions): Promise<Response> {
  const method = (init.method ?? 'GET').toUpperCase();
  const ok = options.ok ?? ((s: number) => s < 400);
  const result = await withRetry(
    () =>
      withRequestTimeout(
        options.operation,
        net,
        async (signal) => {
          const res = await (options.fetch ?? fetch)(url, { ...init, signal });
          // Read the body under the same signal: the timeout bounds the whole answer.
          const body = await res.arrayBuffer();
          const copy = new Response(res.status === 204 || res.status === 304 ? null : body, { status: res.status, statusText: res.statusText, headers: res.headers });
          if (ok(res.status)) return copy;
          const failure: Failure = { status: res.status, code: `HTTP${res.status}`, ...optional(retryAfterMs((n) => res.headers.get(n) ?? undefined)) };
          throw new FetchError(`${options.operation}: HTTP ${res.status}${res.statusText ? ` ${res.statusText}` : ''}`, failure, { cause: copy });
        },
        init.signal,
      ),
    (err) => {
      const text = (err as Error)?.message ?? String(err);
      // Timeout and deadline errors already name the operation.
      const message = text.startsWith(`${options.operation}: `) ? text : `${options.operation}: ${text}`;
      const error = err instanceof FetchError ? err : new FetchError(message, { code: networkCode(err) ?? 'NetworkError' }, { cause: err });
      const failure: Failure = { code: error.code, ...(error.status !== undefined ? { status: error.status } : {}), ...optional(error.retryAfterMs) };
      // A request that may have been processed is only repeated when repeating it is harmless.
      if (!IDEMPOTENT.has(method) && failure.status !== 429) return { error, failure: { ...failure, final: true } };
      return { error, failure };
    },
    retryOptions(net, net.read, options.operation),
  );
  if ('error' in result) throw result.error;
  return result.value;
}

const optional = (ms: number | undefined): { retryAfterMs?: number } => (ms === undefined ? {} : { retryAfterMs: ms });

/** A fetch for Octokit (`new Octokit({ request: { fetch } })`): every call under the policy, every status handed back. */
export function policyFetch(net: Network, operation = 'GitHub API', inner?: typeof fetch): typeof fetch {
  return (async (input: string | URL | Request, init?: RequestInit) => {
    const url = input instanceof Request ? input.url : input;
    const merged: RequestInit = input instanceof Request ? { method: input.method, headers: input.headers, body: await input.arrayBuffer(), ...init } : { ...init };
    try {
      return await fetchWithPolicy(net, url, merged, { operation: `${operation} ${(merged.method ?? 'GET').toUpperCase()} ${new URL(String(url)).pathname}`, ...(inner ? { fetch: inner } : {}) });
    } catch (err) {
      // Octokit reads the status from the response: hand back the last answer, if one came.
      if (err instanceof FetchError && err.cause instanceof Response) return err.cause;
      throw err;
    }
  }) as typeof fetch;
}
