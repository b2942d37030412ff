// prune: a binding moves to another identity; the credential it leaves behind on the old
// identity (which another environment still names) is deleted only with prune, and only
// the one federated to this cluster's issuer. Through dist/index.js on the sandbox.
import { describe, expect, it } from 'vitest';
import { useDemoSandbox } from './demo-sandbox.ts';
import { runAction, workspaceWith } from './run-action.ts';

const PRODUCTION_ISSUER = 'https://westeurope.oic.prod-aks.azure.com/0b1e6c2a-7d3f-4e59-a1c8-5f2e9b4d7a10/3c9d2e4f-6a7b-4c8d-9e0f-1a2b3c4d5e6f/';

const mapping = (bindings: string) =>
  [
    'version: 1',
    'defaults:',
    '  tenantId: 0b1e6c2a-7d3f-4e59-a1c8-5f2e9b4d7a10',
    '  subscriptionId: 5f0c3a1e-2b4d-4c6e-8f90-1a2b3c4d5e6f',
    '  resourceGroup: rg-identities',
    'environments:',
    '  staging:',
    '    cluster: { resourceGroup: rg-aks-staging, name: aks-staging }',
    '  production:',
    `    issuer: ${PRODUCTION_ISSUER}`,
    'bindings:',
    bindings,
    '',
  ].join('\n');

const BEFORE = mapping('  - { namespace: payments, serviceAccount: payments-api, identity: id-payments }');
const MOVED = mapping(
  [
    '  - { namespace: payments, serviceAccount: payments-api, identity: id-orders, environments: [staging] }',
    '  - { namespace: payments, serviceAccount: payments-api, identity: id-payments, environments: [production] }',
  ].join('\n'),
);

const demo = useDemoSandbox();

const run = (text: string, inputs: Record<string, string>) =>
  runAction({ workspace: workspaceWith(text), env: demo.sb.env, inputs: { environment: 'staging', verify: 'false', ...inputs } });
const planned = (result: string) => JSON.parse(result).plan.map((p: { action: string; target: string }) => `${p.action} ${p.target}`).sort();
const ficNames = (identity: string) => demo.sb.state.identityByName(identity)!.fics.map((f) => f.name).sort();

describe('prune after a binding moved to another identity (dist/index.js on the sandbox)', () => {
  it('keeps the old credential without prune and deletes only this issuer’s with it', async () => {
    expect((await run(BEFORE, { mode: 'apply' })).code).toBe(0);
    // Production's credential on the same identity, made by hand: another issuer.
    demo.sb.state.addFic(demo.sb.state.identityByName('id-payments')!, {
      name: 'production_payments_payments-api',
      issuer: PRODUCTION_ISSUER,
      subject: 'system:serviceaccount:payments:payments-api',
      audiences: ['api://AzureADTokenExchange'],
    });
    expect(ficNames('id-payments')).toEqual(['production_payments_payments-api', 'staging_payments_payments-api']);

    const keep = await run(MOVED, { mode: 'plan' });
    expect(keep.code, keep.stdout).toBe(0);
    expect(planned(keep.outputs.result!)).toEqual(['annotate payments/payments-api', 'create id-orders/staging_payments_payments-api']);

    const prune = await run(MOVED, { mode: 'apply', prune: 'true' });
    expect(prune.code, prune.stdout).toBe(0);
    // The mapping no longer names orders-worker either: its hand-made credential goes too.
    expect(planned(prune.outputs.result!)).toEqual([
      'annotate payments/payments-api',
      'create id-orders/staging_payments_payments-api',
      'delete id-orders/orders-by-hand',
      'delete id-payments/staging_payments_payments-api',
    ]);
    expect(ficNames('id-payments')).toEqual(['production_payments_payments-api']);
    expect(ficNames('id-orders')).toEqual(['staging_payments_payments-api']);
  });

  it('never prunes a live credential of another environment on the same cluster, named by cluster instead of issuer', async () => {
    const text = [
      'version: 1',
      'defaults:',
      '  subscriptionId: 5f0c3a1e-2b4d-4c6e-8f90-1a2b3c4d5e6f',
      '  resourceGroup: rg-identities',
      'environments:',
      `  staging: { issuer: "${demo.sb.issuerUrl}" }`,
      '  staging-canary: { cluster: { resourceGroup: rg-aks-staging, name: aks-staging } }',
      'bindings:',
      '  - { namespace: payments, serviceAccount: payments-api, identity: id-payments, environments: [staging] }',
      '  - { namespace: reporting, serviceAccount: report-generator, identity: { name: id-reporting, resourceGroup: rg-data }, environments: [staging-canary] }',
      '',
    ].join('\n');
    const canary = await run(text, { mode: 'apply', environment: 'staging-canary' });
    expect(canary.code, canary.stdout).toBe(0);
    expect(ficNames('id-reporting')).toContain('staging-canary_reporting_report-generator');

    const staging = await run(text, { mode: 'plan', prune: 'true' });
    expect(staging.code, staging.stdout).toBe(0);
    expect(planned(staging.outputs.result!).filter((p: string) => p.includes('id-reporting'))).toEqual([]);
  });

  it('never prunes the credential of another environment whose cluster cannot be read: it may be this very cluster', async () => {
    // Its own identity, so the other tests' exact credential lists stay theirs.
    const tenantId = demo.sb.state.identityByName('id-payments')!.tenantId;
    const shared = demo.sb.state.addIdentity({ subscriptionId: '5f0c3a1e-2b4d-4c6e-8f90-1a2b3c4d5e6f', resourceGroup: 'rg-identities', name: 'id-shared-blue', tenantId });
    demo.sb.state.addFic(shared, { name: 'staging-blue_reporting_report-generator', issuer: demo.sb.issuerUrl, subject: 'system:serviceaccount:reporting:report-generator' });
    const text = [
      'version: 1',
      'defaults:',
      '  subscriptionId: 5f0c3a1e-2b4d-4c6e-8f90-1a2b3c4d5e6f',
      '  resourceGroup: rg-identities',
      'environments:',
      `  staging: { issuer: "${demo.sb.issuerUrl}" }`,
      '  staging-blue: { cluster: { resourceGroup: rg-aks-gone, name: aks-gone } }',
      'bindings:',
      '  - { namespace: payments, serviceAccount: payments-api, identity: id-shared-blue, environments: [staging] }',
      '  - { namespace: reporting, serviceAccount: report-generator, identity: id-shared-blue, environments: [staging-blue] }',
      '',
    ].join('\n');
    const staging = await run(text, { mode: 'plan', prune: 'true' });
    expect(staging.code, staging.stdout).toBe(0);
    expect(planned(staging.outputs.result!).filter((p: string) => p.includes('id-shared-blue'))).toEqual(['create id-shared-blue/staging_payments_payments-api']);
  });
});
