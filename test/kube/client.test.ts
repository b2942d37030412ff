import { mkdtempSync, mkdirSync, existsSync, statSync, writeFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { KUBECONFIG_STATE_KEY, KubeConfigError, kubeconfigTempDir, loadKubeConfig, removeKubeconfigTempFiles } from '../../src/kube/client.ts';
import { kubeconfigSecrets } from '../../src/kube/kubeconfig-secrets.ts';
import { KUBECONFIG_STATE_KEY as STATE_KEY } from '../../src/kube/state-key.ts';

const KUBECONFIG = `apiVersion: v1
kind: Config
clusters:
- name: aks-stg
  cluster: { server: 'https://aks-stg.hcp.westeurope.azmk8s.io:443' }
users:
- name: ci
  user: { token: abc }
contexts:
- name: aks-stg
  context: { cluster: aks-stg, user: ci }
current-context: aks-stg
`;

let root: string;
beforeEach(() => {
  root = mkdtempSync(join(tmpdir(), 'wi-kubeconfig-test-'));
});
afterEach(() => {
  rmSync(root, { recursive: true, force: true });
});

describe('loadKubeConfig', () => {
  it('writes the input to a 0600 file under RUNNER_TEMP and removes it on cleanup', () => {
    const env = { RUNNER_TEMP: root };
    const loaded = loadKubeConfig({ kubeconfig: KUBECONFIG }, { env, home: root });
    expect(loaded.source.kind).toBe('input');
    expect(loaded.tempFile!.startsWith(kubeconfigTempDir(env))).toBe(true);
    expect(statSync(loaded.tempFile!).mode & 0o777).toBe(0o600);
    expect(loaded.kc.getCurrentCluster()?.server).toBe('https://aks-stg.hcp.westeurope.azmk8s.io:443');
    loaded.cleanup();
    expect(existsSync(loaded.tempFile!)).toBe(false);
    loaded.cleanup(); // idempotent
  });

  it('accepts the input base64-encoded', () => {
    const loaded = loadKubeConfig({ kubeconfig: Buffer.from(KUBECONFIG).toString('base64') }, { env: { RUNNER_TEMP: root }, home: root });
    expect(loaded.kc.getCurrentContext()).toBe('aks-stg');
    loaded.cleanup();
  });

  it('the post step removes temp kubeconfigs left behind', () => {
    const env = { RUNNER_TEMP: root };
    const loaded = loadKubeConfig({ kubeconfig: KUBECONFIG }, { env, home: root });
    expect(removeKubeconfigTempFiles(env)).toEqual([loaded.tempFile]);
    expect(existsSync(loaded.tempFile!)).toBe(false);
  });

  it('an invalid input is an error that names the input, and leaves no file', () => {
    const env = { RUNNER_TEMP: root };
    expect(() => loadKubeConfig({ kubeconfig: 'clusters: [' }, { env, home: root })).toThrow(/'kubeconfig' input/);
    expect(removeKubeconfigTempFiles(env)).toEqual([]);
  });

  it('falls back to KUBECONFIG, then ~/.kube/config', () => {
    const file = join(root, 'from-env');
    writeFileSync(file, KUBECONFIG);
    expect(loadKubeConfig({ kubeconfig: '' }, { env: { KUBECONFIG: file }, home: root }).source).toEqual({ kind: 'KUBECONFIG', path: file });
    mkdirSync(join(root, '.kube'));
    writeFileSync(join(root, '.kube', 'config'), KUBECONFIG);
    expect(loadKubeConfig({ kubeconfig: '' }, { env: {}, home: root }).source.kind).toBe('home');
  });

  it('with nothing to go on, says to add azure/aks-set-context', () => {
    expect(() => loadKubeConfig({ kubeconfig: '' }, { env: {}, home: root, inClusterTokenPath: join(root, 'none') })).toThrow(KubeConfigError);
    expect(() => loadKubeConfig({ kubeconfig: '' }, { env: {}, home: root, inClusterTokenPath: join(root, 'none') })).toThrow(/aks-set-context/);
  });

  it('a broken kubeconfig input says where and what, never the file content (it holds a token)', () => {
    const env = { RUNNER_TEMP: root };
    const token = 'eyJhbGciOiJSUzI1NiJ9.c2VjcmV0LXRva2Vu.sig';
    const broken = KUBECONFIG.replace('user: { token: abc }', `user:\n    token: ${token}\n    password: [oops`);
    let err: unknown;
    try {
      loadKubeConfig({ kubeconfig: broken }, { env, home: root });
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(KubeConfigError);
    const message = (err as Error).message;
    expect(message).toMatch(/^The 'kubeconfig' input is not a valid kubeconfig: YAML syntax error at line \d+, column \d+: [a-z ]+\.$/);
    expect(message).not.toContain(token);
    expect(message).not.toContain('oops');
    expect((err as Error).cause).toBeUndefined(); // the parser's own error quotes the file
    expect(removeKubeconfigTempFiles(env)).toEqual([]);

    // The same for a KUBECONFIG file set by an earlier step.
    const file = join(root, 'broken');
    writeFileSync(file, broken);
    expect(() => loadKubeConfig({ kubeconfig: '' }, { env: { KUBECONFIG: file }, home: root })).toThrow(/KUBECONFIG file .*broken is not a valid kubeconfig: YAML syntax error at line/);
    try {
      loadKubeConfig({ kubeconfig: '' }, { env: { KUBECONFIG: file }, home: root });
    } catch (e) {
      expect((e as Error).message).not.toContain(token);
    }
  });

  it('a kubeconfig with a missing field names the field only', () => {
    const noServer = KUBECONFIG.replace("cluster: { server: 'https://aks-stg.hcp.westeurope.azmk8s.io:443' }", 'cluster: { insecure-skip-tls-verify: true }');
    expect(() => loadKubeConfig({ kubeconfig: noServer }, { env: { RUNNER_TEMP: root }, home: root })).toThrow(/clusters\[0\]\.cluster\.server is missing\.$/);
  });

  it('a kubeconfig without a current context is an error', () => {
    const noContext = KUBECONFIG.replace('current-context: aks-stg', 'current-context: ""');
    expect(() => loadKubeConfig({ kubeconfig: noContext }, { env: { RUNNER_TEMP: root }, home: root })).toThrow(/no current context/);
  });
});

describe('kubeconfigSecrets', () => {
  const CERT_KEY = Buffer.from('-----BEGIN RSA PRIVATE KEY-----\nMIIEow\n-----END RSA PRIVATE KEY-----\n').toString('base64');
  const CERT = Buffer.from('-----BEGIN CERTIFICATE-----\nMIIC\n-----END CERTIFICATE-----\n').toString('base64');
  const FULL = `apiVersion: v1
kind: Config
clusters:
- name: aks
  cluster:
    server: https://aks.hcp.westeurope.azmk8s.io:443
    certificate-authority-data: Q0EtREFUQQ==
users:
- name: admin
  user:
    client-certificate-data: ${CERT}
    client-key-data: S0VZLURBVEE=
    token: tok-admin-0001
- name: basic
  user: { username: ci, password: "p@ss word" }
- name: bundled
  user:
    client-certificate-data: ${CERT_KEY}
- name: oidc
  user:
    auth-provider:
      name: oidc
      config:
        client-id: kubernetes
        client-secret: oidc-secret-0002
        id-token: oidc-id-token-0003
        refresh-token: oidc-refresh-0004
        idp-issuer-url: https://login.example.com
- name: kubelogin
  user:
    exec:
      apiVersion: client.authentication.k8s.io/v1beta1
      command: kubelogin
      args: [get-token, --login, spn, --server-id, 6dae42f8-4368-4678-94ff-3960e28e3630, --client-secret, spn-secret-0005, --password=ropc-pass-0006]
      env:
      - { name: AAD_SERVICE_PRINCIPAL_CLIENT_SECRET, value: spn-secret-0007 }
      - { name: AZURE_FEDERATED_TOKEN_FILE, value: /var/run/secrets/azure/tokens/azure-identity-token }
      - { name: AAD_LOGIN_METHOD, value: workloadidentity }
contexts:
- name: aks
  context: { cluster: aks, user: admin }
current-context: aks
`;
  const expected = [
    'S0VZLURBVEE=',
    'tok-admin-0001',
    'p@ss word',
    CERT_KEY,
    'oidc-secret-0002',
    'oidc-id-token-0003',
    'oidc-refresh-0004',
    'spn-secret-0005',
    'ropc-pass-0006',
    'spn-secret-0007',
  ];

  it('returns every credential of the users, and nothing that is not one', () => {
    const secrets = kubeconfigSecrets(FULL);
    expect([...secrets].sort()).toEqual([...expected].sort());
    for (const plain of [CERT, 'Q0EtREFUQQ==', 'kubernetes', 'ci', 'workloadidentity', '/var/run/secrets/azure/tokens/azure-identity-token', '6dae42f8-4368-4678-94ff-3960e28e3630']) {
      expect(secrets).not.toContain(plain);
    }
  });

  it('reads the input base64-encoded, as users paste it', () => {
    expect([...kubeconfigSecrets(Buffer.from(FULL).toString('base64'))].sort()).toEqual([...expected].sort());
  });

  it('still finds the token in a kubeconfig the parser cannot read', () => {
    const broken = KUBECONFIG.replace('user: { token: abc }', 'user:\n    token: eyJhbGciOiJSUzI1NiJ9.broken.sig\n    password: [oops');
    expect(kubeconfigSecrets(broken)).toContain('eyJhbGciOiJSUzI1NiJ9.broken.sig');
  });

  it('a kubeconfig with no credentials (exec without secrets, azure/aks-set-context with kubelogin) gives none', () => {
    expect(kubeconfigSecrets(KUBECONFIG.replace('user: { token: abc }', 'user: { exec: { command: kubelogin, args: [get-token, --login, azurecli] } }'))).toEqual([]);
  });
});

describe('state key', () => {
  it('lives in a dependency-free module, re-exported by the client', () => {
    expect(KUBECONFIG_STATE_KEY).toBe(STATE_KEY);
  });
});
