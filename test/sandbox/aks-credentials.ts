// The kubeconfig AKS hands out through POST …/managedClusters/{name}/listClusterUserCredential
// (and listClusterAdminCredential): what `az aks get-credentials` and azure/aks-set-context
// merge into the runner's kubeconfig. Shape of a cluster with local accounts (no Entra
// integration, so no kubelogin exec plugin): one cluster named after the managed cluster
// with `server: https://<fqdn>:443` and the cluster CA, one context of the same name, one
// user `clusterUser_<resourceGroup>_<name>` (`clusterAdmin_…` for admin) — the naming
// `az aks get-credentials` users see (`kubectl config get-users`).
// Two deviations, both in FIDELITY.md: the user carries a bearer token only (AKS also sends a
// client certificate; the emulator authenticates by token), and `proxy-url` names the
// sandbox's CONNECT proxy, so that kubectl and client-node reach the fqdn, which only the
// proxy resolves.
import { clusterFqdn } from './state.ts';

export type CredentialRole = 'clusterUser' | 'clusterAdmin';

export interface AksKubeconfigInput {
  cluster: { name: string; resourceGroup: string; location: string };
  role: CredentialRole;
  caPem: string;
  /** Bearer token the Kubernetes emulator accepts for the cluster's local account. */
  token: string;
  /** http://127.0.0.1:port of the sandbox proxy; absent when the sandbox runs without one. */
  proxyUrl?: string;
}

export function aksKubeconfig(input: AksKubeconfigInput): string {
  const { cluster, role } = input;
  const user = `${role}_${cluster.resourceGroup}_${cluster.name}`;
  const q = (s: string) => JSON.stringify(s);
  return [
    'apiVersion: v1',
    'clusters:',
    '- cluster:',
    `    certificate-authority-data: ${Buffer.from(input.caPem).toString('base64')}`,
    ...(input.proxyUrl ? [`    proxy-url: ${input.proxyUrl}`] : []),
    `    server: https://${clusterFqdn(cluster)}:443`,
    `  name: ${q(cluster.name)}`,
    'contexts:',
    '- context:',
    `    cluster: ${q(cluster.name)}`,
    `    user: ${q(user)}`,
    `  name: ${q(cluster.name)}`,
    `current-context: ${q(cluster.name)}`,
    'kind: Config',
    'preferences: {}',
    'users:',
    `- name: ${q(user)}`,
    '  user:',
    `    token: ${input.token}`,
    '',
  ].join('\n');
}
