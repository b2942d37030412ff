// The GitHub client: @actions/github's Octokit, its fetch (which follows the runner's proxy
// settings) run under the action's network policy: the request timeout, the run's deadline
// and the one retry policy (reads retried, writes only on 429).
import { getOctokit } from '@actions/github';
import { defaults } from '@actions/github/lib/utils';
import { policyFetch, type Network } from '../net/index.ts';

export type GithubClient = ReturnType<typeof getOctokit>;

/** @actions/github's fetch: it follows the runner's proxy settings (HTTPS_PROXY, NO_PROXY); undefined → the global one. */
export const runnerFetch = (): typeof fetch | undefined => defaults.request?.fetch as typeof fetch | undefined;

export function createGithubClient(token: string, apiUrl: string, net: Network): GithubClient {
  return getOctokit(token, { baseUrl: apiUrl, request: { fetch: policyFetch(net, 'GitHub API', runnerFetch()) } });
}
