// Schema problems and semantic checks in one run: a user sees every problem of the file at
// once, sorted by line, without a semantic check repeating what a schema problem already
// says, and without the loader tripping over the parts the schema refused.
import { describe, expect, it } from 'vitest';
import { binding, HEADER, load } from './fixtures.ts';

const at = (problems: { line: number; column: number; message: string }[]): string[] => problems.map((p) => `${p.line}:${p.column} ${p.message}`);

describe('every problem at once', () => {
  it('a duplicate binding is reported beside an out-of-range tokenExpiration and an invalid namespace', async () => {
    const { problems, path } = await load([
      ...HEADER,
      ...binding('payments', 'payments-api', 'id-payments', 'tokenExpiration: 100'), // 10-13
      ...binding('Reporting', 'reporting-api', 'id-reporting'), // 14-16
      ...binding('orders', 'orders-api', 'id-orders'), // 17-19
      ...binding('orders', 'orders-api', 'id-orders-2', 'environments: [production]'), // 20-23
    ]);
    expect(problems).toEqual([
      {
        file: path,
        line: 13,
        column: 22,
        message: 'bindings[0].tokenExpiration 100 is out of range: it must be between 3600 and 86400 seconds (the workload identity webhook rejects pods otherwise)',
      },
      {
        file: path,
        line: 14,
        column: 16,
        message: "bindings[1].namespace 'Reporting' is not a valid Kubernetes namespace name (DNS-1123 label: lowercase letters, digits and '-', at most 63 characters)",
      },
      {
        file: path,
        line: 20,
        column: 5,
        message:
          "bindings[3] binds orders/orders-api in environment 'production' again; it is already bound at line 17 (a ServiceAccount carries one identity per environment) — remove one or narrow its 'environments'",
      },
    ]);
  });

  it('a binding refused only for a field the checks do not read still counts as a duplicate', async () => {
    const { problems } = await load([
      ...HEADER,
      ...binding('payments', 'api', 'id-payments', 'tokenExpiration: 100'), // 10-13
      ...binding('payments', 'api', 'id-other'), // 14-16
    ]);
    expect(at(problems)).toEqual([
      '13:22 bindings[0].tokenExpiration 100 is out of range: it must be between 3600 and 86400 seconds (the workload identity webhook rejects pods otherwise)',
      "14:5 bindings[1] binds payments/api in environments 'staging' and 'production' again; it is already bound at line 10 (a ServiceAccount carries one identity per environment) — remove one or narrow its 'environments'",
    ]);
  });

  it('unknown environments, a missing resource group and the credential limit are checked beside schema problems', async () => {
    const lines = [...HEADER];
    lines[2] = '  tenantId: not-a-guid'; // 3: a schema problem, and no defaults.resourceGroup
    const bindings = Array.from({ length: 10 }, (_, i) => binding('shop', `sa-${i}`, '{ name: id-shared, resourceGroup: rg }')).flat(); // 10-39
    const { problems } = await load([
      ...lines,
      ...bindings,
      ...binding('shop', 'sa-10', '{ name: id-shared, resourceGroup: rg }', 'environments: [staging, prod]'), // 40-43
      ...binding('web', 'api', 'id-web'), // 44-46
    ]);
    expect(at(problems)).toEqual([
      "3:13 defaults.tenantId 'not-a-guid' is not a GUID (xxxxxxxx-xxxx-xxxx-xxxx-xxxxxxxxxxxx)",
      "42:15 identity 'id-shared' would need 21 federated credentials (one per environment, namespace and ServiceAccount); Azure allows at most 20 per identity — shop/sa-10 in environment 'staging' is the first over the limit; split these bindings across more identities",
      "43:29 bindings[10] names environment 'prod', which the mapping does not declare (declared: staging, production)",
      "46:15 identity 'id-web' has no resource group in environments 'staging' and 'production': write identity: { name: id-web, resourceGroup: <group> }, or set environments.staging.defaults.resourceGroup, environments.production.defaults.resourceGroup or defaults.resourceGroup",
    ]);
  });

  it('a missing version does not hide the other problems', async () => {
    const { problems, path } = await load(['bindings:', ...binding('a', 'api', 'id-a'), ...binding('a', 'api', 'id-b')]);
    expect(at(problems)).toEqual([
      `1:1 mapping file ${path} has no version; add 'version: 1' at the top`,
      "4:15 identity 'id-a' has no resource group: write identity: { name: id-a, resourceGroup: <group> }, or set defaults.resourceGroup",
      "5:5 bindings[1] binds a/api again; it is already bound at line 2 (a ServiceAccount carries one identity per environment) — remove one or narrow its 'environments'",
      "7:15 identity 'id-b' has no resource group: write identity: { name: id-b, resourceGroup: <group> }, or set defaults.resourceGroup",
    ]);
  });
});

describe('a problem is said once, by the schema', () => {
  it('a misspelled defaults.resourceGroup is not also "no resource group"', async () => {
    const { problems } = await load(['version: 1', 'defaults:', '  rg: rg-identities', 'bindings:', ...binding('a', 'api', 'id-a')]);
    expect(at(problems)).toEqual(["3:3 unknown key 'rg' in defaults — did you mean 'resourceGroup'?"]);
  });

  it('a misspelled top-level defaults is not also "no resource group"', async () => {
    const { problems } = await load(['version: 1', 'default:', '  resourceGroup: rg-identities', 'bindings:', ...binding('a', 'api', 'id-a')]);
    expect(at(problems)).toEqual(["2:1 unknown key 'default' at the top level — did you mean 'defaults'?"]);
  });

  it("a resource group written beside the identity is not also the identity's missing resource group", async () => {
    const { problems } = await load(['version: 1', 'bindings:', ...binding('a', 'api', 'id-a', 'resourceGroup: rg')]);
    expect(at(problems)).toEqual(["6:5 unknown key 'resourceGroup' in bindings[0] — the identity's resource group goes in identity: { name, resourceGroup }"]);
  });

  it('an http issuer is refused once', async () => {
    const lines = [...HEADER];
    lines[7] = '    issuer: http://westeurope.oic.prod-aks.azure.com/tenant/uuid/';
    const { problems } = await load([...lines, ...binding('a', 'api', 'id-a')]);
    expect(problems.map((p) => [p.line, p.column])).toEqual([[8, 13]]);
    expect(problems[0]?.message).toMatch(/^environments\.production\.issuer 'http:.*' is not an https URL/);
  });

  it('an environment with a misspelled key still counts as declared, and is not also "needs a cluster"', async () => {
    const { problems } = await load([
      'version: 1',
      'defaults: { resourceGroup: rg }',
      'environments:',
      '  staging:',
      '    clustr: { resourceGroup: rg-aks, name: aks }', // 5
      'bindings:',
      ...binding('a', 'api', 'id-a', 'environments: [staging, prod]'), // 7-10
    ]);
    expect(at(problems)).toEqual([
      "5:5 unknown key 'clustr' in environment 'staging' — did you mean 'cluster'?",
      "10:29 bindings[0] names environment 'prod', which the mapping does not declare (declared: staging)",
    ]);
  });
});

describe('partial data', () => {
  it('environments written as a list: no check guesses which environments exist', async () => {
    const { problems } = await load([
      'version: 1',
      'defaults: { resourceGroup: rg }',
      'environments: [staging, production]', // 3
      'bindings:',
      ...binding('a', 'api', 'id-a', 'environments: [staging]'),
      ...binding('a', 'api', 'id-b', 'environments: [production]'),
    ]);
    expect(at(problems)).toEqual(['3:15 environments must be a mapping (key: value), not a list']);
  });

  it('empty entries and values of the wrong type are reported, and the rest is still checked', async () => {
    const { problems } = await load([
      'version: 1',
      'defaults: [rg]', // 2
      'environments:',
      '  staging:', // 4
      '  production: { issuer: "https://issuer.example/x/" }',
      'bindings:',
      '  -', // 7
      '  - namespace: a', // 8
      '    serviceAccount: 42', // 9
      '    identity: { name: id-a }',
      ...binding('b', 'api', '/subscriptions/x/providers/y', 'annotations: [x]'), // 11-14
      ...binding('c', 'api', '{ name: id-c }', 'verify: yes'), // 15-18
      ...binding('c', 'api', '{ name: id-c }', 'environments: [production]'), // 19-22
    ]);
    expect(at(problems)).toEqual([
      '2:11 defaults must be a mapping (key: value), not a list',
      "4:3 environments.staging has no value; it must be a mapping (key: value)",
      '7:4 bindings[0] has no value; it must be a mapping (key: value)',
      '9:21 bindings[1].serviceAccount must be a string, not 42',
      "13:15 identity '/subscriptions/x/providers/y' is not a user-assigned managed identity resource ID; expected /subscriptions/<subscription-guid>/resourceGroups/<group>/providers/Microsoft.ManagedIdentity/userAssignedIdentities/<name>",
      '14:18 bindings[2].annotations must be a mapping (key: value), not a list',
      "18:13 bindings[3].verify must be a mapping (key: value), not 'yes'",
      "19:5 bindings[4] binds c/api in environment 'production' again; it is already bound at line 15 (a ServiceAccount carries one identity per environment) — remove one or narrow its 'environments'",
    ]);
  });

  it('bindings that is not a list', async () => {
    const { problems } = await load(['version: 1', 'bindings:', '  namespace: a']);
    expect(at(problems)).toEqual(['3:3 bindings must be a list, not a mapping']);
  });
});
