// The sticky comment: one per PR and environment, found by marker AND author, replaced
// on every run. A comment that carries our marker but was written by someone else (a
// copy-paste, another bot) is never edited.
import type { GithubClient } from './client.ts';
import { hasMarker } from './marker.ts';

export interface PullRef {
  owner: string;
  repo: string;
  number: number;
}

/**
 * The token's own login. GraphQL `viewer` answers for GITHUB_TOKEN (github-actions[bot]),
 * other apps' installation tokens and user tokens alike; REST `GET /user` is forbidden to
 * installation tokens.
 */
export async function viewerLogin(gh: GithubClient): Promise<string> {
  const answer = await gh.graphql<{ viewer: { login: string } }>('query { viewer { login } }');
  return answer.viewer.login;
}

export async function upsertStickyComment(
  gh: GithubClient,
  pull: PullRef,
  environment: string,
  body: string,
  login: string,
): Promise<{ url: string; action: 'created' | 'updated' }> {
  const target = { owner: pull.owner, repo: pull.repo, issue_number: pull.number };
  const comments = await gh.paginate(gh.rest.issues.listComments, { ...target, per_page: 100 });
  const ours = comments.find((c) => c.user?.login === login && hasMarker(c.body, environment));
  if (ours) {
    const updated = await gh.rest.issues.updateComment({ owner: pull.owner, repo: pull.repo, comment_id: ours.id, body });
    return { url: updated.data.html_url, action: 'updated' };
  }
  const created = await gh.rest.issues.createComment({ ...target, body });
  return { url: created.data.html_url, action: 'created' };
}

/** push → the PR that introduced the commit (merged or open); undefined when none did. */
export async function pullOfCommit(gh: GithubClient, owner: string, repo: string, sha: string): Promise<number | undefined> {
  const { data } = await gh.rest.repos.listPullRequestsAssociatedWithCommit({ owner, repo, commit_sha: sha, per_page: 100 });
  // Prefer the PR whose merge produced this commit, then an open one, then the first.
  const pick = data.find((p) => p.merge_commit_sha === sha) ?? data.find((p) => p.state === 'open') ?? data[0];
  return pick?.number;
}
