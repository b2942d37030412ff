// How the sandbox wires the Kubernetes emulator, checked with a stand-in factory so it
// does not depend on test/sandbox/kube: options, seeded objects (templates resolved),
// kubeconfig and env, the in-cluster issuer of a cluster without OIDC issuer.
import { existsSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import type { Service } from '../sandbox/http.ts';
import { IN_CLUSTER_ISSUER, startSandboxCore, type KubeLike, type KubeOptionsLike } from '../sandbox/sandbox.ts';
import { trustSandboxCa } from './helpers.ts';

function stubKube() {
  const seen: { options?: KubeOptionsLike; seeded: object[]; stopped: boolean } = { seeded: [], stopped: false };
  const factory = (_ctx: unknown, options: KubeOptionsLike): KubeLike => {
    seen.options = options;
    const service: Service = { name: 'kube', handle: () => ({ status: 200, body: { gitVersion: 'v1.32.5' } }) };
    return {
      service,
      seed: (objects) => void seen.seeded.push(...objects),
      kubeconfig: (server, user = 'sandbox-admin') => `server: ${server}\nuser: ${user}\n`,
      token: (user = 'sandbox-admin') => `token-of-${user}`,
      setWebhook() {},
      setUnschedulable() {},
      denyRbac() {},
      clearRbac() {},
      stop: async () => {
        seen.stopped = true;
      },
    };
  };
  return { seen, factory };
}

const dir = fileURLToPath(new URL('../sandbox/scenarios/', import.meta.url));

describe('Kubernetes wiring', () => {
  it('passes the cluster issuer, authority host and tenant; seeds expanded objects; writes the kubeconfig', async () => {
    const { seen, factory } = stubKube();
    const sb = await startSandboxCore<KubeLike>({ scenario: `${dir}pod-identity.yaml` }, factory);
    trustSandboxCa(sb.tls.caPem);
    try {
      expect(seen.options).toMatchObject({ authorityHost: `${sb.urls.entra}/`, tenantId: sb.tenantId, webhook: true });
      expect(seen.options!.clusterIssuer.url).toBe(sb.issuers['aks-staging']!.url);
      const ids = seen.seeded.filter((o) => (o as { kind: string }).kind === 'AzureIdentity') as { spec: Record<string, unknown> }[];
      const payments = sb.state.identityByName('id-payments')!;
      expect(ids[0]!.spec).toMatchObject({ clientID: payments.clientId, resourceID: expect.stringMatching(/userAssignedIdentities\/id-payments$/) });
      expect(ids[1]!.spec.ResourceID).toBe(`/subscriptions/${sb.subscriptionId}/resourceGroups/rg-identities/providers/Microsoft.ManagedIdentity/userAssignedIdentities/id-orders`);
      expect(seen.seeded.slice(0, 3)).toEqual([
        expect.objectContaining({ kind: 'Namespace', metadata: expect.objectContaining({ name: 'payments' }) }),
        expect.objectContaining({ kind: 'Namespace' }),
        expect.objectContaining({ kind: 'Namespace' }),
      ]);
      expect(sb.env.KUBECONFIG).toBe(sb.kubeconfigPath);
      expect(readFileSync(sb.kubeconfigPath, 'utf8')).toContain(`server: ${sb.urls.kube}`);
      const version = (await (await fetch(`${sb.urls.kube}/version`)).json()) as { gitVersion: string };
      expect(version.gitVersion).toBe('v1.32.5');
    } finally {
      await sb.stop();
    }
    expect(seen.stopped).toBe(true);
    expect(existsSync(sb.workDir)).toBe(false);
  });

  it('a cluster without OIDC issuer signs with the in-cluster issuer nobody can discover', async () => {
    const { seen, factory } = stubKube();
    const sb = await startSandboxCore<KubeLike>(
      { scenario: { clusters: [{ name: 'legacy', resourceGroup: 'rg', oidcIssuer: false }], identities: [{ name: 'id-a', federatedCredentials: [{ name: 'in-cluster', issuer: IN_CLUSTER_ISSUER, subject: 'system:serviceaccount:a:b' }] }] } },
      factory,
    );
    trustSandboxCa(sb.tls.caPem);
    try {
      expect(seen.options!.clusterIssuer.url).toBe(IN_CLUSTER_ISSUER);
      expect(sb.state.clusterByName('legacy')!.oidcIssuerProfile).toEqual({ enabled: false });
      const token = await seen.options!.clusterIssuer.sign({ sub: 'system:serviceaccount:a:b', aud: ['api://AzureADTokenExchange'] }, 3600);
      const res = await fetch(`${sb.urls.entra}/${sb.tenantId}/oauth2/v2.0/token`, {
        method: 'POST',
        body: new URLSearchParams({
          grant_type: 'client_credentials',
          client_id: sb.state.identityByName('id-a')!.clientId,
          scope: 'https://management.azure.com/.default',
          client_assertion_type: 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer',
          client_assertion: token,
        }),
      });
      expect(((await res.json()) as { error_codes: number[] }).error_codes).toEqual([90061]);
    } finally {
      await sb.stop();
    }
  });
});
