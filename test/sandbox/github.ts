// GitHub (service 'github'): the REST calls the action makes for its sticky PR comment
// (list issue comments with Link-header pagination, create, update), the commit → PR lookup
// of a deployment job, a pull request by number; token auth with GitHub's 401/403 bodies
// (a fork PR's read-only GITHUB_TOKEN answers "Resource not accessible by integration");
// and the Actions OIDC token endpoint that @actions/core `getIDToken()` calls
// (`ACTIONS_ID_TOKEN_REQUEST_URL&audience=…` with bearer ACTIONS_ID_TOKEN_REQUEST_TOKEN →
// `{value: <JWT>}`), plus that issuer's discovery document and JWKS.
// Sources: docs.github.com/rest/issues/comments, /rest/pulls/pulls,
// /rest/commits/commits#list-pull-requests-associated-with-a-commit,
// /rest/using-the-rest-api/using-pagination-in-the-rest-api, and
// docs.github.com/actions/security-for-github-actions/security-hardening-your-deployments/about-security-hardening-with-openid-connect.
import { randomBytes, randomUUID } from 'node:crypto';
import type { ServerResponse } from 'node:http';
import { exportJWK, generateKeyPair, SignJWT, type JWK } from 'jose';
import type { SandboxContext } from './context.ts';
import { isWrite, jsonBody, type Reply, type SandboxRequest, type Service } from './http.ts';
import { GITHUB_ACTIONS_BOT, type GithubComment, type GithubPull, type GithubToken, type GithubUser, type SandboxState } from './state.ts';

export const GITHUB_SERVER_URL = 'https://github.com';
const DOCS = 'https://docs.github.com/rest';
/** GitHub's limit on an issue comment body, counted here in UTF-16 code units (an emoji is two). */
export const COMMENT_BODY_LIMIT = 65_536;
/**
 * What `x-accepted-github-permissions` says on a 403 (sets separated by `;`, any one
 * suffices): docs.github.com/rest/authentication/permissions-required-for-github-apps.
 */
const COMMENT_WRITE_PERMISSIONS = 'issues=write; pull_requests=write';

export interface GithubEmulator {
  service: Service;
  /** The workflow's GITHUB_TOKEN. */
  token: string;
  /** Path + query of ACTIONS_ID_TOKEN_REQUEST_URL (append to the GitHub origin). */
  idTokenPath: string;
  /** The Actions OIDC issuer URL (no trailing slash, like token.actions.githubusercontent.com). */
  issuer: string;
  setReadOnly(on: boolean): void;
  /**
   * Adds a token: another app's installation token (login `<app>[bot]`) or a user's
   * (kind 'user', login the user's). Default: a second GITHUB_TOKEN-like bot token.
   */
  addToken(token: string, options?: { readOnly?: boolean; login?: string; kind?: GithubToken['kind'] }): void;
  /** An Actions OIDC token as getIDToken(audience) would return it. */
  idToken(audience?: string): Promise<string>;
}

const ghError = (status: number, message: string, doc = DOCS): Reply => ({
  status,
  body: { message, documentation_url: doc, status: String(status) },
});

function userJson(u: GithubUser): unknown {
  return {
    login: u.login,
    id: u.id,
    node_id: `MDQ6VXNlcj${u.id}`,
    avatar_url: `https://avatars.githubusercontent.com/u/${u.id}?v=4`,
    url: `https://api.github.com/users/${encodeURIComponent(u.login)}`,
    html_url: u.type === 'Bot' ? `${GITHUB_SERVER_URL}/apps/${u.login.replace(/\[bot\]$/, '')}` : `${GITHUB_SERVER_URL}/${u.login}`,
    type: u.type,
    site_admin: false,
  };
}

export async function createGithub(ctx: SandboxContext, state: SandboxState): Promise<GithubEmulator> {
  const { privateKey, publicKey } = await generateKeyPair('RS256', { extractable: true });
  const kid = randomBytes(20).toString('hex').toUpperCase();
  const jwk = { ...(await exportJWK(publicKey)), kid, alg: 'RS256', use: 'sig' } as JWK;
  const issuer = `${ctx.urls.github}/oidc`;
  state.githubIssuer = issuer;
  const token = `ghs_${randomBytes(18).toString('base64url')}`;
  state.github.tokens.set(token, { readOnly: false, login: GITHUB_ACTIONS_BOT.login, kind: 'installation' });
  state.github.idTokenRequestToken = randomBytes(24).toString('base64url');
  const idTokenPath = `/_apis/actions/idtoken?api-version=2.0`;
  const gh = state.github;

  async function idToken(audience = GITHUB_SERVER_URL + '/' + gh.owner): Promise<string> {
    const now = Math.floor(Date.now() / 1000);
    const repository = `${gh.owner}/${gh.repo}`;
    const subject = gh.environment
      ? `repo:${repository}:environment:${gh.environment}`
      : gh.eventName === 'pull_request'
        ? `repo:${repository}:pull_request`
        : `repo:${repository}:ref:${gh.ref}`;
    const pull = gh.pulls.find((p) => p.headSha === gh.sha);
    const claims: Record<string, unknown> = {
      jti: randomUUID(),
      sub: subject,
      aud: audience,
      ref: gh.ref,
      sha: gh.sha,
      repository,
      repository_owner: gh.owner,
      repository_owner_id: '9919',
      repository_id: String(gh.repoId),
      repository_visibility: 'private',
      run_id: '1000000001',
      run_number: '1',
      run_attempt: '1',
      actor: 'octocat',
      actor_id: '583231',
      workflow: 'workload-identity',
      workflow_ref: `${repository}/.github/workflows/workload-identity.yml@${gh.ref}`,
      workflow_sha: gh.sha,
      job_workflow_ref: `${repository}/.github/workflows/workload-identity.yml@${gh.ref}`,
      job_workflow_sha: gh.sha,
      event_name: gh.eventName,
      ref_type: 'branch',
      ref_protected: 'false',
      head_ref: pull?.headRef ?? '',
      base_ref: pull?.baseRef ?? '',
      runner_environment: 'github-hosted',
    };
    if (gh.environment) claims.environment = gh.environment;
    // GitHub's example token: iat, exp = iat + 300 s, nbf = iat - 600 s.
    return new SignJWT({ ...claims, iss: issuer })
      .setProtectedHeader({ alg: 'RS256', typ: 'JWT', kid, x5t: kid })
      .setIssuedAt(now)
      .setNotBefore(now - 600)
      .setExpirationTime(now + 300)
      .sign(privateKey);
  }

  const api = (req: SandboxRequest) => req.url.origin;
  const repoPath = () => `/repos/${gh.owner}/${gh.repo}`;

  function repoJson(req: SandboxRequest): unknown {
    return {
      id: gh.repoId,
      node_id: `R_kgDO${gh.repoId}`,
      name: gh.repo,
      full_name: `${gh.owner}/${gh.repo}`,
      private: true,
      owner: userJson({ login: gh.owner, id: 9919, type: 'User' }),
      html_url: `${GITHUB_SERVER_URL}/${gh.owner}/${gh.repo}`,
      url: `${api(req)}${repoPath()}`,
      default_branch: 'main',
      visibility: 'private',
    };
  }

  function isPull(n: number): GithubPull | undefined {
    return gh.pulls.find((p) => p.number === n);
  }

  function commentJson(req: SandboxRequest, c: GithubComment): unknown {
    const kind = isPull(c.issueNumber) ? 'pull' : 'issues';
    return {
      url: `${api(req)}${repoPath()}/issues/comments/${c.id}`,
      html_url: `${GITHUB_SERVER_URL}/${gh.owner}/${gh.repo}/${kind}/${c.issueNumber}#issuecomment-${c.id}`,
      issue_url: `${api(req)}${repoPath()}/issues/${c.issueNumber}`,
      id: c.id,
      node_id: `IC_kwDO${Buffer.from(String(c.id)).toString('base64url')}`,
      user: userJson(c.user),
      created_at: c.createdAt,
      updated_at: c.updatedAt,
      author_association: c.user.type === 'Bot' ? 'NONE' : 'MEMBER',
      body: c.body,
      reactions: { url: `${api(req)}${repoPath()}/issues/comments/${c.id}/reactions`, total_count: 0, '+1': 0, '-1': 0, laugh: 0, hooray: 0, confused: 0, heart: 0, rocket: 0, eyes: 0 },
      performed_via_github_app: c.user.login === GITHUB_ACTIONS_BOT.login ? { id: 15368, slug: 'github-actions', node_id: 'MDM6QXBwMTUzNjg=', name: 'GitHub Actions' } : null,
    };
  }

  function pullJson(req: SandboxRequest, p: GithubPull): unknown {
    const created = '2026-01-05T10:00:00Z';
    return {
      url: `${api(req)}${repoPath()}/pulls/${p.number}`,
      id: 1000000 + p.number,
      node_id: `PR_kwDO${p.number}`,
      html_url: `${GITHUB_SERVER_URL}/${gh.owner}/${gh.repo}/pull/${p.number}`,
      issue_url: `${api(req)}${repoPath()}/issues/${p.number}`,
      comments_url: `${api(req)}${repoPath()}/issues/${p.number}/comments`,
      number: p.number,
      state: p.state,
      locked: false,
      title: p.title,
      user: userJson(p.user),
      body: null,
      created_at: created,
      updated_at: created,
      closed_at: p.state === 'closed' ? created : null,
      merged_at: p.merged ? created : null,
      merge_commit_sha: p.mergeCommitSha ?? null,
      draft: false,
      head: { label: `${gh.owner}:${p.headRef}`, ref: p.headRef, sha: p.headSha, user: userJson(p.user), repo: repoJson(req) },
      base: { label: `${gh.owner}:${p.baseRef}`, ref: p.baseRef, sha: '1111111111111111111111111111111111111111', user: userJson(p.user), repo: repoJson(req) },
      author_association: 'MEMBER',
    };
  }

  function paginate(req: SandboxRequest, items: unknown[]): Reply {
    const perPage = Math.min(100, Math.max(1, Number(req.url.searchParams.get('per_page') ?? '30') || 30));
    const page = Math.max(1, Number(req.url.searchParams.get('page') ?? '1') || 1);
    const last = Math.max(1, Math.ceil(items.length / perPage));
    const link = (p: number) => {
      const u = new URL(req.url.pathname, req.url.origin);
      u.searchParams.set('per_page', String(perPage));
      u.searchParams.set('page', String(p));
      return u.toString();
    };
    const rels: string[] = [];
    if (page > 1) rels.push(`<${link(page - 1)}>; rel="prev"`);
    if (page < last) rels.push(`<${link(page + 1)}>; rel="next"`, `<${link(last)}>; rel="last"`);
    if (page > 1) rels.push(`<${link(1)}>; rel="first"`);
    return {
      status: 200,
      headers: rels.length ? { link: rels.join(', ') } : {},
      body: items.slice((page - 1) * perPage, page * perPage),
    };
  }

  function oidc(req: SandboxRequest): Reply | Promise<Reply> | undefined {
    const p = req.url.pathname;
    if (p === '/oidc/.well-known/openid-configuration') {
      return {
        status: 200,
        body: {
          issuer,
          jwks_uri: `${issuer}/.well-known/jwks`,
          subject_types_supported: ['public', 'pairwise'],
          response_types_supported: ['id_token'],
          claims_supported: ['sub', 'aud', 'exp', 'iat', 'iss', 'jti', 'nbf', 'ref', 'sha', 'repository', 'repository_id', 'repository_owner', 'repository_owner_id', 'run_id', 'run_number', 'run_attempt', 'actor', 'actor_id', 'workflow', 'workflow_ref', 'workflow_sha', 'head_ref', 'base_ref', 'event_name', 'ref_type', 'ref_protected', 'environment', 'job_workflow_ref', 'job_workflow_sha', 'repository_visibility', 'runner_environment'],
          id_token_signing_alg_values_supported: ['RS256'],
          scopes_supported: ['openid'],
        },
      };
    }
    if (p === '/oidc/.well-known/jwks') return { status: 200, body: { keys: [jwk] } };
    if (p === new URL(idTokenPath, 'https://x').pathname) {
      const auth = req.headers.authorization ?? '';
      if (auth !== `Bearer ${gh.idTokenRequestToken}`) {
        return { status: 401, body: { message: 'Unauthorized: the ACTIONS_ID_TOKEN_REQUEST_TOKEN is missing or invalid.' } };
      }
      const audience = req.url.searchParams.get('audience') ?? undefined;
      return idToken(audience).then((value) => ({ status: 200, body: { count: value.length, value } }));
    }
    return undefined;
  }

  /** The comment author a token writes as (GITHUB_TOKEN: github-actions[bot]). */
  function author(tok: GithubToken): GithubUser {
    if (tok.login === GITHUB_ACTIONS_BOT.login) return GITHUB_ACTIONS_BOT;
    return { login: tok.login, id: 100000 + tok.login.length, type: tok.kind === 'installation' ? 'Bot' : 'User' };
  }

  /** 422 in GitHub's validation shape when a comment body is over the limit. */
  function bodyTooLong(body: string, doc: string): Reply | undefined {
    if (body.length <= COMMENT_BODY_LIMIT) return undefined;
    return {
      status: 422,
      body: {
        message: 'Validation Failed',
        errors: [{ resource: 'IssueComment', code: 'unprocessable', field: 'data', message: `Body is too long (maximum is ${COMMENT_BODY_LIMIT} characters)` }],
        documentation_url: doc,
        status: '422',
      },
    };
  }

  /**
   * GraphQL (docs.github.com/graphql): only `viewer { login }` — the one query that names
   * the token's own account for installation and user tokens alike. Other queries get
   * GraphQL's 200 with `errors`, as GitHub answers an unknown field.
   */
  function graphql(req: SandboxRequest, tok: GithubToken): Reply {
    const query = String(jsonBody<{ query?: unknown }>(req).query ?? '');
    const compact = query.replace(/\s+/g, '');
    if (/^(query(\w+)?)?\{viewer\{login\}\}$/.test(compact)) return { status: 200, body: { data: { viewer: { login: tok.login } } } };
    return { status: 200, body: { errors: [{ message: 'This sandbox answers only `viewer { login }`', locations: [{ line: 1, column: 1 }] }] } };
  }

  async function rest(req: SandboxRequest): Promise<Reply> {
    const auth = req.headers.authorization;
    if (!auth) return ghError(401, 'Requires authentication');
    const m = /^(?:token|bearer)\s+(\S+)$/i.exec(auth);
    const tok = m ? gh.tokens.get(m[1]!) : undefined;
    if (!tok) return ghError(401, 'Bad credentials');
    const path = req.url.pathname.replace(/\/+$/, '');
    if (path === '/graphql' && req.method === 'POST') return graphql(req, tok);
    if (path === '/user' && req.method === 'GET') {
      // docs.github.com/rest/users/users#get-the-authenticated-user: not for installation tokens.
      if (tok.kind === 'installation') return ghError(403, 'Resource not accessible by integration', `${DOCS}/users/users#get-the-authenticated-user`);
      return { status: 200, body: userJson(author(tok)) };
    }
    const prefix = `/repos/${gh.owner}/${gh.repo}`;
    if (!path.toLowerCase().startsWith(`${prefix.toLowerCase()}`)) {
      return ghError(404, 'Not Found', `${DOCS}/repos/repos#get-a-repository`);
    }
    const rest = path.slice(prefix.length);
    const readOnlyDenied = (doc: string): Reply => {
      const denied = ghError(403, 'Resource not accessible by integration', doc);
      return { ...denied, headers: { 'x-accepted-github-permissions': COMMENT_WRITE_PERMISSIONS } };
    };
    let r: RegExpExecArray | null;

    if (rest === '' && req.method === 'GET') return { status: 200, body: repoJson(req) };

    if ((r = /^\/issues\/(\d+)\/comments$/.exec(rest))) {
      const n = Number(r[1]);
      const exists = isPull(n) || gh.issues.includes(n);
      if (req.method === 'GET') {
        if (!exists) return ghError(404, 'Not Found', `${DOCS}/issues/comments#list-issue-comments`);
        return paginate(req, state.commentsOn(n).map((c) => commentJson(req, c)));
      }
      if (req.method === 'POST') {
        const doc = `${DOCS}/issues/comments#create-an-issue-comment`;
        if (tok.readOnly) return readOnlyDenied(doc);
        if (!exists) return ghError(404, 'Not Found', doc);
        const body = jsonBody<{ body?: unknown }>(req).body;
        if (typeof body !== 'string') return ghError(422, 'Invalid request.\n\n"body" wasn\'t supplied.', doc);
        const tooLong = bodyTooLong(body, doc);
        if (tooLong) return tooLong;
        const c = state.addComment(n, body, author(tok));
        return { status: 201, headers: { location: `${api(req)}${prefix}/issues/comments/${c.id}` }, body: commentJson(req, c) };
      }
    }
    if ((r = /^\/issues\/comments\/(\d+)$/.exec(rest))) {
      const id = Number(r[1]);
      const c = gh.comments.find((x) => x.id === id);
      if (req.method === 'GET') {
        if (!c) return ghError(404, 'Not Found', `${DOCS}/issues/comments#get-an-issue-comment`);
        return { status: 200, body: commentJson(req, c) };
      }
      if (req.method === 'PATCH') {
        const doc = `${DOCS}/issues/comments#update-an-issue-comment`;
        if (tok.readOnly) return readOnlyDenied(doc);
        if (!c) return ghError(404, 'Not Found', doc);
        const body = jsonBody<{ body?: unknown }>(req).body;
        if (typeof body !== 'string') return ghError(422, 'Invalid request.\n\n"body" wasn\'t supplied.', doc);
        const tooLong = bodyTooLong(body, doc);
        if (tooLong) return tooLong;
        c.body = body;
        c.updatedAt = new Date().toISOString().replace(/\.\d+Z$/, 'Z');
        return { status: 200, body: commentJson(req, c) };
      }
      if (req.method === 'DELETE') {
        const doc = `${DOCS}/issues/comments#delete-an-issue-comment`;
        if (tok.readOnly) return readOnlyDenied(doc);
        if (!c) return ghError(404, 'Not Found', doc);
        gh.comments = gh.comments.filter((x) => x !== c);
        return { status: 204 };
      }
    }
    if ((r = /^\/commits\/([0-9a-fA-F]{4,40})\/pulls$/.exec(rest)) && req.method === 'GET') {
      const sha = r[1]!.toLowerCase();
      const pulls = gh.pulls.filter((p) => p.headSha.toLowerCase().startsWith(sha) || p.mergeCommitSha?.toLowerCase().startsWith(sha));
      return paginate(req, pulls.map((p) => pullJson(req, p)));
    }
    if ((r = /^\/pulls\/(\d+)$/.exec(rest)) && req.method === 'GET') {
      const p = isPull(Number(r[1]));
      if (!p) return ghError(404, 'Not Found', `${DOCS}/pulls/pulls#get-a-pull-request`);
      return { status: 200, body: pullJson(req, p) };
    }
    if (rest === '/pulls' && req.method === 'GET') {
      const wanted = req.url.searchParams.get('state') ?? 'open';
      const pulls = gh.pulls.filter((p) => wanted === 'all' || p.state === wanted);
      return paginate(req, pulls.map((p) => pullJson(req, p)));
    }
    if (isWrite(req.method) && tok.readOnly) return readOnlyDenied(DOCS);
    return ghError(404, 'Not Found');
  }

  const service: Service = {
    name: 'github',
    async handle(req: SandboxRequest, _res: ServerResponse): Promise<Reply> {
      const o = oidc(req);
      const reply = o ? await o : await rest(req);
      const requestId = `${randomBytes(4).toString('hex').toUpperCase()}:${randomBytes(4).toString('hex').toUpperCase()}`;
      return {
        ...reply,
        headers: {
          'x-github-request-id': requestId,
          'x-github-api-version-selected': '2022-11-28',
          'x-ratelimit-limit': '5000',
          'x-ratelimit-remaining': '4999',
          'x-ratelimit-resource': 'core',
          ...reply.headers,
        },
      };
    },
  };

  return {
    service,
    token,
    idTokenPath,
    issuer,
    setReadOnly(on) {
      for (const t of gh.tokens.values()) t.readOnly = on;
    },
    addToken(t, options = {}) {
      gh.tokens.set(t, { readOnly: options.readOnly ?? false, login: options.login ?? GITHUB_ACTIONS_BOT.login, kind: options.kind ?? 'installation' });
    },
    idToken,
  };
}
