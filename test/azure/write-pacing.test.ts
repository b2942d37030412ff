// Writes paced to ARM's documented limits (src/azure/write-pacing.ts), through the real SDK
// port against the sandbox's ARM with its write throttle on. The sandbox's limits and the
// pacer's rates are both the documented table scaled by 10 (20 writes/s per subscription,
// 2.5/s per identity; buckets holding a tenth of a second's worth, so still 2 writes per
// subscription and 1 per identity), so a run takes seconds, not the real table's tens.
// Schedules are read from the sandbox's call log: a loaded machine only widens the gaps the
// tests bound from below. The log stamps a write when the server gets to it, which can trail
// the moment the action sent it (one process, one event loop): a write sent before a 429 came
// back may be logged after it. So each logged write is matched with the pacer's permission it
// went out on (writes to one identity are serial: its k-th permission is its k-th PUT), and
// "after the 429" means sent after the action heard it.
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { applyFederatedCredentials } from '../../src/azure/apply.ts';
import type { AzurePort } from '../../src/azure/port.ts';
import { createWritePacer, type WritePacer } from '../../src/azure/write-pacing.ts';
import { identityResourceId } from '../../src/mapping/identity.ts';
import type { FicChange } from '../../src/plan/types.ts';
import type { CallRecord } from '../sandbox/http.ts';
import { FIC_WRITE_LIMITS } from '../sandbox/throttle.ts';
import { connect, settle, startAzureSandbox, type AzureSandbox } from './sandbox-helpers.ts';

const SCALE = 10;
const LIMITS = { tenant: FIC_WRITE_LIMITS.tenant * SCALE, subscription: FIC_WRITE_LIMITS.subscription * SCALE, resource: FIC_WRITE_LIMITS.resource * SCALE, burstSeconds: 1 / SCALE };
const RATES = { subscription: LIMITS.subscription, identity: LIMITS.resource };
const IDENTITIES = 8;
const PER_IDENTITY = 5;
const ISSUER = 'https://westeurope.oic.prod-aks.azure.com/tenant/cluster/';

let sb: AzureSandbox;
let port: AzurePort;

beforeAll(async () => {
  sb = await startAzureSandbox(
    { name: 'pacing', resourceGroups: ['rg-identities'], identities: Array.from({ length: IDENTITIES }, (_, i) => ({ name: `id-${i}` })), github: { event: 'deployment', environment: 'staging' } },
    { writeHoldMs: 0 },
  );
  port = connect(sb).port;
});
afterAll(async () => {
  await sb?.stop();
});
beforeEach(() => {
  for (const identity of sb.state.identities) identity.fics = [];
  sb.faults.clear();
  sb.arm.setWriteLimits(undefined);
  sb.log.reset();
});

/** PER_IDENTITY creates on each identity, listed identity by identity (the order a plan gives). */
function creates(): FicChange[] {
  return sb.state.identities.flatMap((i) => {
    const identity = { resourceId: identityResourceId(i), name: i.name, resourceGroup: i.resourceGroup, subscriptionId: i.subscriptionId, clientId: i.clientId, principalId: i.principalId, tenantId: i.tenantId };
    return Array.from({ length: PER_IDENTITY }, (_, j): FicChange => {
      const name = `staging-app-${j}`;
      return { kind: 'federated-credential', action: 'create', identity, name, desired: { name, issuer: ISSUER, subject: `system:serviceaccount:ns-${i.name}:app-${j}`, audiences: ['api://AzureADTokenExchange'] }, bindings: [], reason: 'new binding' };
    });
  });
}

const identityOf = (c: CallRecord): string => /\/userAssignedIdentities\/([^/?]+)/i.exec(c.path)![1]!;
const ficWrites = async (): Promise<CallRecord[]> => {
  await settle(sb);
  return sb.log.calls.filter((c) => c.service === 'arm' && c.method === 'PUT').sort((a, b) => a.start - b.start);
};

/**
 * The pacer, recording in order each permission it gives and each 429 it hears, so that a
 * logged write can be told apart by whether the action sent it before or after a 429.
 */
function recording(pacer: WritePacer): { pacer: WritePacer; sentAfterFirst429: (writes: CallRecord[]) => CallRecord[] } {
  const events: ({ kind: 'permit'; identity: string } | { kind: '429' })[] = [];
  return {
    pacer: {
      async acquire(subscription, identity, signal) {
        const ticket = await pacer.acquire(subscription, identity, signal);
        events.push({ kind: 'permit', identity: /\/userAssignedIdentities\/([^/]+)$/i.exec(identity)![1]! });
        return ticket;
      },
      done(ticket, outcome) {
        if (!outcome.ok && outcome.status === 429) events.push({ kind: '429' });
        pacer.done(ticket, outcome);
      },
    },
    sentAfterFirst429(writes) {
      const heard = events.findIndex((e) => e.kind === '429');
      expect(heard, 'the pacer heard a 429').toBeGreaterThanOrEqual(0);
      // Per identity, which of its permissions (in order) came after the first 429.
      const late = new Map<string, boolean[]>();
      events.forEach((e, k) => {
        if (e.kind === 'permit') late.set(e.identity, [...(late.get(e.identity) ?? []), k > heard]);
      });
      const seen = new Map<string, number>();
      return writes.filter((w) => {
        const identity = identityOf(w).toLowerCase();
        const k = seen.get(identity) ?? 0;
        seen.set(identity, k + 1);
        const permits = late.get(identity) ?? [];
        expect(permits.length, `permissions for ${identity}`).toBe(writes.filter((x) => identityOf(x).toLowerCase() === identity).length);
        return permits[k]!;
      });
    },
  };
}

describe('FIC writes with concurrency: auto', () => {
  it('when ARM throttles them as documented: every write lands, at most 1 in 10 is answered 429, and after the first 429 each identity keeps its limit', async () => {
    sb.arm.setWriteLimits(LIMITS);
    const log: string[] = [];
    const { pacer, sentAfterFirst429 } = recording(createWritePacer({ rates: RATES, writers: IDENTITIES, log: (l) => log.push(l) }));
    const applied = await applyFederatedCredentials(creates(), port, { concurrency: 'auto', pacer, log: (l) => log.push(l) });

    expect(applied.filter((a) => !a.ok)).toEqual([]);
    const writes = await ficWrites();
    const refused = writes.filter((w) => w.status === 429);
    expect(writes.filter((w) => w.status === 201)).toHaveLength(IDENTITIES * PER_IDENTITY);
    expect(refused.length).toBeGreaterThan(0); // the limits were really in force
    expect(refused.length).toBeLessThanOrEqual((IDENTITIES * PER_IDENTITY) / 10);
    expect(log.some((l) => /throttled \(HTTP 429\): pacing to one write every 0\.05 s there and one every 0\.42 s per identity/.test(l))).toBe(true);

    // Once the first refusal reached the action, no identity's writes come closer together than its limit allows.
    const late = sentAfterFirst429(writes);
    for (let i = 0; i < IDENTITIES; i++) {
      const starts = late.filter((w) => identityOf(w) === `id-${i}`).map((w) => w.start);
      expect(starts.length, `id-${i}`).toBeGreaterThan(1);
      starts.slice(1).forEach((s, k) => expect(s - starts[k]!, `id-${i}`).toBeGreaterThanOrEqual(0.9 * (1000 / RATES.identity)));
    }
  });

  it('identities take turns: no identity writes three times in a row while another still has writes to make', async () => {
    sb.arm.setWriteLimits(LIMITS);
    const pacer = createWritePacer({ rates: RATES, writers: IDENTITIES });
    await applyFederatedCredentials(creates(), port, { concurrency: 'auto', pacer });
    const writes = (await ficWrites()).filter((w) => w.status === 201);
    const left = new Map(sb.state.identities.map((i) => [i.name, PER_IDENTITY]));
    let run = 0;
    writes.forEach((w, k) => {
      const others = [...left].some(([name, n]) => name !== identityOf(w) && n > 0);
      run = k > 0 && identityOf(w) === identityOf(writes[k - 1]!) ? run + 1 : 1;
      if (others) expect(run, `write ${k} (${identityOf(w)})`).toBeLessThanOrEqual(2);
      left.set(identityOf(w), left.get(identityOf(w))! - 1);
    });
  });

  it('when nothing throttles: a first round of 4 writes, then every identity at once, and no 429', async () => {
    sb.faults.latency.arm = { writeMs: 30 };
    await applyFederatedCredentials(creates(), port, { concurrency: 'auto' });
    const writes = await ficWrites();
    expect(writes.every((w) => w.status === 201)).toBe(true);
    // Slow start: a first round of 4 writes on 4 identities, and none more until all 4 are answered …
    // (bounded by the answers, not by when the server logged the 4 starts, which can trail the sending)
    const round = writes.slice(0, 4);
    expect(new Set(round.map(identityOf)).size).toBe(4);
    expect(writes[4]!.start).toBeGreaterThanOrEqual(Math.max(...round.map((w) => w.end)));
    // … and later all 8 identities have a write in flight at the same moment.
    const inFlight = (t: number): number => writes.filter((w) => w.start <= t && w.end > t).length;
    expect(Math.max(...writes.map((w) => inFlight(w.start)))).toBe(IDENTITIES);
  });

  it('a 429 holds the whole subscription for its Retry-After, not just the write it answered', async () => {
    sb.faults.inject({ service: 'arm', method: 'PUT', pathIncludes: 'federatedIdentityCredentials', status: 429, retryAfterSeconds: 1, times: 1 });
    const { pacer, sentAfterFirst429 } = recording(createWritePacer({ rates: RATES, writers: IDENTITIES }));
    const applied = await applyFederatedCredentials(creates(), port, { concurrency: 'auto', pacer });
    expect(applied.every((a) => a.ok)).toBe(true);
    const writes = await ficWrites();
    const refused = writes.find((w) => w.status === 429)!;
    // Writes already in flight when it came back may land; none sent after it starts in the second after it.
    const late = sentAfterFirst429(writes);
    expect(late.length).toBeGreaterThan(IDENTITIES);
    expect(late.filter((w) => w.start < refused.end + 990)).toEqual([]);
  });
});
