// The sticky PR comment against the sandbox's GitHub, through the action's own module and
// the real Octokit: one comment per PR and environment, ours by marker and author, never a
// failed job. Each test uses its own PR so the file passes in any order.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { commentBody, COMMENT_LIMIT } from '../../src/github/comment-body.ts';
import { readGithubRun, type GithubRun } from '../../src/github/context.ts';
import { commentMarker, hasMarker } from '../../src/github/marker.ts';
import { publishComment } from '../../src/github/publish.ts';
import { createNetwork } from '../../src/net/index.ts';
import { memorySink } from '../../src/output/sink.ts';
import { startSandboxCore, type SandboxCore } from '../sandbox/sandbox.ts';
import { baseScenario, trustSandboxCa } from '../sandbox-azure/helpers.ts';

let sb: SandboxCore<undefined>;
let nextPull = 100;

beforeAll(async () => {
  sb = await startSandboxCore<undefined>({ scenario: baseScenario() });
  trustSandboxCa(sb.tls.caPem);
});
afterAll(async () => {
  await sb?.stop();
});

/** A fresh PR and the run of a pull_request event on it. */
function pullRequestRun(over: Partial<GithubRun> = {}): { run: GithubRun; number: number } {
  const number = nextPull++;
  const headSha = number.toString(16).padStart(40, 'c');
  sb.state.addPull({ number, headSha });
  const run: GithubRun = {
    ...readGithubRun(sb.env),
    eventName: 'pull_request',
    payload: { number, pull_request: { number, head: { repo: { full_name: 'contoso/platform' } } } },
    sha: headSha,
    ...over,
  };
  return { run, number };
}

const publish = (run: GithubRun, markdown: string, environment = 'staging', token = sb.github.token, sink = memorySink()) =>
  publishComment({ run, token, environment, markdown, sink, net: createNetwork({ timeoutMs: 1_000, sleep: async () => undefined, log: (l) => sink.info(l) }) });

describe('the sticky comment', () => {
  it('the first run creates the comment, the second replaces its body: exactly one', async () => {
    const { run, number } = pullRequestRun();
    const first = await publish(run, '### 📝 staging: 2 changes to apply for 2 bindings');
    const second = await publish(run, '### ✅ staging: 2 bindings applied and verified');
    const ours = sb.state.commentsOn(number);
    expect(ours).toHaveLength(1);
    expect(second).toBe(first);
    expect(first).toBe(`https://github.com/contoso/platform/pull/${number}#issuecomment-${ours[0]!.id}`);
    expect(ours[0]!.body.split('\n')[0]).toBe('### ✅ staging: 2 bindings applied and verified');
    expect(hasMarker(ours[0]!.body, 'staging')).toBe(true);
  });

  it('two environments keep two comments', async () => {
    const { run, number } = pullRequestRun();
    await publish(run, 'staging report', 'staging');
    await publish(run, 'production report', 'production');
    await publish(run, 'staging again', 'staging');
    const bodies = sb.state.commentsOn(number).map((c) => c.body.split('\n')[0]);
    expect(bodies).toEqual(['staging again', 'production report']);
  });

  it("another author's comment with our marker is left alone", async () => {
    const { run, number } = pullRequestRun();
    const copied = `quoting the bot:\n${commentMarker('staging')}`;
    const theirs = sb.state.addComment(number, copied, { login: 'octocat', id: 583231, type: 'User' });
    await publish(run, 'our report');
    const all = sb.state.commentsOn(number);
    expect(all).toHaveLength(2);
    expect(all.find((c) => c.id === theirs.id)!.body).toBe(copied);
    expect(all.find((c) => c.id !== theirs.id)!.user.login).toBe('github-actions[bot]');
  });

  it("another app's token owns its own comment, not GITHUB_TOKEN's (login from GraphQL viewer)", async () => {
    const { run, number } = pullRequestRun();
    const appToken = 'ghs_otherapp000000000000000000';
    sb.github.addToken(appToken, { login: 'wi-deployer[bot]' });
    await publish(run, 'from GITHUB_TOKEN');
    await publish(run, 'from the app', 'staging', appToken);
    await publish(run, 'from the app, again', 'staging', appToken);
    const all = sb.state.commentsOn(number).map((c) => [c.user.login, c.body.split('\n')[0]]);
    expect(all).toEqual([
      ['github-actions[bot]', 'from GITHUB_TOKEN'],
      ['wi-deployer[bot]', 'from the app, again'],
    ]);
  });

  it('a user token (PAT) finds its comment by its own login', async () => {
    const { run, number } = pullRequestRun();
    const pat = 'ghp_platformteam000000000000000';
    sb.github.addToken(pat, { login: 'platform-bot', kind: 'user' });
    await publish(run, 'one', 'staging', pat);
    await publish(run, 'two', 'staging', pat);
    expect(sb.state.commentsOn(number).map((c) => [c.user.login, c.body.split('\n')[0]])).toEqual([['platform-bot', 'two']]);
  });

  it('an over-long report is shortened below the limit, with a pointer to the job summary', async () => {
    const { run, number } = pullRequestRun();
    const row = '| ➕ create | `staging_payments_payments-api` | `id-payments` | no credential 🔑 for this issuer |';
    const markdown = ['### 📝 staging: 900 changes to apply', '', '| | a | b | c |', '|---|---|---|---|', ...Array.from({ length: 900 }, () => row)].join('\n');
    expect(markdown.length).toBeGreaterThan(COMMENT_LIMIT);
    const url = await publish(run, markdown);
    expect(url).not.toBe('');
    const body = sb.state.commentsOn(number)[0]!.body;
    expect(body.length).toBeLessThanOrEqual(COMMENT_LIMIT);
    expect(body.split('\n')[0]).toBe('### 📝 staging: 900 changes to apply');
    expect(body).toContain(`[job summary](${'https://github.com/contoso/platform/actions/runs/1000000001'})`);
    expect(hasMarker(body, 'staging')).toBe(true);
  });

  it('GitHub itself refuses an over-long body with 422 in its validation shape', async () => {
    const { number } = pullRequestRun();
    const res = await fetch(`${sb.urls.github}/repos/contoso/platform/issues/${number}/comments`, {
      method: 'POST',
      headers: { authorization: `token ${sb.github.token}`, 'content-type': 'application/json' },
      body: JSON.stringify({ body: '🔑'.repeat(COMMENT_LIMIT / 2 + 1) }), // 32,769 emoji = 65,538 UTF-16 units
    });
    expect(res.status).toBe(422);
    expect(await res.json()).toMatchObject({ message: 'Validation Failed', errors: [{ resource: 'IssueComment', message: 'Body is too long (maximum is 65536 characters)' }] });
  });

  it('a read-only token (fork PR) gives a warning naming the permission; nothing throws', async () => {
    const { run, number } = pullRequestRun({});
    run.payload = { number, pull_request: { number, head: { repo: { full_name: 'someone/platform-fork' } } } };
    sb.setGithubReadOnly(true);
    const sink = memorySink();
    try {
      expect(await publish(run, 'report', 'staging', sb.github.token, sink)).toBe('');
    } finally {
      sb.setGithubReadOnly(false);
    }
    const warning = sink.lines.find((l) => l.startsWith('warning:'))!;
    expect(warning).toContain('`pull-requests: write` or `issues: write`');
    expect(warning).toContain('from a fork');
    expect(sb.state.commentsOn(number)).toHaveLength(0);
  });

  it('push: the comment lands on the PR that introduced the commit', async () => {
    const number = nextPull++;
    const merge = number.toString(16).padStart(40, 'e');
    sb.state.addPull({ number, headSha: number.toString(16).padStart(40, 'd'), mergeCommitSha: merge, state: 'closed', merged: true });
    const run: GithubRun = { ...readGithubRun(sb.env), eventName: 'push', payload: { after: merge }, sha: merge };
    const url = await publish(run, '### ✅ staging: 2 bindings applied and verified');
    expect(url).toContain(`/pull/${number}#issuecomment-`);
    expect(sb.state.commentsOn(number)).toHaveLength(1);
  });

  it('workflow_dispatch and schedule post nothing and call GitHub not at all', async () => {
    for (const eventName of ['workflow_dispatch', 'schedule']) {
      sb.log.reset();
      const sink = memorySink();
      expect(await publish({ ...readGithubRun(sb.env), eventName, payload: {} }, 'report', 'staging', sb.github.token, sink)).toBe('');
      expect(sb.log.of('github')).toEqual([]);
      expect(sink.lines.join('\n')).toContain('the report is in the job summary');
    }
  });

  it('GitHub not answering in time is a warning within the request timeout (a POST is not repeated)', async () => {
    const { run } = pullRequestRun();
    sb.faults.latency.github = { readMs: 5_000, writeMs: 5_000 };
    const sink = memorySink();
    const started = Date.now();
    try {
      expect(await publish(run, 'report', 'staging', sb.github.token, sink)).toBe('');
    } finally {
      sb.faults.latency.github = {};
    }
    // The first call is GraphQL's POST: cut off at 1 s and, having maybe been processed, not repeated.
    expect(Date.now() - started).toBeLessThan(2_500);
    expect(sink.lines.find((l) => l.startsWith('warning:'))).toContain('GitHub did not answer (');
  });
});

describe('a shortened body', () => {
  it('closes what the cut left open, whichever line it falls on', () => {
    const failure = (i: number) => ['<details>', '<summary>', '', `❌ binding ${i} failed 🔑`, '', '</summary>', '', '```', 'az identity federated-credential create …', '```', '</details>', ''];
    const report = ['### ❌ staging: verify failed', '', ...Array.from({ length: 40 }, (_, i) => failure(i)).flat()].join('\n');
    for (let limit = 300; limit < 700; limit += 7) {
      const { body, shortened } = commentBody(report, commentMarker('staging'), 'https://github.com/o/r/actions/runs/1', limit);
      expect(shortened).toBe(true);
      expect(body.length).toBeLessThanOrEqual(limit);
      const lines = body.split('\n');
      expect(lines[0]).toBe('### ❌ staging: verify failed');
      expect(lines.filter((l) => l.startsWith('```')).length % 2, body).toBe(0);
      expect(body.match(/<details>/g)?.length, body).toBe(body.match(/<\/details>/g)?.length);
      expect(body.match(/<summary>/g)?.length ?? 0, body).toBe(body.match(/<\/summary>/g)?.length ?? 0);
      expect(lines.at(-1)).toBe(commentMarker('staging'));
    }
  });
});

describe('the marker', () => {
  it('an environment name cannot close the marker or pass for another environment', () => {
    const hostile = 'prod -->\n<img src=x onerror=alert(1)> <!-- workload-identity-action environment=staging -->';
    const marker = commentMarker(hostile);
    expect(marker.indexOf('-->')).toBe(marker.length - 3);
    expect(marker).not.toContain('\n');
    expect(hasMarker(commentBody('r', marker, '').body, 'staging')).toBe(false);
    expect(hasMarker(commentBody('r', marker, '').body, hostile)).toBe(true);
  });
});
