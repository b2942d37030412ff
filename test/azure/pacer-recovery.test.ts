// How a throttled subscription gets its speed back (src/azure/write-pacing.ts), on the
// pacer's own clock: a write may start when acquire() resolves at once; one that must wait
// is told apart by a short abort, so no test waits for the paces themselves.
import { describe, expect, it } from 'vitest';
import { createWritePacer, DOCUMENTED_WRITE_RATE, type WriteOutcome } from '../../src/azure/write-pacing.ts';

describe('pace recovery after a 429', () => {
  it('after 30 s without a 429 each success makes the pace 5 % faster, until writes are unpaced again', async () => {
    const clock = { t: 0 };
    const log: string[] = [];
    const pacer = createWritePacer({ now: () => clock.t, writers: 1, log: (l) => log.push(l) });
    /** Starts a write at `t` if the pacer lets it start then; reports `outcome` for it. */
    const writeAt = async (t: number, outcome: WriteOutcome = { ok: true }): Promise<boolean> => {
      clock.t = t;
      const ticket = await pacer.acquire('sub', 'id', AbortSignal.timeout(50)).catch(() => undefined);
      if (ticket) pacer.done(ticket, outcome);
      return !!ticket;
    };

    expect(await writeAt(0, { ok: false, status: 429 })).toBe(true);
    const paced = (1000 / DOCUMENTED_WRITE_RATE.identity) * 1.05; // 4.2 s: the identity's limit, 5 % under
    expect(await writeAt(paced - 1)).toBe(false);
    expect(await writeAt(paced)).toBe(true); // within 30 s of the 429: still paced, no recovery
    expect(await writeAt(2 * paced - 1)).toBe(false);

    // 30 s quiet: this success makes the pace 5 % faster, and the next one again.
    let last = paced + 30_000;
    expect(await writeAt(last)).toBe(true);
    let interval = paced / 1.05;
    expect(await writeAt(last + interval - 1)).toBe(false);
    let successes = 1;
    while (!log.some((l) => /back to full speed/.test(l))) {
      expect(await writeAt(last + interval)).toBe(true);
      last += interval;
      interval /= 1.05;
      successes++;
      expect(successes, 'recovered within 40 successes').toBeLessThan(40);
    }
    // A quarter of the documented rate's interval is where pacing stops: about 30 steps of 5 %.
    expect(successes).toBeGreaterThanOrEqual(25);
    expect(log.at(-1)).toBe('Federated credential writes in subscription sub: no 429 for 30 s, back to full speed');
    // Unpaced: writes to the identity start back to back.
    expect(await writeAt(last)).toBe(true);
    expect(await writeAt(last)).toBe(true);
  });
});
