// One error type for every ARM call the action makes: the domain context (which operation,
// on which identity or credential) in the message, and the ARM error code and HTTP status
// kept as fields, so that retry decisions, the report and the tests read `code`, not text.
import { retryAfterMs } from '../net/retry-after.ts';
import { recognisedAcrossBundles } from '../cross-bundle.ts';

/** Azure rejects parallel FIC writes on one identity with this code (409). */
export const CONCURRENT_FIC_WRITES = 'ConcurrentFederatedIdentityCredentialsWritesForSingleManagedIdentity';

export class AzureCallError extends Error {
  /** The ARM error code (e.g. 'ResourceNotFound', 'AuthorizationFailed'), or a Node network code. */
  readonly code: string;
  /** HTTP status, absent when the request never got an answer. */
  readonly statusCode?: number;
  /** From Retry-After / retry-after-ms / x-ms-retry-after-ms, in milliseconds. */
  readonly retryAfterMs?: number;
  /** What we were doing, e.g. "PUT federated credential 'x' on identity 'id-a'". */
  readonly operation: string;
  /** On a 429: the limits whose `x-ms-ratelimit-remaining-*` header said none is left. */
  readonly exhausted?: RateLimitScope[];

  constructor(operation: string, code: string, message: string, opts: { statusCode?: number; retryAfterMs?: number; exhausted?: RateLimitScope[]; cause?: unknown } = {}) {
    super(`${operation}: ${code}${opts.statusCode ? ` (HTTP ${opts.statusCode})` : ''}: ${message}`, { cause: opts.cause });
    this.name = 'AzureCallError';
    this.operation = operation;
    this.code = code;
    if (opts.statusCode !== undefined) this.statusCode = opts.statusCode;
    if (opts.retryAfterMs !== undefined) this.retryAfterMs = opts.retryAfterMs;
    if (opts.exhausted?.length) this.exhausted = opts.exhausted;
  }
}

recognisedAcrossBundles(AzureCallError, 'AzureCallError');

interface HeaderBag {
  get(name: string): string | undefined;
}

interface RestErrorLike {
  code?: string;
  statusCode?: number;
  message?: string;
  response?: { headers?: HeaderBag; bodyAsText?: string | null; status?: number };
  details?: unknown;
}

/** Parses the throttling headers the way core-rest-pipeline does (seconds, ms, or an HTTP date). */
export function retryAfterFromHeaders(headers: HeaderBag | undefined, now = Date.now()): number | undefined {
  return headers ? retryAfterMs((name) => headers.get(name), now) : undefined;
}

export type RateLimitScope = 'tenant' | 'subscription' | 'resource';

/**
 * Which limits a throttled answer says are used up: ARM's `x-ms-ratelimit-remaining-
 * {tenant,subscription}-{writes,deletes}` counts and a resource provider's
 * `x-ms-ratelimit-remaining-resource: <policy>;<count>` (several policies comma-separated).
 */
export function exhaustedLimits(headers: HeaderBag | undefined): RateLimitScope[] {
  if (!headers) return [];
  const zero = (raw: string | undefined): boolean => raw !== undefined && raw.split(',').some((part) => part.split(';').pop()!.trim() === '0');
  const found: RateLimitScope[] = [];
  for (const scope of ['tenant', 'subscription'] as const) {
    if (['writes', 'deletes'].some((kind) => zero(headers.get(`x-ms-ratelimit-remaining-${scope}-${kind}`)))) found.push(scope);
  }
  if (zero(headers.get('x-ms-ratelimit-remaining-resource'))) found.push('resource');
  return found;
}

/** ARM puts `{error: {code, message}}` in the body; RestError usually lifted it already. */
function armBodyError(text: string | null | undefined): { code?: string; message?: string } {
  if (!text) return {};
  try {
    const body = JSON.parse(text) as { error?: { code?: string; message?: string }; code?: string; message?: string };
    return body.error ?? { code: body.code, message: body.message };
  } catch {
    return {};
  }
}

/** Wraps whatever an SDK threw into an AzureCallError that keeps the ARM code and status. */
export function toAzureError(operation: string, err: unknown): AzureCallError {
  if (err instanceof AzureCallError) return err;
  const e = (err ?? {}) as RestErrorLike;
  const statusCode = e.statusCode ?? e.response?.status;
  const fromBody = armBodyError(e.response?.bodyAsText);
  // RestError.code is the ARM code when the body had one; otherwise REQUEST_SEND_ERROR or a
  // Node code (ECONNRESET…). Prefer the body's code when the SDK only knows the status.
  const code = (e.code && e.code !== 'REQUEST_SEND_ERROR' ? e.code : undefined) ?? fromBody.code ?? e.code ?? (statusCode ? `HTTP${statusCode}` : 'UnknownError');
  const message = fromBody.message ?? e.message ?? String(err);
  const retryAfterMs = retryAfterFromHeaders(e.response?.headers);
  const exhausted = statusCode === 429 ? exhaustedLimits(e.response?.headers) : [];
  return new AzureCallError(operation, code, message, {
    ...(statusCode !== undefined ? { statusCode } : {}),
    ...(retryAfterMs !== undefined ? { retryAfterMs } : {}),
    ...(exhausted.length ? { exhausted } : {}),
    cause: err,
  });
}

export const isNotFound = (err: unknown): boolean =>
  err instanceof AzureCallError && (err.statusCode === 404 || err.code === 'ResourceNotFound' || err.code === 'NotFound');

export const isForbidden = (err: unknown): boolean =>
  err instanceof AzureCallError && (err.statusCode === 403 || err.code === 'AuthorizationFailed');
