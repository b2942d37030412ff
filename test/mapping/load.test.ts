// Loading and schema validation: each kind of broken file gets one sentence at the line and
// column where the user has to look.
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { loadMapping } from '../../src/mapping/index.ts';
import { binding, HEADER, load } from './fixtures.ts';

const EXAMPLE = fileURLToPath(new URL('../../examples/workload-identity.yaml', import.meta.url));

describe('loading a mapping file', () => {
  it('the example a new user copies validates with zero problems', async () => {
    const result = await loadMapping(EXAMPLE);
    expect(result.problems).toEqual([]);
    expect(result.mapping?.environments.map((e) => e.name)).toEqual(['staging', 'production']);
    expect(result.mapping?.bindings).toHaveLength(4);
  });

  it('a valid file gives a typed mapping with defaults filled and positions kept', async () => {
    const { mapping, problems, path } = await load([...HEADER, ...binding('payments', 'payments-api', 'id-payments')]);
    expect(problems).toEqual([]);
    expect(mapping?.file).toBe(path);
    const b = mapping?.bindings[0];
    expect(b).toMatchObject({
      namespace: 'payments',
      identity: { name: 'id-payments' },
      createServiceAccount: true,
      annotations: {},
      verify: { enabled: true },
      at: { file: path, line: 10, column: 5 },
      identityAt: { line: 12, column: 15 },
    });
    expect(mapping?.environments[1]).toMatchObject({ name: 'production', at: { line: 7, column: 3 }, issuerAt: { line: 8, column: 13 } });
  });

  it('a missing file is reported as not found under its label, with the absolute path looked at', async () => {
    const absolute = join(tmpdir(), 'no-such-checkout', 'deploy', 'wi.yaml');
    const result = await loadMapping(absolute, 'deploy/wi.yaml');
    expect(result.mapping).toBeUndefined();
    expect(result.problems).toEqual([
      {
        file: 'deploy/wi.yaml',
        line: 1,
        column: 1,
        message: `mapping file deploy/wi.yaml not found (looked for ${absolute}; the mapping-file input is relative to the repository checkout, GITHUB_WORKSPACE)`,
      },
    ]);
  });

  it('a missing file without a label names the path resolved to an absolute one', async () => {
    const { problems } = await loadMapping('.github/does-not-exist.yaml');
    expect(problems.map((p) => p.message)).toEqual([
      `mapping file .github/does-not-exist.yaml not found (looked for ${resolve('.github/does-not-exist.yaml')}; the mapping-file input is relative to the repository checkout, GITHUB_WORKSPACE)`,
    ]);
  });

  it('an empty file (only comments) is reported as empty, pointing at the README example', async () => {
    const { problems, path } = await load(['# nothing here yet', '']);
    expect(problems).toEqual([
      {
        file: path,
        line: 1,
        column: 1,
        message: `mapping file ${path} is empty; start from the example under "The mapping file (version 1)" in the action's README: version: 1 and a bindings list`,
      },
    ]);
  });

  it('text that is not YAML gives the parser error at its position', async () => {
    const { problems, path } = await load(['version: 1', 'bindings:', '  - namespace: payments', '\t serviceAccount: api']);
    expect(problems).toEqual([{ file: path, line: 4, column: 1, message: 'invalid YAML: Tabs are not allowed as indentation (indent with spaces)' }]);
  });

  it('a top level that is a list, not a mapping, says what is expected', async () => {
    const { problems, path } = await load(['- namespace: payments', '  serviceAccount: api']);
    expect(problems).toEqual([
      { file: path, line: 1, column: 1, message: `mapping file ${path} must be a YAML mapping (key: value) starting with 'version: 1', not a list` },
    ]);
  });

  it('another version is refused with the version this action reads', async () => {
    const { problems, path } = await load(['# future format', 'version: 2', 'bindings: []']);
    expect(problems).toEqual([{ file: path, line: 2, column: 10, message: 'version 2 is not supported by this action; expected version: 1' }]);
  });

  it('a missing version is reported with the other problems', async () => {
    const { problems, path } = await load(['bindings:', ...binding('payments', 'API', 'id-payments')]);
    expect(problems.map((p) => [p.line, p.column, p.message.slice(0, 40)])).toEqual([
      [1, 1, `mapping file ${path} has no version; add 'version: 1' at the top`.slice(0, 40)],
      [3, 21, "bindings[0].serviceAccount 'API' is not "],
    ]);
  });

  it('an unknown key points at the key and suggests the closest known one', async () => {
    const { problems, path } = await load([...HEADER, '  - namspace: payments', '    serviceAccount: payments-api', '    identity: id-payments']);
    expect(problems).toEqual([{ file: path, line: 10, column: 5, message: "unknown key 'namspace' in bindings[0] — did you mean 'namespace'?" }]);
  });

  it('a key written at the wrong level says where it belongs', async () => {
    const { problems } = await load([...HEADER, ...binding('payments', 'api', 'id-payments', 'resourceGroup: rg-other')]);
    expect(problems.map((p) => `${p.line}:${p.column} ${p.message}`)).toEqual([
      "13:5 unknown key 'resourceGroup' in bindings[0] — the identity's resource group goes in identity: { name, resourceGroup }",
    ]);
  });

  it('an alias to an anchor that does not exist is reported at the alias', async () => {
    const { problems, path } = await load(['version: 1', 'bindings:', '  - *first']);
    expect(problems).toEqual([{ file: path, line: 3, column: 5, message: "alias '*first' refers to no anchor '&first' defined before it" }]);
  });

  it('a duplicate YAML key names the line of the first one', async () => {
    const { problems, path } = await load([...HEADER, ...binding('payments', 'payments-api', 'id-payments'), '    namespace: orders']);
    expect(problems).toEqual([
      { file: path, line: 13, column: 5, message: "duplicate key 'namespace' (first set at line 10); YAML keeps only one of them, so remove or merge them" },
    ]);
  });

  it('an invalid namespace name explains the DNS-1123 label rule', async () => {
    const { problems, path } = await load([...HEADER, ...binding('payments', 'api', 'id-a'), ...binding('Payments', 'api', 'id-b')]);
    expect(problems).toEqual([
      {
        file: path,
        line: 13,
        column: 16,
        message:
          "bindings[1].namespace 'Payments' is not a valid Kubernetes namespace name (DNS-1123 label: lowercase letters, digits and '-', at most 63 characters)",
      },
    ]);
  });

  it('an invalid ServiceAccount name explains the DNS-1123 subdomain rule', async () => {
    const { problems, path } = await load([...HEADER, ...binding('payments', 'payments_api', 'id-payments')]);
    expect(problems).toEqual([
      {
        file: path,
        line: 11,
        column: 21,
        message:
          "bindings[0].serviceAccount 'payments_api' is not a valid Kubernetes ServiceAccount name (DNS-1123 subdomain: lowercase letters, digits, '-' and '.', at most 253 characters)",
      },
    ]);
  });

  it('a token expiration outside 3600..86400 is refused as the webhook would', async () => {
    const { problems, path } = await load([...HEADER, ...binding('payments', 'api', 'id-payments', 'tokenExpiration: 600')]);
    expect(problems).toEqual([
      {
        file: path,
        line: 13,
        column: 22,
        message: 'bindings[0].tokenExpiration 600 is out of range: it must be between 3600 and 86400 seconds (the workload identity webhook rejects pods otherwise)',
      },
    ]);
  });

  it('wrong shapes are told in plain words: empty values, identity spellings, annotation keys', async () => {
    const { problems } = await load([
      'version: 1',
      'environments:',
      '  staging:', // 3: nothing after the colon
      'bindings:',
      ...binding('payments', 'api', '42', 'tokenExpiration: "3600"'), // 5-8
      ...binding('orders', 'api', '{ name: id-orders, rg: rg-identities }'), // 9-11
      ...binding('shop', 'api', 'id-shop', 'annotations:', '  Team Name: shop'), // 12-16
    ]);
    expect(problems.map((p) => `${p.line}:${p.column} ${p.message}`)).toEqual([
      '3:3 environments.staging has no value; it must be a mapping (key: value)',
      '7:15 bindings[0].identity must be a managed identity name, an ARM resource ID, or { name, resourceGroup, subscriptionId } (only name is required), not 42',
      "8:22 bindings[0].tokenExpiration must be a whole number of seconds, between 3600 and 86400, not '3600'",
      "11:34 unknown key 'rg' in bindings[1].identity — did you mean 'resourceGroup'?",
      "16:7 annotation 'Team Name' of bindings[2] is not a valid Kubernetes annotation key ([prefix/]name: name at most 63 letters, digits, '-', '_' and '.', prefix a DNS subdomain)",
    ]);
  });

  it('an alias bomb is refused quickly with a clear message', async () => {
    const laughs = ['a: &a ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]'];
    for (const [prev, name] of ['ab', 'bc', 'cd', 'de', 'ef', 'fg', 'gh', 'hi']) laughs.push(`${name}: &${name} [${Array(9).fill(`*${prev}`).join(',')}]`);
    const started = performance.now();
    const { problems, path } = await load(['version: 1', ...laughs, 'bindings: []']);
    expect(performance.now() - started).toBeLessThan(1000);
    expect(problems).toEqual([
      {
        file: path,
        line: 3,
        column: 8,
        message: `YAML aliases in ${path} expand to too many nodes (more than 100 alias uses); refusing it as a possible alias bomb — write the values out or use fewer aliases`,
      },
    ]);
  });

  it('a few aliases (a shared identity block) are fine', async () => {
    const { problems } = await load([
      'version: 1',
      'bindings:',
      '  - { namespace: a, serviceAccount: api, identity: &id { name: id-shared, resourceGroup: rg } }',
      '  - { namespace: b, serviceAccount: api, identity: *id }',
    ]);
    expect(problems).toEqual([]);
  });

  it('several problems in one file are all reported at once, sorted by line', async () => {
    const { problems } = await load([
      'version: 1',
      'defaults:',
      '  tenantId: not-a-guid', // 3
      'environments:',
      '  staging:',
      '    cluster: { resourceGroup: rg, name: aks, zone: 1 }', // 6
      'bindings:',
      '  - namespace: Payments', // 8
      '    serviceAccount: api',
      '    identity: id-payments',
      '    createServiceAccount: yes', // 11
      '    verify: { enable: false }', // 12
    ]);
    expect(problems.map((p) => `${p.line}:${p.column} ${p.message}`)).toEqual([
      "3:13 defaults.tenantId 'not-a-guid' is not a GUID (xxxxxxxx-xxxx-xxxx-xxxx-xxxxxxxxxxxx)",
      "6:46 unknown key 'zone' in cluster of environment 'staging'",
      "8:16 bindings[0].namespace 'Payments' is not a valid Kubernetes namespace name (DNS-1123 label: lowercase letters, digits and '-', at most 63 characters)",
      "11:27 bindings[0].createServiceAccount must be true or false, not 'yes'",
      "12:15 unknown key 'enable' in bindings[0].verify — did you mean 'enabled'?",
    ]);
  });
});
