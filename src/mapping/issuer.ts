// OIDC issuer URLs: the two comparisons the mapping checks, the Azure stage and the
// Kubernetes preflight share. Issuers are never rewritten (tokens carry them byte for byte);
// these only tell two spellings apart in messages.

/** The issuer with its trailing slashes removed: to spot two issuers that differ only by them (AADSTS700211). */
export const withoutTrailingSlash = (issuer: string): string => issuer.replace(/\/+$/, '');

/**
 * Whether the issuer is the cluster's in-cluster default (https://kubernetes.default.svc or
 * …svc.cluster.local), which a cluster reports when its OIDC issuer is not enabled: Entra
 * cannot fetch keys from it.
 */
export function isInClusterIssuer(issuer: string): boolean {
  let host: string;
  try {
    host = new URL(issuer).hostname;
  } catch {
    return false;
  }
  return /^kubernetes\.default\.svc(\.cluster\.local)?$/i.test(host);
}

/**
 * The AKS issuer hosts whose form Microsoft documents, all with the trailing '/' in the
 * issuer (learn.microsoft.com/azure/aks/use-oidc-issuer): the regional
 * `<region>.oic.prod-aks.azure.com/<tenant>/<uuid>/` and the earlier
 * `oidc.prod-aks.azure.com/<uuid>/`. Sovereign clouds' issuer hosts are not documented, so
 * they are not checked (docs/DESIGN.md §4).
 */
export function isAksIssuerHost(hostname: string): boolean {
  return /^[a-z0-9-]+\.oic\.prod-aks\.azure\.com$/i.test(hostname) || /^oidc\.prod-aks\.azure\.com$/i.test(hostname);
}
