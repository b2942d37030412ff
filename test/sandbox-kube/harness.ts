// A kube emulator on its own: TLS, call log, faults, a cluster issuer, one https server,
// and a kubeconfig file that client-node and kubectl load (CA data, no skipTLSVerify).
import { execFile } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { KubeConfig } from '@kubernetes/client-node';
import { createClusterIssuer, type ClusterIssuer } from '../sandbox/cluster-issuer.ts';
import type { SandboxContext } from '../sandbox/context.ts';
import { CallLog, close, Faults, listen, type RunningServer, type Service } from '../sandbox/http.ts';
import { createSandboxTls } from '../sandbox/tls.ts';
import { createKube, type KubeEmulator, type KubeOptions } from '../sandbox/kube/index.ts';

export const TENANT = '72f988bf-86f1-41af-91ab-2d7cd011db47';
export const KUBECTL = '/usr/bin/kubectl';
export const hasKubectl = existsSync(KUBECTL);

export interface KubeHarness {
  kube: KubeEmulator;
  ctx: SandboxContext;
  server: RunningServer;
  issuer: ClusterIssuer;
  kubeconfigPath: string;
  kc: KubeConfig;
  /** Runs the real kubectl against the emulator. */
  kubectl(args: string[], input?: string): Promise<{ code: number; stdout: string; stderr: string }>;
  close(): Promise<void>;
}

export async function startKube(options: Partial<KubeOptions> = {}, user?: string): Promise<KubeHarness> {
  const tls = createSandboxTls();
  const log = new CallLog();
  const faults = new Faults();
  const workDir = mkdtempSync(join(tmpdir(), 'wi-kube-'));
  // listen() needs the service before the port is known; the emulator needs the port.
  const late: { kube?: KubeEmulator } = {};
  const front: Service = {
    name: 'kube',
    handle: (req, res) => (late.kube ? late.kube.service.handle(req, res) : { status: 503, body: 'starting' }),
  };
  const server = await listen(front, tls, log, faults);
  const ctx: SandboxContext = {
    urls: { kube: server.url, arm: 'https://127.0.0.1:9', entra: 'https://127.0.0.1:9', issuer: server.url, github: 'https://127.0.0.1:9' },
    tls,
    log,
    faults,
    workDir,
  };
  const issuer = await createClusterIssuer(server.url, TENANT);
  const kube = createKube(ctx, { clusterIssuer: issuer, authorityHost: `${ctx.urls.entra}/`, tenantId: TENANT, ...options });
  late.kube = kube;
  const kubeconfigPath = join(workDir, 'kubeconfig');
  writeFileSync(kubeconfigPath, kube.kubeconfig(server.url, user), { mode: 0o600 });
  const kc = new KubeConfig();
  kc.loadFromFile(kubeconfigPath);
  const cacheDir = join(workDir, 'kubectl-cache');
  return {
    kube,
    ctx,
    server,
    issuer,
    kubeconfigPath,
    kc,
    kubectl(args, input) {
      return new Promise((resolve) => {
        const child = execFile(
          KUBECTL,
          ['--kubeconfig', kubeconfigPath, '--cache-dir', cacheDir, ...args],
          { env: { PATH: process.env['PATH'] ?? '/usr/bin:/bin', HOME: workDir }, timeout: 20_000 },
          (err, stdout, stderr) => {
            const code = err ? (typeof (err as { code?: unknown }).code === 'number' ? ((err as { code: number }).code) : 1) : 0;
            resolve({ code, stdout, stderr });
          },
        );
        if (input !== undefined) child.stdin?.end(input);
      });
    },
    async close() {
      await kube.stop();
      await close(server.server);
      rmSync(workDir, { recursive: true, force: true });
    },
  };
}

/** Polls `fn` until it returns a truthy value (or throws after `timeoutMs`). */
export async function waitFor<T>(fn: () => Promise<T | undefined | false> | T | undefined | false, timeoutMs = 10_000, what = 'condition'): Promise<T> {
  const end = Date.now() + timeoutMs;
  let last: unknown;
  for (;;) {
    try {
      const v = await fn();
      if (v) return v;
    } catch (err) {
      last = err;
    }
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}${last ? `: ${String(last)}` : ''}`);
    await new Promise((r) => setTimeout(r, 25));
  }
}
