import { describe, expect, it } from 'vitest';
import { applyFederatedCredentials } from '../../src/azure/apply.ts';
import { AzureCallError, CONCURRENT_FIC_WRITES } from '../../src/azure/errors.ts';
import { planFederatedCredentials } from '../../src/azure/plan.ts';
import { createWritePacer } from '../../src/azure/write-pacing.ts';
import { resolveIdentities } from '../../src/azure/resolve.ts';
import { isChange, type FicChange } from '../../src/plan/types.ts';
import { FakePort, maxConcurrent, overlap, type FakeCall } from './fake-port.ts';
import { ISSUER, TENANT, binding, fic, identity, sa } from './fixtures.ts';

const fast = { baseDelayMs: 1, maxDelayMs: 5 };

/** `identities` identities with `perIdentity` bindings each; binding k of the list sits at mapping line 10 + 7k. */
function world(identities: number, perIdentity: number) {
  const port = new FakePort();
  const bindings = [];
  for (let i = 0; i < identities; i++) {
    port.addIdentity(identity(`id-${i}`));
    for (let j = 0; j < perIdentity; j++) bindings.push(binding({ ns: `ns-${i}`, sa: `sa-${j}`, identity: `id-${i}`, line: 10 + 7 * bindings.length }));
  }
  return { port, bindings };
}

/** The writes of a run grouped by identity, each group in the order the writes started. */
function writeChains(port: FakePort): Map<string, FakeCall[]> {
  const writes = port.calls.filter((c) => c.op === 'put' || c.op === 'delete').sort((a, b) => a.startSeq - b.startSeq);
  const chains = new Map<string, FakeCall[]>();
  for (const w of writes) chains.set(w.identity!, [...(chains.get(w.identity!) ?? []), w]);
  return chains;
}

const plan = (port: FakePort, bindings: ReturnType<typeof binding>[], prune = false) =>
  planFederatedCredentials({ bindings, issuer: ISSUER, environment: 'staging', prune, concurrency: 8 }, port);

describe('plan', () => {
  it('lists each identity once, however many bindings share it, and writes nothing', async () => {
    const { port, bindings } = world(3, 5);
    const { changes, checks, identities } = await plan(port, bindings);
    expect(checks).toEqual([]);
    expect(identities.size).toBe(3);
    expect(changes.filter((c) => c.action === 'create')).toHaveLength(15);
    expect(port.calls.filter((c) => c.op === 'list')).toHaveLength(3);
    expect(port.calls.filter((c) => c.op === 'getIdentity')).toHaveLength(3);
    expect(port.calls.filter((c) => c.op === 'put' || c.op === 'delete')).toHaveLength(0);
  });

  it('reports a missing identity with the mapping line that names it, and plans the others', async () => {
    const { port, bindings } = world(1, 1);
    const ghost = binding({ ns: 'orders', sa: 'api', identity: 'id-ghost', line: 100 });
    const { changes, checks } = await plan(port, [...bindings, ghost]);
    expect(checks).toHaveLength(1);
    expect(checks[0]).toMatchObject({ name: 'identity', ok: false, severity: 'error', at: ghost.identityAt });
    expect(checks[0]!.detail).toContain("'id-ghost'");
    expect(checks[0]!.detail).toContain(`${ghost.identityAt.file}:${ghost.identityAt.line}`);
    expect(changes.map((c) => c.identity.name)).toEqual(['id-0']);
  });

  it('reports an identity whose credentials cannot be listed (deleted meanwhile, or Azure keeps failing) at its mapping line, and plans the others', async () => {
    const { port, bindings } = world(3, 1);
    // id-0 is deleted between its GET and its LIST; id-1's LIST keeps answering 500 after the port's retries.
    port.fail = (c) => {
      if (c.op === 'list' && c.identity === 'id-0') return new AzureCallError("LIST federated credentials of identity 'id-0'", 'ResourceNotFound', "The Resource 'id-0' was not found.", { statusCode: 404 });
      if (c.op === 'list' && c.identity === 'id-1') return new AzureCallError("LIST federated credentials of identity 'id-1'", 'InternalServerError', 'Internal error', { statusCode: 500 });
      return undefined;
    };
    const { changes, checks } = await plan(port, bindings, true);
    expect(checks).toMatchObject([
      { name: 'identity', ok: false, severity: 'error', at: bindings[0]!.identityAt },
      { name: 'identity', ok: false, severity: 'error', at: bindings[1]!.identityAt },
    ]);
    expect(checks[0]!.detail).toContain("'id-0'");
    expect(checks[0]!.detail).toContain('ResourceNotFound');
    expect(checks[0]!.detail).toContain(`${bindings[0]!.identityAt.file}:${bindings[0]!.identityAt.line}`);
    expect(checks[1]!.detail).toContain("'id-1'");
    expect(checks[1]!.detail).toContain('InternalServerError (HTTP 500)');
    expect(changes.map((c) => `${c.action} ${c.identity.name}`)).toEqual(['create id-2']);
  });

  it('flags a binding whose tenant is not the identity’s', async () => {
    const port = new FakePort();
    port.addIdentity({ ...identity('id-a'), tenantId: '99999999-0000-0000-0000-000000000000' });
    const b = binding({ ns: 'a', sa: 'b', identity: 'id-a' });
    const { checks } = await resolveIdentities([b], port, { concurrency: 2 });
    expect(checks).toMatchObject([{ name: 'identity-tenant', severity: 'error', at: b.identityAt }]);
    expect(b.tenantId).toBe(TENANT);
  });
});

describe('apply', () => {
  // The schedule is read from the order in which the fake's writes started and ended, never
  // from the wall clock: a loaded CI machine stretches durations, not that order.
  it('writes one identity at a time and identities in parallel, and a second run writes nothing', async () => {
    const { port, bindings } = world(4, 5);
    port.writeMs = 5; // each write waits on a timer, so writes that may run together do
    const first = await plan(port, bindings);
    port.calls.length = 0;
    const applied = await applyFederatedCredentials(first.changes, port, { concurrency: 4 });
    expect(applied.every((a) => a.ok && a.attempts === 1)).toBe(true);
    expect(applied).toHaveLength(20);

    const chains = writeChains(port);
    expect([...chains.keys()].sort()).toEqual(['id-0', 'id-1', 'id-2', 'id-3']);
    for (const [id, chain] of chains) {
      // One chain of 5 writes per identity, in the plan's order, each starting after the previous one ended.
      expect(chain.map((w) => w.name)).toEqual(first.changes.filter((c) => c.identity.name === id).map((c) => c.name));
      chain.slice(1).forEach((w, i) => expect(w.startSeq, `${id}: write ${i + 2} started before write ${i + 1} ended`).toBeGreaterThan(chain[i]!.endSeq));
    }
    // Identities in parallel: the four chains start together, so the run takes about one chain (5 writes), not 20.
    const heads = [...chains.values()].map((chain) => chain[0]!);
    for (const a of heads) for (const b of heads) if (a !== b) expect(overlap(a, b), `${a.identity} and ${b.identity} started one after the other`).toBe(true);
    expect(maxConcurrent(port.calls)).toBe(4);
    expect(port.maxParallelPerIdentity).toBe(1);
    expect(port.maxParallel).toBe(4);

    port.calls.length = 0;
    const second = await plan(port, bindings);
    expect(second.changes.filter(isChange)).toEqual([]);
    expect(await applyFederatedCredentials(second.changes, port, { concurrency: 4 })).toEqual([]);
    expect(port.calls.filter((c) => c.op === 'put' || c.op === 'delete')).toHaveLength(0);
  });

  it('never runs more than `concurrency` identities at once, and every identity still gets its whole chain', async () => {
    for (const concurrency of [1, 2, 4]) {
      const { port, bindings } = world(6, 3);
      port.writeMs = 1;
      const { changes } = await plan(port, bindings);
      port.calls.length = 0;
      const applied = await applyFederatedCredentials(changes, port, { concurrency });
      expect(applied.map((a) => a.ok)).toEqual(Array(18).fill(true));
      expect(maxConcurrent(port.calls), `concurrency ${concurrency}`).toBe(concurrency);
      const chains = writeChains(port);
      expect(chains.size).toBe(6);
      for (const chain of chains.values()) {
        expect(chain).toHaveLength(3);
        chain.slice(1).forEach((w, i) => expect(w.startSeq).toBeGreaterThan(chain[i]!.endSeq));
      }
    }
  });

  it('survives another pipeline writing the same identity (409 concurrent writes)', async () => {
    const { port, bindings } = world(1, 2);
    let conflicts = 2;
    port.fail = (c) =>
      c.op === 'put' && conflicts-- > 0
        ? new AzureCallError('PUT', CONCURRENT_FIC_WRITES, 'Too many concurrent writes to federated identity credentials', { statusCode: 409 })
        : undefined;
    const { changes } = await plan(port, bindings);
    const log: string[] = [];
    const applied = await applyFederatedCredentials(changes, port, { concurrency: 2, retry: fast, log: (m) => log.push(m) });
    expect(applied.map((a) => [a.ok, a.attempts])).toEqual([[true, 3], [true, 1]]);
    expect(log.some((l) => l.includes(CONCURRENT_FIC_WRITES) && l.includes('retrying'))).toBe(true);
  });

  it('waits the Retry-After of a 429 before retrying', async () => {
    const { port, bindings } = world(1, 1);
    let throttled = 1;
    port.fail = (c) => (c.op === 'put' && throttled-- > 0 ? new AzureCallError('PUT', 'TooManyRequests', 'throttled', { statusCode: 429, retryAfterMs: 120 }) : undefined);
    const { changes } = await plan(port, bindings);
    // The waits the retry asks for, and how many PUTs had been made when it asked (the wait is recorded, not timed).
    const waits: { ms: number; putsBefore: number }[] = [];
    const sleep = async (ms: number) => {
      waits.push({ ms, putsBefore: port.calls.filter((c) => c.op === 'put').length });
    };
    // The pacer's rates scaled up: after the 429 it paces to them (4.2 s per identity by default).
    const pacer = createWritePacer({ rates: { subscription: 1000, identity: 1000 } });
    const applied = await applyFederatedCredentials(changes, port, { concurrency: 1, retry: { ...fast, sleep }, pacer });
    expect(waits).toEqual([{ ms: 120, putsBefore: 1 }]); // Retry-After, not the 1–5 ms backoff, between the two PUTs
    expect(applied[0]).toMatchObject({ ok: true, attempts: 2 });
    expect(port.calls.filter((c) => c.op === 'put')).toHaveLength(2);
  });

  it('keeps the error code of a write that still fails, and applies the other identities', async () => {
    const { port, bindings } = world(3, 2);
    port.fail = (c) => (c.op === 'put' && c.identity === 'id-1' ? new AzureCallError(`PUT on '${c.identity}'`, 'InternalServerError', 'boom', { statusCode: 500 }) : undefined);
    const { changes } = await plan(port, bindings);
    const applied = await applyFederatedCredentials(changes, port, { concurrency: 3, retry: { ...fast, maxAttempts: 3 } });
    const failed = applied.filter((a) => !a.ok);
    expect(failed).toHaveLength(2);
    expect(failed.every((a) => a.attempts === 3 && a.error!.includes('InternalServerError') && (a.change as FicChange).identity.name === 'id-1')).toBe(true);
    expect(applied.filter((a) => a.ok)).toHaveLength(4);
  });

  it('does not retry what retrying cannot fix (400, 403)', async () => {
    for (const [statusCode, code] of [
      [400, 'BadRequest'],
      [403, 'AuthorizationFailed'],
    ] as const) {
      const { port, bindings } = world(1, 1);
      port.fail = (c) => (c.op === 'put' ? new AzureCallError('PUT', code, 'no', { statusCode }) : undefined);
      const { changes } = await plan(port, bindings);
      const applied = await applyFederatedCredentials(changes, port, { concurrency: 1, retry: fast });
      expect(applied[0], `HTTP ${statusCode}`).toMatchObject({ ok: false, attempts: 1 });
      expect(applied[0]!.error).toContain(code);
      expect(port.calls.filter((c) => c.op === 'put'), `HTTP ${statusCode}`).toHaveLength(1);
    }
  });

  it('deletes pruned credentials in the order the plan gives', async () => {
    const port = new FakePort();
    const id = identity('id-a');
    port.addIdentity(id, [fic('stale', sa('x', 'old'))]);
    const b = binding({ ns: 'x', sa: 'new', identity: 'id-a' });
    const { changes } = await plan(port, [b], true);
    await applyFederatedCredentials(changes, port, { concurrency: 1 });
    expect(port.calls.filter((c) => c.op === 'put' || c.op === 'delete').map((c) => `${c.op} ${c.name}`)).toEqual(['put staging-x-new', 'delete stale']);
  });
});
