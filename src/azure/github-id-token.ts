// The workflow's GitHub OIDC token, fetched from ACTIONS_ID_TOKEN_REQUEST_URL directly under
// the network policy. Not core.getIDToken: it takes no abort signal, waits up to 3 minutes
// on a dead socket, and already retries 5xx ten times on its own — a second retry layer
// under ours and no bound we control. The token is masked before anything can print it.
import { fetchWithPolicy, type Network } from '../net/index.ts';

export interface IdTokenEndpoint {
  /** ACTIONS_ID_TOKEN_REQUEST_URL (set only with `permissions: id-token: write`). */
  url?: string;
  /** ACTIONS_ID_TOKEN_REQUEST_TOKEN. */
  token?: string;
}

/**
 * One token request for `audience`; rejects with the variable's name when the job has no
 * OIDC permission. `fetch`: the runner's proxy-aware one (core.getIDToken followed
 * HTTPS_PROXY too); default the global fetch.
 */
export async function requestIdToken(endpoint: IdTokenEndpoint, audience: string, net: Network, mask: (secret: string) => void, fetch?: typeof globalThis.fetch): Promise<string> {
  // The same words core.getIDToken uses, so the login error keeps its permission advice.
  if (!endpoint.url) throw new Error('Unable to get ACTIONS_ID_TOKEN_REQUEST_URL env variable');
  if (!endpoint.token) throw new Error('Unable to get ACTIONS_ID_TOKEN_REQUEST_TOKEN env variable');
  mask(endpoint.token);
  const url = `${endpoint.url}&audience=${encodeURIComponent(audience)}`;
  const res = await fetchWithPolicy(net, url, { headers: { authorization: `Bearer ${endpoint.token}`, accept: 'application/json', 'user-agent': 'actions/oidc-client' } }, { operation: 'GitHub OIDC token request', ...(fetch ? { fetch } : {}) });
  let value: unknown;
  try {
    value = ((await res.json()) as { value?: unknown }).value;
  } catch {
    value = undefined;
  }
  if (typeof value !== 'string' || !value) throw new Error('GitHub OIDC token request: the answer holds no token (expected JSON {"value": "…"})');
  mask(value);
  return value;
}

/**
 * Each ARM client asks for an assertion when it first needs a token; GitHub's OIDC token
 * is valid for minutes, so one per audience serves the whole run (fewer calls, one mask).
 */
export function oneIdTokenPerAudience(request: (audience: string) => Promise<string>, now: () => number = Date.now): (audience: string) => Promise<string> {
  const tokens = new Map<string, { value: Promise<string>; at: number }>();
  return (audience) => {
    const cached = tokens.get(audience);
    if (cached && now() - cached.at < 4 * 60_000) return cached.value;
    const value = request(audience);
    tokens.set(audience, { value, at: now() });
    value.catch(() => tokens.delete(audience));
    return value;
  };
}
