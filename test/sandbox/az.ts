// The real az CLI as a client of the sandbox behind its proxy (the fidelity test, and the
// benchmark's peer): its own AZURE_CONFIG_DIR, telemetry off, HTTPS_PROXY and the sandbox CA
// for Python (REQUESTS_CA_BUNDLE). Commands run asynchronously on purpose: the sandbox answers
// from the caller's event loop, so a synchronous child would wait for itself.
import { execFile } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { delimiter, join } from 'node:path';

/** `az` on PATH, or undefined. */
export function findAz(): string | undefined {
  return (process.env['PATH'] ?? '').split(delimiter).map((d) => join(d, 'az')).find((p) => existsSync(p));
}

export interface CommandRun {
  code: number;
  stdout: string;
  stderr: string;
}

export function runCommand(file: string, args: string[], env: Record<string, string>, timeoutMs = 60_000): Promise<CommandRun> {
  return new Promise((done) => {
    execFile(file, args, { env, timeout: timeoutMs, maxBuffer: 16 * 1024 * 1024 }, (err, stdout, stderr) => {
      const code = err ? (typeof (err as { code?: unknown }).code === 'number' ? (err as { code: number }).code : 1) : 0;
      done({ code, stdout: String(stdout), stderr: String(stderr) });
    });
  });
}

export interface AzCli {
  /** The environment az runs with (also fine for kubectl). */
  env: Record<string, string>;
  home: string;
  run(args: string[]): Promise<CommandRun>;
  /** `az login --service-principal --federated-token`, as azure/login does with OIDC. */
  login(clientId: string, tenantId: string, federatedToken: string): Promise<CommandRun>;
  /** Removes the config directory. */
  dispose(): void;
}

/** An az with a fresh config directory, pointed at a sandbox started with `proxy: true` (its `env`). */
export function azCli(az: string, sandboxEnv: Record<string, string>): AzCli {
  const home = mkdtempSync(join(tmpdir(), 'wi-az-'));
  const env: Record<string, string> = {
    PATH: process.env['PATH'] ?? '',
    HOME: home,
    AZURE_CONFIG_DIR: join(home, 'azure'),
    AZURE_CORE_COLLECT_TELEMETRY: 'false',
    AZURE_CORE_NO_COLOR: 'true',
    HTTPS_PROXY: sandboxEnv['HTTPS_PROXY'] ?? '',
    NO_PROXY: sandboxEnv['NO_PROXY'] ?? '',
    REQUESTS_CA_BUNDLE: sandboxEnv['REQUESTS_CA_BUNDLE'] ?? '',
  };
  if (!env.HTTPS_PROXY) throw new Error('azCli needs a sandbox started with proxy: true');
  return {
    env,
    home,
    run: (args) => runCommand(az, args, env),
    login: (clientId, tenantId, token) => runCommand(az, ['login', '--service-principal', '-u', clientId, '-t', tenantId, '--federated-token', token, '-o', 'none'], env),
    dispose: () => rmSync(home, { recursive: true, force: true }),
  };
}
