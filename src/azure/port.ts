// Azure as the planner and apply see it: five domain operations over plain data. This file
// is the only place that knows @azure/arm-msi and @azure/arm-containerservice; the diff and
// its tests never see an SDK type or an HTTP status.
import type { TokenCredential } from '@azure/identity';
import { ManagedServiceIdentityClient } from '@azure/arm-msi';
import { ContainerServiceClient } from '@azure/arm-containerservice';
import type { FederatedCredential, ManagedIdentity } from '../plan/types.ts';
import { AzureCallError, toAzureError } from './errors.ts';
import { identityResourceId, type IdentityParts } from '../mapping/identity.ts';
import { createNetwork, type Network } from '../net/index.ts';
import { armRetry, retrying, type RetryOptions } from './retry.ts';
import { timeoutPolicy } from './pipeline.ts';

export interface ClusterLocator {
  subscriptionId: string;
  resourceGroup: string;
  name: string;
}

export interface ClusterIssuerInfo {
  issuerUrl?: string;
  oidcEnabled: boolean;
  workloadIdentityEnabled: boolean;
  /** The API server's host names ARM gives (fqdn, privateFQDN, azurePortalFQDN): which kubeconfig is this cluster's. */
  apiServerHosts: string[];
  /** The AKS-managed pod identity add-on's identities (podIdentityProfile), for discover. */
  podIdentities?: ClusterPodIdentity[];
}

export interface ClusterPodIdentity {
  name: string;
  namespace: string;
  bindingSelector: string;
  identity: { resourceId: string; clientId?: string };
}

/**
 * Reads retry inside the port (idempotent, attempts do not matter). Writes make exactly one
 * attempt and throw an AzureCallError: apply.ts owns the write retries, so that it can count
 * attempts and serialize them per identity.
 */
export interface AzurePort {
  getIdentity(ref: IdentityParts): Promise<ManagedIdentity>;
  /** Every FIC of the identity, following nextLink: one paged LIST, never a GET per name. */
  listFederatedCredentials(identity: ManagedIdentity): Promise<FederatedCredential[]>;
  putFederatedCredential(identity: ManagedIdentity, fic: FederatedCredential): Promise<void>;
  deleteFederatedCredential(identity: ManagedIdentity, name: string): Promise<void>;
  getClusterIssuer(cluster: ClusterLocator): Promise<ClusterIssuerInfo>;
}

export interface ArmPortOptions {
  /** settings.azure.armEndpoint, e.g. https://management.azure.com (no trailing slash). */
  armEndpoint: string;
  userAgentPrefix?: string;
  /** Request timeout, deadline, retry log (src/net); default: 30 s, no deadline, silent. */
  net?: Network;
  /** Overrides of the read retry (tests use short delays). */
  readRetry?: Partial<RetryOptions>;
}

const describeIdentity = (i: { name: string; resourceGroup: string; subscriptionId: string }): string =>
  `identity '${i.name}' (resource group '${i.resourceGroup}', subscription ${i.subscriptionId})`;

export function createArmPort(credential: TokenCredential, options: ArmPortOptions): AzurePort {
  const endpoint = options.armEndpoint.replace(/\/+$/, '');
  const net = options.net ?? createNetwork();
  const readRetry = (what: string): RetryOptions => armRetry(net, net.read, what, options.readRetry);
  const timeout = timeoutPolicy(net);
  const userAgentOptions = { userAgentPrefix: options.userAgentPrefix ?? 'workload-identity-action' };
  // SDK retries off: retry.ts is the single retry layer (see the comment there).
  const retryOptions = { maxRetries: 0 };
  const msiClients = new Map<string, ManagedServiceIdentityClient>();
  const aksClients = new Map<string, ContainerServiceClient>();

  // One client per subscription, created on first use: its bearer-token policy then
  // shares one token refresh across every concurrent request to that subscription.
  const msi = (subscriptionId: string): ManagedServiceIdentityClient => {
    const key = subscriptionId.toLowerCase();
    let client = msiClients.get(key);
    if (!client) {
      // api-version 2024-11-30 is the SDK's default; pinned here so an SDK bump cannot change it silently.
      client = new ManagedServiceIdentityClient(credential, subscriptionId, { endpoint, apiVersion: '2024-11-30', retryOptions, userAgentOptions });
      // After signing: the token request has its own timeout in the credential's pipeline.
      client.pipeline.addPolicy(timeout, { afterPhase: 'Sign' });
      msiClients.set(key, client);
    }
    return client;
  };
  const aks = (subscriptionId: string): ContainerServiceClient => {
    const key = subscriptionId.toLowerCase();
    let client = aksClients.get(key);
    if (!client) {
      // The modular client defaults its token scope to the public cloud's ARM; follow the endpoint instead.
      client = new ContainerServiceClient(credential, subscriptionId, {
        endpoint,
        credentials: { scopes: [`${endpoint}/.default`] },
        retryOptions,
        userAgentOptions,
      });
      client.pipeline.addPolicy(timeout, { afterPhase: 'Sign' });
      aksClients.set(key, client);
    }
    return client;
  };

  return {
    async getIdentity(ref) {
      const op = `GET ${describeIdentity(ref)}`;
      const found = await retrying(op, () => msi(ref.subscriptionId).userAssignedIdentities.get(ref.resourceGroup, ref.name), readRetry(op));
      if (!found.clientId || !found.principalId || !found.tenantId) {
        throw new AzureCallError(op, 'IncompleteIdentity', 'ARM returned the identity without clientId, principalId or tenantId');
      }
      return {
        resourceId: found.id ?? identityResourceId(ref),
        name: found.name ?? ref.name,
        resourceGroup: ref.resourceGroup,
        subscriptionId: ref.subscriptionId,
        clientId: found.clientId,
        principalId: found.principalId,
        tenantId: found.tenantId,
      };
    },

    async listFederatedCredentials(identity) {
      const op = `LIST federated credentials of ${describeIdentity(identity)}`;
      return retrying(
        op,
        async () => {
          const out: FederatedCredential[] = [];
          for await (const fic of msi(identity.subscriptionId).federatedIdentityCredentials.list(identity.resourceGroup, identity.name)) {
            out.push({ name: fic.name ?? '', issuer: fic.issuer ?? '', subject: fic.subject ?? '', audiences: fic.audiences ?? [] });
          }
          return out;
        },
        readRetry(op),
      );
    },

    async putFederatedCredential(identity, fic) {
      try {
        await msi(identity.subscriptionId).federatedIdentityCredentials.createOrUpdate(identity.resourceGroup, identity.name, fic.name, {
          issuer: fic.issuer,
          subject: fic.subject,
          audiences: fic.audiences,
        });
      } catch (err) {
        throw toAzureError(`PUT federated credential '${fic.name}' on ${describeIdentity(identity)}`, err);
      }
    },

    async deleteFederatedCredential(identity, name) {
      try {
        // 200 when deleted, 204 when already gone: both are success for us.
        await msi(identity.subscriptionId).federatedIdentityCredentials.delete(identity.resourceGroup, identity.name, name);
      } catch (err) {
        throw toAzureError(`DELETE federated credential '${name}' on ${describeIdentity(identity)}`, err);
      }
    },

    async getClusterIssuer(cluster) {
      const op = `GET cluster '${cluster.name}' (resource group '${cluster.resourceGroup}', subscription ${cluster.subscriptionId})`;
      const found = await retrying(op, () => aks(cluster.subscriptionId).managedClusters.get(cluster.resourceGroup, cluster.name), readRetry(op));
      const issuerUrl = found.oidcIssuerProfile?.issuerURL;
      return {
        ...(issuerUrl ? { issuerUrl } : {}),
        oidcEnabled: found.oidcIssuerProfile?.enabled ?? Boolean(issuerUrl),
        workloadIdentityEnabled: found.securityProfile?.workloadIdentity?.enabled === true,
        apiServerHosts: [found.fqdn, found.privateFqdn, found.azurePortalFqdn].filter((h): h is string => Boolean(h)),
        podIdentities: (found.podIdentityProfile?.userAssignedIdentities ?? []).map((p) => ({
          name: p.name,
          namespace: p.namespace,
          bindingSelector: p.bindingSelector ?? '',
          identity: { resourceId: p.identity.resourceId ?? '', clientId: p.identity.clientId },
        })),
      };
    },
  };
}
