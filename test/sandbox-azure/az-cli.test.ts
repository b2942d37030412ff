// The real az CLI, unmodified, on its default endpoints through the sandbox's CONNECT proxy:
// the commands of the seeds' manual migration (and of azure/login + azure/aks-set-context),
// in its own AZURE_CONFIG_DIR with telemetry off. The strongest fidelity proof available
// here: az (Python requests, MSAL for Python, azure-mgmt-* with their own api-versions)
// parses what the emulators answer. GitHub's runners ship az; .ci/run installs Debian's
// azure-cli when it is missing. Without az the test is skipped with the reason printed —
// unless CI=true, where a missing az is a failure.
import { existsSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { azCli, findAz, runCommand, type AzCli } from '../sandbox/az.ts';
import { startSandbox, type Sandbox } from '../sandbox/index.ts';

const ROOT = resolve(import.meta.dirname, '../..');
const KUBECTL = '/usr/bin/kubectl';
const az = findAz();
const ci = process.env.CI === 'true';
if (!az && !ci) console.log('az CLI test skipped: no `az` on PATH (install Debian\'s azure-cli, as .ci/run does, to run it)');

describe.skipIf(!az && !ci)('az CLI 2.x through the sandbox proxy (seeds’ commands)', () => {
  let sb: Sandbox;
  let cli: AzCli;
  beforeAll(async () => {
    sb = await startSandbox({ scenario: resolve(ROOT, 'test/sandbox/scenarios/demo.yaml'), proxy: true });
    if (az) cli = azCli(az, sb.env);
  });
  afterAll(async () => {
    await sb?.stop();
    cli?.dispose();
  });

  const azOk = async (...args: string[]): Promise<string> => {
    const r = await cli.run(args);
    expect(r.code, `az ${args.join(' ')}\n${r.stderr}`).toBe(0);
    return r.stdout.trim();
  };

  it('logs in with a federated token, reads the cluster and identity, manages FICs, gets credentials for kubectl', { timeout: 180_000 }, async () => {
    if (!az) throw new Error('CI=true but no `az` on PATH: .ci/run installs azure-cli with apt-get when it is missing');
    const rg = 'rg-identities';
    const subject = 'system:serviceaccount:payments:payments-api';

    // azure/login with OIDC: `az login --service-principal --federated-token <GitHub OIDC token>`.
    const login = await cli.login(sb.loginApp.clientId, sb.tenantId, await sb.githubIdToken('api://AzureADTokenExchange'));
    expect(login.code, login.stderr).toBe(0);
    const account = JSON.parse(await azOk('account', 'show', '-o', 'json')) as { id: string; tenantId: string; user: { name: string; type: string } };
    expect(account).toMatchObject({ id: sb.subscriptionId, tenantId: sb.tenantId, user: { name: sb.loginApp.clientId, type: 'servicePrincipal' } });

    // The seeds read the issuer with az (api-version 2022-11-01, which the sandbox once refused).
    expect(await azOk('aks', 'show', '-g', 'rg-aks-staging', '-n', 'aks-staging', '--query', 'oidcIssuerProfile.issuerUrl', '-o', 'tsv')).toBe(sb.issuerUrl);
    expect(await azOk('aks', 'list', '--query', '[].name', '-o', 'tsv')).toBe('aks-staging');
    expect(await azOk('aks', 'list', '-g', 'rg-aks-staging', '--query', '[].name', '-o', 'tsv')).toBe('aks-staging');
    expect(await azOk('identity', 'show', '-g', rg, '-n', 'id-payments', '--query', 'clientId', '-o', 'tsv')).toBe(sb.state.identityByName('id-payments')!.clientId);

    // The FIC by hand, as the migration guides do it.
    const create = (name: string) =>
      cli.run(['identity', 'federated-credential', 'create', '--name', name, '--identity-name', 'id-payments', '-g', rg, '--issuer', sb.issuerUrl, '--subject', subject, '--audiences', 'api://AzureADTokenExchange', '-o', 'json']);
    const created = await create('payments-by-hand');
    expect(created.code, created.stderr).toBe(0);
    expect(JSON.parse(created.stdout)).toMatchObject({ name: 'payments-by-hand', issuer: sb.issuerUrl, subject, audiences: ['api://AzureADTokenExchange'] });
    // A second name for the same issuer + subject is refused, as Azure refuses it.
    const duplicate = await create('payments-again');
    expect(duplicate.code).not.toBe(0);
    expect(duplicate.stderr).toContain('(BadRequest) Issuer and subject combination already exists for this Managed Identity.');
    expect(await azOk('identity', 'federated-credential', 'list', '--identity-name', 'id-payments', '-g', rg, '--query', '[].name', '-o', 'tsv')).toBe('payments-by-hand');
    expect(await azOk('identity', 'federated-credential', 'show', '--name', 'payments-by-hand', '--identity-name', 'id-payments', '-g', rg, '--query', 'subject', '-o', 'tsv')).toBe(subject);
    await azOk('identity', 'federated-credential', 'delete', '--name', 'payments-by-hand', '--identity-name', 'id-payments', '-g', rg, '--yes');
    expect(sb.state.identityByName('id-payments')!.fics).toEqual([]);

    // azure/aks-set-context: listClusterUserCredential, merged into a kubeconfig kubectl uses.
    const kubeconfig = join(cli.home, 'kubeconfig');
    await azOk('aks', 'get-credentials', '-g', 'rg-aks-staging', '-n', 'aks-staging', '--file', kubeconfig);
    const written = readFileSync(kubeconfig, 'utf8');
    expect(written).toContain('server: https://aks-staging-dns-sandbox.hcp.westeurope.azmk8s.io:443');
    expect(written).toContain(`proxy-url: ${sb.urls.proxy}`);
    if (existsSync(KUBECTL)) {
      const ns = await runCommand(KUBECTL, ['--kubeconfig', kubeconfig, 'get', 'namespaces', '-o', 'name'], cli.env);
      expect(ns.code, ns.stderr).toBe(0);
      expect(ns.stdout.split('\n')).toContain('namespace/payments');
    }

    // az asked for nothing else (telemetry off), except what its first run in a fresh config
    // dir does: a HEAD to https://azure.microsoft.com (azure.cli.core.util check_connectivity,
    // from handle_version_update), which the proxy refuses and az shrugs off.
    expect(sb.proxy!.connects.filter((c) => !c.allowed && c.target !== 'azure.microsoft.com:443')).toEqual([]);
  });
});
