// ServiceAccount tokens signed with the cluster issuer's key: TokenRequest
// (POST serviceaccounts/<sa>/token, https://kubernetes.io/docs/reference/kubernetes-api/authentication-resources/token-request-v1/)
// and the kubelet's projected tokens. Claims as pkg/serviceaccount/claims.go issues them:
// iss, sub system:serviceaccount:<ns>:<sa>, aud (array), exp, iat, nbf, jti, and
// kubernetes.io {namespace, serviceaccount {name, uid}, pod {name, uid}?, node {name, uid}?, warnafter?}.
// Also the issuer discovery the API server serves (/.well-known/openid-configuration,
// /openid/v1/jwks: https://kubernetes.io/docs/tasks/configure-pod-container/configure-service-account/#service-account-issuer-discovery).
import { randomUUID } from 'node:crypto';
import type { ClusterIssuer } from '../cluster-issuer.ts';
import { RESOURCES } from './resources.ts';
import { invalid } from './status.ts';
import type { JsonObject } from './types.ts';

const tokenRequestDef = { ...RESOURCES.find((r) => r.kind === 'ServiceAccount')!, kind: 'TokenRequest', group: 'authentication.k8s.io', plural: 'tokenrequests' };

export interface TokenSubject {
  namespace: string;
  serviceAccount: { name: string; uid: string };
  audiences: string[];
  expirationSeconds: number;
  pod?: { name: string; uid: string };
  node?: { name: string; uid: string };
  /** Seconds after which the kubelet would refresh (projected kube-api-access tokens). */
  warnAfterSeconds?: number;
}

export async function signServiceAccountToken(issuer: ClusterIssuer, s: TokenSubject, now = Math.floor(Date.now() / 1000)): Promise<string> {
  const k8s: JsonObject = { namespace: s.namespace };
  if (s.node) k8s['node'] = s.node;
  if (s.pod) k8s['pod'] = s.pod;
  k8s['serviceaccount'] = s.serviceAccount;
  if (s.warnAfterSeconds) k8s['warnafter'] = now + s.warnAfterSeconds;
  return issuer.sign(
    { aud: s.audiences, jti: randomUUID(), 'kubernetes.io': k8s, sub: `system:serviceaccount:${s.namespace}:${s.serviceAccount.name}` },
    s.expirationSeconds,
    now,
  );
}

export interface TokenRequestSpec {
  audiences?: string[] | null;
  expirationSeconds?: number;
  boundObjectRef?: { kind?: string; apiVersion?: string; name?: string; uid?: string } | null;
}

/** Validates the spec the way the server does (10 minutes minimum, 2^32 s maximum); throws 422. */
export function tokenRequestSpec(spec: TokenRequestSpec | undefined, defaultAudience: string): { audiences: string[]; expirationSeconds: number } {
  const expirationSeconds = spec?.expirationSeconds ?? 3600;
  if (expirationSeconds < 600) {
    throw invalid(tokenRequestDef, '', [{ type: 'Invalid', field: 'spec.expirationSeconds', value: expirationSeconds, detail: 'may not specify a duration less than 10 minutes' }]);
  }
  if (expirationSeconds > 2 ** 32) {
    throw invalid(tokenRequestDef, '', [{ type: 'TooLong', field: 'spec.expirationSeconds', detail: 'may not specify a duration larger than 2^32 seconds' }]);
  }
  const audiences = spec?.audiences?.length ? spec.audiences : [defaultAudience];
  return { audiences, expirationSeconds };
}

/** The API server's issuer discovery document (pkg/serviceaccount/openidmetadata.go). */
export function openIdConfiguration(issuer: ClusterIssuer): JsonObject {
  return {
    issuer: issuer.url,
    jwks_uri: `${issuer.url}openid/v1/jwks`,
    response_types_supported: ['id_token'],
    subject_types_supported: ['public'],
    id_token_signing_alg_values_supported: ['RS256'],
  };
}

export function jwks(issuer: ClusterIssuer): JsonObject {
  const { kty, n, e, kid, alg } = issuer.publicJwk as { kty: string; n: string; e: string; kid: string; alg: string };
  return { keys: [{ use: 'sig', kty, kid, alg, n, e }] };
}
