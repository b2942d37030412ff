// Retry-After as core-rest-pipeline reads it: `retry-after-ms`, `x-ms-retry-after-ms`
// (milliseconds), `retry-after` (seconds or an HTTP date). One parser for every service.

export function retryAfterMs(get: (name: string) => string | undefined, now = Date.now()): number | undefined {
  for (const [name, factor] of [['retry-after-ms', 1], ['x-ms-retry-after-ms', 1], ['retry-after', 1000]] as const) {
    const raw = get(name)?.trim();
    if (!raw) continue;
    if (/^\d+(\.\d+)?$/.test(raw)) return Number(raw) * factor;
    if (name === 'retry-after') {
      const date = Date.parse(raw);
      if (Number.isFinite(date)) return Math.max(0, date - now);
    }
  }
  return undefined;
}
