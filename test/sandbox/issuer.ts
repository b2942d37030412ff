// The AKS OIDC issuer (service 'issuer'): for every cluster issuer in the state, the
// discovery document and the JWKS at the paths AKS serves them, the way Entra fetches them
// (`<issuer>.well-known/openid-configuration`, then `jwks_uri` = `<issuer>openid/v1/jwks`).
// Source: AKS "Create an OIDC provider" (learn.microsoft.com/azure/aks/use-oidc-issuer,
// "Get the OIDC issuer URL … discovery document") and the azure-workload-identity
// troubleshooting page (`curl ${SERVICE_ACCOUNT_ISSUER}/.well-known/openid-configuration`
// and `…/openid/v1/jwks`). The issuer is matched by path: the same document is served
// under 127.0.0.1 and under <region>.oic.prod-aks.azure.com (Host router), and its
// `issuer` is the byte-exact URL kept in the state, trailing slash included.
import type { ServerResponse } from 'node:http';
import type { Reply, SandboxRequest, Service } from './http.ts';
import type { SandboxState } from './state.ts';

export interface IssuerEmulator {
  service: Service;
  /**
   * Serve a JWKS that does not parse (truncated JSON) for every issuer (no `issuer`) or one
   * issuer URL: Entra then answers AADSTS900612.
   */
  setJwksMalformed(on: boolean, issuer?: string): void;
}

/** What a broken key endpoint serves: the start of a JWKS, cut off mid-key. */
export const MALFORMED_JWKS = '{"keys":[{"kty":"RSA","kid":"';

export function createIssuer(state: SandboxState): IssuerEmulator {
  let allMalformed = false;
  const malformed = new Set<string>();
  const service: Service = {
    name: 'issuer',
    handle(req: SandboxRequest, _res: ServerResponse): Reply {
      if (req.method !== 'GET' && req.method !== 'HEAD') return { status: 405, body: 'Method Not Allowed\n' };
      const path = req.url.pathname;
      for (const issuer of state.issuers.values()) {
        const base = new URL(issuer.url).pathname; // '/<tenant>/<uuid>/'
        if (path === `${base}.well-known/openid-configuration`) {
          return {
            status: 200,
            headers: { 'cache-control': 'max-age=300' },
            body: {
              issuer: issuer.url,
              jwks_uri: `${issuer.url}openid/v1/jwks`,
              response_types_supported: ['id_token'],
              subject_types_supported: ['public'],
              id_token_signing_alg_values_supported: ['RS256'],
            },
          };
        }
        if (path === `${base}openid/v1/jwks`) {
          if (allMalformed || malformed.has(issuer.url)) {
            return { status: 200, headers: { 'cache-control': 'max-age=300', 'content-type': 'application/json' }, body: MALFORMED_JWKS };
          }
          return { status: 200, headers: { 'cache-control': 'max-age=300' }, body: { keys: [issuer.publicJwk] } };
        }
      }
      return { status: 404, headers: { 'content-type': 'text/plain' }, body: 'Not Found\n' };
    },
  };
  return {
    service,
    setJwksMalformed(on, issuer) {
      if (issuer) {
        if (on) malformed.add(issuer);
        else malformed.delete(issuer);
      } else {
        allMalformed = on;
        if (!on) malformed.clear();
      }
    },
  };
}
