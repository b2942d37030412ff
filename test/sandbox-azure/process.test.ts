// The sandbox as the action sees it: a child `node` started with the sandbox's env
// (NODE_EXTRA_CA_CERTS, INPUT_*, ACTIONS_ID_TOKEN_*) runs the real SDKs; curl with
// --cacert talks to ARM directly and to the Host-routed front server under real host names.
import { execFile, spawn } from 'node:child_process';
import { copyFileSync, existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startSandboxCore, type SandboxCore } from '../sandbox/sandbox.ts';
import { baseScenario } from './helpers.ts';

const run = promisify(execFile);
const root = fileURLToPath(new URL('../..', import.meta.url));
const hasCurl = existsSync('/usr/bin/curl');
const hasKube = existsSync(fileURLToPath(new URL('../sandbox/kube/index.ts', import.meta.url)));

let sb: SandboxCore<undefined>;
beforeAll(async () => {
  sb = await startSandboxCore<undefined>({ scenario: baseScenario() });
});
afterAll(async () => {
  await sb?.stop();
});

describe('a child node process with the sandbox env', () => {
  it('logs in with the GitHub OIDC token and reads ARM (NODE_EXTRA_CA_CERTS, inputs)', async () => {
    const script = `
      import * as core from '@actions/core';
      import { ClientAssertionCredential } from '@azure/identity';
      import { ManagedServiceIdentityClient } from '@azure/arm-msi';
      const cred = new ClientAssertionCredential(core.getInput('azure-tenant-id'), core.getInput('azure-client-id'),
        () => core.getIDToken('api://AzureADTokenExchange'), { authorityHost: core.getInput('authority-host'), disableInstanceDiscovery: true });
      const msi = new ManagedServiceIdentityClient(cred, core.getInput('azure-subscription-id'), { endpoint: core.getInput('arm-endpoint') });
      const id = await msi.userAssignedIdentities.get('rg-identities', 'id-payments');
      const fics = [];
      for await (const f of msi.federatedIdentityCredentials.list('rg-identities', 'id-payments')) fics.push(f.name);
      console.log('RESULT ' + JSON.stringify({ clientId: id.clientId, fics }));
    `;
    const { stdout } = await run(process.execPath, ['--input-type=module', '-e', script], {
      cwd: root,
      env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '/tmp', ...sb.env },
      timeout: 20_000,
    });
    const line = stdout.split('\n').find((l) => l.startsWith('RESULT '))!;
    expect(JSON.parse(line.slice(7))).toEqual({ clientId: sb.state.identityByName('id-payments')!.clientId, fics: ['aks-stg-payments-payments-api'] });
  });
});

describe.skipIf(!hasCurl)('curl --cacert', () => {
  it('reads an identity from ARM', async () => {
    const url = `${sb.urls.arm}/subscriptions/${sb.subscriptionId}/resourceGroups/rg-identities/providers/Microsoft.ManagedIdentity/userAssignedIdentities/id-payments?api-version=2024-11-30`;
    const { stdout } = await run('curl', ['-sS', '--fail-with-body', '--cacert', sb.caPath, '-H', `Authorization: Bearer ${await sb.armToken()}`, url]);
    expect(JSON.parse(stdout)).toMatchObject({ name: 'id-payments', properties: { clientId: sb.state.identityByName('id-payments')!.clientId } });
  });

  it('reaches each emulator by its real host name through the front server', async () => {
    const port = new URL(sb.urls.front).port;
    const curl = (host: string, path: string, extra: string[] = []) =>
      run('curl', ['-sS', '--cacert', sb.caPath, '--connect-to', `${host}:443:127.0.0.1:${port}`, ...extra, `https://${host}${path}`]);
    const arm = await curl('management.azure.com', `/subscriptions?api-version=2022-12-01`, ['-H', `Authorization: Bearer ${await sb.armToken()}`]);
    expect(JSON.parse(arm.stdout).value[0].subscriptionId).toBe(sb.subscriptionId);
    const meta = await curl('login.microsoftonline.com', `/${sb.tenantId}/v2.0/.well-known/openid-configuration`);
    expect(JSON.parse(meta.stdout).token_endpoint).toBe(`https://login.microsoftonline.com/${sb.tenantId}/oauth2/v2.0/token`);
    const inst = await curl('login.microsoftonline.com', `/common/discovery/instance?api-version=1.1&authorization_endpoint=https://login.microsoftonline.com/${sb.tenantId}/oauth2/v2.0/authorize`);
    expect(JSON.parse(inst.stdout).metadata[0].aliases).toContain('login.windows.net');
    const issuerPath = new URL(sb.issuerUrl).pathname;
    const disc = await curl('westeurope.oic.prod-aks.azure.com', `${issuerPath}.well-known/openid-configuration`);
    expect(JSON.parse(disc.stdout).issuer).toBe(sb.issuerUrl);
    const gh = await curl('api.github.com', '/repos/contoso/platform/pulls/42', ['-H', `Authorization: token ${sb.github.token}`]);
    expect(JSON.parse(gh.stdout).number).toBe(42);
    const other = await run('curl', ['-sS', '--cacert', sb.caPath, '-o', '/dev/null', '-w', '%{http_code}', '-H', 'Host: example.com', `${sb.urls.front}/`]);
    expect(other.stdout).toBe('421');
  });
});

describe.skipIf(!hasKube || !hasCurl)('with the Kubernetes emulator', () => {
  it('serves /version to curl and a kubeconfig in the env', async () => {
    const { startSandbox } = await import('../sandbox/index.ts');
    const full = await startSandbox({ scenario: baseScenario() });
    try {
      const { stdout } = await run('curl', ['-sS', '--cacert', full.caPath, `${full.urls.kube}/version`]);
      expect(JSON.parse(stdout)).toHaveProperty('gitVersion');
      expect(full.env.KUBECONFIG).toBe(full.kubeconfigPath);
      expect(existsSync(full.kubeconfigPath)).toBe(true);
    } finally {
      await full.stop();
    }
  });
});

describe.skipIf(!hasKube)('npm run sandbox (cli.ts)', () => {
  it('starts, writes the env file, and stops cleanly on SIGTERM', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'wi-cli-'));
    const envFile = join(dir, 'sandbox.env');
    const child = spawn(process.execPath, ['test/sandbox/cli.ts', '--scenario', 'test/sandbox/scenarios/demo.yaml', '--write-env', envFile], { cwd: root });
    try {
      let out = '';
      await new Promise<void>((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error(`cli did not start: ${out}`)), 15_000);
        child.stdout.on('data', (d: Buffer) => {
          out += d.toString();
          if (out.includes('Ctrl-C to stop.')) {
            clearTimeout(timer);
            resolve();
          }
        });
        child.on('exit', (code) => reject(new Error(`cli exited ${code}: ${out}`)));
      });
      expect(out).toContain('scenario: demo');
      const env = Object.fromEntries(
        readFileSync(envFile, 'utf8')
          .trim()
          .split('\n')
          .map((l) => [l.slice(0, l.indexOf('=')), l.slice(l.indexOf('=') + 1)]),
      );
      expect(env['INPUT_AZURE-TENANT-ID']).toBe('0b1e6c2a-7d3f-4e59-a1c8-5f2e9b4d7a10');
      expect(existsSync(env.KUBECONFIG!)).toBe(true);
      const { stdout } = await run('curl', ['-sS', '--cacert', env.NODE_EXTRA_CA_CERTS!, `${env.GITHUB_API_URL}/repos/contoso/platform/pulls/17`, '-H', `Authorization: token ${env['INPUT_GITHUB-TOKEN']}`]);
      expect(JSON.parse(stdout).number).toBe(17);
      const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
      child.kill('SIGTERM');
      expect(await exited).toBe(0);
      expect(existsSync(env.KUBECONFIG!)).toBe(false);
    } finally {
      if (child.exitCode === null) child.kill('SIGKILL');
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe.skipIf(!hasKube)('npm run sandbox, as a new user runs it', () => {
  it('paths are the user’s (INIT_CWD), and kill -TERM of npm stops the sandbox too', { timeout: 40_000 }, async () => {
    const dir = mkdtempSync(join(tmpdir(), 'wi-npm-'));
    copyFileSync(join(root, 'test/sandbox/scenarios/demo.yaml'), join(dir, 'mine.yaml'));
    // npm runs the script from the package root; the user typed paths relative to `dir`.
    const npm = spawn('npm', ['--prefix', root, 'run', 'sandbox', '--', '--scenario', 'mine.yaml', '--write-env', 'sb.env'], { cwd: dir, env: { ...process.env, INIT_CWD: '' } });
    try {
      let out = '';
      await new Promise<void>((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error(`sandbox did not start: ${out}`)), 30_000);
        const take = (d: Buffer) => {
          out += d.toString();
          if (out.includes('Ctrl-C to stop.')) {
            clearTimeout(timer);
            resolve();
          }
        };
        npm.stdout.on('data', take);
        npm.stderr.on('data', take);
        npm.on('exit', (code) => reject(new Error(`npm exited ${code}: ${out}`)));
      });
      expect(out).toContain('scenario: demo');
      const envFile = join(dir, 'sb.env');
      expect(existsSync(envFile)).toBe(true);
      const kubeconfig = /^KUBECONFIG=(.*)$/m.exec(readFileSync(envFile, 'utf8'))![1]!;
      expect(existsSync(kubeconfig)).toBe(true);
      npm.kill('SIGTERM'); // npm's shell does not pass it on to node
      const end = Date.now() + 10_000;
      while (existsSync(kubeconfig) && Date.now() < end) await new Promise((r) => setTimeout(r, 100));
      expect(existsSync(kubeconfig), 'the sandbox kept running after npm was terminated').toBe(false);
    } finally {
      if (npm.exitCode === null) npm.kill('SIGKILL');
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
