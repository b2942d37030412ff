import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { getOctokit } from '@actions/github';
import { decodeJwt } from 'jose';
import { startSandboxCore, type SandboxCore } from '../sandbox/sandbox.ts';
import { baseScenario, trustSandboxCa } from './helpers.ts';

let sb: SandboxCore<undefined>;
const repo = { owner: 'contoso', repo: 'platform' };

beforeAll(async () => {
  sb = await startSandboxCore<undefined>({ scenario: baseScenario() });
  trustSandboxCa(sb.tls.caPem);
});
afterAll(async () => {
  await sb?.stop();
});

const octokit = (token = sb.github.token) => getOctokit(token, { baseUrl: sb.urls.github });

// One story: the Link header and 404 steps read the comments the first step created.
describe('GitHub REST through @actions/github getOctokit', { shuffle: false }, () => {
  it('creates, paginates and updates issue comments', async () => {
    const gh = octokit();
    for (let i = 0; i < 4; i++) await gh.rest.issues.createComment({ ...repo, issue_number: 42, body: `comment ${i}` });
    sb.log.reset();
    const all = await gh.paginate(gh.rest.issues.listComments, { ...repo, issue_number: 42, per_page: 2 });
    expect(all.map((c) => c.body)).toEqual(['first', 'comment 0', 'comment 1', 'comment 2', 'comment 3']);
    expect(sb.log.of('github')).toHaveLength(3);
    const mine = all.find((c) => c.body === 'comment 3')!;
    expect(mine.user?.login).toBe('github-actions[bot]');
    expect(mine.html_url).toBe(`https://github.com/contoso/platform/pull/42#issuecomment-${mine.id}`);
    const updated = await gh.rest.issues.updateComment({ ...repo, comment_id: mine.id, body: 'sticky' });
    expect(updated.data.body).toBe('sticky');
    expect(sb.state.commentsOn(42).at(-1)!.body).toBe('sticky');
  });

  it('sends Link headers with absolute https URLs', async () => {
    const res = await fetch(`${sb.urls.github}/repos/contoso/platform/issues/42/comments?per_page=2&page=2`, { headers: { authorization: `token ${sb.github.token}` } });
    const link = res.headers.get('link')!;
    expect(link).toContain(`<${sb.urls.github}/repos/contoso/platform/issues/42/comments?per_page=2&page=3>; rel="next"`);
    expect(link).toContain('rel="last"');
    expect(link).toContain('rel="prev"');
  });

  it('finds the PR of a commit (head or merge commit)', async () => {
    const gh = octokit();
    const byHead = await gh.rest.repos.listPullRequestsAssociatedWithCommit({ ...repo, commit_sha: 'a'.repeat(40) });
    expect(byHead.data.map((p) => p.number)).toEqual([42]);
    const byMerge = await gh.rest.repos.listPullRequestsAssociatedWithCommit({ ...repo, commit_sha: 'b'.repeat(40) });
    expect(byMerge.data.map((p) => p.number)).toEqual([42]);
    const pr = await gh.rest.pulls.get({ ...repo, pull_number: 42 });
    expect(pr.data.head.sha).toBe('a'.repeat(40));
  });

  it('403 "Resource not accessible by integration" with a read-only token', async () => {
    sb.setGithubReadOnly(true);
    try {
      const gh = octokit();
      await gh.rest.issues.listComments({ ...repo, issue_number: 42 }); // reads still work
      const err = (await gh.rest.issues.createComment({ ...repo, issue_number: 42, body: 'x' }).catch((e: unknown) => e)) as { status: number; message: string; response: { data: unknown } };
      expect(err.status).toBe(403);
      expect(err.response.data).toMatchObject({ message: 'Resource not accessible by integration', status: '403' });
      expect((err as unknown as { response: { headers: Record<string, string> } }).response.headers['x-accepted-github-permissions']).toBe('issues=write; pull_requests=write');
    } finally {
      sb.setGithubReadOnly(false);
    }
  });

  it('GraphQL viewer { login } names each kind of token; GET /user is forbidden to installation tokens', async () => {
    sb.github.addToken('ghs_anotherapp0000000000000000', { login: 'deployer[bot]' });
    sb.github.addToken('ghp_someuser00000000000000000000', { login: 'alice', kind: 'user' });
    const viewer = async (t: string) => (await octokit(t).graphql<{ viewer: { login: string } }>('query { viewer { login } }')).viewer.login;
    expect(await viewer(sb.github.token)).toBe('github-actions[bot]');
    expect(await viewer('ghs_anotherapp0000000000000000')).toBe('deployer[bot]');
    expect(await viewer('ghp_someuser00000000000000000000')).toBe('alice');
    const denied = (await octokit().rest.users.getAuthenticated().catch((e: unknown) => e)) as { status: number };
    expect(denied.status).toBe(403);
    expect((await octokit('ghp_someuser00000000000000000000').rest.users.getAuthenticated()).data.login).toBe('alice');
  });

  it('401 Bad credentials for an unknown token', async () => {
    const err = (await octokit('ghs_nope').rest.issues.listComments({ ...repo, issue_number: 42 }).catch((e: unknown) => e)) as { status: number; message: string };
    expect(err.status).toBe(401);
    expect(err.message).toContain('Bad credentials');
  });

  it('injected faults answer in GitHub\'s error shape {message, documentation_url, status}', async () => {
    sb.faults.inject({ service: 'github', method: 'GET', pathIncludes: '/issues/42/comments', status: 503, times: 1 });
    try {
      const err = (await octokit().rest.issues.listComments({ ...repo, issue_number: 42 }).catch((e: unknown) => e)) as { status: number; response: { data: unknown } };
      expect(err.status).toBe(503);
      expect(err.response.data).toEqual({ message: 'Service Unavailable', documentation_url: 'https://docs.github.com/rest', status: '503' });
    } finally {
      sb.faults.clear();
    }
  });

  it('404 for a missing comment', async () => {
    const err = (await octokit().rest.issues.updateComment({ ...repo, comment_id: 1, body: 'x' }).catch((e: unknown) => e)) as { status: number };
    expect(err.status).toBe(404);
  });
});

describe('Actions OIDC token endpoint', () => {
  it('answers getIDToken like the runner (ACTIONS_ID_TOKEN_REQUEST_URL + &audience=)', async () => {
    const url = `${sb.env.ACTIONS_ID_TOKEN_REQUEST_URL}&audience=${encodeURIComponent('api://AzureADTokenExchange')}`;
    const res = await fetch(url, { headers: { authorization: `Bearer ${sb.env.ACTIONS_ID_TOKEN_REQUEST_TOKEN}` } });
    expect(res.status).toBe(200);
    const { value } = (await res.json()) as { value: string };
    const claims = decodeJwt(value);
    expect(claims).toMatchObject({ iss: sb.github.issuer, aud: 'api://AzureADTokenExchange', sub: 'repo:contoso/platform:environment:staging', environment: 'staging' });
    const unauth = await fetch(url);
    expect(unauth.status).toBe(401);
    const disc = (await (await fetch(`${sb.github.issuer}/.well-known/openid-configuration`)).json()) as { issuer: string; jwks_uri: string };
    expect(disc.issuer).toBe(sb.github.issuer);
    expect(((await (await fetch(disc.jwks_uri)).json()) as { keys: unknown[] }).keys).toHaveLength(1);
  });
});
