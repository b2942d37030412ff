// Semantic checks: what the schema cannot see (references, uniqueness, Azure's limits),
// each reported where the user has to change the file.
import { describe, expect, it } from 'vitest';
import { desiredCredentialsPerIdentity } from '../../src/mapping/index.ts';
import { binding, HEADER, load } from './fixtures.ts';

describe('semantic checks of a mapping', () => {
  it('a ServiceAccount bound twice in one environment points at the second binding and names the first line', async () => {
    const { problems, path } = await load([
      ...HEADER,
      ...binding('payments', 'payments-api', 'id-payments'), // 10-12
      ...binding('orders', 'orders-api', 'id-orders'), // 13-15
      ...binding('payments', 'payments-api', 'id-other', 'environments: [production]'), // 16-19
    ]);
    expect(problems).toEqual([
      {
        file: path,
        line: 16,
        column: 5,
        message:
          "bindings[2] binds payments/payments-api in environment 'production' again; it is already bound at line 10 (a ServiceAccount carries one identity per environment) — remove one or narrow its 'environments'",
      },
    ]);
  });

  it('the same ServiceAccount in different environments is not a duplicate', async () => {
    const { problems } = await load([
      ...HEADER,
      ...binding('payments', 'api', 'id-stg', 'environments: [staging]'),
      ...binding('payments', 'api', 'id-prod', 'environments: [production]'),
    ]);
    expect(problems).toEqual([]);
  });

  it('an audience with a line break, a space or a control character is refused; a non-URI audience is fine', async () => {
    for (const audience of ['"api://x\\n::warning::owned"', '"api://x y"', '"api://x\\u0007"', '"api://x\\t"']) {
      const lines = [...HEADER];
      lines.splice(3, 0, `  audience: ${audience}`);
      const { problems, path } = await load([...lines, ...binding('payments', 'api', 'id-payments')]);
      expect(problems, audience).toEqual([{ file: path, line: 4, column: 13, message: expect.stringContaining('is not a valid audience: no spaces, line breaks or control characters') as unknown }]);
    }
    const lines = [...HEADER];
    lines.splice(3, 0, '  audience: my-custom-audience');
    expect((await load([...lines, ...binding('payments', 'api', 'id-payments')])).problems).toEqual([]);
  });

  it('an issuer that is not https is refused at the issuer', async () => {
    const lines = [...HEADER];
    lines[7] = '    issuer: http://westeurope.oic.prod-aks.azure.com/tenant/uuid/';
    const { problems, path } = await load([...lines, ...binding('payments', 'api', 'id-payments')]);
    expect(problems).toEqual([
      {
        file: path,
        line: 8,
        column: 13,
        message:
          "environments.production.issuer 'http://westeurope.oic.prod-aks.azure.com/tenant/uuid/' is not an https URL: Azure federates only https issuers (an AKS issuer looks like https://<region>.oic.prod-aks.azure.com/<tenant>/<uuid>/)",
      },
    ]);
  });

  it('an AKS issuer without its trailing slash is refused, not silently fixed', async () => {
    const lines = [...HEADER];
    lines[7] = '    issuer: https://westeurope.oic.prod-aks.azure.com/tenant/uuid';
    const { problems } = await load([...lines, ...binding('payments', 'api', 'id-payments')]);
    expect(problems.map((p) => [p.line, p.column, p.message])).toEqual([
      [
        8,
        13,
        "issuer 'https://westeurope.oic.prod-aks.azure.com/tenant/uuid' of environment 'production' lacks the trailing '/': AKS tokens carry the issuer with it and Azure compares issuers byte for byte",
      ],
    ]);
  });

  it("an issuer with an empty path segment ('//') is refused, at its end or inside", async () => {
    for (const issuer of ['https://westeurope.oic.prod-aks.azure.com/tenant/uuid//', 'https://issuer.example.com//uuid/']) {
      const lines = [...HEADER];
      lines[7] = `    issuer: ${issuer}`;
      const { problems } = await load([...lines, ...binding('payments', 'api', 'id-payments')]);
      expect(problems.map((p) => p.message)).toEqual([
        `issuer '${issuer}' of environment 'production' has an empty path segment ('//'): no cluster reports such an issuer, so tokens would never match it`,
      ]);
    }
  });

  it("the legacy AKS issuer host (oidc.prod-aks.azure.com) needs its trailing '/' too; other hosts are not judged", async () => {
    const lines = [...HEADER];
    lines[7] = '    issuer: https://oidc.prod-aks.azure.com/uuid';
    expect((await load([...lines, ...binding('payments', 'api', 'id-payments')])).problems.map((p) => p.message)).toEqual([
      "issuer 'https://oidc.prod-aks.azure.com/uuid' of environment 'production' lacks the trailing '/': AKS tokens carry the issuer with it and Azure compares issuers byte for byte",
    ]);
    lines[7] = '    issuer: https://issuer.example.com/uuid';
    expect((await load([...lines, ...binding('payments', 'api', 'id-payments')])).problems).toEqual([]);
  });

  it('an issuer is kept byte for byte', async () => {
    const lines = [...HEADER];
    lines[7] = '    issuer: https://Issuer.Example.com:443/a/../b/';
    const { mapping } = await load([...lines, ...binding('payments', 'api', 'id-payments')]);
    expect(mapping?.environments[1]?.issuer).toBe('https://Issuer.Example.com:443/a/../b/');
  });

  it('an environment with neither cluster nor issuer says which one to add', async () => {
    const { problems, path } = await load(['version: 1', 'environments:', '  staging:', '    defaults: { resourceGroup: rg }', 'bindings: []']);
    expect(problems).toEqual([
      {
        file: path,
        line: 3,
        column: 3,
        message: "environment 'staging' needs a cluster ({ resourceGroup, name }) or an issuer URL, so the action knows which OIDC issuer the federated credentials trust",
      },
    ]);
  });

  it('more than 20 federated credentials on one identity is refused at the 21st', async () => {
    // 10 ServiceAccounts in 2 environments = 20 credentials; one more binding in staging makes 21.
    const bindings = Array.from({ length: 10 }, (_, i) => binding('shop', `sa-${i}`, 'id-shared')).flat(); // lines 10-39
    const { problems, path } = await load([...HEADER, ...bindings, ...binding('shop', 'sa-10', 'id-shared', 'environments: [staging]')]);
    expect(problems).toEqual([
      {
        file: path,
        line: 42,
        column: 15,
        message:
          "identity 'id-shared' would need 21 federated credentials (one per environment, namespace and ServiceAccount); Azure allows at most 20 per identity — shop/sa-10 in environment 'staging' is the first over the limit; split these bindings across more identities",
      },
    ]);
  });

  it('counts credentials per identity however the identity is spelled, and shares one per issuer', async () => {
    const { mapping } = await load([
      'version: 1',
      'defaults: { subscriptionId: 00000000-0000-0000-0000-000000000001, resourceGroup: RG }',
      'environments:',
      '  blue: { issuer: "https://issuer.example/x/" }',
      '  green: { issuer: "https://issuer.example/x/" }', // same cluster, two GitHub environments
      'bindings:',
      ...binding('a', 'api', 'id-one'),
      ...binding('b', 'api', '{ name: ID-ONE, resourceGroup: rg }'),
      ...binding('c', 'api', '/subscriptions/00000000-0000-0000-0000-000000000001/resourcegroups/rg/providers/microsoft.managedidentity/userassignedidentities/id-one'),
    ]);
    const demand = [...desiredCredentialsPerIdentity(mapping!).values()];
    expect(demand).toHaveLength(1);
    expect(demand[0]?.identityKey).toBe(
      '/subscriptions/00000000-0000-0000-0000-000000000001/resourcegroups/rg/providers/microsoft.managedidentity/userassignedidentities/id-one',
    );
    expect(demand[0]?.credentials.map((c) => c.subject)).toEqual([
      'system:serviceaccount:a:api',
      'system:serviceaccount:b:api',
      'system:serviceaccount:c:api',
    ]);
  });

  it('a binding naming an undeclared environment suggests the closest and lists the declared ones', async () => {
    const { problems, path } = await load([...HEADER, ...binding('payments', 'api', 'id-payments', 'environments: [staging, prod]')]);
    expect(problems).toEqual([
      {
        file: path,
        line: 13,
        column: 29,
        message: "bindings[0] names environment 'prod', which the mapping does not declare (declared: staging, production)",
      },
    ]);
    const typo = await load([...HEADER, ...binding('payments', 'api', 'id-payments', 'environments: [stagin]')]);
    expect(typo.problems[0]?.message).toBe(
      "bindings[0] names environment 'stagin', which the mapping does not declare — did you mean 'staging'? (declared: staging, production)",
    );
  });

  it('environments on a binding when the mapping declares none is an error', async () => {
    const { problems, path } = await load([
      'version: 1',
      'defaults: { resourceGroup: rg }',
      'cluster: { resourceGroup: rg-aks, name: aks-one }',
      'bindings:',
      ...binding('payments', 'api', 'id-payments', 'environments: [staging]'),
    ]);
    expect(problems).toEqual([
      {
        file: path,
        line: 8,
        column: 20,
        message: "bindings[0] lists environments, but the mapping declares none; remove its 'environments' or declare them under the top-level 'environments'",
      },
    ]);
  });

  it('an identity with no resource group from anywhere is an error at the identity', async () => {
    const lines = [...HEADER];
    lines[2] = '  tenantId: 00000000-0000-0000-0000-000000000000'; // no defaults.resourceGroup
    lines[7] = '    issuer: https://issuer.example/x/';
    lines.splice(8, 0, '    defaults: { resourceGroup: rg-prod }'); // production has one, staging not
    const { problems, path } = await load([...lines, ...binding('payments', 'api', 'id-payments')]); // lines 11-13
    expect(problems).toEqual([
      {
        file: path,
        line: 13,
        column: 15,
        message:
          "identity 'id-payments' has no resource group in environment 'staging': write identity: { name: id-payments, resourceGroup: <group> }, or set environments.staging.defaults.resourceGroup or defaults.resourceGroup",
      },
    ]);
  });

  it('several environments are named in the plural', async () => {
    const { problems } = await load([
      'version: 1',
      'environments:',
      '  dev: { issuer: "https://issuer.example/dev/" }',
      '  staging: { issuer: "https://issuer.example/stg/" }',
      '  production: { issuer: "https://issuer.example/prod/" }',
      'bindings:',
      ...binding('payments', 'api', 'id-payments'), // 7-9
      ...binding('payments', 'api', 'id-payments', 'environments: [staging, production]'), // 10-13
    ]);
    expect(problems.map((p) => `${p.line}:${p.column} ${p.message}`)).toEqual([
      "9:15 identity 'id-payments' has no resource group in environments 'dev', 'staging' and 'production': write identity: { name: id-payments, resourceGroup: <group> }, or set environments.dev.defaults.resourceGroup, environments.staging.defaults.resourceGroup, environments.production.defaults.resourceGroup or defaults.resourceGroup",
      "10:5 bindings[1] binds payments/api in environments 'staging' and 'production' again; it is already bound at line 7 (a ServiceAccount carries one identity per environment) — remove one or narrow its 'environments'",
      "12:15 identity 'id-payments' has no resource group in environments 'staging' and 'production': write identity: { name: id-payments, resourceGroup: <group> }, or set environments.staging.defaults.resourceGroup, environments.production.defaults.resourceGroup or defaults.resourceGroup",
    ]);
  });

  it('an ARM resource ID that is not a user-assigned identity shows the expected shape', async () => {
    const id = '/subscriptions/00000000-0000-0000-0000-000000000001/resourceGroups/rg/providers/Microsoft.Compute/virtualMachines/vm1';
    const { problems, path } = await load([...HEADER, ...binding('payments', 'api', id)]);
    expect(problems).toEqual([
      {
        file: path,
        line: 12,
        column: 15,
        message: `identity '${id}' is not a user-assigned managed identity resource ID; expected /subscriptions/<subscription-guid>/resourceGroups/<group>/providers/Microsoft.ManagedIdentity/userAssignedIdentities/<name>`,
      },
    ]);
  });

  it('an annotation the action owns cannot be set by hand', async () => {
    const { problems, path } = await load([
      ...HEADER,
      ...binding('payments', 'api', 'id-payments', 'annotations:', "  azure.workload.identity/client-id: '1234'"),
    ]);
    expect(problems).toEqual([
      {
        file: path,
        line: 14,
        column: 7,
        message: "bindings[0] must not set annotation 'azure.workload.identity/client-id': the action sets it from the identity",
      },
    ]);
  });

  it('top-level cluster beside environments is refused', async () => {
    const { problems } = await load([HEADER[0]!, 'cluster: { resourceGroup: rg, name: aks }', ...HEADER.slice(1), ...binding('a', 'b', 'id-abc')]);
    expect(problems.map((p) => [p.line, p.column, p.message])).toEqual([
      [2, 1, "top-level 'cluster' is only for a mapping without environments; move it under each environment's 'cluster'"],
    ]);
  });
});
