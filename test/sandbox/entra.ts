// Microsoft Entra ID (service 'entra'): OIDC metadata, instance discovery, signing keys,
// and the v2.0 token endpoint for client_credentials with a jwt-bearer client assertion —
// the exchange a Workload Identity pod (and the action's own GitHub OIDC login) performs.
//
// The assertion is checked the way Entra does for federated identity credentials:
// client known in the tenant (AADSTS700016), an FIC with the assertion's issuer
// (AADSTS700211), the issuer's OIDC discovery and JWKS fetched over https for real
// (AADSTS90061 when unreachable, 50166 when it answers 403), the signature (AADSTS700027), the time window
// (AADSTS700024), then subject (AADSTS700213, or AADSTS7002138 when it differs only in
// case) and audience (AADSTS700212), all compared exactly and case-sensitively; a matching
// FIC that has not replicated yet answers AADSTS70021, an update not replicated yet is
// compared with the FIC's previous values. With `setMismatchStyle('generic')`
// every issuer/subject/audience mismatch answers that generic AADSTS70021 too, as many
// tenants do. Wording and error envelope follow
// real responses quoted in FIDELITY.md (azure-workload-identity troubleshooting page, Azure/login
// and azure-workload-identity issues).
import { randomUUID } from 'node:crypto';
import type { ServerResponse } from 'node:http';
import {
  compactVerify,
  createLocalJWKSet,
  decodeJwt,
  decodeProtectedHeader,
  exportJWK,
  generateKeyPair,
  jwtVerify,
  SignJWT,
  type JWK,
  type JWTPayload,
} from 'jose';
import type { SandboxContext } from './context.ts';
import { aadErrorReply, type AadErrorSpec } from './error-bodies.ts';
import type { Reply, SandboxRequest, Service } from './http.ts';
import { identityResourceId, type SandboxState, type FederatedCredential } from './state.ts';
import { dotnetTime, httpsGet, newId } from './util.ts';

export const JWT_BEARER = 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer';

/** Entra's own token-signing key: access tokens it issues, which the ARM emulator verifies. */
export interface EntraSigner {
  kid: string;
  jwks: { keys: JWK[] };
  sign(claims: Record<string, unknown>, lifetimeSeconds: number): Promise<string>;
  /** Verifies signature and lifetime; throws jose errors (JWTExpired, JWSSignatureVerificationFailed …). */
  verify(token: string): Promise<JWTPayload>;
}

export async function createEntraSigner(): Promise<EntraSigner> {
  const { privateKey, publicKey } = await generateKeyPair('RS256', { extractable: true });
  const kid = randomUUID().replaceAll('-', '').slice(0, 27);
  const jwk = { ...(await exportJWK(publicKey)), kid, use: 'sig', kty: 'RSA' } as JWK;
  const jwks = { keys: [jwk] };
  const keySet = createLocalJWKSet(jwks);
  return {
    kid,
    jwks,
    async sign(claims, lifetimeSeconds) {
      const now = Math.floor(Date.now() / 1000);
      return new SignJWT(claims)
        .setProtectedHeader({ alg: 'RS256', typ: 'JWT', kid, x5t: kid })
        .setIssuedAt(now)
        .setNotBefore(now - 300)
        .setExpirationTime(now + lifetimeSeconds)
        .sign(privateKey);
    },
    async verify(token) {
      const { payload } = await jwtVerify(token, keySet);
      return payload;
    },
  };
}

/**
 * How a FIC mismatch is reported. 'specific' (default): AADSTS700211 issuer, 700213 subject,
 * 700212 audience. 'generic': AADSTS70021 "No matching federated identity record found for
 * presented assertion. Assertion Issuer: … Assertion Subject: … Assertion Audience: …" for
 * all three, as many tenants answer (FIDELITY.md). AADSTS7002138 (case-only subject
 * difference) is reported in both styles.
 */
export type MismatchStyle = 'specific' | 'generic';

export interface EntraEmulator {
  service: Service;
  signer: EntraSigner;
  /** All issuers (on) or one issuer URL: discovery/JWKS fetch fails → AADSTS90061. */
  setIssuerUnreachable(on: boolean, issuer?: string): void;
  /** 'specific' (700211/700212/700213, default) or 'generic' (70021 for every mismatch). */
  setMismatchStyle(style: MismatchStyle): void;
  mismatchStyle(): MismatchStyle;
  /**
   * Lifetime of the access tokens the token endpoint issues from now on (seconds), or
   * undefined for Entra's defaults (1 h apps, 24 h managed identities). A token shorter
   * than the SDK's refresh window (2 min) makes every ARM call start a background refresh.
   */
  setTokenLifetime(seconds: number | undefined): void;
  /** Mints an access token as the token endpoint would (tests, `armToken()`); a negative lifetime gives an expired one. */
  issueAccessToken(input: { tenantId: string; clientId: string; principalId: string; resource: string; mirid?: string; lifetime?: number }): Promise<string>;
}

const MANAGED_IDENTITY_TOKEN_SECONDS = 86399; // managed identities get 24 h tokens
const APP_TOKEN_SECONDS = 3599;
/** Clock skew Entra tolerates on client assertions (assumed 5 minutes; see FIDELITY.md). */
const ASSERTION_SKEW_SECONDS = 300;
const SPECIAL_TENANTS = new Set(['common', 'organizations', 'consumers']);
const FIC_DOC = 'https://learn.microsoft.com/entra/workload-id/workload-identity-federation';

export function createEntra(ctx: SandboxContext, state: SandboxState, signer: EntraSigner): EntraEmulator {
  let allUnreachable = false;
  const unreachable = new Set<string>();
  let mismatchStyle: MismatchStyle = 'specific';
  let tokenLifetime: number | undefined;

  /**
   * Where to connect for an issuer URL: the sandbox's own servers only. Local URLs go
   * straight; real host names the sandbox plays are routed to the matching emulator; any
   * other host is unreachable from the sandbox (no connection is attempted).
   */
  function connectTo(url: string): { target?: string } | undefined {
    const host = new URL(url).hostname;
    if (host === '127.0.0.1' || host === 'localhost') return {};
    if (host.endsWith('.oic.prod-aks.azure.com') || host === 'issuer.sandbox.local') return { target: ctx.urls.issuer };
    if (host === 'token.actions.githubusercontent.com' || host === 'github.sandbox.local' || host === 'api.github.com') return { target: ctx.urls.github };
    return undefined;
  }

  async function get(url: string): Promise<{ status: number; body: string }> {
    const route = connectTo(url);
    if (!route) throw new Error(`${url} is outside the sandbox`);
    return httpsGet(url, ctx.tls.caPem, route.target);
  }

  const aadError = (req: SandboxRequest, spec: AadErrorSpec): Reply => aadErrorReply(req, spec);

  const tenantNotFound = (tenant: string): AadErrorSpec => ({
    status: 400,
    error: 'invalid_tenant',
    code: 90002,
    message: `Tenant '${tenant}' not found. Check to make sure you have the correct tenant ID and are signing into the correct cloud. Check with your subscription administrator, this may happen if there are no active subscriptions for the tenant.`,
  });

  function knownTenant(tenant: string): boolean {
    return [...state.tenants].some((t) => t.toLowerCase() === tenant.toLowerCase());
  }

  function openidConfiguration(origin: string, tenant: string, v2: boolean): Record<string, unknown> {
    const t = SPECIAL_TENANTS.has(tenant.toLowerCase()) ? '{tenantid}' : tenant;
    const base = `${origin}/${tenant}`;
    return {
      token_endpoint: v2 ? `${base}/oauth2/v2.0/token` : `${base}/oauth2/token`,
      token_endpoint_auth_methods_supported: ['client_secret_post', 'private_key_jwt', 'client_secret_basic'],
      jwks_uri: v2 ? `${base}/discovery/v2.0/keys` : `${base}/discovery/keys`,
      response_modes_supported: ['query', 'fragment', 'form_post'],
      subject_types_supported: ['pairwise'],
      id_token_signing_alg_values_supported: ['RS256'],
      response_types_supported: ['code', 'id_token', 'code id_token', 'id_token token'],
      scopes_supported: ['openid', 'profile', 'email', 'offline_access'],
      issuer: v2 ? `${origin}/${t}/v2.0` : `https://sts.windows.net/${t}/`,
      request_uri_parameter_supported: false,
      userinfo_endpoint: 'https://graph.microsoft.com/oidc/userinfo',
      authorization_endpoint: v2 ? `${base}/oauth2/v2.0/authorize` : `${base}/oauth2/authorize`,
      device_authorization_endpoint: v2 ? `${base}/oauth2/v2.0/devicecode` : `${base}/oauth2/devicecode`,
      http_logout_supported: true,
      frontchannel_logout_supported: true,
      end_session_endpoint: v2 ? `${base}/oauth2/v2.0/logout` : `${base}/oauth2/logout`,
      claims_supported: ['sub', 'iss', 'cloud_instance_name', 'cloud_instance_host_name', 'cloud_graph_host_name', 'msgraph_host', 'aud', 'exp', 'iat', 'auth_time', 'acr', 'nonce', 'preferred_username', 'name', 'tid', 'ver', 'at_hash', 'c_hash', 'email'],
      kerberos_endpoint: `${base}/kerberos`,
      tenant_region_scope: 'EU',
      cloud_instance_name: 'microsoftonline.com',
      cloud_graph_host_name: 'graph.windows.net',
      msgraph_host: 'graph.microsoft.com',
      rbac_url: 'https://pas.windows.net',
    };
  }

  /** MSAL's instance discovery (az CLI calls it first): https://login.microsoftonline.com/common/discovery/instance */
  function instanceDiscovery(req: SandboxRequest): Reply {
    const host = req.url.host;
    const authz = req.url.searchParams.get('authorization_endpoint') ?? `${req.url.origin}/common/oauth2/authorize`;
    let tenant = 'common';
    try {
      tenant = new URL(authz).pathname.split('/').filter(Boolean)[0] ?? 'common';
    } catch {
      // keep common
    }
    const realAliases = ['login.microsoftonline.com', 'login.windows.net', 'login.microsoft.com', 'sts.windows.net'];
    const aliases = realAliases.includes(host) ? realAliases : [host];
    return {
      status: 200,
      body: {
        tenant_discovery_endpoint: `${req.url.origin}/${tenant}/v2.0/.well-known/openid-configuration`,
        'api-version': '1.1',
        metadata: [{ preferred_network: aliases[0], preferred_cache: realAliases.includes(host) ? 'login.windows.net' : host, aliases }],
      },
    };
  }

  async function fetchIssuerKeys(iss: string): Promise<{ keys: JWK[] } | AadErrorSpec> {
    const unreachableErr: AadErrorSpec = { status: 400, error: 'invalid_request', code: 90061, message: 'Request to External OIDC endpoint failed.' };
    // The same words under 50166 when the issuer's host refuses Entra (403: a storage account
    // limited to selected networks, Azure/azure-workload-identity#1130). Which failure gets
    // which code is not documented (FIDELITY.md).
    const refusedErr: AadErrorSpec = { ...unreachableErr, code: 50166 };
    const failed = (status: number): AadErrorSpec => (status === 403 ? refusedErr : unreachableErr);
    if (allUnreachable || unreachable.has(iss)) return unreachableErr;
    if (!/^https:\/\//.test(iss)) return unreachableErr;
    const discoveryUrl = `${iss.replace(/\/$/, '')}/.well-known/openid-configuration`;
    try {
      const disc = await get(discoveryUrl);
      if (disc.status !== 200) return failed(disc.status);
      const meta = JSON.parse(disc.body) as { issuer?: string; jwks_uri?: string };
      if (meta.issuer !== iss || !meta.jwks_uri) return unreachableErr;
      const keys = await get(meta.jwks_uri);
      if (keys.status !== 200) return failed(keys.status);
      try {
        const parsed = JSON.parse(keys.body) as { keys?: unknown };
        const list = parsed.keys;
        if (!Array.isArray(list) || !list.every((k) => !!k && typeof k === 'object' && typeof (k as JWK).kty === 'string')) throw new Error('no keys');
        return { keys: list as JWK[] };
      } catch {
        return { status: 400, error: 'invalid_request', code: 900612, message: 'Failed to parse the JSON Web Key Set returned by the external OIDC endpoint.' };
      }
    } catch {
      return unreachableErr;
    }
  }

  async function issueAccessToken(input: { tenantId: string; clientId: string; principalId: string; resource: string; mirid?: string; lifetime?: number }): Promise<string> {
    // Custom APIs (api://…) get v2.0 tokens; Azure's first-party resources get v1.0 ones.
    const v2 = input.resource.startsWith('api://');
    const claims: Record<string, unknown> = {
      aud: input.resource,
      iss: v2 ? `${ctx.urls.entra}/${input.tenantId}/v2.0` : `https://sts.windows.net/${input.tenantId}/`,
      idp: `https://sts.windows.net/${input.tenantId}/`,
      appid: input.clientId,
      azp: input.clientId,
      appidacr: '2',
      azpacr: '2',
      idtyp: 'app',
      oid: input.principalId,
      sub: input.principalId,
      tid: input.tenantId,
      uti: newId().replaceAll('-', '').slice(0, 22),
      ver: v2 ? '2.0' : '1.0',
      rh: '0.sandbox.',
    };
    if (input.mirid) claims.xms_mirid = input.mirid;
    return signer.sign(claims, input.lifetime ?? APP_TOKEN_SECONDS);
  }

  function resourceFromScope(scope: string): { resource?: string; error?: AadErrorSpec } {
    const scopes = scope.split(/\s+/).filter((s) => s && !['openid', 'profile', 'offline_access'].includes(s));
    const first = scopes[0];
    if (scopes.length !== 1 || !first || !first.endsWith('/.default')) {
      return {
        error: {
          status: 400,
          error: 'invalid_scope',
          code: 1002012,
          message: `The provided value for scope ${scope} is not valid. Client credential flows must have a scope value with /.default suffixed to the resource identifier (application ID URI).`,
        },
      };
    }
    return { resource: first.slice(0, -'/.default'.length) };
  }

  async function token(req: SandboxRequest, tenant: string, v2: boolean): Promise<Reply> {
    if (!knownTenant(tenant)) return aadError(req, tenantNotFound(tenant));
    const form = new URLSearchParams(req.body.toString('utf8'));
    const grant = form.get('grant_type') ?? '';
    if (grant !== 'client_credentials') {
      return aadError(req, { status: 400, error: 'unsupported_grant_type', code: 70003, message: `The app requested an unsupported grant type '${grant}'.` });
    }
    const clientId = form.get('client_id');
    if (!clientId) {
      return aadError(req, { status: 400, error: 'invalid_request', code: 900144, message: "The request body must contain the following parameter: 'client_id'." });
    }
    let resource: string;
    if (v2) {
      const r = resourceFromScope(form.get('scope') ?? '');
      if (r.error) return aadError(req, r.error);
      resource = r.resource!;
    } else {
      resource = form.get('resource') ?? '';
    }
    const found = state.findClient(tenant, clientId);
    if (!found) {
      return aadError(req, {
        status: 400,
        error: 'unauthorized_client',
        code: 700016,
        message: `Application with identifier '${clientId}' was not found in the directory '${tenant}'. This can happen if the application has not been installed by the administrator of the tenant or consented to by any user in the tenant. You may have sent your authentication request to the wrong tenant.`,
      });
    }
    if (form.get('client_secret')) {
      return aadError(req, { status: 401, error: 'invalid_client', code: 7000215, message: 'Invalid client secret provided. Ensure the secret being sent in the request is the client secret value, not the client secret ID, for a secret added to app.' });
    }
    const assertion = form.get('client_assertion');
    if (!assertion || form.get('client_assertion_type') !== JWT_BEARER) {
      return aadError(req, { status: 401, error: 'invalid_client', code: 7000216, message: "'client_assertion', 'client_secret' or 'request' is required for the 'client_credentials' grant type." });
    }
    let claims: JWTPayload;
    try {
      decodeProtectedHeader(assertion);
      claims = decodeJwt(assertion);
    } catch {
      return aadError(req, { status: 400, error: 'invalid_request', code: 50027, message: 'JWT token is invalid or malformed.' });
    }
    const iss = String(claims.iss ?? '');
    const sub = String(claims.sub ?? '');
    const auds = Array.isArray(claims.aud) ? claims.aud.map(String) : claims.aud !== undefined ? [String(claims.aud)] : [];
    // What Entra holds: an update not replicated yet is still seen with its previous values
    // (a creation not replicated yet is matched below and answered 70021).
    const fics: FederatedCredential[] = found.client.fics.map((f) => (f.previous && Date.now() < f.propagatesAt ? { ...f, ...f.previous, propagatesAt: 0 } : f));
    // The generic form some tenants answer for any issuer/subject/audience mismatch, and
    // every tenant during propagation.
    const noMatchingRecord: AadErrorSpec = {
      status: 400,
      error: 'invalid_request',
      code: 70021,
      message: `No matching federated identity record found for presented assertion. Assertion Issuer: '${iss}'. Assertion Subject: '${sub}'. Assertion Audience: '${auds[0] ?? ''}'. ${FIC_DOC}`,
    };
    const generic = mismatchStyle === 'generic';

    // 0. No federated credential at all (an identity straight from Pod Identity): Entra says
    //    so before comparing anything (FIDELITY.md).
    if (!fics.length) {
      const display = found.kind === 'app' ? found.client.displayName : found.client.name;
      return aadError(req, { status: 400, error: 'invalid_client', code: 70025, message: `The client '${found.client.clientId}'(${display}) has no configured federated identity credentials.` });
    }

    // 1. issuer: an FIC must name it byte for byte.
    const byIssuer = fics.filter((f) => f.issuer === iss);
    if (!byIssuer.length) {
      if (generic) return aadError(req, noMatchingRecord);
      return aadError(req, {
        status: 401,
        error: 'invalid_client',
        code: 700211,
        message: `No matching federated identity record found for presented assertion issuer '${iss}'. Please check your federated identity credential Subject, Audience and Issuer against the presented assertion. ${FIC_DOC}`,
      });
    }
    // 2. the issuer's keys, fetched over https from its discovery document.
    const keys = await fetchIssuerKeys(iss);
    if (!('keys' in keys)) return aadError(req, keys);
    let keySet: ReturnType<typeof createLocalJWKSet>;
    try {
      keySet = createLocalJWKSet(keys);
    } catch {
      return aadError(req, { status: 400, error: 'invalid_request', code: 900612, message: 'Failed to parse the JSON Web Key Set returned by the external OIDC endpoint.' });
    }
    try {
      await compactVerify(assertion, keySet);
    } catch {
      return aadError(req, { status: 401, error: 'invalid_client', code: 700027, message: 'Client assertion failed signature validation.' });
    }
    // 3. lifetime.
    const now = Math.floor(Date.now() / 1000);
    const exp = typeof claims.exp === 'number' ? claims.exp : 0;
    const nbf = typeof claims.nbf === 'number' ? claims.nbf : 0;
    if (exp + ASSERTION_SKEW_SECONDS < now || nbf - ASSERTION_SKEW_SECONDS > now) {
      return aadError(req, {
        status: 401,
        error: 'invalid_client',
        code: 700024,
        message: `Client assertion is not within its valid time range. Current time: ${dotnetTime(now)}, assertion valid from ${dotnetTime(nbf)}, expiry time of assertion ${dotnetTime(exp)}. Review the documentation at https://learn.microsoft.com/entra/identity-platform/certificate-credentials .`,
      });
    }
    // 4. subject, exact; a case-only difference has its own code since the 2024 change.
    const bySubject = byIssuer.filter((f) => f.subject === sub);
    if (!bySubject.length) {
      const caseOnly = byIssuer.some((f) => f.subject.toLowerCase() === sub.toLowerCase());
      if (generic && !caseOnly) return aadError(req, noMatchingRecord);
      return aadError(
        req,
        caseOnly
          ? {
              status: 401,
              error: 'invalid_client',
              code: 7002138,
              message: `No matching federated identity record found for presented assertion subject '${sub}'. The subject matches with case-insensitive comparison, but not with case-sensitive comparison. Check your federated identity credential Subject, Audience and Issuer against the presented assertion. See documentation at: ${FIC_DOC}. See breaking change notification and remediation at: https://learn.microsoft.com/en-us/entra/identity-platform/reference-breaking-changes#august-2024.`,
            }
          : {
              status: 401,
              error: 'invalid_client',
              code: 700213,
              message: `No matching federated identity record found for presented assertion subject '${sub}'. Check your federated identity credential Subject, Audience and Issuer against the presented assertion. ${FIC_DOC}`,
            },
      );
    }
    // 5. audience.
    const byAudience = bySubject.filter((f) => f.audiences.some((a) => auds.includes(a)));
    if (!byAudience.length) {
      if (generic) return aadError(req, noMatchingRecord);
      return aadError(req, {
        status: 401,
        error: 'invalid_client',
        code: 700212,
        message: `No matching federated identity record found for presented assertion audience '${auds.join(',')}'. Please check your federated identity credential Subject, Audience and Issuer against the presented assertion. ${FIC_DOC}`,
      });
    }
    // 6. replication: a freshly written FIC is not seen everywhere yet.
    if (!byAudience.some((f) => Date.now() >= f.propagatesAt)) return aadError(req, noMatchingRecord);
    const isIdentity = found.kind === 'identity';
    const lifetime = tokenLifetime ?? (isIdentity ? MANAGED_IDENTITY_TOKEN_SECONDS : APP_TOKEN_SECONDS);
    const accessToken = await issueAccessToken({
      tenantId: found.client.tenantId,
      clientId: found.client.clientId,
      principalId: found.client.principalId,
      resource,
      mirid: isIdentity ? identityResourceId(found.client) : undefined,
      lifetime,
    });
    return {
      status: 200,
      headers: { 'cache-control': 'no-store, no-cache', pragma: 'no-cache', 'client-request-id': String(req.headers['client-request-id'] ?? '') },
      body: { token_type: 'Bearer', expires_in: lifetime, ext_expires_in: lifetime, access_token: accessToken },
    };
  }

  const service: Service = {
    name: 'entra',
    async handle(req: SandboxRequest, _res: ServerResponse): Promise<Reply> {
      const parts = req.url.pathname.split('/').filter(Boolean);
      const tenant = parts[0] ?? '';
      const rest = parts.slice(1).join('/');
      if (req.method === 'GET' && tenant === 'common' && rest === 'discovery/instance') return instanceDiscovery(req);
      if (req.method === 'GET' && (rest === 'v2.0/.well-known/openid-configuration' || rest === '.well-known/openid-configuration')) {
        if (!SPECIAL_TENANTS.has(tenant.toLowerCase()) && !knownTenant(tenant)) return aadError(req, tenantNotFound(tenant));
        return { status: 200, body: openidConfiguration(req.url.origin, tenant, rest.startsWith('v2.0')) };
      }
      if (req.method === 'GET' && (rest === 'discovery/v2.0/keys' || rest === 'discovery/keys')) {
        return { status: 200, body: signer.jwks };
      }
      if (req.method === 'POST' && rest === 'oauth2/v2.0/token') return token(req, tenant, true);
      if (req.method === 'POST' && rest === 'oauth2/token') return token(req, tenant, false);
      if (req.method === 'GET' && tenant === 'error') {
        return { status: 200, headers: { 'content-type': 'text/html' }, body: `<html><body>AADSTS${req.url.searchParams.get('code') ?? ''}</body></html>` };
      }
      return { status: 404, body: { error: 'not_found', error_description: `No Entra endpoint at ${req.url.pathname}` } };
    },
  };

  return {
    service,
    signer,
    setIssuerUnreachable(on, issuer) {
      if (issuer) {
        if (on) unreachable.add(issuer);
        else unreachable.delete(issuer);
      } else {
        allUnreachable = on;
        if (!on) unreachable.clear();
      }
    },
    setMismatchStyle(style) {
      mismatchStyle = style;
    },
    mismatchStyle: () => mismatchStyle,
    setTokenLifetime(seconds) {
      tokenLifetime = seconds;
    },
    issueAccessToken,
  };
}
