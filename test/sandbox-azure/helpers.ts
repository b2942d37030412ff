// Shared by the sandbox-azure tests: trust the sandbox CA in this worker, build scenarios,
// and sign assertions as a cluster's kubelet would.
import tls from 'node:tls';
import { ClientAssertionCredential } from '@azure/identity';
import type { Scenario } from '../sandbox/scenario.ts';
import type { SandboxCore, KubeLike } from '../sandbox/sandbox.ts';

/**
 * NODE_EXTRA_CA_CERTS is read once at process start, so an in-process test adds the
 * sandbox CA to Node's default CA list instead (Node ≥ 22.15 / 24): the SDKs' https
 * clients (core-rest-pipeline, msal-node, undici fetch) use that list, nothing is patched.
 */
export function trustSandboxCa(caPem: string): void {
  tls.setDefaultCACertificates([...tls.getCACertificates('default'), caPem]);
}

export const SA_SUBJECT = 'system:serviceaccount:payments:payments-api';
export const AUDIENCE = 'api://AzureADTokenExchange';

export function baseScenario(): Scenario {
  return {
    name: 'sandbox-azure tests',
    resourceGroups: ['rg-identities'],
    identities: [
      {
        name: 'id-payments',
        federatedCredentials: [{ name: 'aks-stg-payments-payments-api', issuer: '{{issuer:aks-stg}}', subject: SA_SUBJECT }],
      },
      { name: 'id-orders' },
      { name: 'id-race' },
    ],
    clusters: [
      {
        name: 'aks-stg',
        resourceGroup: 'rg-aks-stg',
        podIdentity: { identities: [{ name: 'payments', namespace: 'payments', identity: 'id-payments' }] },
      },
      { name: 'aks-legacy', resourceGroup: 'rg-aks-stg', oidcIssuer: false },
    ],
    github: {
      owner: 'contoso',
      repo: 'platform',
      environment: 'staging',
      event: 'pull_request',
      pullRequest: { number: 42, headSha: 'a'.repeat(40), mergeCommitSha: 'b'.repeat(40) },
      comments: [{ body: 'first', user: 'octocat' }],
    },
  };
}

/** A projected ServiceAccount token as the cluster's kubelet writes it. */
export function saToken(
  sb: SandboxCore<KubeLike | undefined>,
  opts: { sub?: string; aud?: string; lifetime?: number; now?: number; cluster?: string } = {},
): Promise<string> {
  const issuer = opts.cluster ? sb.issuers[opts.cluster]! : sb.clusterIssuer;
  return issuer.sign(
    {
      sub: opts.sub ?? SA_SUBJECT,
      aud: [opts.aud ?? AUDIENCE],
      'kubernetes.io': { namespace: 'payments', serviceaccount: { name: 'payments-api', uid: '0b0e1c52-5b2c-4a3e-9b5e-2f1c1c0d0e01' } },
    },
    opts.lifetime ?? 3600,
    opts.now,
  );
}

export function credential(sb: SandboxCore<KubeLike | undefined>, clientId: string, assertion: string | (() => Promise<string>)): ClientAssertionCredential {
  const get = typeof assertion === 'string' ? async () => assertion : assertion;
  return new ClientAssertionCredential(sb.tenantId, clientId, get, { authorityHost: sb.urls.entra, disableInstanceDiscovery: true });
}

export const ARM_SCOPE = 'https://management.azure.com/.default';
