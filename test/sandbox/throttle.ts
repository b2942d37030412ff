// Throttling of federated-credential writes, off by default. Entra's FIC considerations page
// (learn.microsoft.com/entra/workload-id/workload-identity-federation-considerations,
// "Throttling") documents the user-assigned managed identity API's limits: create or update
// 10 requests/s per tenant, 2 per subscription, 0.25 per resource (get 30/10/0.5, list
// 15/5/0.25), HTTP 429 beyond. Whether FIC writes count against them is not stated; when
// enabled, the sandbox assumes they do. Each limit is a token bucket holding one second's
// worth of requests (at least one); a write needs a token in all three, and takes them only
// when it gets all three. A refused write gets 429 with Retry-After (whole seconds, as ARM
// sends it) and every answer carries `x-ms-ratelimit-remaining-*` headers: ARM's
// subscription/tenant names, and the resource provider's `x-ms-ratelimit-remaining-resource`
// form (`<policy>;<remaining>`), so that a client can tell which limit it hit.

export interface WriteLimits {
  /** Writes per second, per tenant. */
  tenant: number;
  subscription: number;
  /** Per user-assigned identity (the resource the FICs belong to). */
  resource: number;
  /**
   * How many seconds' worth of writes a bucket holds (default 1; always at least one write).
   * A test that scales the rates up scales this down, so the buckets keep the table's shape.
   */
  burstSeconds?: number;
}

/** The documented create-or-update limits. */
export const FIC_WRITE_LIMITS: WriteLimits = { tenant: 10, subscription: 2, resource: 0.25 };

export const RESOURCE_POLICY = 'Microsoft.ManagedIdentity/userAssignedIdentities/federatedIdentityCredentials/write';

class TokenBucket {
  private tokens: number;
  private at: number;
  private readonly rate: number;
  private readonly capacity: number;
  constructor(rate: number, capacity: number, now: number) {
    this.rate = rate;
    this.capacity = capacity;
    this.tokens = capacity;
    this.at = now;
  }
  level(now: number): number {
    this.tokens = Math.min(this.capacity, this.tokens + (Math.max(0, now - this.at) / 1000) * this.rate);
    this.at = Math.max(this.at, now);
    return this.tokens;
  }
  take(): void {
    this.tokens -= 1;
  }
  /** Milliseconds until one token is there. */
  waitMs(now: number): number {
    return Math.max(0, ((1 - this.level(now)) / this.rate) * 1000);
  }
}

export type ThrottleAnswer = { ok: true; headers: Record<string, string> } | { ok: false; retryAfterSeconds: number; headers: Record<string, string> };

export interface WriteThrottle {
  readonly limits: WriteLimits;
  /** One write on `resource` (an identity's ID) in that subscription and tenant. */
  take(tenant: string, subscription: string, resource: string): ThrottleAnswer;
}

export function createWriteThrottle(limits: WriteLimits, clock: () => number = () => performance.now()): WriteThrottle {
  const buckets = new Map<string, TokenBucket>();
  const bucket = (key: string, rate: number, now: number): TokenBucket => {
    let b = buckets.get(key);
    if (!b) buckets.set(key, (b = new TokenBucket(rate, Math.max(1, rate * (limits.burstSeconds ?? 1)), now)));
    return b;
  };
  return {
    limits,
    take(tenant, subscription, resource) {
      const now = clock();
      const all = [bucket(`t/${tenant}`, limits.tenant, now), bucket(`s/${subscription}`, limits.subscription, now), bucket(`r/${resource.toLowerCase()}`, limits.resource, now)];
      const allowed = all.every((b) => b.level(now) >= 1);
      if (allowed) for (const b of all) b.take();
      const [t, s, r] = all.map((b) => String(Math.floor(b.level(now))));
      const headers = {
        'x-ms-ratelimit-remaining-tenant-writes': t!,
        'x-ms-ratelimit-remaining-subscription-writes': s!,
        'x-ms-ratelimit-remaining-resource': `${RESOURCE_POLICY};${r}`,
      };
      if (allowed) return { ok: true, headers };
      const waitMs = Math.max(...all.map((b) => b.waitMs(now)));
      return { ok: false, retryAfterSeconds: Math.max(1, Math.ceil(waitMs / 1000)), headers };
    },
  };
}
