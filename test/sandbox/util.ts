// Small helpers the Azure and GitHub emulators share: stable ids from a seed, request ids,
// an https GET that trusts the sandbox CA, and the Retry/sleep plumbing.
import { createHash, randomUUID } from 'node:crypto';
import { request } from 'node:https';

export const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

export type Uuid = `${string}-${string}-${string}-${string}-${string}`;

/** A UUID-shaped id derived from a seed, so scenarios give the same client ids on every run. */
export function uuidFrom(seed: string): Uuid {
  const h = createHash('sha256').update(seed).digest('hex');
  // Version 4 / variant bits set so it looks like what Azure hands out.
  const variant = ((parseInt(h[16]!, 16) & 0x3) | 0x8).toString(16);
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-4${h.slice(13, 16)}-${variant}${h.slice(17, 20)}-${h.slice(20, 32)}`;
}

/** A 40-hex git commit sha derived from a seed. */
export const shaFrom = (seed: string): string => createHash('sha1').update(seed).digest('hex');

export const newId = (): string => randomUUID();

/** Entra's timestamp format in error bodies: `2022-01-20 22:54:42Z`. */
export function entraTimestamp(d = new Date()): string {
  return d.toISOString().replace('T', ' ').replace(/\.\d+Z$/, 'Z');
}

/** .NET round-trip format Entra uses inside AADSTS700024: `2024-10-02T22:05:03.6755165Z`. */
export function dotnetTime(epochSeconds: number): string {
  return new Date(epochSeconds * 1000).toISOString().replace(/\.(\d+)Z$/, (_m, f: string) => `.${f.padEnd(7, '0')}Z`);
}

export interface FetchResult {
  status: number;
  body: string;
}

/**
 * GET over https trusting the sandbox CA. `connectTo` (an https origin) lets a URL with a
 * real host name (e.g. westeurope.oic.prod-aks.azure.com) be served by the local emulator:
 * the TCP connection goes there, Host and SNI keep the real name.
 */
export function httpsGet(url: string, ca: string, connectTo?: string, timeoutMs = 5000): Promise<FetchResult> {
  const u = new URL(url);
  const target = connectTo ? new URL(connectTo) : u;
  return new Promise((resolve, reject) => {
    const req = request(
      {
        host: target.hostname,
        port: target.port || 443,
        path: u.pathname + u.search,
        method: 'GET',
        ca,
        servername: /^\d+\.\d+\.\d+\.\d+$/.test(u.hostname) ? undefined : u.hostname,
        headers: { host: u.host, accept: 'application/json' },
        timeout: timeoutMs,
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString('utf8') }));
        res.on('error', reject);
      },
    );
    req.on('timeout', () => req.destroy(new Error(`timeout after ${timeoutMs} ms`)));
    req.on('error', reject);
    req.end();
  });
}

/** Case-insensitive equality, the way ARM compares resource names and ids. */
export const ieq = (a: string | undefined, b: string | undefined): boolean =>
  a !== undefined && b !== undefined && a.toLowerCase() === b.toLowerCase();
