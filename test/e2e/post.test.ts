// The kubeconfig input is written to a 0600 temp file for the run; the main step removes it,
// and the post step (which runs even when main was cancelled or killed) removes it too.
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parse } from 'yaml';
import { describe, expect, it } from 'vitest';
import { ROOT, useDemoSandbox } from './demo-sandbox.ts';
import { runAction } from './run-action.ts';

const demo = useDemoSandbox();

describe('the kubeconfig input never outlives the job', () => {
  it('main uses it and removes it; the post step removes one a killed main left behind', async () => {
    const kubeconfig = readFileSync(demo.sb.kubeconfigPath, 'utf8');
    const env = { ...demo.sb.env, KUBECONFIG: '' };
    const main = await runAction({
      workspace: ROOT,
      env,
      inputs: { mode: 'plan', environment: 'staging', 'mapping-file': 'examples/workload-identity.yaml', kubeconfig },
    });
    expect(main.code, main.stdout).toBe(0);
    expect(main.stdout).toMatch(/Kubernetes: input/);
    // The token in the kubeconfig input is masked before anything could print it.
    const token = (parse(kubeconfig) as { users: { user: { token?: string } }[] }).users.map((u) => u.user.token).find(Boolean);
    expect(token).toBeTruthy();
    expect(main.stdout.split('\n')).toContain(`::add-mask::${token}`);
    const tempFile = main.state['kubeconfig-file'];
    expect(tempFile).toBeTruthy();
    expect(existsSync(tempFile!)).toBe(false);

    // As if main had been killed before its cleanup ran: the post step removes the file.
    writeFileSync(tempFile!, kubeconfig, { mode: 0o600 });
    const post = await runAction({ workspace: ROOT, env: { ...env, 'STATE_kubeconfig-file': tempFile! }, inputs: {}, entry: 'post.js' });
    expect(post.code, post.stdout + post.stderr).toBe(0);
    expect(existsSync(tempFile!)).toBe(false);
  });
});

describe('the post step deletes only its own temporary kubeconfigs', () => {
  it('a saved state naming any other file deletes nothing but the temp kubeconfigs', async () => {
    const root = mkdtempSync(join(tmpdir(), 'wi-post-'));
    try {
      const runnerTemp = join(root, 'runner-temp');
      const ownDir = join(runnerTemp, 'workload-identity-action');
      mkdirSync(ownDir, { recursive: true });
      const own = join(ownDir, 'kubeconfig-123-abcd');
      const victims = [join(root, 'precious.txt'), join(ownDir, 'notes.txt'), join(runnerTemp, 'kubeconfig-other-tool')];
      for (const f of [own, ...victims]) writeFileSync(f, 'x');
      for (const state of victims) {
        const post = await runAction({ inputs: {}, entry: 'post.js', env: { RUNNER_TEMP: runnerTemp, 'STATE_kubeconfig-file': state } });
        expect(post.code, post.stdout + post.stderr).toBe(0);
        for (const victim of victims) expect(existsSync(victim), `${victim} after STATE_kubeconfig-file=${state}`).toBe(true);
      }
      expect(existsSync(own)).toBe(false);
    } finally {
      rmSync(root, { recursive: true, force: true });
    }
  });
});
