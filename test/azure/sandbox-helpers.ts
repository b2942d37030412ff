// The Azure side against the sandbox, in-process: the real SDKs (arm-msi, arm-containerservice,
// identity/MSAL) over https, the action's own GitHub OIDC login, the sandbox's ARM and Entra.
// Only ARM/Entra/issuer/GitHub are started (startSandboxCore without a Kubernetes emulator).
//
// Trusting the sandbox CA: NODE_EXTRA_CA_CERTS is read once at process start, so an
// in-process test adds the CA to Node's default set instead (tls.setDefaultCACertificates,
// Node ≥ 22.15/24). Every TLS client that does not pass its own `ca` — core-rest-pipeline's
// https agent, MSAL's, @actions/http-client's — then trusts it; nothing runs with
// verification off and no SDK is patched.
import tls from 'node:tls';
import * as core from '@actions/core';
import { createAzureCredential } from '../../src/azure/credential.ts';
import { createArmPort, type AzurePort } from '../../src/azure/port.ts';
import type { TokenCredential } from '@azure/identity';
import type { Settings } from '../../src/settings.ts';
import { startSandboxCore, type SandboxCore } from '../sandbox/sandbox.ts';
import type { Scenario } from '../sandbox/scenario.ts';

export type AzureSandbox = SandboxCore<undefined>;

// Captured once: each sandbox has a fresh CA with the same subject name, so the previous
// one must be replaced, not kept (OpenSSL would pick the stale CA by name and fail the
// signature check).
const systemCas = tls.getCACertificates('default');

export function trustCa(caPem: string): void {
  tls.setDefaultCACertificates([...systemCas, caPem]);
}

/**
 * Polls `condition` until it holds: for states the test cannot await directly (a request
 * reaching the emulator, the server finishing a response). Condition-based, so a slow
 * machine only makes it poll longer; the deadline (far above any normal wait) turns a
 * state that never comes into a failure that says which one.
 */
export async function until(condition: () => boolean, what: string, deadlineMs = 30_000): Promise<void> {
  const giveUp = Date.now() + deadlineMs;
  while (!condition()) {
    if (Date.now() > giveUp) throw new Error(`Timed out after ${deadlineMs} ms waiting until ${what}`);
    await new Promise((r) => setTimeout(r, 2));
  }
}

/**
 * The call log records a status when the server's 'finish' fires, which can trail the
 * client's answer: waits until every logged call has one.
 */
export const settle = (sb: AzureSandbox): Promise<void> => until(() => sb.log.calls.every((c) => c.status !== 0), 'every logged sandbox call has its status');

export async function startAzureSandbox(scenario: Scenario, arm?: { pageSize?: number; writeHoldMs?: number }): Promise<AzureSandbox> {
  const sb = await startSandboxCore<undefined>({ scenario, ...(arm ? { arm } : {}) });
  trustCa(sb.tls.caPem);
  return sb;
}

export function azureSettings(sb: Pick<AzureSandbox, 'loginApp' | 'tenantId' | 'subscriptionId' | 'urls'>, over: Partial<Settings['azure']> = {}): Settings['azure'] {
  return {
    clientId: sb.loginApp.clientId,
    tenantId: sb.tenantId,
    subscriptionId: sb.subscriptionId,
    cloud: 'AzureCloud',
    armEndpoint: sb.urls.arm,
    authorityHost: sb.urls.entra,
    audience: 'api://AzureADTokenExchange',
    ...over,
  };
}

/**
 * The workflow's OIDC token from the sandbox's GitHub emulator, over the protocol the
 * runner speaks (GET ACTIONS_ID_TOKEN_REQUEST_URL&audience=… with the request token as
 * bearer → {value}). `viaActionsCore` goes through @actions/core's getIDToken as main.ts
 * does (it prints ::add-mask:: lines, so only the login test uses it).
 */
export function githubIdToken(sb: AzureSandbox, opts: { viaActionsCore?: boolean; withoutRequestUrl?: boolean } = {}): (audience: string) => Promise<string> {
  const url = sb.env.ACTIONS_ID_TOKEN_REQUEST_URL!;
  const token = sb.env.ACTIONS_ID_TOKEN_REQUEST_TOKEN!;
  if (!opts.viaActionsCore) {
    return async (audience) => {
      const res = await fetch(`${url}&audience=${encodeURIComponent(audience)}`, { headers: { authorization: `Bearer ${token}` } });
      if (!res.ok) throw new Error(`GitHub OIDC token request failed: HTTP ${res.status}`);
      return ((await res.json()) as { value: string }).value;
    };
  }
  return async (audience) => {
    const saved = { url: process.env.ACTIONS_ID_TOKEN_REQUEST_URL, token: process.env.ACTIONS_ID_TOKEN_REQUEST_TOKEN };
    if (opts.withoutRequestUrl) delete process.env.ACTIONS_ID_TOKEN_REQUEST_URL; // a job without id-token: write
    else process.env.ACTIONS_ID_TOKEN_REQUEST_URL = url;
    process.env.ACTIONS_ID_TOKEN_REQUEST_TOKEN = token;
    try {
      return await core.getIDToken(audience);
    } finally {
      restore('ACTIONS_ID_TOKEN_REQUEST_URL', saved.url);
      restore('ACTIONS_ID_TOKEN_REQUEST_TOKEN', saved.token);
    }
  };
}

function restore(name: string, value: string | undefined): void {
  if (value === undefined) delete process.env[name];
  else process.env[name] = value;
}

export function connect(sb: AzureSandbox): { credential: TokenCredential; port: AzurePort } {
  const credential = createAzureCredential(azureSettings(sb), githubIdToken(sb));
  return { credential, port: createArmPort(credential, { armEndpoint: sb.urls.arm }) };
}

/** ARM calls of the log as 'METHOD kind' (identity, fic-list, fic, cluster), for assertions and the bench. */
export { armCallKind } from '../sandbox/call-kinds.ts';
