// The sandbox's https CONNECT proxy: `HTTPS_PROXY=http://127.0.0.1:<port>` puts unmodified
// clients on their default endpoints — az CLI (Python requests), the Azure SDKs, kubectl and
// client-node through the kubeconfig's `proxy-url` — in front of the sandbox. A CONNECT to a
// host the sandbox emulates (login.microsoftonline.com, management.azure.com, api.github.com,
// `<region>.oic.prod-aks.azure.com`, the emulated cluster's fqdn, `*.sandbox.local`) on port
// 443 becomes a plain TCP tunnel to the Host-routed front server, whose certificate (sandbox
// CA) names those hosts. Anything else is refused at CONNECT with 403 and a reason that says
// which host was asked for, so a client that wanders off (telemetry, update checks, another
// cloud) fails loudly instead of reaching the internet.
import { createServer, type IncomingMessage, type Server } from 'node:http';
import { connect, type Socket } from 'node:net';
import type { AddressInfo } from 'node:net';

export interface ProxyConnect {
  /** `host:port` as the client asked for it. */
  target: string;
  allowed: boolean;
  at: number; // ms since epoch
}

export interface SandboxProxy {
  /** `http://127.0.0.1:<port>`: the HTTPS_PROXY value and the kubeconfig's `proxy-url`. */
  url: string;
  port: number;
  server: Server;
  /** Every CONNECT, allowed or refused, in order. */
  connects: ProxyConnect[];
  close(): Promise<void>;
}

export interface ProxyOptions {
  /** Port of the front server on 127.0.0.1 (routes by Host/SNI name). */
  frontPort: number;
  /** undefined: the host is emulated; a string: why it is refused. */
  refusal(host: string): string | undefined;
}

const HOST_PORT = /^([a-z0-9.-]+|\[[0-9a-f:]+\]):(\d{1,5})$/i;

function refuse(socket: Socket, status: 400 | 403 | 405, reason: string): void {
  // The reason phrase carries the explanation: urllib3/requests and curl print the status line.
  const phrase = reason.replace(/[^\x20-\x7e]/g, '?');
  const body = `${phrase}\n`;
  socket.end(`HTTP/1.1 ${status} ${phrase}\r\ncontent-type: text/plain\r\ncontent-length: ${Buffer.byteLength(body)}\r\nconnection: close\r\n\r\n${body}`);
}

export async function startProxy(options: ProxyOptions): Promise<SandboxProxy> {
  const connects: ProxyConnect[] = [];
  const sockets = new Set<Socket>();
  const server = createServer((req, res) => {
    // Plain-http proxying (GET http://…): nothing the sandbox emulates is served over http.
    const text = `The sandbox proxy only tunnels https (CONNECT host:443); it does not forward '${req.method ?? ''} ${req.url ?? ''}'.\n`;
    res.writeHead(405, { 'content-type': 'text/plain', 'content-length': Buffer.byteLength(text) });
    res.end(text);
  });
  server.on('connect', (req: IncomingMessage, client: Socket, head: Buffer) => {
    sockets.add(client);
    client.on('close', () => sockets.delete(client));
    client.on('error', () => client.destroy());
    const target = req.url ?? '';
    const m = HOST_PORT.exec(target);
    if (!m) {
      connects.push({ target, allowed: false, at: Date.now() });
      refuse(client, 400, `Bad CONNECT target (expected host:port)`);
      return;
    }
    const host = m[1]!.toLowerCase();
    const why = m[2] !== '443' ? `only port 443 is tunnelled` : options.refusal(host);
    connects.push({ target, allowed: !why, at: Date.now() });
    if (why) {
      refuse(client, 403, `Forbidden: the sandbox does not emulate ${host}:${m[2]} (${why})`);
      return;
    }
    const upstream = connect({ host: '127.0.0.1', port: options.frontPort });
    sockets.add(upstream);
    upstream.on('close', () => sockets.delete(upstream));
    upstream.on('error', () => client.destroy());
    client.on('close', () => upstream.destroy());
    upstream.once('connect', () => {
      client.write('HTTP/1.1 200 Connection Established\r\n\r\n');
      if (head.length) upstream.write(head);
      upstream.pipe(client);
      client.pipe(upstream);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as AddressInfo).port;
  return {
    url: `http://127.0.0.1:${port}`,
    port,
    server,
    connects,
    async close() {
      for (const s of sockets) s.destroy();
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
