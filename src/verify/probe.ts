// The in-pod probe (DESIGN §6): a self-contained program that the verification pod runs as
// `node -e <source>`. It has no dependencies (Node's global fetch and built-ins only) and
// reads what it must expect from one env var, so its source is the same for every binding.
// It prints exactly one `WI-VERIFY-RESULT {json}` line — claims, checks, AADSTS code —
// and never a token. `probe` below is serialised with Function.prototype.toString, so it
// must not refer to anything outside its own body.

/** The line the runner looks for in the pod's log. */
export const RESULT_PREFIX = 'WI-VERIFY-RESULT ';
/** The env var carrying the JSON ProbeExpectation. */
export const EXPECT_ENV = 'WI_VERIFY_EXPECT';

export interface ProbeExpectation {
  clientId: string;
  tenantId: string;
  issuer: string;
  subject: string;
  audience: string;
  scope: string;
  /**
   * The runner saw in ARM a FIC matching issuer/subject/audience exactly: AADSTS70021 and
   * 70025 may then mean "not propagated yet" and are retried while the token carries
   * exactly those claims.
   */
  retryPropagation: boolean;
  /** Retries stop this long after the probe started (the runner's verify-timeout, less a margin). */
  budgetMs: number;
  /** One request's timeout: a black-holed authority (default-deny egress) ends as "unreachable". */
  fetchTimeoutMs: number;
  /** First wait between propagation retries; doubles up to 8×. */
  backoffMs: number;
}

export interface ProbeCheck {
  name: 'env' | 'client-id' | 'token' | 'issuer' | 'subject' | 'audience' | 'expiry' | 'exchange';
  ok: boolean;
  detail: string;
}

export interface ProbeResult {
  ok: boolean;
  checks: ProbeCheck[];
  /** Of the projected ServiceAccount token. */
  token?: { iss?: string; sub?: string; aud?: string[]; exp?: number };
  /** Of the access token Entra issued. */
  access?: { tid?: string; oid?: string; appid?: string };
  aadsts?: number;
  error?: string;
  /** The authority could not be reached: a DNS failure, a refused or a timed-out connection. */
  unreachable?: string;
  attempts: number;
  /** What the webhook injected, for the diagnosis (never the token). */
  env: { clientId?: string; tenantId?: string; tokenFile?: string; authorityHost?: string };
}

/* eslint-disable @typescript-eslint/no-explicit-any -- the probe is plain JavaScript once serialised */
async function probe(): Promise<void> {
  const E = process.env;
  const fs: any = (process as any).getBuiltinModule('fs');
  const out: any = { ok: false, checks: [], attempts: 0, env: {} };
  const check = (name: string, ok: boolean, detail: string): boolean => {
    out.checks.push({ name, ok, detail });
    return ok;
  };
  const finish = (): void => {
    out.ok = out.checks.length > 0 && out.checks.every((c: any) => c.ok);
    process.stdout.write('WI-VERIFY-RESULT ' + JSON.stringify(out) + '\n');
    process.exitCode = out.ok ? 0 : 1;
  };
  const decode = (jwt: string): any => JSON.parse(Buffer.from(String(jwt).split('.')[1] || '', 'base64url').toString('utf8'));
  const started = Date.now();
  let x: any = {};
  try {
    x = JSON.parse(E.WI_VERIFY_EXPECT || '{}');
  } catch {
    x = {};
  }
  const cid = E.AZURE_CLIENT_ID;
  const tid = E.AZURE_TENANT_ID;
  const file = E.AZURE_FEDERATED_TOKEN_FILE;
  const host = E.AZURE_AUTHORITY_HOST;
  out.env = { clientId: cid, tenantId: tid, tokenFile: file, authorityHost: host };

  // 1. The webhook's four variables, and the client id the binding names.
  const missing = ['AZURE_CLIENT_ID', 'AZURE_TENANT_ID', 'AZURE_FEDERATED_TOKEN_FILE', 'AZURE_AUTHORITY_HOST'].filter((n) => !E[n]);
  if (!check('env', !missing.length, missing.length ? 'not injected: ' + missing.join(', ') : 'AZURE_CLIENT_ID, AZURE_TENANT_ID, AZURE_FEDERATED_TOKEN_FILE, AZURE_AUTHORITY_HOST injected')) return finish();
  check('client-id', cid === x.clientId, cid === x.clientId ? cid! : "AZURE_CLIENT_ID is '" + cid + "', the binding's identity has '" + x.clientId + "'");

  // 2. The projected token: decoded, not verified (Entra verifies it).
  let raw = '';
  let t: any;
  try {
    raw = fs.readFileSync(file, 'utf8').trim();
    t = decode(raw);
  } catch (e: any) {
    check('token', false, 'cannot read a JWT from ' + file + ': ' + (e && e.code ? e.code : 'not a JWT'));
    return finish();
  }
  const aud: string[] = Array.isArray(t.aud) ? t.aud : t.aud === undefined ? [] : [t.aud];
  out.token = { iss: t.iss, sub: t.sub, aud, exp: t.exp };
  check('token', true, 'read from ' + file);
  const exact = [
    check('issuer', t.iss === x.issuer, t.iss === x.issuer ? t.iss : "the token says '" + t.iss + "', the federated credential expects '" + x.issuer + "'"),
    check('subject', t.sub === x.subject, t.sub === x.subject ? t.sub : "the token says '" + t.sub + "', the federated credential expects '" + x.subject + "'"),
    check('audience', aud.length === 1 && aud[0] === x.audience, aud.indexOf(x.audience) >= 0 && aud.length === 1 ? x.audience : "the token says '" + aud.join(',') + "', the federated credential expects '" + x.audience + "'"),
  ].every(Boolean);
  const left = (Number(t.exp) || 0) - Date.now() / 1000;
  check('expiry', left > 60, left > 60 ? 'valid for ' + Math.round(left) + ' s' : 'expires in ' + Math.round(left) + ' s');

  // 3. The exchange, as the Azure SDKs do it from these variables.
  const url = String(host).replace(/\/+$/, '') + '/' + tid + '/oauth2/v2.0/token';
  const body = new URLSearchParams({
    grant_type: 'client_credentials',
    client_id: String(cid),
    scope: x.scope,
    client_assertion_type: 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer',
    client_assertion: raw,
  }).toString();
  const deadline = started + (Number(x.budgetMs) || 60000);
  let wait = Number(x.backoffMs) || 1000;
  for (;;) {
    out.attempts++;
    let res: any;
    let json: any = {};
    try {
      res = await fetch(url, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body, signal: AbortSignal.timeout(Number(x.fetchTimeoutMs) || 15000) });
      json = await res.json().catch(() => ({}));
    } catch (e: any) {
      let c: any = e;
      while (c && c.cause && !c.code) c = c.cause;
      const why = e && e.name === 'TimeoutError' ? 'no answer within ' + (Number(x.fetchTimeoutMs) || 15000) + ' ms' : (c && (c.code || c.message)) || String(e);
      out.unreachable = why;
      check('exchange', false, 'cannot reach ' + url + ': ' + why);
      return finish();
    }
    if (res.ok && json.access_token) {
      let a: any = {};
      try {
        a = decode(json.access_token);
      } catch {
        a = {};
      }
      out.access = { tid: a.tid, oid: a.oid, appid: a.appid };
      check('exchange', true, 'access token for ' + x.scope + ' (tid ' + a.tid + ', oid ' + a.oid + ')');
      return finish();
    }
    const code = Array.isArray(json.error_codes) ? Number(json.error_codes[0]) : undefined;
    const text = String(json.error_description || json.error || 'HTTP ' + res.status).split(/ Trace ID:|\r?\n/)[0];
    const propagating = (code === 70021 || code === 70025) && x.retryPropagation && exact && t.iss === x.issuer;
    if (propagating && Date.now() + wait < deadline) {
      await new Promise((r) => setTimeout(r, wait));
      wait = Math.min(wait * 2, (Number(x.backoffMs) || 1000) * 8);
      continue;
    }
    out.aadsts = code;
    out.error = text;
    check('exchange', false, text + (out.attempts > 1 ? ' (after ' + out.attempts + ' attempts over ' + Math.round((Date.now() - started) / 1000) + ' s)' : ''));
    return finish();
  }
}
/* eslint-enable @typescript-eslint/no-explicit-any */

/** The probe's source, for `node -e`: an expression statement that runs it. */
export function probeSource(): string {
  return `(${probe.toString()})()`;
}
