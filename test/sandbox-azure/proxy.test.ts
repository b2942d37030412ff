// The sandbox's CONNECT proxy as a client meets it on the wire: emulated hosts on 443 are
// tunnelled to the front server (TLS with the real host name), anything else is refused at
// CONNECT with a status line that names the host, so a client that wanders off says where.
import { connect as netConnect, type Socket } from 'node:net';
import { connect as tlsConnect } from 'node:tls';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startSandboxCore, type SandboxCore } from '../sandbox/sandbox.ts';
import { baseScenario } from './helpers.ts';

let sb: SandboxCore<undefined>;
beforeAll(async () => {
  sb = await startSandboxCore<undefined>({ scenario: baseScenario(), proxy: true });
});
afterAll(async () => {
  await sb?.stop();
});

/** Sends a CONNECT and returns the proxy's status line, with the socket for a tunnel. */
function connectVia(target: string): Promise<{ status: string; socket: Socket }> {
  const { port } = new URL(sb.urls.proxy);
  return new Promise((resolve, reject) => {
    const socket = netConnect({ host: '127.0.0.1', port: Number(port) }, () => socket.write(`CONNECT ${target} HTTP/1.1\r\nHost: ${target}\r\n\r\n`));
    let head = '';
    const onData = (d: Buffer) => {
      head += d.toString('latin1');
      if (!head.includes('\r\n\r\n')) return;
      socket.off('data', onData);
      resolve({ status: head.split('\r\n')[0]!, socket });
    };
    socket.on('data', onData);
    socket.on('error', reject);
  });
}

describe('the sandbox CONNECT proxy', () => {
  it('tunnels management.azure.com:443 to ARM, TLS with the real name and the sandbox CA', async () => {
    const { status, socket } = await connectVia('management.azure.com:443');
    expect(status).toBe('HTTP/1.1 200 Connection Established');
    const body = await new Promise<string>((resolve, reject) => {
      const tls = tlsConnect({ socket, servername: 'management.azure.com', ca: sb.tls.caPem }, () => {
        tls.write('GET /subscriptions?api-version=2022-12-01 HTTP/1.1\r\nHost: management.azure.com\r\nConnection: close\r\n\r\n');
      });
      let text = '';
      tls.on('data', (d: Buffer) => (text += d.toString()));
      tls.on('end', () => resolve(text));
      tls.on('error', reject);
    });
    // ARM answered (no token: its 401 with the ARM challenge), not the proxy.
    expect(body.split('\r\n')[0]).toBe('HTTP/1.1 401 Unauthorized');
    expect(body).toContain('AuthenticationFailed');
    expect(sb.proxy!.connects.at(-1)).toMatchObject({ target: 'management.azure.com:443', allowed: true });
  });

  it('refuses a host it does not emulate, naming it in the status line', async () => {
    const { status, socket } = await connectVia('pypi.org:443');
    socket.destroy();
    expect(status).toMatch(/^HTTP\/1\.1 403 Forbidden: the sandbox does not emulate pypi\.org:443 \(not one of its hosts: login\.microsoftonline\.com, management\.azure\.com, /);
    expect(sb.proxy!.connects.at(-1)).toMatchObject({ target: 'pypi.org:443', allowed: false });
  });

  it('refuses another port of an emulated host, and a cluster the Kubernetes emulator does not play', async () => {
    const port = await connectVia('management.azure.com:80');
    port.socket.destroy();
    expect(port.status).toBe('HTTP/1.1 403 Forbidden: the sandbox does not emulate management.azure.com:80 (only port 443 is tunnelled)');
    const cluster = await connectVia('aks-stg-dns-sandbox.hcp.westeurope.azmk8s.io:443');
    cluster.socket.destroy();
    expect(cluster.status).toBe('HTTP/1.1 403 Forbidden: the sandbox does not emulate aks-stg-dns-sandbox.hcp.westeurope.azmk8s.io:443 (no Kubernetes emulator runs)');
  });

  it('answers plain-http proxying with 405 and why', async () => {
    const res = await fetch(`${sb.urls.proxy}/`, { method: 'GET' });
    expect(res.status).toBe(405);
    expect(await res.text()).toContain('only tunnels https (CONNECT host:443)');
  });
});
