// The network policy (issue 13): one request timeout, one retry policy, the run's deadline.
// Every client of the network (ARM, Entra, Kubernetes, GitHub, verification watches) uses
// these and nothing else: no second retry loop, no request without a timeout.
export { createDeadline, cutOffInFlight, DeadlineError, isDeadlineError, NO_DEADLINE, type Deadline } from './deadline.ts';
export { createNetwork, GRACE_MS, retryOptions, withGrace, type Network } from './network.ts';
export {
  isRetryable,
  NO_ANSWER_CODES,
  READ_RETRY,
  reasonOf,
  retryDelay,
  retryLine,
  withRetry,
  WRITE_RETRY,
  type Attempted,
  type Failure,
  type RetryEvent,
  type RetryOptions,
  type RetryPolicy,
} from './retry.ts';
export { retryAfterMs } from './retry-after.ts';
export {
  DEFAULT_REQUEST_TIMEOUT_MS,
  formatSeconds,
  REQUEST_TIMEOUT_ENV,
  requestSignal,
  requestTimeoutFrom,
  RequestTimeoutError,
  withRequestTimeout,
  type RequestSignal,
} from './timeout.ts';
export { fetchWithPolicy, FetchError, networkCode, policyFetch, type PolicyFetchOptions } from './fetch.ts';
export { idleSignal, type IdleSignal } from './idle.ts';
