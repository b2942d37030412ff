// The run's deadline and the request timeout, on a server that never answers.
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { createDeadline, createNetwork, cutOffInFlight, DeadlineError, idleSignal, isDeadlineError, RequestTimeoutError, requestTimeoutFrom, withGrace, withRequestTimeout } from '../../src/net/index.ts';

let server: Server;
let url = '';
beforeAll(async () => {
  // Takes every request and never answers, like a dead backend behind a live load balancer.
  server = createServer(() => undefined);
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/`;
});
afterAll(async () => {
  server.closeAllConnections();
  await new Promise<void>((r) => server.close(() => r()));
});

describe('request timeout and run deadline', () => {
  it('a request that never answers fails with a timeout error, not a hang', async () => {
    const net = createNetwork({ timeoutMs: 200 });
    const started = Date.now();
    const err = await withRequestTimeout('GET dead', net, (signal) => fetch(url, { signal })).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(RequestTimeoutError);
    expect((err as Error).message).toBe('GET dead: no answer within 0.2 s (request timeout)');
    expect(Date.now() - started).toBeLessThan(2000);
  });

  it('the deadline cuts a request off in flight, and says so', async () => {
    const net = createNetwork({ timeoutMs: 60_000, deadline: createDeadline(0.3) });
    const err = await withRequestTimeout('PUT thing', net, (signal) => fetch(url, { method: 'PUT', signal })).catch((e: unknown) => e);
    expect(isDeadlineError(err)).toBe(true);
    expect(cutOffInFlight(err)).toBe(true);
    expect((err as Error).message).toMatch(/PUT thing: cut off in flight, the run's deadline passed/);
  });

  it('after the deadline nothing starts: the error says the request was never sent', async () => {
    const deadline = createDeadline(0);
    await new Promise((r) => setTimeout(r, 5));
    let sent = false;
    const err = await withRequestTimeout('GET late', createNetwork({ deadline }), async () => {
      sent = true;
    }).catch((e: unknown) => e);
    expect(sent).toBe(false);
    expect(err).toBeInstanceOf(DeadlineError);
    expect(cutOffInFlight(err)).toBe(false);
  });

  it('deleting verification pods and posting the report still start after the deadline, and are cut off at its grace too', () => {
    vi.useFakeTimers();
    try {
      const net = createNetwork({ deadline: createDeadline(10) });
      const undo = withGrace(net);
      vi.advanceTimersByTime(10_000); // the run's deadline
      expect(() => net.deadline.check('create pod')).toThrow(/create pod: not started, the run's deadline passed \(timeout: 10 s\)/);
      expect(() => undo.deadline.check('delete pod')).not.toThrow();
      expect(undo.deadline.signal.aborted).toBe(false);
      vi.advanceTimersByTime(4_999);
      expect(() => undo.deadline.check('delete pod')).not.toThrow();
      vi.advanceTimersByTime(1);
      expect(undo.deadline.signal.aborted).toBe(true); // a delete still in flight is cut off
      expect(() => undo.deadline.check('delete pod')).toThrow(/delete pod: not started, the run's deadline passed \(timeout: 10 s\) and its 5 s grace/);
      // Without a deadline, undoing has none either.
      expect(withGrace(createNetwork()).deadline.seconds).toBe(Infinity);
    } finally {
      vi.useRealTimers();
    }
  });

  it('the request timeout is 30 s unless the internal setting lowers it', () => {
    expect(requestTimeoutFrom({})).toBe(30_000);
    expect(requestTimeoutFrom({ WORKLOAD_IDENTITY_REQUEST_TIMEOUT_MS: '1500' })).toBe(1500);
    expect(requestTimeoutFrom({ WORKLOAD_IDENTITY_REQUEST_TIMEOUT_MS: 'soon' })).toBe(30_000);
  });
});

describe('idle timeout (watches, followed logs)', () => {
  it('a stream that keeps sending stays open past the idle time; silence ends it as a retryable timeout', () => {
    vi.useFakeTimers();
    try {
      const idle = idleSignal(200);
      for (let i = 0; i < 4; i++) {
        vi.advanceTimersByTime(150);
        idle.touch(); // a watch event
      }
      expect(idle.signal.aborted).toBe(false); // 600 ms open, never 200 ms silent
      vi.advanceTimersByTime(199);
      expect(idle.signal.aborted).toBe(false);
      vi.advanceTimersByTime(1);
      expect(idle.signal.aborted).toBe(true);
      const err = idle.explain(new Error('aborted'), 'watch pods in payments');
      expect(err).toBeInstanceOf(RequestTimeoutError);
      expect((err as Error).message).toBe('watch pods in payments: no data for 0.2 s (idle timeout)');
      expect((err as { code: string }).code).toBe('RequestTimeout');
      idle.done();
    } finally {
      vi.useRealTimers();
    }
  });

  it('the deadline ends a stream that is still sending', async () => {
    const idle = idleSignal(60_000, createDeadline(0.1));
    await new Promise((r) => setTimeout(r, 200));
    expect(idle.signal.aborted).toBe(true);
    expect(isDeadlineError(idle.explain(new Error('aborted'), 'watch'))).toBe(true);
    idle.done();
  });
});
