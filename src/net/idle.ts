// The idle timeout of a stream (a watch, a followed log): the request timeout cannot bound
// it, since a healthy watch stays open for minutes; what must not happen is silence. Each
// chunk `touch`es the timer; no data for `idleMs` aborts the stream with a RequestTimeoutError
// (retryable: the caller restarts the watch from its last resourceVersion). The run's
// deadline ends it as it ends any request.
import { DeadlineError, NO_DEADLINE, type Deadline } from './deadline.ts';
import { RequestTimeoutError, type RequestSignal } from './timeout.ts';

/** A RequestSignal whose timer starts again with every chunk. */
export interface IdleSignal extends RequestSignal {
  /** Data arrived: the idle timer starts again. */
  touch(): void;
}

export function idleSignal(idleMs: number, deadline: Deadline = NO_DEADLINE, parent?: AbortSignal | null): IdleSignal {
  const idle = new AbortController();
  let handle = setTimeout(() => idle.abort(), idleMs);
  handle.unref?.();
  return {
    signal: AbortSignal.any([idle.signal, deadline.signal, ...(parent ? [parent] : [])]),
    touch() {
      if (idle.signal.aborted) return;
      clearTimeout(handle);
      handle = setTimeout(() => idle.abort(), idleMs);
      handle.unref?.();
    },
    explain(err, operation) {
      if (deadline.signal.aborted) return new DeadlineError(`${operation}: cut off in flight, the run's deadline passed (timeout: ${deadline.seconds} s)`, true);
      if (idle.signal.aborted && !parent?.aborted) return new RequestTimeoutError(operation, idleMs, 'idle');
      return err;
    },
    done: () => clearTimeout(handle),
  };
}
