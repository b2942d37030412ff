// The kubeconfig input is written to a 0600 temp file for the run; the main step removes it,
// and the post step (which runs even when main was cancelled or killed) removes it too.
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
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
