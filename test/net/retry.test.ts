// The one retry policy, as every service sees it: what is retried, how long it waits, what
// it logs, and that no wait reaches past the run's deadline.
import { describe, expect, it } from 'vitest';
import { createDeadline, NO_DEADLINE, READ_RETRY, retryDelay, retryLine, withRetry, type Failure, type RetryEvent } from '../../src/net/index.ts';

const policy = { ...READ_RETRY, random: () => 0.5 };

/** Runs withRetry over a scripted list of failures, recording the waits instead of sleeping. */
async function script(failures: Failure[], opts: Partial<typeof policy> & { deadline?: ReturnType<typeof createDeadline> } = {}) {
  const waits: number[] = [];
  const lines: string[] = [];
  let calls = 0;
  const result = await withRetry(
    async () => {
      const f = failures[calls++];
      if (f) throw f;
      return 'ok';
    },
    (err) => ({ error: err as Failure, failure: err as Failure }),
    {
      ...policy,
      ...opts,
      sleep: async (ms) => void waits.push(ms),
      onRetry: (e: RetryEvent<Failure>) => lines.push(retryLine('GET thing', e)),
    },
  );
  return { result, waits, lines, calls };
}

describe('one retry policy', () => {
  it('a 429 waits exactly its Retry-After, and the retry line says so', async () => {
    const { result, waits, lines } = await script([{ status: 429, code: 'TooManyRequests', retryAfterMs: 7000 }]);
    expect(result).toEqual({ value: 'ok', attempts: 2 });
    expect(waits).toEqual([7000]);
    expect(lines).toEqual(['GET thing: TooManyRequests (HTTP 429), Retry-After 7 s, retrying in 7.0 s (attempt 2 of 4)']);
  });

  it('a Retry-After beyond the cap ends the retries rather than retrying early', async () => {
    const { result, waits } = await script([{ status: 429, code: 'TooManyRequests', retryAfterMs: 3_600_000 }]);
    expect(result).toMatchObject({ attempts: 1, error: { status: 429 } });
    expect(waits).toEqual([]);
  });

  it('5xx, resets and request timeouts back off with jitter, doubling up to the cap', async () => {
    const { result, waits, lines } = await script([
      { status: 503, code: 'ServiceUnavailable' },
      { code: 'ECONNRESET' },
      { code: 'RequestTimeout' },
    ]);
    expect(result).toEqual({ value: 'ok', attempts: 4 });
    expect(waits).toEqual([375, 750, 1500]); // half fixed + half random (0.5) of 500, 1000, 2000
    expect(lines[2]).toBe('GET thing: no answer within the request timeout, retrying in 1.5 s (attempt 4 of 4)');
    expect(retryDelay({ status: 500, code: 'InternalError' }, 3, { ...policy, maxAttempts: 99, maxDelayMs: 1000 })).toBeLessThanOrEqual(1000);
  });

  it('errors that cannot heal are not retried', async () => {
    for (const f of [
      { status: 400, code: 'BadRequest' },
      { status: 401, code: 'Unauthorized' },
      { status: 403, code: 'Forbidden' },
      { status: 404, code: 'NotFound' },
      { status: 409, code: 'Conflict' },
      { status: 422, code: 'Invalid' },
      { status: 501, code: 'NotImplemented' },
      { code: 'DeadlineExceeded' },
      { status: 503, code: 'ServiceUnavailable', final: true },
    ]) {
      const { calls, waits } = await script([f]);
      expect({ f, calls, waits }).toEqual({ f, calls: 1, waits: [] });
    }
  });

  it('what a service marks as healing is retried (ARM: concurrent writes on one identity)', async () => {
    const { result } = await script([{ status: 409, code: 'ConcurrentFederatedIdentityCredentialsWritesForSingleManagedIdentity', heals: true }]);
    expect(result).toEqual({ value: 'ok', attempts: 2 });
  });

  it('stops after the last attempt', async () => {
    const { result, calls } = await script(Array.from({ length: 9 }, () => ({ status: 500, code: 'InternalError' })));
    expect(calls).toBe(READ_RETRY.maxAttempts);
    expect(result).toMatchObject({ attempts: READ_RETRY.maxAttempts, error: { status: 500 } });
  });

  it('no wait reaches past the deadline: the last error is returned instead', async () => {
    const deadline = createDeadline(1); // 1 s left, a Retry-After of 7 s does not fit
    const { result, waits } = await script([{ status: 429, code: 'TooManyRequests', retryAfterMs: 7000 }], { deadline });
    expect(result).toMatchObject({ attempts: 1, error: { status: 429 } });
    expect(waits).toEqual([]);
    expect(NO_DEADLINE.remainingMs()).toBe(Infinity);
  });
});
