// The run's deadline (the `timeout` input, DESIGN §3): one clock for the whole run. Work
// checks it before it starts (`check`), waits never reach past it (`remainingMs`), and
// every request carries its signal, so a call in flight is cut off when it passes instead
// of holding the job (and the environment's lock) until GitHub's job timeout.
import { recognisedAcrossBundles } from '../cross-bundle.ts';

/** Thrown (and used as the abort reason) once the run's deadline has passed. Never retried. */
export class DeadlineError extends Error {
  readonly code = 'DeadlineExceeded';
  /** The request had left when the deadline cut it off: it may have been applied. */
  readonly inFlight: boolean;
  constructor(message: string, inFlight = false) {
    super(message);
    this.name = 'DeadlineError';
    this.inFlight = inFlight;
  }
}
recognisedAcrossBundles(DeadlineError, 'DeadlineError');

/** Whether `err` (or one of its causes) is a request the deadline cut off in flight. */
export function cutOffInFlight(err: unknown): boolean {
  let e: unknown = err;
  for (let i = 0; i < 5 && e && typeof e === 'object'; i++) {
    if (isDeadlineError(e) && (e as { inFlight?: unknown }).inFlight === true) return true;
    e = (e as { cause?: unknown }).cause;
  }
  return false;
}

export interface Deadline {
  /** The `timeout` input in seconds (for messages); Infinity without a deadline. */
  readonly seconds: number;
  /** Aborts, with a DeadlineError as reason, when the deadline passes. */
  readonly signal: AbortSignal;
  remainingMs(): number;
  passed(): boolean;
  /** Throws a DeadlineError naming `what` would have started, once the deadline has passed. */
  check(what: string): void;
}

export const isDeadlineError = (err: unknown): err is DeadlineError =>
  err instanceof DeadlineError || (err as { code?: unknown } | undefined)?.code === 'DeadlineExceeded';

/** A deadline `seconds` from now; its timer does not keep the process alive. */
export function createDeadline(seconds: number, now: () => number = Date.now): Deadline {
  return deadlineAt(now() + seconds * 1000, seconds, `the run's deadline passed (timeout: ${seconds} s)`, now);
}

/** No deadline: for tests and tools that run a stage alone. */
export const NO_DEADLINE: Deadline = createDeadline(Infinity);

/**
 * A deadline `graceMs` after `deadline` (none when it has none): for what still runs after
 * the run's deadline passed (deleting verification pods, the PR comment), which must end soon after it.
 */
export function graceAfter(deadline: Deadline, graceMs: number, now: () => number = Date.now): Deadline {
  if (!Number.isFinite(deadline.seconds)) return deadline;
  const why = `the run's deadline passed (timeout: ${deadline.seconds} s) and its ${graceMs / 1000} s grace`;
  return deadlineAt(now() + deadline.remainingMs() + graceMs, deadline.seconds, why, now);
}

function deadlineAt(at: number, seconds: number, why: string, now: () => number): Deadline {
  const controller = new AbortController();
  if (Number.isFinite(at)) {
    setTimeout(() => controller.abort(new DeadlineError(why)), Math.max(0, at - now())).unref();
  }
  const passed = (): boolean => controller.signal.aborted || now() >= at;
  return {
    seconds,
    signal: controller.signal,
    remainingMs: () => Math.max(0, at - now()),
    passed,
    check(what) {
      if (passed()) throw new DeadlineError(`${what}: not started, ${why}`);
    },
  };
}
