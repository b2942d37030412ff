// Resolution: what one environment's bindings look like once everything inherited is filled in.
import { describe, expect, it } from 'vitest';
import { DEFAULT_AUDIENCE, resolveBindings, selectEnvironment } from '../../src/mapping/index.ts';
import type { Mapping } from '../../src/mapping/index.ts';
import { binding, load } from './fixtures.ts';

const SUB_TOP = '00000000-0000-0000-0000-00000000000a';
const SUB_ENV = '00000000-0000-0000-0000-00000000000b';
const SUB_ID = '00000000-0000-0000-0000-00000000000c';

async function mapping(lines: string[]): Promise<Mapping> {
  const result = await load(lines);
  expect(result.problems).toEqual([]);
  return result.mapping!;
}

const LAYERED = [
  'version: 1',
  `defaults: { tenantId: 11111111-0000-0000-0000-000000000000, subscriptionId: ${SUB_TOP}, resourceGroup: rg-top, audience: api://top }`,
  'environments:',
  '  staging:',
  '    cluster: { resourceGroup: rg-aks, name: aks-stg }',
  '  production:',
  '    issuer: https://issuer.example/prod/',
  `    defaults: { tenantId: 22222222-0000-0000-0000-000000000000, subscriptionId: ${SUB_ENV}, resourceGroup: rg-env }`,
  'bindings:',
  ...binding('plain', 'api', 'id-plain'),
  ...binding('object', 'api', `{ name: id-object, resourceGroup: rg-own, subscriptionId: ${SUB_ID} }`),
  ...binding('partial', 'api', '{ name: id-partial, resourceGroup: rg-own }'),
  ...binding('byid', 'api', `/subscriptions/${SUB_ID}/resourceGroups/rg-x/providers/Microsoft.ManagedIdentity/userAssignedIdentities/id-x`),
  ...binding('onlyprod', 'worker.v2', 'id-worker', 'environments: [production]', 'tokenExpiration: 7200', 'createServiceAccount: false'),
];

describe('resolving bindings for one environment', () => {
  it('mapping defaults apply where nothing overrides them', async () => {
    const [plain] = resolveBindings(await mapping(LAYERED), 'staging');
    expect(plain).toMatchObject({
      environment: 'staging',
      identity: {
        name: 'id-plain',
        resourceGroup: 'rg-top',
        subscriptionId: SUB_TOP,
        resourceId: `/subscriptions/${SUB_TOP}/resourceGroups/rg-top/providers/Microsoft.ManagedIdentity/userAssignedIdentities/id-plain`,
      },
      tenantId: '11111111-0000-0000-0000-000000000000',
      audience: 'api://top',
      subject: 'system:serviceaccount:plain:api',
      ficName: 'staging_plain_api',
      createServiceAccount: true,
      verify: { enabled: true },
    });
  });

  it('environment defaults override mapping defaults, and identity fields override both', async () => {
    const [plain, object, partial, byId, onlyProd] = resolveBindings(await mapping(LAYERED), 'production');
    expect(plain?.identity).toMatchObject({ resourceGroup: 'rg-env', subscriptionId: SUB_ENV });
    expect(plain?.tenantId).toBe('22222222-0000-0000-0000-000000000000');
    expect(plain?.audience).toBe('api://top'); // production sets no audience
    expect(object?.identity).toMatchObject({ resourceGroup: 'rg-own', subscriptionId: SUB_ID });
    expect(partial?.identity).toMatchObject({ resourceGroup: 'rg-own', subscriptionId: SUB_ENV });
    expect(byId?.identity).toEqual({
      name: 'id-x',
      resourceGroup: 'rg-x',
      subscriptionId: SUB_ID,
      resourceId: `/subscriptions/${SUB_ID}/resourceGroups/rg-x/providers/Microsoft.ManagedIdentity/userAssignedIdentities/id-x`,
    });
    expect(onlyProd).toMatchObject({ tokenExpiration: 7200, createServiceAccount: false, subject: 'system:serviceaccount:onlyprod:worker.v2' });
    expect(onlyProd?.ficName).toMatch(/^production_onlyprod_worker-v2_[0-9a-f]{10}$/);
  });

  it('a binding limited to other environments is left out', async () => {
    const staging = resolveBindings(await mapping(LAYERED), 'staging');
    expect(staging.map((b) => b.namespace)).toEqual(['plain', 'object', 'partial', 'byid']);
  });

  it('the audience defaults to api://AzureADTokenExchange and the subscription to the fallback', async () => {
    const m = await mapping(['version: 1', 'defaults: { resourceGroup: rg }', 'bindings:', ...binding('payments', 'api', 'id-payments')]);
    const [without] = resolveBindings(m, '');
    expect(without).toMatchObject({ environment: '', audience: DEFAULT_AUDIENCE, ficName: 'default_payments_api' });
    expect(without?.identity).toEqual({ name: 'id-payments', resourceGroup: 'rg', subscriptionId: '', resourceId: '' });
    const [withFallback] = resolveBindings(m, '', { subscriptionId: SUB_TOP });
    expect(withFallback?.identity.resourceId).toBe(
      `/subscriptions/${SUB_TOP}/resourceGroups/rg/providers/Microsoft.ManagedIdentity/userAssignedIdentities/id-payments`,
    );
  });

  it('a mapping without environments names its credentials after the cluster', async () => {
    const m = await mapping(['version: 1', 'defaults: { resourceGroup: rg }', 'cluster: { resourceGroup: rg-aks, name: aks-one }', 'bindings:', ...binding('payments', 'api', 'id-payments')]);
    expect(resolveBindings(m, '')[0]?.ficName).toBe('aks-one_payments_api');
    expect(selectEnvironment(m, '').spec).toMatchObject({ name: '', cluster: { name: 'aks-one' } });
  });
});

describe('selecting the environment', () => {
  it('requires the input when the mapping declares environments, listing them', async () => {
    const m = await mapping(LAYERED);
    expect(selectEnvironment(m, '').problem).toBe(`${m.file} declares environments (staging, production); set the environment input to one of them`);
    expect(selectEnvironment(m, 'prod').problem).toBe(`environment 'prod' is not declared in ${m.file}; it declares staging, production`);
    expect(selectEnvironment(m, 'production').spec?.issuer).toBe('https://issuer.example/prod/');
    // GitHub environment names are case-insensitive.
    expect(selectEnvironment(m, 'Production').spec?.name).toBe('production');
    expect(() => resolveBindings(m, 'prod')).toThrow(/environment 'prod' is not declared/);
  });

  it('refuses an environment input when the mapping declares none', async () => {
    const m = await mapping(['version: 1', 'defaults: { resourceGroup: rg }', 'bindings: []']);
    expect(selectEnvironment(m, 'staging').problem).toBe(
      `the environment input is 'staging', but ${m.file} declares no environments; leave the input empty or declare 'staging' under 'environments'`,
    );
  });
});
