import { describe, expect, it } from 'vitest';
import { parseAllDocuments } from 'yaml';
import { describeIssuerDifference, describeMutation, rbacSnippet, requiredPermissions } from '../../src/kube/preflight/index.ts';

const ISSUER = 'https://westeurope.oic.prod-aks.azure.com/72f988bf-0000-0000-0000-000000000000/8f1e6c2a-0000-0000-0000-000000000000/';

describe('issuer difference in words', () => {
  it('names a missing trailing slash', () => {
    expect(describeIssuerDifference(ISSUER, ISSUER.slice(0, -1))).toBe("only the trailing slashes differ: the cluster's issuer ends with one trailing '/', the mapping's with no trailing slash");
    expect(describeIssuerDifference(ISSUER.slice(0, -1), ISSUER)).toBe("only the trailing slashes differ: the cluster's issuer ends with no trailing slash, the mapping's with one trailing '/'");
  });
  it("names a doubled slash as such, never as a missing one", () => {
    expect(describeIssuerDifference(ISSUER, `${ISSUER}/`)).toBe("only the trailing slashes differ: the cluster's issuer ends with one trailing '/', the mapping's with 2 trailing '/'");
  });
  it('never explains another issuer path as a rotation: AKS rotates keys, not the issuer', () => {
    const text = describeIssuerDifference(ISSUER, ISSUER.replace('8f1e6c2a', '00000000'));
    expect(text).toContain('another cluster');
    expect(text).not.toMatch(/rotat/);
  });
  it('names case, host and path differences', () => {
    expect(describeIssuerDifference(ISSUER, ISSUER.replace('westeurope', 'WestEurope'))).toContain('letter case');
    expect(describeIssuerDifference(ISSUER, ISSUER.replace('westeurope', 'northeurope'))).toContain('host differs');
    expect(describeIssuerDifference(ISSUER, ISSUER.replace('8f1e6c2a', '00000000'))).toContain('path differs');
  });
});

describe('permissions per mode', () => {
  const names = (mode: 'plan' | 'apply' | 'verify', verify: boolean) =>
    requiredPermissions(mode, verify).map((p) => `${p.verb} ${p.resource}${p.subresource ? `/${p.subresource}` : ''}`);
  it('plan only reads, exactly what it calls; the cluster-wide reads only serve checks that may be skipped', () => {
    // ServiceAccounts are listed per namespace (the snapshot); get is the slower fallback.
    expect(names('plan', true)).toEqual(['list serviceaccounts', 'list pods', 'get namespaces', 'list mutatingwebhookconfigurations']);
    expect(requiredPermissions('plan', true)[0]).toMatchObject({ verb: 'list', resource: 'serviceaccounts', fallback: 'get' });
    const optional = requiredPermissions('plan', true).filter((p) => p.onlyFor);
    expect(optional.map((p) => p.resource)).toEqual(['namespaces', 'mutatingwebhookconfigurations']);
    expect(requiredPermissions('apply', true).filter((p) => p.scope === 'cluster' && !p.onlyFor)).toEqual([]);
  });
  it('apply adds ServiceAccount writes, and pods only with verification', () => {
    expect(names('apply', false)).toContain('patch serviceaccounts');
    expect(names('apply', false)).not.toContain('create pods');
    expect(names('apply', true)).toEqual(expect.arrayContaining(['create serviceaccounts', 'create pods', 'delete pods', 'get pods/log', 'list events']));
  });
  it('verify runs pods but writes no ServiceAccount', () => {
    expect(names('verify', false)).toContain('create pods');
    expect(names('verify', false)).not.toContain('patch serviceaccounts');
  });
});

describe('RBAC snippet', () => {
  it('is applicable YAML with exactly the missing rules per namespace and cluster-wide', () => {
    const perms = requiredPermissions('apply', false);
    const create = perms.find((p) => p.verb === 'create')!;
    const patch = perms.find((p) => p.verb === 'patch')!;
    const webhooks = perms.find((p) => p.resource === 'mutatingwebhookconfigurations')!;
    const text = rbacSnippet([
      { permission: create, namespace: 'payments' },
      { permission: patch, namespace: 'payments' },
      { permission: webhooks },
    ]);
    const docs = parseAllDocuments(text).map((d) => d.toJS() as { kind: string; metadata: { namespace?: string }; rules?: unknown[] });
    expect(docs.map((d) => d.kind)).toEqual(['ClusterRole', 'ClusterRoleBinding', 'Role', 'RoleBinding']);
    expect(docs[0]!.rules).toEqual([{ apiGroups: ['admissionregistration.k8s.io'], resources: ['mutatingwebhookconfigurations'], verbs: ['list'] }]);
    expect(docs[2]!.metadata.namespace).toBe('payments');
    expect(docs[2]!.rules).toEqual([{ apiGroups: [''], resources: ['serviceaccounts'], verbs: ['create', 'patch'] }]);
  });
});

describe('mutation seen in a dry-run pod', () => {
  it('needs AZURE_FEDERATED_TOKEN_FILE and a projected token', () => {
    const mutated = describeMutation(
      {
        containers: [
          {
            name: 'probe',
            env: ['AZURE_CLIENT_ID', 'AZURE_TENANT_ID', 'AZURE_FEDERATED_TOKEN_FILE', 'AZURE_AUTHORITY_HOST'].map((name) => ({ name, value: 'x' })),
            volumeMounts: [{ name: 'azure-identity-token', mountPath: '/var/run/secrets/azure/tokens' }],
          },
        ],
        volumes: [{ name: 'azure-identity-token', projectedTokens: [{ audience: 'api://AzureADTokenExchange', path: 'azure-identity-token', expirationSeconds: 3600 }] }],
      },
      'api://AzureADTokenExchange',
    );
    expect(mutated.mutated).toBe(true);
    expect(mutated.tokens[0]).toContain('/var/run/secrets/azure/tokens/azure-identity-token');
    expect(describeMutation({ containers: [{ name: 'probe', env: [], volumeMounts: [] }], volumes: [] }, 'api://AzureADTokenExchange').mutated).toBe(false);
  });
});
