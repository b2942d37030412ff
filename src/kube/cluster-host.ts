// Is the kubeconfig's API server the environment's cluster? Planning production with the
// development context would otherwise compare production's credentials with development's
// issuer, and the only "fix" on offer would be to make production trust development's tokens.
// Pure: the API server URL from the kubeconfig, the cluster's host names from ARM.

/**
 * API server host names of AKS, as Microsoft documents them for each cloud's egress rules
 * (learn.microsoft.com/azure/aks/outbound-rules-control-egress): `*.hcp.<region>.azmk8s.io`
 * (public cloud), `*.privatelink.<region>.azmk8s.io` (private clusters' private link),
 * `*.hcp.<region>.cx.aks.containerservice.azure.us` (Azure Government) and
 * `*.hcp.<region>.cx.prod.service.azk8s.cn` (Azure operated by 21Vianet). Anything else (a
 * proxy, an IP address, another distribution) gets no verdict.
 */
const AKS_API_HOSTS = [/\.azmk8s\.io$/i, /\.cx\.aks\.containerservice\.azure\.us$/i, /\.cx\.prod\.service\.azk8s\.cn$/i];

export const isAksApiHost = (host: string): boolean => AKS_API_HOSTS.some((r) => r.test(host));

export interface EnvironmentCluster {
  /** As the mapping names it. */
  name: string;
  /** ARM's fqdn, privateFQDN and azurePortalFQDN, those the cluster has. */
  hosts: string[];
}

/**
 * Why the API server is not the environment's cluster, or undefined when it is, or when
 * that cannot be told (not an AKS host, or ARM gave no host names to compare with).
 */
export function otherClusterReason(server: string, cluster: EnvironmentCluster, environment: string): string | undefined {
  let host: string;
  try {
    host = new URL(server).hostname.toLowerCase();
  } catch {
    return undefined;
  }
  const hosts = cluster.hosts.map((h) => h.toLowerCase().replace(/\.$/, ''));
  if (!isAksApiHost(host) || !hosts.length || hosts.includes(host.replace(/\.$/, ''))) return undefined;
  const named = environment ? `environment ${environment} names` : 'the mapping names';
  return (
    `The kubeconfig's API server is ${host}, but ${named} cluster ${cluster.name} (${hosts.join(', ')}): this run would compare ` +
    `${cluster.name}'s credentials with another cluster's ServiceAccounts and issuer.`
  );
}
