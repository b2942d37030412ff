import { describe, expect, it } from 'vitest';
import { resolveIssuer } from '../../src/azure/issuer.ts';
import { parseMapping } from '../../src/mapping/index.ts';
import { FakePort } from './fake-port.ts';
import { ISSUER, SUB } from './fixtures.ts';

/** What a cluster reports as issuer when its OIDC issuer is not enabled. */
const ISSUER_NOT_ENABLED = 'https://kubernetes.default.svc.cluster.local';

const at = { file: '.github/workload-identity.yaml', line: 7, column: 3 };
const cluster = { resourceGroup: 'rg-aks-stg', name: 'aks-stg' };

function portWith(info: { issuerUrl?: string; oidcEnabled?: boolean; workloadIdentityEnabled?: boolean }) {
  const port = new FakePort();
  port.clusters.set('aks-stg', { oidcEnabled: true, workloadIdentityEnabled: true, ...info });
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
