// The plumbing every emulator shares: https servers on 127.0.0.1, a body already read,
// one call log (method, path, start, end) for tests and the benchmark, and fault
// injection (latency, forced status with Retry-After) applied before the emulator runs.
import { createServer, type Server } from 'node:https';
import type { IncomingMessage, ServerResponse, OutgoingHttpHeaders } from 'node:http';
import type { AddressInfo } from 'node:net';
import { countCallKinds } from './call-kinds.ts';
import { faultReply } from './error-bodies.ts';
import type { SandboxTls } from './tls.ts';

export type ServiceName = 'kube' | 'arm' | 'entra' | 'issuer' | 'github';

export interface SandboxRequest {
  service: ServiceName;
  method: string;
  url: URL; // absolute, with the origin the client used
  headers: IncomingMessage['headers'];
  body: Buffer;
  raw: IncomingMessage;
}

export interface Reply {
  status: number;
  headers?: OutgoingHttpHeaders;
  body?: unknown; // object → JSON, string/Buffer → as is, undefined → empty
}

/** An emulator: gets a request, answers a reply, or takes over the response (watch, log follow). */
export interface Service {
  name: ServiceName;
  handle(req: SandboxRequest, res: ServerResponse): Promise<Reply | void> | Reply | void;
}

export interface CallRecord {
  service: ServiceName;
  method: string;
  path: string; // path + query
  status: number;
  start: number; // ms since sandbox start
  end: number;
}

/**
 * Forced answer for requests that match: status (e.g. 429, 503) with optional Retry-After.
 * Without `body`, the answer is the service's own error shape (ARM error, Kubernetes Status,
 * AADSTS envelope, GitHub message, plain text for the issuer): see error-bodies.ts.
 */
export interface InjectedFault {
  service: ServiceName;
  method?: string;
  pathIncludes?: string;
  /** Required unless `hang`. */
  status?: number;
  /**
   * Accept the request and never answer (no status, no body, the connection held open):
   * a dead backend behind a live load balancer. Only the client's own timeout ends it.
   */
  hang?: boolean;
  /** Let this many matching requests through first: `skip: 2` faults the 3rd call. */
  skip?: number;
  retryAfterSeconds?: number;
  body?: unknown;
  times: number; // how many matching requests get it
}

export interface LatencyFault {
  readMs?: number;
  writeMs?: number;
}

export class Faults {
  latency: Partial<Record<ServiceName, LatencyFault>> = {};
  private forced: InjectedFault[] = [];

  inject(fault: InjectedFault): void {
    this.forced.push({ ...fault });
  }

  clear(): void {
    this.forced = [];
    this.latency = {};
    this.hung = 0;
  }

  /** Consumes one use of the first matching fault (a fault still skipping counts the request and lets it through). */
  take(service: ServiceName, method: string, path: string): InjectedFault | undefined {
    for (const f of this.forced) {
      const matches = f.times > 0 && f.service === service && (!f.method || f.method.toUpperCase() === method) && (!f.pathIncludes || path.includes(f.pathIncludes));
      if (!matches) continue;
      if (f.skip) {
        f.skip -= 1;
        continue;
      }
      f.times -= 1;
      return f;
    }
    return undefined;
  }

  /** Requests held unanswered by `hang` faults (tests assert the client gave up on them). */
  hung = 0;
}

export const isWrite = (method: string): boolean => !['GET', 'HEAD', 'OPTIONS'].includes(method);

export function sendReply(res: ServerResponse, reply: Reply): void {
  if (res.headersSent) return;
  const headers: OutgoingHttpHeaders = { ...reply.headers };
  let payload: Buffer | string | undefined;
  if (reply.body === undefined || reply.body === null) payload = undefined;
  else if (typeof reply.body === 'string' || Buffer.isBuffer(reply.body)) payload = reply.body;
  else {
    payload = JSON.stringify(reply.body);
    headers['content-type'] ??= 'application/json; charset=utf-8';
  }
  if (payload !== undefined) headers['content-length'] = Buffer.byteLength(payload);
  res.writeHead(reply.status, headers);
  res.end(payload);
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

export interface RunningServer {
  service: ServiceName;
  url: string; // https://127.0.0.1:port
  port: number;
  server: Server;
}

export class CallLog {
  readonly epoch = Date.now();
  readonly calls: CallRecord[] = [];
  now(): number {
    return Date.now() - this.epoch;
  }
  of(service: ServiceName): CallRecord[] {
    return this.calls.filter((c) => c.service === service);
  }
  writes(service?: ServiceName): CallRecord[] {
    return this.calls.filter((c) => (!service || c.service === service) && isWrite(c.method));
  }
  /** Calls per service and kind (`kube list serviceaccounts`: 20, `arm GET fic-list`: 50), see call-kinds.ts. */
  counts(service?: ServiceName): Record<string, number> {
    return countCallKinds(service ? this.of(service) : this.calls);
  }
  reset(): void {
    this.calls.length = 0;
  }
}

/** Reads the body, applies faults and latency, runs the emulator, logs the call. */
export async function dispatch(
  service: Service,
  raw: IncomingMessage,
  res: ServerResponse,
  log: CallLog,
  faults: Faults,
): Promise<void> {
  const start = log.now();
  const chunks: Buffer[] = [];
  for await (const c of raw) chunks.push(c as Buffer);
  const method = (raw.method ?? 'GET').toUpperCase();
  const url = new URL(raw.url ?? '/', `https://${raw.headers.host ?? '127.0.0.1'}`);
  const path = url.pathname + url.search;
  const record: CallRecord = { service: service.name, method, path, status: 0, start, end: start };
  log.calls.push(record);
  res.on('finish', () => {
    record.status = res.statusCode;
    record.end = log.now();
  });
  res.on('close', () => {
    if (!record.status) record.status = res.statusCode;
    if (record.end === start) record.end = log.now();
  });
  try {
    const lat = faults.latency[service.name];
    const delay = isWrite(method) ? lat?.writeMs : lat?.readMs;
    if (delay) await sleep(delay);
    const fault = faults.take(service.name, method, path);
    if (fault?.hang) {
      // Never answer; the client's timeout (or the sandbox's stop) closes the connection.
      faults.hung += 1;
      return;
    }
    if (fault) {
      // Without a body of its own, a fault answers in the service's error shape (error-bodies.ts).
      const reply = faultReply(service.name, { url, headers: raw.headers }, fault.status ?? 500, fault.retryAfterSeconds);
      if (fault.body !== undefined) reply.body = fault.body;
      sendReply(res, reply);
      return;
    }
    const req: SandboxRequest = { service: service.name, method, url, headers: raw.headers, body: Buffer.concat(chunks), raw };
    const reply = await service.handle(req, res);
    if (reply) sendReply(res, reply);
  } catch (err) {
    sendReply(res, { status: 500, body: { error: { code: 'SandboxError', message: String((err as Error)?.stack ?? err) } } });
  }
}

export async function listen(
  service: Service,
  tls: SandboxTls,
  log: CallLog,
  faults: Faults,
): Promise<RunningServer> {
  const server = createServer({ key: tls.keyPem, cert: tls.certPem }, (req, res) => {
    void dispatch(service, req, res, log, faults);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as AddressInfo).port;
  return { service: service.name, url: `https://127.0.0.1:${port}`, port, server };
}

export async function close(server: Server): Promise<void> {
  server.closeAllConnections();
  await new Promise<void>((resolve) => server.close(() => resolve()));
}

export function jsonBody<T = unknown>(req: SandboxRequest): T {
  if (!req.body.length) return {} as T;
  return JSON.parse(req.body.toString('utf8')) as T;
}
