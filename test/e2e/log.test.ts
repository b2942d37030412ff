// The job log a user reads, through dist/index.js on the sandbox: one group per stage, and
// apply says each write once, when it completes.
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ROOT, useDemoSandbox } from './demo-sandbox.ts';
import { runAction, workspaceWith } from './run-action.ts';

const EXAMPLE = readFileSync(resolve(ROOT, 'examples/workload-identity.yaml'), 'utf8');
const demo = useDemoSandbox();

describe('the job log (dist/index.js on the sandbox)', () => {
  it('apply: a group per stage, and each write logged once, when it completed', async () => {
    const apply = await runAction({ workspace: workspaceWith(EXAMPLE), env: demo.sb.env, inputs: { mode: 'apply', environment: 'staging', verify: 'false' } });
    expect(apply.code, apply.stdout).toBe(0);
    const lines = apply.stdout.split('\n');
    const groups = lines.filter((l) => l.startsWith('::group::')).map((l) => l.slice('::group::'.length));
    expect(groups).toEqual(['Plan staging: log in, read Azure and the cluster', 'Apply staging']);
    expect(lines.filter((l) => l === '::endgroup::')).toHaveLength(2);

    const applied = JSON.parse(apply.outputs.result!).applied as { target: string; ok: boolean }[];
    expect(applied.length).toBeGreaterThan(0);
    const applyGroup = lines.slice(lines.indexOf('::group::Apply staging'), lines.lastIndexOf('::endgroup::'));
    for (const { target } of applied) {
      const [first, second] = target.split('/');
      // FIC lines name "'<name>' on identity '<identity>'", ServiceAccount lines "<namespace>/<name>".
      // (The closing report's preflight and workload-readiness lines name the ServiceAccount too: not writes.)
      const mentions = lines.filter((l) => !l.startsWith('::') && !l.includes('preflight') && !/^\s*workload /.test(l) && (l.includes(target) || (l.includes(`'${second}'`) && l.includes(`'${first}'`))));
      expect(mentions, `${target}\n${mentions.join('\n')}`).toHaveLength(1);
      expect(applyGroup).toContain(mentions[0]);
    }
  });
});
