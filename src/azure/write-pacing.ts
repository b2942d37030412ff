// How fast federated-credential writes go out. Entra documents limits for the
// user-assigned identity API (FIC considerations page, "Throttling": create or update 10/s
// per tenant, 2/s per subscription, 0.25/s per resource, 429 beyond) without saying whether
// FIC writes count against them. So: fast while nothing says they do, and paced to the
// table as soon as a 429 says they do.
// - Unpaced at first, but the writes of a subscription start as a slow start does, in
//   rounds: 4 writes, then, once all of them came back without a 429, five times as many,
//   until every writer runs. A run that is never throttled loses two round trips; one that
//   is throttled hears it after a couple of refused writes, not after one per identity.
// - The first 429 in a subscription paces it to the table, 5 % under it: one write per
//   0.525 s in the subscription and one per 4.2 s per identity (a resource limit is the same
//   for every identity), and holds the scope for the Retry-After. A later 429 halves the
//   rate of the scope it names (`x-ms-ratelimit-remaining-*` at 0; without those headers,
//   both), unless the write was sent before that rate last changed: then it only says what
//   the change already answered.
// - Rates recover gradually: after 30 s without a 429 in a scope, each success there makes
//   its pace 5 % faster, until it is unpaced again.
// Retrying is not done here: the one retry policy (src/net) waits Retry-After and calls
// again, and every attempt comes back through acquire().
import { DeadlineError } from '../net/index.ts';
import type { RateLimitScope } from './errors.ts';

/** Documented create-or-update limits (writes per second). */
export const DOCUMENTED_WRITE_RATE = { subscription: 2, identity: 0.25 } as const;
const MARGIN = 1.05;
const INITIAL_WINDOW = 4;
const WINDOW_GROWTH = 5;
const RECOVERY_QUIET_MS = 30_000;
const RECOVERY_STEP = 1.05;

interface Pace {
  /** Minimum time between write starts; 0 = unpaced. */
  intervalMs: number;
  /** When the pace last changed (a 429 to a write started before it says nothing new). */
  changedAt: number;
  lastThrottleAt: number;
}

interface Subscription {
  pace: Pace;
  /** The pace every identity of the subscription keeps (a resource limit is the same for all). */
  identityPace: Pace;
  lastStart: number;
  /** No write before this (the subscription's Retry-After). */
  holdUntil: number;
  /** Slow start (until `window` reaches the writers or a 429 comes): writes per round. */
  slowStart: boolean;
  window: number;
  inFlight: number;
  /** Writes started and returned in the current slow-start round. */
  roundStarted: number;
  roundReturned: number;
}

export interface WriteTicket {
  subscription: string;
  identity: string;
  startedAt: number;
}

export type WriteOutcome = { ok: true } | { ok: false; status?: number; retryAfterMs?: number; exhausted?: RateLimitScope[] };

export interface WritePacer {
  /** Waits until a write to `identity` may start; rejects with the signal's reason when it aborts. */
  acquire(subscription: string, identity: string, signal?: AbortSignal): Promise<WriteTicket>;
  /** Reports how the write went: 429s slow the scope down, successes let it recover. */
  done(ticket: WriteTicket, outcome: WriteOutcome): void;
}

export interface PacerOptions {
  now?: () => number;
  /** How many writers run at most: the slow start ends when a round would hold them all. */
  writers?: number;
  /** The rates paced to after a 429 (writes per second); default the documented table. Tests scale it. */
  rates?: { subscription: number; identity: number };
  /** One line when a scope is slowed down or back to full speed. */
  log?: (line: string) => void;
}

/** Resolves on `event`, after `ms`, or when `signal` aborts, whichever is first; leaves no timer or listener behind. */
async function until(event: Promise<void>, ms: number | undefined, signal: AbortSignal | undefined): Promise<void> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  let onAbort: (() => void) | undefined;
  try {
    await Promise.race([
      event,
      ...(ms !== undefined ? [new Promise<void>((r) => (timer = setTimeout(r, ms)))] : []),
      ...(signal ? [new Promise<void>((r) => signal.addEventListener('abort', (onAbort = () => r()), { once: true }))] : []),
    ]);
  } finally {
    clearTimeout(timer);
    if (onAbort) signal?.removeEventListener('abort', onAbort);
  }
}

const newPace = (): Pace => ({ intervalMs: 0, changedAt: -Infinity, lastThrottleAt: -Infinity });
const seconds = (ms: number): string => `${Number((ms / 1000).toFixed(2))} s`;

export function createWritePacer(opts: PacerOptions = {}): WritePacer {
  const now = opts.now ?? (() => performance.now());
  const maxWriters = opts.writers ?? Infinity;
  const rates = opts.rates ?? DOCUMENTED_WRITE_RATE;
  const subscriptions = new Map<string, Subscription>();
  /** Per identity: when its last write started, and its own Retry-After. */
  const identities = new Map<string, { lastStart: number; holdUntil: number }>();
  const identityOf = (id: string): { lastStart: number; holdUntil: number } => {
    let i = identities.get(id);
    if (!i) identities.set(id, (i = { lastStart: -Infinity, holdUntil: 0 }));
    return i;
  };
  // Wakes every waiter when a write finishes or a pace changes.
  let wake: () => void = () => undefined;
  let changed = new Promise<void>((resolve) => (wake = resolve));
  const notify = (): void => {
    const resolve = wake;
    changed = new Promise<void>((r) => (wake = r));
    resolve();
  };

  const sub = (key: string): Subscription => {
    let s = subscriptions.get(key);
    if (!s) subscriptions.set(key, (s = { pace: newPace(), identityPace: newPace(), lastStart: -Infinity, holdUntil: 0, slowStart: true, window: INITIAL_WINDOW, inFlight: 0, roundStarted: 0, roundReturned: 0 }));
    return s;
  };

  /** Paces `pace` to the documented rate (5 % under), or halves it when it is paced already. */
  function slowDown(pace: Pace, documentedRate: number, t: number): void {
    const floor = (1000 / documentedRate) * MARGIN;
    pace.intervalMs = pace.intervalMs >= floor ? pace.intervalMs * 2 : floor;
    pace.changedAt = t;
  }

  /** A write of the slow start may begin: the round has room and none of it has come back yet. */
  const roundOpen = (s: Subscription): boolean => !s.slowStart || (s.roundStarted < s.window && s.roundReturned === 0);

  function recover(pace: Pace, documentedRate: number, t: number): boolean {
    if (pace.intervalMs === 0 || t - pace.lastThrottleAt < RECOVERY_QUIET_MS) return false;
    pace.intervalMs /= RECOVERY_STEP;
    if (pace.intervalMs < 1000 / documentedRate / 4) pace.intervalMs = 0;
    pace.changedAt = t;
    return pace.intervalMs === 0;
  }

  return {
    async acquire(subscription, identity, signal) {
      const s = sub(subscription);
      const id = identity.toLowerCase();
      for (;;) {
        if (signal?.aborted) throw signal.reason ?? new DeadlineError('the run was stopped');
        const t = now();
        const own = identityOf(id);
        // Paces apply from the last start, so a pace set after a write still spaces the next one.
        const readyAt = Math.max(s.lastStart + s.pace.intervalMs, s.holdUntil, own.lastStart + s.identityPace.intervalMs, own.holdUntil);
        if (readyAt <= t && roundOpen(s)) {
          s.lastStart = own.lastStart = t;
          s.inFlight++;
          if (s.slowStart) s.roundStarted++;
          return { subscription, identity: id, startedAt: t };
        }
        await until(changed, readyAt > t ? readyAt - t : undefined, signal);
      }
    },

    done(ticket, outcome) {
      const s = sub(ticket.subscription);
      const t = now();
      s.inFlight = Math.max(0, s.inFlight - 1);
      const throttled = !outcome.ok && outcome.status === 429;
      if (s.slowStart) {
        s.roundReturned++;
        if (throttled) s.slowStart = false;
        else if (s.roundReturned >= s.roundStarted) {
          // The round came back without a 429: the next one is five times as large.
          s.window *= WINDOW_GROWTH;
          s.roundStarted = s.roundReturned = 0;
          if (s.window >= maxWriters) s.slowStart = false;
        }
      }
      if (outcome.ok) {
        const back = recover(s.pace, rates.subscription, t);
        recover(s.identityPace, rates.identity, t);
        if (back) opts.log?.(`Federated credential writes in subscription ${ticket.subscription}: no 429 for ${RECOVERY_QUIET_MS / 1000} s, back to full speed`);
      } else if (throttled) {
        const named = outcome.exhausted?.length ? outcome.exhausted : undefined;
        const inSubscription = !named || named.includes('subscription') || named.includes('tenant');
        const inIdentity = !named || named.includes('resource');
        s.pace.lastThrottleAt = s.identityPace.lastThrottleAt = t;
        let slowed = false;
        if (s.pace.intervalMs === 0 && s.identityPace.intervalMs === 0) {
          // The first 429: the documented table applies to these writes, all of it.
          slowDown(s.pace, rates.subscription, t);
          slowDown(s.identityPace, rates.identity, t);
          slowed = true;
        } else {
          if (inSubscription && ticket.startedAt >= s.pace.changedAt) {
            slowDown(s.pace, rates.subscription, t);
            slowed = true;
          }
          if (inIdentity && ticket.startedAt >= s.identityPace.changedAt) {
            slowDown(s.identityPace, rates.identity, t);
            slowed = true;
          }
        }
        // Retry-After holds the scope that answered it, not just the one request.
        const hold = t + (outcome.retryAfterMs ?? 0);
        if (inIdentity) identityOf(ticket.identity).holdUntil = Math.max(identityOf(ticket.identity).holdUntil, hold);
        if (inSubscription) s.holdUntil = Math.max(s.holdUntil, hold);
        if (slowed) {
          opts.log?.(
            `Federated credential writes in subscription ${ticket.subscription} were throttled (HTTP 429): pacing to one write every ${seconds(s.pace.intervalMs)} there and one every ${seconds(s.identityPace.intervalMs)} per identity`,
          );
        }
      }
      notify();
    },
  };
}
