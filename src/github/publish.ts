// Posts the report as the sticky PR comment of its environment (DESIGN §1: "report on the
// PR that introduced the change"). The comment is a courtesy: nothing here can fail the
// job — a read-only token, a missing permission or GitHub being down is a warning that
// says what to change, and the job summary still has the whole report.
import type { Network } from '../net/index.ts';
import type { LogSink } from '../output/sink.ts';
import { createGithubClient, type GithubClient } from './client.ts';
import { commentBody } from './comment-body.ts';
import { pullRequestOfEvent, runUrl, type GithubRun } from './context.ts';
import { commentMarker } from './marker.ts';
import { pullOfCommit, upsertStickyComment, viewerLogin } from './sticky-comment.ts';

export interface PublishRequest {
  run: GithubRun;
  token: string;
  environment: string;
  /** The rendered report (src/report/markdown.ts), the same the job summary holds. */
  markdown: string;
  sink: LogSink;
  /** The run's network policy: request timeout, deadline, retries. */
  net: Network;
}

interface HttpError {
  status?: number;
  message?: string;
  response?: { headers?: Record<string, string | undefined>; data?: unknown };
}

/** `issues=write; pull_requests=write` → "`pull-requests: write` or `issues: write`", as a workflow writes them. */
function permissionsAsWorkflow(header: string): string {
  const sets = header.split(';').map((s) => s.trim()).filter(Boolean);
  const yaml = sets.map((set) => set.split(',').map((p) => '`' + p.trim().replace('=', ': ').replaceAll('_', '-') + '`').join(' and '));
  // Comments on a PR: pull-requests is the one a workflow usually grants, so name it first.
  yaml.sort((a, b) => Number(b.includes('pull-requests')) - Number(a.includes('pull-requests')));
  return yaml.join(' or ');
}

/** One sentence about why GitHub refused, naming the permission when GitHub does. */
export function describeGithubError(err: unknown, fromFork: boolean): string {
  const e = err as HttpError;
  const status = e.status;
  const message = (e.response?.data as { message?: string } | undefined)?.message ?? e.message ?? String(err);
  if (status === 403 || status === 401) {
    const accepted = e.response?.headers?.['x-accepted-github-permissions'];
    const needs = accepted ? `it needs ${permissionsAsWorkflow(accepted)}` : 'it lacks a permission';
    const fork = fromFork ? ' A pull request from a fork gets a read-only GITHUB_TOKEN whatever the workflow asks for: the job summary has the report.' : ` Give the job \`permissions:\` with ${accepted ? permissionsAsWorkflow(accepted) : '`pull-requests: write`'}.`;
    return `the github-token was refused (${status} "${message}"): ${needs}.${fork}`;
  }
  // No answer at all (timeout, reset, the deadline): Octokit turns the fetch error into a
  // 500 without a response; its message says what happened.
  if (!e.response) return `GitHub did not answer (${e.message ?? String(err)})`;
  return `GitHub answered ${status} "${message}"`;
}

async function findPull(gh: GithubClient, run: GithubRun): Promise<number | undefined> {
  const event = pullRequestOfEvent(run);
  if (event) return event.number;
  if (run.eventName === 'push' && run.sha) return pullOfCommit(gh, run.owner, run.repo, run.sha);
  return undefined;
}

/** Returns the comment's URL, or '' when no comment was posted. */
export async function publishComment(req: PublishRequest): Promise<string> {
  const { run, sink } = req;
  const fromFork = pullRequestOfEvent(run)?.fromFork ?? false;
  const commenting = run.eventName === 'push' || pullRequestOfEvent(run) !== undefined;
  if (!commenting) {
    sink.info(`No pull request to comment on for a '${run.eventName || 'local'}' run: the report is in the job summary.`);
    return '';
  }
  if (!req.token) {
    sink.warning('The PR comment was not posted: the github-token input is empty. The job summary has the report.');
    return '';
  }
  try {
    const gh = createGithubClient(req.token, run.apiUrl, req.net);
    const number = await findPull(gh, run);
    if (number === undefined) {
      sink.info(`No pull request introduced commit ${run.sha.slice(0, 12)}: the report is in the job summary.`);
      return '';
    }
    const login = await viewerLogin(gh);
    const { body, shortened } = commentBody(req.markdown, commentMarker(req.environment), runUrl(run));
    const posted = await upsertStickyComment(gh, { owner: run.owner, repo: run.repo, number }, req.environment, body, login);
    sink.info(`PR #${number}: comment ${posted.action}${shortened ? ' (shortened to fit; the job summary has all of it)' : ''}: ${posted.url}`);
    return posted.url;
  } catch (err) {
    sink.warning(`The PR comment was not posted: ${describeGithubError(err, fromFork)}`);
    return '';
  }
}
