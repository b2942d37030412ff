// The environment's OIDC issuer: read from the cluster (managedClusters.get →
// oidcIssuerProfile.issuerURL) and/or written in the mapping. It must be byte-exact: Entra
// compares the token's `iss` with the FIC's issuer as strings, and AKS issuers end with '/'
// (https://<region>.oic.prod-aks.azure.com/<tenant>/<uuid>/). A slash too many or too few
// gives FICs that never match (AADSTS700211), so this is checked before anything is written.
// An issuer written in the mapping has passed the mapping checks (issuerProblem: https, not
// the in-cluster default, an AKS issuer with its '/') before it gets here.
import { isInClusterIssuer, withoutTrailingSlash } from '../mapping/issuer.ts';
import type { ClusterRef, SourcePosition } from '../mapping/types.ts';
import type { PreflightCheck } from '../plan/types.ts';
import { isForbidden, isNotFound } from './errors.ts';
import type { AzurePort } from './port.ts';

export interface IssuerResolution {
  /** Undefined when it cannot be known or is inconsistent: see the error checks. */
  issuer?: string;
  source?: 'cluster' | 'mapping' | 'cluster+mapping';
  checks: PreflightCheck[];
  /** The cluster the environment names, with its API server hosts from ARM (not when it names only an issuer). */
  cluster?: { name: string; hosts: string[] };
}

export interface IssuerSpec {
  cluster?: ClusterRef;
  issuer?: string;
  at: SourcePosition;
}

function enableCommand(c: ClusterRef, subscriptionId: string): string {
  return `az aks update --subscription ${subscriptionId} -g ${c.resourceGroup} -n ${c.name} --enable-oidc-issuer --enable-workload-identity`;
}

export async function resolveIssuer(env: IssuerSpec, port: AzurePort, defaultSubscription: string): Promise<IssuerResolution> {
  const checks: PreflightCheck[] = [];
  const fail = (detail: string, fix?: string): IssuerResolution => {
    checks.push({ name: 'issuer', ok: false, severity: 'error', detail, ...(fix ? { fix } : {}), at: env.at });
    return { checks };
  };

  if (!env.cluster && !env.issuer) {
    return fail('The environment names neither a cluster nor an issuer.', 'Add cluster: { resourceGroup, name } (the issuer is then read from ARM) or issuer: <the cluster’s OIDC issuer URL>.');
  }

  let fromCluster: string | undefined;
  let cluster: IssuerResolution['cluster'];
  if (env.cluster) {
    const c = env.cluster;
    const subscriptionId = c.subscriptionId || defaultSubscription;
    if (!subscriptionId) {
      return fail(`No subscription for cluster '${c.name}'.`, 'Set cluster.subscriptionId, defaults.subscriptionId, or the azure-subscription-id input.');
    }
    const named = `cluster '${c.name}' (resource group '${c.resourceGroup}', subscription ${subscriptionId})`;
    let info;
    try {
      info = await port.getClusterIssuer({ subscriptionId, resourceGroup: c.resourceGroup, name: c.name });
    } catch (err) {
      if (isNotFound(err)) return fail(`AKS ${named} does not exist.`, 'Fix the cluster name, resource group or subscription in the mapping.');
      if (isForbidden(err)) {
        return fail(`Not allowed to read AKS ${named}: ${(err as Error).message}`, "Grant the action's login identity 'Reader' (or 'Azure Kubernetes Service Cluster User Role' plus Reader) on the cluster.");
      }
      throw err;
    }
    if (!info.oidcEnabled || !info.issuerUrl || isInClusterIssuer(info.issuerUrl)) {
      return fail(`The OIDC issuer of AKS ${named} is not enabled: Entra has no issuer to trust for its ServiceAccount tokens.`, enableCommand(c, subscriptionId));
    }
    if (!info.workloadIdentityEnabled) {
      checks.push({
        name: 'workload-identity',
        ok: false,
        severity: 'warning',
        detail: `The workload identity add-on of AKS ${named} is off: unless the webhook is installed with Helm, pods get no token.`,
        fix: enableCommand(c, subscriptionId),
        at: env.at,
      });
    }
    fromCluster = info.issuerUrl;
    cluster = { name: c.name, hosts: info.apiServerHosts };
  }

  if (fromCluster !== undefined && env.issuer !== undefined) {
    if (fromCluster === env.issuer) {
      checks.push({ name: 'issuer', ok: true, severity: 'info', detail: `Issuer ${fromCluster} (the cluster's, as the mapping says)`, at: env.at });
      return { issuer: fromCluster, source: 'cluster+mapping', checks, cluster };
    }
    if (withoutTrailingSlash(fromCluster) === withoutTrailingSlash(env.issuer)) {
      return fail(
        `The mapping's issuer '${env.issuer}' and the cluster's '${fromCluster}' differ only by the trailing slash; tokens carry the cluster's byte for byte.`,
        `Write issuer: ${fromCluster} (or drop issuer: and let it be read from the cluster).`,
      );
    }
    return fail(
      `The mapping's issuer '${env.issuer}' is not the cluster's '${fromCluster}' (has the cluster been recreated, or is it another cluster?).`,
      `Write issuer: ${fromCluster}, or point cluster: at the cluster that serves '${env.issuer}'.`,
    );
  }
  if (fromCluster !== undefined) {
    checks.push({ name: 'issuer', ok: true, severity: 'info', detail: `Issuer ${fromCluster} (read from the cluster)`, at: env.at });
    return { issuer: fromCluster, source: 'cluster', checks, cluster };
  }

  const issuer = env.issuer!;
  checks.push({ name: 'issuer', ok: true, severity: 'info', detail: `Issuer ${issuer} (from the mapping)`, at: env.at });
  return { issuer, source: 'mapping', checks };
}
