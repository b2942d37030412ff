import { afterEach, describe, expect, it } from 'vitest';
import { resolveIssuer } from '../../src/azure/issuer.ts';
import { parseMapping } from '../../src/mapping/index.ts';
import { FakePort } from './fake-port.ts';
import { ISSUER, SUB } from './fixtures.ts';
import { connect, startAzureSandbox, type AzureSandbox } from './sandbox-helpers.ts';

/** What a cluster reports as issuer when its OIDC issuer is not enabled. */
const ISSUER_NOT_ENABLED = 'https://kubernetes.default.svc.cluster.local';

const at = { file: '.github/workload-identity.yaml', line: 7, column: 3 };
const cluster = { resourceGroup: 'rg-aks-stg', name: 'aks-stg' };

function portWith(info: { issuerUrl?: string; oidcEnabled?: boolean; workloadIdentityEnabled?: boolean }) {
  const port = new FakePort();
  port.clusters.set('aks-stg', { oidcEnabled: true, workloadIdentityEnabled: true, apiServerHosts: [], ...info });
  return port;
}

describe('issuer', () => {
  it('reads it from the cluster', async () => {
    const r = await resolveIssuer({ cluster, at }, portWith({ issuerUrl: ISSUER }), SUB);
    expect(r).toMatchObject({ issuer: ISSUER, source: 'cluster' });
    expect(r.checks.every((c) => c.ok)).toBe(true);
  });

  it('accepts the mapping’s issuer when it equals the cluster’s byte for byte', async () => {
    const r = await resolveIssuer({ cluster, issuer: ISSUER, at }, portWith({ issuerUrl: ISSUER }), SUB);
    expect(r).toMatchObject({ issuer: ISSUER, source: 'cluster+mapping' });
  });

  it('says which one to use when they differ only by the trailing slash', async () => {
    const r = await resolveIssuer({ cluster, issuer: ISSUER.replace(/\/$/, ''), at }, portWith({ issuerUrl: ISSUER }), SUB);
    expect(r.issuer).toBeUndefined();
    expect(r.checks[0]).toMatchObject({ name: 'issuer', ok: false, severity: 'error', at });
    expect(r.checks[0]!.detail).toContain('trailing slash');
    expect(r.checks[0]!.fix).toBe(`Write issuer: ${ISSUER} (or drop issuer: and let it be read from the cluster).`);
  });

  it('refuses a mapping issuer that is not the cluster’s', async () => {
    const r = await resolveIssuer({ cluster, issuer: 'https://elsewhere.example/', at }, portWith({ issuerUrl: ISSUER }), SUB);
    expect(r.issuer).toBeUndefined();
    expect(r.checks[0]!.detail).toContain('is not the cluster');
  });

  it('says how to enable the OIDC issuer when it is off', async () => {
    for (const info of [{ oidcEnabled: false }, { issuerUrl: ISSUER_NOT_ENABLED }, { issuerUrl: `${ISSUER_NOT_ENABLED}/`, oidcEnabled: true }]) {
      const r = await resolveIssuer({ cluster, at }, portWith(info), SUB);
      expect(r.issuer).toBeUndefined();
      expect(r.checks[0]!.fix).toBe(`az aks update --subscription ${SUB} -g rg-aks-stg -n aks-stg --enable-oidc-issuer --enable-workload-identity`);
    }
  });

  // An issuer written in the mapping reaches resolveIssuer only once the mapping checks
  // passed: the in-cluster default and an AKS issuer without its '/' never get this far.
  it('never sees the in-cluster default or a slashless AKS issuer from a mapping: loading refuses them', () => {
    for (const issuer of [ISSUER_NOT_ENABLED, `${ISSUER_NOT_ENABLED}/`, 'https://kubernetes.default.svc/', ISSUER.replace(/\/$/, '')]) {
      const text = ['version: 1', 'environments:', `  staging: { issuer: "${issuer}" }`, 'bindings: []'].join('\n');
      const loaded = parseMapping(text, '.github/workload-identity.yaml');
      expect(loaded.mapping, issuer).toBeUndefined();
      expect(loaded.problems.map((p) => p.message).join('\n'), issuer).toContain(`issuer '${issuer}'`);
    }
  });

  it('takes a valid issuer from the mapping as written', async () => {
    const r = await resolveIssuer({ issuer: ISSUER, at }, new FakePort(), SUB);
    expect(r).toMatchObject({ issuer: ISSUER, source: 'mapping' });
    expect(r.checks).toMatchObject([{ name: 'issuer', ok: true }]);
  });

  it('warns when the workload identity add-on is off', async () => {
    const r = await resolveIssuer({ cluster, at }, portWith({ issuerUrl: ISSUER, workloadIdentityEnabled: false }), SUB);
    expect(r.issuer).toBe(ISSUER);
    expect(r.checks.find((c) => c.name === 'workload-identity')).toMatchObject({ ok: false, severity: 'warning' });
  });

  it('reports a missing cluster at the environment line', async () => {
    const r = await resolveIssuer({ cluster: { ...cluster, name: 'nope' }, at }, new FakePort(), SUB);
    expect(r.checks[0]).toMatchObject({ ok: false, severity: 'error', at });
    expect(r.checks[0]!.detail).toContain("'nope'");
  });

  it('needs a subscription for the cluster', async () => {
    const r = await resolveIssuer({ cluster, at }, portWith({ issuerUrl: ISSUER }), '');
    expect(r.checks[0]!.fix).toContain('azure-subscription-id');
  });
});

// The same checks with the cluster's issuer as ARM reports it (managedClusters GET through
// arm-containerservice, oidcIssuerProfile.issuerURL with its trailing slash), not as a fake says it.
describe('issuer on the sandbox', () => {
  let sb: AzureSandbox | undefined;
  afterEach(async () => {
    const running = sb;
    sb = undefined; // reset even if stopping fails
    await running?.stop();
  });

  const start = async () => {
    sb = await startAzureSandbox({
      resourceGroups: ['rg-aks'],
      clusters: [
        { name: 'aks-stg', resourceGroup: 'rg-aks' },
        { name: 'aks-other', resourceGroup: 'rg-aks' },
      ],
      github: { event: 'deployment', environment: 'staging' },
    });
    return { sb, port: connect(sb).port, cluster: { resourceGroup: 'rg-aks', name: 'aks-stg' } };
  };

  it('reads the cluster’s issuer from ARM byte for byte, and accepts the same one written in the mapping', async () => {
    const { sb, port, cluster } = await start();
    const clusterIssuer = sb.issuers['aks-stg']!.url;
    expect(clusterIssuer.endsWith('/')).toBe(true);
    expect(await resolveIssuer({ cluster, at }, port, sb.subscriptionId)).toMatchObject({ issuer: clusterIssuer, source: 'cluster' });
    expect(await resolveIssuer({ cluster, issuer: clusterIssuer, at }, port, sb.subscriptionId)).toMatchObject({ issuer: clusterIssuer, source: 'cluster+mapping' });
  });

  it('a mapping issuer without the trailing slash: says only the slash differs, and which one to write', async () => {
    const { sb, port, cluster } = await start();
    const clusterIssuer = sb.issuers['aks-stg']!.url;
    const written = clusterIssuer.replace(/\/$/, '');
    const r = await resolveIssuer({ cluster, issuer: written, at }, port, sb.subscriptionId);
    expect(r.issuer).toBeUndefined();
    expect(r.checks).toHaveLength(1);
    expect(r.checks[0]).toMatchObject({ name: 'issuer', ok: false, severity: 'error', at });
    expect(r.checks[0]!.detail).toBe(`The mapping's issuer '${written}' and the cluster's '${clusterIssuer}' differ only by the trailing slash; tokens carry the cluster's byte for byte.`);
    expect(r.checks[0]!.fix).toBe(`Write issuer: ${clusterIssuer} (or drop issuer: and let it be read from the cluster).`);
  });

  it('a mapping issuer of another cluster: a mismatch error naming both', async () => {
    const { sb, port, cluster } = await start();
    const clusterIssuer = sb.issuers['aks-stg']!.url;
    const otherIssuer = sb.issuers['aks-other']!.url;
    expect(otherIssuer).not.toBe(clusterIssuer);
    const r = await resolveIssuer({ cluster, issuer: otherIssuer, at }, port, sb.subscriptionId);
    expect(r.issuer).toBeUndefined();
    expect(r.checks).toHaveLength(1);
    expect(r.checks[0]).toMatchObject({ name: 'issuer', ok: false, severity: 'error', at });
    expect(r.checks[0]!.detail).toContain(`The mapping's issuer '${otherIssuer}' is not the cluster's '${clusterIssuer}'`);
    expect(r.checks[0]!.detail).not.toContain('trailing slash');
    expect(r.checks[0]!.fix).toBe(`Write issuer: ${clusterIssuer}, or point cluster: at the cluster that serves '${otherIssuer}'.`);
  });
});
