// Does the cluster sign its tokens with the issuer the federated credentials will name?
// Entra compares issuers byte for byte (DESIGN §5).
import { withoutTrailingSlash } from '../../mapping/issuer.ts';
import type { PreflightCheck } from '../../plan/types.ts';
import { isKubeApiError } from '../port.ts';
import { check, type PreflightContext } from './check.ts';

/** Where exactly two issuer URLs differ, in words. They are compared byte for byte (DESIGN §5). */
export function describeIssuerDifference(cluster: string, mapping: string): string {
  if (cluster === mapping) return 'they are identical';
  if (withoutTrailingSlash(cluster) === withoutTrailingSlash(mapping)) {
    const slashes = (s: string) => s.length - withoutTrailingSlash(s).length;
    const ending = (n: number) => (n === 0 ? 'no trailing slash' : n === 1 ? "one trailing '/'" : `${n} trailing '/'`);
    return `only the trailing slashes differ: the cluster's issuer ends with ${ending(slashes(cluster))}, the mapping's with ${ending(slashes(mapping))}`;
  }
  if (cluster.trim() === mapping.trim()) return 'they differ only in surrounding whitespace';
  if (cluster.toLowerCase() === mapping.toLowerCase()) return 'they differ only in letter case (issuers are compared case-sensitively)';
  let a: URL | undefined;
  let b: URL | undefined;
  try {
    a = new URL(cluster);
    b = new URL(mapping);
  } catch {
    // fall through to the positional description
  }
  if (a && b) {
    if (a.protocol !== b.protocol) return `the scheme differs (cluster ${a.protocol}, mapping ${b.protocol})`;
    if (a.host !== b.host) return `the host differs (cluster ${a.host}, mapping ${b.host}): the mapping's issuer belongs to another cluster or region`;
    if (a.pathname !== b.pathname) {
      // AKS rotates signing keys, never the issuer URL: another path is another (or a recreated) cluster.
      return `the path differs (cluster ${a.pathname}, mapping ${b.pathname}): the mapping's issuer belongs to another cluster, or to this cluster before it was recreated`;
    }
  }
  let i = 0;
  while (i < cluster.length && cluster[i] === mapping[i]) i++;
  return `they differ from character ${i + 1} on`;
}

const IN_CLUSTER_ISSUERS = /^https:\/\/kubernetes\.default\.svc(\.cluster\.local)?\/?$/;

export async function checkIssuer(ctx: PreflightContext): Promise<PreflightCheck[]> {
  const { issuer } = ctx.input;
  if (!issuer) {
    return [check('issuer', true, 'info', "No issuer to compare with the cluster's (none resolved for this environment).")];
  }
  let clusterIssuer: string;
  try {
    clusterIssuer = (await (ctx.input.discovery ?? ctx.port.getOpenIdConfiguration())).issuer;
  } catch (err) {
    const forbidden = isKubeApiError(err) && err.status === 403;
    return [
      check(
        'issuer',
        false,
        'warning',
        `Could not read the cluster's issuer from /.well-known/openid-configuration: ${(err as Error).message}.`,
        forbidden
          ? 'Allow get on the non-resource URLs /.well-known/openid-configuration and /openid/v1/jwks (ClusterRole system:service-account-issuer-discovery).'
          : undefined,
      ),
    ];
  }
  if (IN_CLUSTER_ISSUERS.test(clusterIssuer)) {
    return [
      check(
        'issuer',
        false,
        'error',
        `The cluster's OIDC issuer is not enabled: its tokens are issued by ${clusterIssuer}, which Entra ID cannot reach, so no federated credential can match them.`,
        'Enable it: `az aks update -g <resource-group> -n <cluster> --enable-oidc-issuer`, then use the issuer it reports (az aks show --query oidcIssuerProfile.issuerUrl -o tsv).',
      ),
    ];
  }
  if (clusterIssuer === issuer) {
    return [check('issuer', true, 'info', `The cluster's issuer equals the federated credentials' issuer (${issuer}).`)];
  }
  return [
    check(
      'issuer',
      false,
      'error',
      `The cluster signs its tokens with issuer ${clusterIssuer}, but the federated credentials would use ${issuer}: ${describeIssuerDifference(clusterIssuer, issuer)}. ` +
        'The token exchange would fail with AADSTS700211 (no matching federated identity record for the issuer).',
      `Use the cluster's issuer byte for byte: set \`issuer: ${clusterIssuer}\` for this environment in the mapping, or give \`cluster:\` and let the action read it from ARM.`,
    ),
  ];
}
