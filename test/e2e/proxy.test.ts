// The action as a runner behind a proxy runs it: no endpoint inputs (azure-cloud AzureCloud,
// so https://management.azure.com and https://login.microsoftonline.com), HTTPS_PROXY set,
// the kubeconfig azure/aks-set-context writes (the cluster's fqdn, reached through the
// kubeconfig's proxy-url). The sandbox plays every public endpoint through its CONNECT proxy;
// a request to any other host would be refused there, so a pass means nothing went around it.
import { resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startSandbox, type Sandbox } from '../sandbox/index.ts';
import { ROOT } from './demo-sandbox.ts';
import { runAction, type ActionRun } from './run-action.ts';

let sb: Sandbox;
beforeAll(async () => {
  sb = await startSandbox({ scenario: resolve(ROOT, 'test/sandbox/scenarios/demo.yaml'), proxy: true });
});
afterAll(async () => {
  await sb?.stop();
});

const run = (mode: string, extra: Record<string, string> = {}): Promise<ActionRun> =>
  runAction({ workspace: ROOT, env: sb.env, inputs: { mode, environment: 'staging', 'mapping-file': 'examples/workload-identity.yaml', verify: 'false', ...extra } });

const hosts = () => [...new Set(sb.proxy!.connects.map((c) => `${c.allowed ? '' : 'refused '}${c.target}`))].sort();

describe('the action with no endpoint inputs, through the sandbox proxy', () => {
  it('the environment is a runner’s behind a proxy: no arm-endpoint/authority-host, HTTPS_PROXY, the issuer on its AKS origin', () => {
    expect(sb.env['INPUT_ARM-ENDPOINT']).toBeUndefined();
    expect(sb.env['INPUT_AUTHORITY-HOST']).toBeUndefined();
    expect(sb.env.HTTPS_PROXY).toBe(sb.urls.proxy);
    expect(sb.env.NO_PROXY).toBe('127.0.0.1,localhost');
    expect(sb.env.REQUESTS_CA_BUNDLE).toBe(sb.caPath);
    expect(sb.issuerUrl).toMatch(/^https:\/\/westeurope\.oic\.prod-aks\.azure\.com\/[0-9a-f-]{36}\/[0-9a-f-]{36}\/$/);
  });

  it('plan, apply with verification, plan again: Azure on its public host names, the cluster on its fqdn, the pods’ exchanges at login.microsoftonline.com', async () => {
    const plan = await run('plan');
    expect(plan.code, plan.stdout).toBe(0);
    expect(JSON.parse(plan.outputs.result!).issuer).toBe(sb.issuerUrl);
    expect(Number(plan.outputs.changes)).toBeGreaterThan(0);

    const apply = await run('apply', { verify: 'true' });
    expect(apply.code, apply.stdout).toBe(0);
    expect(apply.outputs.verified).toBe('true');
    const verified = JSON.parse(apply.outputs.result!).verifications as { serviceAccount: string; ok: boolean }[];
    expect(verified.map((v) => `${v.serviceAccount} ${v.ok}`).sort()).toEqual(['orders-worker true', 'payments-api true', 'report-generator true']);
    expect(sb.state.identityByName('id-payments')!.fics.map((f) => f.issuer)).toEqual([sb.issuerUrl]);

    const again = await run('plan', { 'fail-on-changes': 'true' });
    expect(again.code, again.stdout).toBe(0);
    expect(again.outputs.changes).toBe('0');

    // Every Azure and cluster call went through the proxy to the public names; nothing refused.
    expect(hosts()).toEqual(['aks-staging-dns-sandbox.hcp.westeurope.azmk8s.io:443', 'login.microsoftonline.com:443', 'management.azure.com:443'].sort());
    expect(sb.log.of('kube').some((c) => c.method === 'POST' && c.path.includes('/serviceaccounts'))).toBe(true);
  });
});
