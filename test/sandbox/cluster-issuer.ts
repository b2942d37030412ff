// A cluster's OIDC issuer key: the kubelet and TokenRequest sign ServiceAccount tokens
// with it, the issuer emulator publishes its JWKS, and Entra verifies assertions against
// that JWKS. AKS issuer URLs look like https://<region>.oic.prod-aks.azure.com/<tenant>/<uuid>/
// (trailing slash included, and the token's iss equals it byte for byte).
import { randomUUID } from 'node:crypto';
import { exportJWK, generateKeyPair, SignJWT, type JWK } from 'jose';

export interface ClusterIssuer {
  /** Byte-exact issuer URL, with the trailing slash. */
  url: string;
  kid: string;
  publicJwk: JWK;
  /** Signs a JWT with RS256 and this issuer's kid; iss is set to `url`. */
  sign(claims: Record<string, unknown>, lifetimeSeconds: number, now?: number): Promise<string>;
}

export async function createClusterIssuer(originUrl: string, tenantId: string, id = randomUUID()): Promise<ClusterIssuer> {
  return issuerWithKey(`${originUrl.replace(/\/$/, '')}/${tenantId}/${id}/`);
}

/** A fresh RS256 key that signs as `url` (published or not: that is the caller's business). */
export async function issuerWithKey(url: string): Promise<ClusterIssuer> {
  const { privateKey, publicKey } = await generateKeyPair('RS256', { extractable: true });
  const kid = randomUUID().replaceAll('-', '').slice(0, 20);
  const publicJwk = { ...(await exportJWK(publicKey)), kid, alg: 'RS256', use: 'sig' };
  return {
    url,
    kid,
    publicJwk,
    async sign(claims, lifetimeSeconds, now = Math.floor(Date.now() / 1000)) {
      return new SignJWT(claims)
        .setProtectedHeader({ alg: 'RS256', kid })
        .setIssuer(url)
        .setIssuedAt(now)
        .setNotBefore(now)
        .setExpirationTime(now + lifetimeSeconds)
        .sign(privateKey);
    },
  };
}
