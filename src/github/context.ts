// Where this run happens on GitHub: repository, event, commit and the run's own page.
// main.ts reads it from the runner's environment once; nothing else reads process.env.
import { readFileSync } from 'node:fs';

export interface GithubRun {
  owner: string;
  repo: string;
  eventName: string;
  /** The event payload (GITHUB_EVENT_PATH), {} when absent or unreadable. */
  payload: Record<string, unknown>;
  sha: string;
  apiUrl: string;
  serverUrl: string;
  runId: string;
  runAttempt: string;
}

export function readGithubRun(env: Record<string, string | undefined>): GithubRun {
  const [owner = '', repo = ''] = (env.GITHUB_REPOSITORY ?? '').split('/');
  let payload: Record<string, unknown> = {};
  try {
    if (env.GITHUB_EVENT_PATH) payload = JSON.parse(readFileSync(env.GITHUB_EVENT_PATH, 'utf8')) as Record<string, unknown>;
  } catch {
    payload = {}; // no event file outside Actions: the run is then summary-only
  }
  return {
    owner,
    repo,
    eventName: env.GITHUB_EVENT_NAME ?? '',
    payload,
    sha: env.GITHUB_SHA ?? '',
    apiUrl: (env.GITHUB_API_URL || 'https://api.github.com').replace(/\/+$/, ''),
    serverUrl: (env.GITHUB_SERVER_URL || 'https://github.com').replace(/\/+$/, ''),
    runId: env.GITHUB_RUN_ID ?? '',
    runAttempt: env.GITHUB_RUN_ATTEMPT ?? '',
  };
}

/** The run's page (the job summary is on it); '' outside Actions. */
export function runUrl(run: GithubRun): string {
  if (!run.owner || !run.repo || !run.runId) return '';
  const attempt = run.runAttempt && run.runAttempt !== '1' ? `/attempts/${run.runAttempt}` : '';
  return `${run.serverUrl}/${run.owner}/${run.repo}/actions/runs/${run.runId}${attempt}`;
}

const PULL_REQUEST_EVENTS = new Set(['pull_request', 'pull_request_target']);

/** The PR of a pull_request event, from its payload; undefined for every other event. */
export function pullRequestOfEvent(run: GithubRun): { number: number; fromFork: boolean } | undefined {
  if (!PULL_REQUEST_EVENTS.has(run.eventName)) return undefined;
  const pr = run.payload.pull_request as { number?: unknown; head?: { repo?: { full_name?: unknown } } } | undefined;
  const number = typeof pr?.number === 'number' ? pr.number : typeof run.payload.number === 'number' ? run.payload.number : undefined;
  if (number === undefined) return undefined;
  const head = pr?.head?.repo?.full_name;
  return { number, fromFork: typeof head === 'string' && head.toLowerCase() !== `${run.owner}/${run.repo}`.toLowerCase() };
}
