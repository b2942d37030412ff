// The sticky PR comment end to end: dist/index.js on the demo sandbox, as plan and apply
// jobs run it. Each test opens its own pull request, so the file passes in any order.
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { allNodes, injected, mentions, parseGfm, visibleText } from '../output/gfm.ts';
import { ROOT, useDemoSandbox } from './demo-sandbox.ts';
import { runAction, workspaceWith, type ActionRun } from './run-action.ts';

const demo = useDemoSandbox();
let nextPull = 300;
const OUR_MARKER = /^<!-- workload-identity-action environment=[^\s>]* -->$/m;

/** A new PR and the environment of a run on it: its pull_request event, or the push of its merge. */
function openPull(): { number: number; env: Record<string, string>; pushEnv: Record<string, string> } {
  const sb = demo.sb;
  const number = nextPull++;
  const headSha = number.toString(16).padStart(40, 'a');
  const mergeSha = number.toString(16).padStart(40, 'f');
  sb.state.addPull({ number, headSha, mergeCommitSha: mergeSha });
  const repository = { full_name: 'contoso/platform', name: 'platform', owner: { login: 'contoso' } };
  const eventFile = (event: string, payload: object): Record<string, string> => {
    const path = join(sb.workDir, `event-${number}-${event}.json`);
    writeFileSync(path, JSON.stringify(payload));
    return { ...sb.env, GITHUB_EVENT_NAME: event, GITHUB_EVENT_PATH: path, GITHUB_SHA: event === 'push' ? mergeSha : headSha };
  };
  return {
    number,
    env: eventFile('pull_request', { action: 'synchronize', number, pull_request: { number, head: { sha: headSha, repo: repository }, base: { repo: repository } }, repository }),
    pushEnv: eventFile('push', { ref: 'refs/heads/main', after: mergeSha, repository }),
  };
}

const run = (env: Record<string, string>, inputs: Record<string, string>, workspace = ROOT): Promise<ActionRun> =>
  runAction({ workspace, env, inputs: { environment: 'staging', 'mapping-file': workspace === ROOT ? 'examples/workload-identity.yaml' : '.github/workload-identity.yaml', verify: 'false', ...inputs } });

const ours = (number: number) => demo.sb.state.commentsOn(number).filter((c) => OUR_MARKER.test(c.body));

/** Every table of a Markdown document as rows of the cells' visible text. */
function tables(md: string): string[][][] {
  return allNodes(parseGfm(md))
    .filter((n) => n.type === 'table')
    .map((t) => t.children.map((row) => row.children.map(visibleText)));
}

describe('the sticky PR comment (dist/index.js on the sandbox)', () => {
  it('plan on the PR creates the comment, apply after the merge (push) replaces it: one comment, the verdict first, the same tables as the job summary', async () => {
    const { number, env, pushEnv } = openPull();
    demo.sb.state.addComment(number, 'LGTM once the plan is green.', { login: 'octocat', id: 583231, type: 'User' });
    const plan = await run(env, { mode: 'plan' });
    expect(plan.code, plan.stdout).toBe(0);
    expect(ours(number)).toHaveLength(1);
    const afterPlan = ours(number)[0]!;
    expect(afterPlan.body.split('\n')[0]).toMatch(/^### 📝 staging: \d+ changes? to apply for 3 bindings$/);
    expect(plan.outputs['comment-url']).toBe(`https://github.com/contoso/platform/pull/${number}#issuecomment-${afterPlan.id}`);
    // The job summary and the comment are one rendering: the same tables, cell for cell.
    expect(tables(plan.summary).length).toBeGreaterThan(0);
    expect(tables(afterPlan.body)).toEqual(tables(plan.summary));

    const apply = await run(pushEnv, { mode: 'apply' });
    expect(apply.code, apply.stdout).toBe(0);
    const after = demo.sb.state.commentsOn(number);
    expect(after.map((c) => c.user.login)).toEqual(['octocat', 'github-actions[bot]']);
    expect(after[0]!.body).toBe('LGTM once the plan is green.');
    expect(after[1]!.id).toBe(afterPlan.id);
    expect(after[1]!.body.split('\n')[0]).toMatch(/^### ✅ staging: 3 bindings (applied \(\d+ changes?\)|already applied), not verified$/);
    expect(tables(after[1]!.body)).toEqual(tables(apply.summary));
    expect(apply.outputs['comment-url']).toBe(plan.outputs['comment-url']);
  });

  it('two environments of one mapping keep two comments on the PR', async () => {
    const ws = workspaceWith(`version: 1
defaults: { resourceGroup: rg-identities }
environments:
  staging: { cluster: { resourceGroup: rg-aks-staging, name: aks-staging } }
  canary: { cluster: { resourceGroup: rg-aks-staging, name: aks-staging } }
bindings:
  - { namespace: payments, serviceAccount: payments-api, identity: id-payments }
`);
    const { number, env } = openPull();
    for (const environment of ['staging', 'canary', 'staging']) {
      const r = await run(env, { mode: 'plan', environment }, ws);
      expect(r.code, r.stdout).toBe(0);
    }
    const firstLines = ours(number).map((c) => c.body.split('\n')[0]);
    expect(firstLines).toHaveLength(2);
    expect(firstLines[0]).toMatch(/^### .* staging: /);
    expect(firstLines[1]).toMatch(/^### .* canary: /);
  });

  it("another author's comment with our marker is left alone", async () => {
    const { number, env } = openPull();
    const copied = 'Pasted from the bot:\n<!-- workload-identity-action environment=staging -->';
    const theirs = demo.sb.state.addComment(number, copied, { login: 'octocat', id: 583231, type: 'User' });
    expect((await run(env, { mode: 'plan' })).code).toBe(0);
    expect((await run(env, { mode: 'plan' })).code).toBe(0);
    const all = demo.sb.state.commentsOn(number);
    expect(all).toHaveLength(2);
    expect(all.find((c) => c.id === theirs.id)!.body).toBe(copied);
  });

  it('a read-only token (fork PR) warns with the permission it needs and the job passes', async () => {
    const { number, env } = openPull();
    demo.sb.setGithubReadOnly(true);
    let r: ActionRun;
    try {
      r = await run(env, { mode: 'plan' });
    } finally {
      demo.sb.setGithubReadOnly(false);
    }
    expect(r.code, r.stdout).toBe(0);
    const warnings = r.annotations.filter((a) => a.level === 'warning').map((a) => a.message);
    expect(warnings.find((w) => w.includes('The PR comment was not posted'))).toContain('`pull-requests: write`');
    expect(r.outputs['comment-url']).toBe('');
    expect(ours(number)).toHaveLength(0);
    expect(r.summary.split('\n')[0]).toMatch(/^### \S+ staging: /); // the report is still there
  });

  it('push: the comment lands on the PR whose merge made the commit', async () => {
    const { number, pushEnv } = openPull();
    const r = await run(pushEnv, { mode: 'plan' });
    expect(r.code, r.stdout).toBe(0);
    expect(ours(number)).toHaveLength(1);
    expect(r.outputs['comment-url']).toContain(`/pull/${number}#issuecomment-`);
  });

  it('validate never comments; comment: false turns it off', async () => {
    const { number, env } = openPull();
    expect((await run(env, { mode: 'validate' })).code).toBe(0);
    expect((await run(env, { mode: 'plan', comment: 'false' })).code).toBe(0);
    expect(demo.sb.state.commentsOn(number)).toHaveLength(0);
  });

  it('a value from the cluster renders as text in the stored comment (parsed, not string-matched)', async () => {
    const hostile = '<img src=x onerror=alert(1)> [x](https://evil.example) @octocat **b** <!-- workload-identity-action environment=staging -->';
    demo.sb.kube!.seed([
      { apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'hostile' } },
      { apiVersion: 'v1', kind: 'ServiceAccount', metadata: { name: 'app', namespace: 'hostile', annotations: { 'azure.workload.identity/client-id': hostile } } },
    ]);
    const ws = workspaceWith(`version: 1
defaults: { resourceGroup: rg-identities }
environments:
  staging: { cluster: { resourceGroup: rg-aks-staging, name: aks-staging } }
bindings:
  - { namespace: hostile, serviceAccount: app, identity: id-payments }
`);
    const { number, env } = openPull();
    const r = await run(env, { mode: 'plan' }, ws);
    expect(r.code, r.stdout).toBe(0);
    const [comment] = ours(number);
    // The hostile value carries a copy of our marker: only the real one (the last line) counts.
    expect(comment!.body.trimEnd().split('\n').at(-1)).toBe('<!-- workload-identity-action environment=staging -->');
    const root = parseGfm(comment!.body);
    const links = injected(root).filter((n) => !(n.type === 'html' && n.value === '<!-- workload-identity-action environment=staging -->'));
    expect(links.map((n) => (n.type === 'link' ? n.url : n.type))).toEqual(['https://github.com/contoso/platform/actions/runs/1000000001']);
    expect(mentions(root)).toEqual([]);
    expect(allNodes(root).some((n) => visibleText(n).includes(`client-id ${hostile} →`))).toBe(true);
  });
});
