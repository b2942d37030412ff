import { readdirSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { startSandboxCore } from '../sandbox/sandbox.ts';
import { kubeObjects, loadScenario, parseScenario } from '../sandbox/scenario.ts';
import { serviceForHost } from '../sandbox/sandbox.ts';

const dir = fileURLToPath(new URL('../sandbox/scenarios/', import.meta.url));
const files = readdirSync(dir).filter((f) => f.endsWith('.yaml'));

describe('scenario files', () => {
  it('there are example scenarios', () => {
    expect(files).toEqual(expect.arrayContaining(['demo.yaml', 'pod-identity.yaml']));
  });

  for (const file of files) {
    it(`${file} loads and seeds`, async () => {
      const scenario = loadScenario(`${dir}${file}`);
      const sb = await startSandboxCore<undefined>({ scenario: `${dir}${file}` });
      try {
        expect(sb.state.identities.map((i) => i.name).sort()).toEqual((scenario.identities ?? []).map((i) => i.name).sort());
        for (const c of scenario.clusters ?? []) expect(sb.state.clusterByName(c.name)).toBeDefined();
        expect(sb.env.GITHUB_REPOSITORY).toBe(`${sb.state.github.owner}/${sb.state.github.repo}`);
      } finally {
        await sb.stop();
      }
    });
  }

  it('demo.yaml matches examples/workload-identity.yaml (staging)', async () => {
    const sb = await startSandboxCore<undefined>({ scenario: `${dir}demo.yaml` });
    try {
      expect(sb.tenantId).toBe('0b1e6c2a-7d3f-4e59-a1c8-5f2e9b4d7a10');
      expect(sb.subscriptionId).toBe('5f0c3a1e-2b4d-4c6e-8f90-1a2b3c4d5e6f');
      expect(sb.state.findCluster(sb.subscriptionId, 'rg-aks-staging', 'aks-staging')?.oidcIssuerProfile.issuerURL).toBe(sb.issuerUrl);
      expect(sb.state.findIdentity(sb.subscriptionId, 'rg-data', 'id-reporting')).toBeDefined();
      const orders = sb.state.identityByName('id-orders')!;
      expect(orders.fics).toEqual([expect.objectContaining({ name: 'orders-by-hand', issuer: sb.issuerUrl, subject: 'system:serviceaccount:orders:orders-worker', audiences: ['api://AzureADTokenExchange'] })]);
      expect(sb.env.GITHUB_EVENT_NAME).toBe('pull_request');
      expect(sb.state.commentsOn(17)).toHaveLength(1);
      // the login app trusts this job's OIDC subject
      expect(sb.loginApp.fics.map((f) => f.subject)).toContain('repo:contoso/platform:environment:staging');
    } finally {
      await sb.stop();
    }
  });

  it('pod-identity.yaml resolves identity templates in Kubernetes objects', () => {
    const scenario = loadScenario(`${dir}pod-identity.yaml`);
    const identities = kubeObjects(scenario.kube).filter((o) => (o as { kind: string }).kind === 'AzureIdentity');
    expect(identities).toHaveLength(3); // two user-assigned identities and a service principal
  });

  it('rejects unknown keys and missing fields with the file name', () => {
    expect(() => parseScenario('identity: []', 'x.yaml')).toThrow(/x\.yaml: line 1: unknown key 'identity'; expected name, /);
    // Nested keys too, each at its line: a misspelt fault would start a sandbox without it.
    const nested = 'clusters:\n  - name: aks\n    resourceGroup: rg\n    podidentity: { enabled: true }\nfaults:\n  latncy: {}\nkube:\n  namespaces:\n    - { name: a, label: {} }\n  objects: [{ anything: goes }]\n';
    expect(() => parseScenario(nested, 'x.yaml')).toThrow(
      "x.yaml: line 4: unknown key 'podidentity' in clusters[0]; expected name, resourceGroup, subscriptionId, location, kubernetesVersion, oidcIssuer, issuerId, workloadIdentity, podIdentity\n" +
        "line 6: unknown key 'latncy' in faults; expected ficPropagationDelayMs, issuerUnreachable, githubReadOnly, armPageSize, armWriteHoldMs, entraMismatchStyle, entraTokenLifetimeSeconds, latency, inject\n" +
        "line 9: unknown key 'label' in kube.namespaces[0]; expected name, labels, annotations",
    );
    expect(() => parseScenario('identities: [{ resourceGroup: rg }]', 'x.yaml')).toThrow(/identities\[0\] needs a name/);
    expect(parseScenario('', 'x.yaml')).toEqual({});
  });

  it('faults.entraMismatchStyle sets how Entra reports mismatches', async () => {
    expect(() => parseScenario('faults: { entraMismatchStyle: vague }', 'x.yaml')).toThrow(/'faults.entraMismatchStyle' must be specific or generic/);
    const sb = await startSandboxCore<undefined>({ scenario: { faults: { entraMismatchStyle: 'generic' } } });
    try {
      expect(sb.entra.mismatchStyle()).toBe('generic');
      sb.setMismatchStyle('specific');
      expect(sb.entra.mismatchStyle()).toBe('specific');
    } finally {
      await sb.stop();
    }
  });

  it('fails to start on an unknown template', async () => {
    await expect(
      startSandboxCore<undefined>({ scenario: { identities: [{ name: 'a', federatedCredentials: [{ name: 'f-1', issuer: '{{issuer:nope}}', subject: 's' }] }] } }),
    ).rejects.toThrow(/no cluster 'nope'/);
  });
});

describe('Host router', () => {
  it('maps real and sandbox host names', () => {
    expect(serviceForHost('login.microsoftonline.com')).toBe('entra');
    expect(serviceForHost('management.azure.com:443')).toBe('arm');
    expect(serviceForHost('api.github.com')).toBe('github');
    expect(serviceForHost('westeurope.oic.prod-aks.azure.com')).toBe('issuer');
    expect(serviceForHost('kube.sandbox.local')).toBe('kube');
    expect(serviceForHost('example.com')).toBeUndefined();
  });
});
