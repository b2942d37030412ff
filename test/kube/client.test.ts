import { mkdtempSync, mkdirSync, existsSync, statSync, writeFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { KubeConfigError, kubeconfigTempDir, loadKubeConfig, removeKubeconfigTempFiles } from '../../src/kube/client.ts';

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

  it('a kubeconfig without a current context is an error', () => {
    const noContext = KUBECONFIG.replace('current-context: aks-stg', 'current-context: ""');
    expect(() => loadKubeConfig({ kubeconfig: noContext }, { env: { RUNNER_TEMP: root }, home: root })).toThrow(/no current context/);
  });
});
