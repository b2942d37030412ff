// What every client of the network gets from main: the request timeout, the run's deadline
// and where retry lines go. One object, handed down like the sink, so that ARM, Entra,
// Kubernetes and GitHub calls (and later the verification's watches) share one setting.
import { graceAfter, NO_DEADLINE, type Deadline } from './deadline.ts';
import { READ_RETRY, retryLine, WRITE_RETRY, type RetryOptions, type RetryPolicy } from './retry.ts';
import { DEFAULT_REQUEST_TIMEOUT_MS } from './timeout.ts';

export interface Network {
  /** Per request (one attempt): 30 s unless lowered by the internal setting. */
  timeoutMs: number;
  deadline: Deadline;
  /** Every retry line goes here (the sink's info). */
  log: (line: string) => void;
  /** Retry policies; tests shorten the waits. */
  read: RetryPolicy;
  write: RetryPolicy;
  sleep?: (ms: number) => Promise<void>;
  random?: () => number;
}

export function createNetwork(options: Partial<Network> = {}): Network {
  return {
    timeoutMs: DEFAULT_REQUEST_TIMEOUT_MS,
    deadline: NO_DEADLINE,
    log: () => undefined,
    read: READ_RETRY,
    write: WRITE_RETRY,
    ...options,
  };
}

/** How long past the run's deadline deleting verification pods and posting the report may take. */
export const GRACE_MS = 5_000;

/**
 * The same timeout and retries for what the deadline must not cut (DESIGN §3 `timeout`:
 * "stop starting work, delete verification pods, still report"): deleting the pods and
 * posting the PR comment still run after the run's deadline passed, until GRACE_MS after
 * it, so that a server that hangs cannot hold the job.
 */
export function withGrace(net: Network): Network {
  return { ...net, deadline: graceAfter(net.deadline, GRACE_MS) };
}

/** The retry options of one call under the run's network policy: its deadline, its waits, each retry logged as `what`. */
export function retryOptions<E>(net: Network, policy: RetryPolicy, what: string, overrides: Partial<RetryOptions<E>> = {}): RetryOptions<E> {
  return {
    ...policy,
    deadline: net.deadline,
    ...(net.sleep ? { sleep: net.sleep } : {}),
    ...(net.random ? { random: net.random } : {}),
    onRetry: (e) => net.log(retryLine(what, e)),
    ...overrides,
  };
}
