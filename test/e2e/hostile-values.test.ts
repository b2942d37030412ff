// A value from the mapping, the cluster, Azure or an input may carry a line break followed
// by a workflow command (`::warning::`, `::add-mask::`, `::stop-commands::`). The runner
// obeys a line that starts with `::` (after blanks) and `##[command]` anywhere in a line.
// Each hostile value here puts a unique marker right after its line break: if any output
// line starts with a marker, a value started a line of its own. (The action's own
// `::error`/`::warning` lines exist, so "no unexpected :: line" alone could not fail.)
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { useDemoSandbox } from './demo-sandbox.ts';
import { runAction, workspaceWith, type ActionRun } from './run-action.ts';

const EXAMPLE = readFileSync(resolve(import.meta.dirname, '../../examples/workload-identity.yaml'), 'utf8');
const demo = useDemoSandbox();

let n = 0;
const markers: string[] = [];
/** A value whose second line starts with a fresh marker and a workflow command. */
function hostile(prefix: string, command = '::warning::owned'): string {
  const marker = `MARK${String(++n).padStart(3, '0')}`;
  markers.push(marker);
  return `${prefix}\n${marker}${command}`;
}
/** The same, as a YAML double-quoted scalar. */
const yq = (prefix: string, command?: string) => JSON.stringify(hostile(prefix, command));

/** The markers a run printed (neutralised or not): a value nobody printed tests nothing. */
const shown = (run: ActionRun) => markers.filter((m) => run.stdout.includes(m));

/** Every line of stdout and stderr, as the runner splits them. */
function expectNoLineFromData(run: ActionRun): void {
  const lines = `${run.stdout}\n${run.stderr}`.split(/\r\n|\r|\n/);
  const started = lines.filter((line) => markers.some((m) => line.trimStart().startsWith(m)));
  expect(started, run.stdout).toEqual([]);
  expect(lines.filter((l) => l.includes('##[')), run.stdout).toEqual([]);
  // Whatever the runner takes for a command is the action's own: none carries a marker.
  const commands = lines.filter((l) => l.trimStart().startsWith('::'));
  expect(commands.filter((l) => /^::(stop-commands|add-matcher|set-output|save-state|set-env|add-path)/.test(l.trimStart()))).toEqual([]);
}

/** A mapping with a hostile value in every field the validator reads. */
function hostileMapping(): string {
  return [
    'version: 1',
    'defaults:',
    `  tenantId: ${yq('t')}`,
    `  subscriptionId: ${yq('s')}`,
    `  resourceGroup: ${yq('rg')}`,
    `  audience: ${yq('api://aud', '::add-mask::owned')}`,
    `${yq('unknownKey')}: 1`,
    'environments:',
    `  ${yq('stg', '::stop-commands::tok')}:`,
    `    cluster: { resourceGroup: ${yq('rg')}, name: ${yq('aks')} }`,
    `    ${yq('extra')}: 1`,
    '  prod:',
    `    issuer: ${yq('https://issuer.example/x')}`,
    `    defaults: { subscriptionId: ${yq('s')}, resourceGroup: ${yq('rg')} }`,
    'bindings:',
    `  - namespace: ${yq('ns')}`,
    `    serviceAccount: ${yq('sa')}`,
    `    identity: { name: ${yq('id')}, resourceGroup: ${yq('rg')}, subscriptionId: ${yq('s')} }`,
    `    environments: [${yq('stg')}, prod]`,
    `    createServiceAccount: ${yq('true')}`,
    `    tokenExpiration: ${yq('3600')}`,
    `    annotations: { ${yq('k')}: ${yq('v')} }`,
    `    verify: { enabled: ${yq('yes')}, scope: ${yq('https://vault.azure.net/.default')} }`,
    `  - namespace: ok`,
    `    serviceAccount: ok`,
    `    identity: ${yq('/subscriptions/x/resourceGroups/rg/providers/Microsoft.ManagedIdentity/userAssignedIdentities/id')}`,
    `  - namespace: ok`,
    `    serviceAccount: ok`,
    `    identity: ${yq('id-dup', '::error::dup')}`,
    `    ${yq('binding-key')}: 1`,
    '',
  ].join('\n');
}

describe('no value can become a workflow command (dist/index.js)', () => {
  it('validate: a hostile value in every mapping field, and in the echoed inputs', async () => {
    const run = await runAction({
      inputs: { mode: 'validate', environment: hostile('staging'), 'azure-subscription-id': hostile('sub') },
      workspace: workspaceWith(hostileMapping()),
    });
    expect(run.code).toBe(1);
    expect(run.annotations.length).toBeGreaterThan(15); // the problems were reported, one line each
    expectNoLineFromData(run);
    // Most values are quoted back in the problems: the test sees them, one line each.
    expect(shown(run).length).toBeGreaterThan(20);
  });

  it('validate: a hostile environment input on a valid mapping, and a hostile mapping-file path', async () => {
    const ws = workspaceWith(EXAMPLE);
    for (const inputs of [
      { mode: 'validate', environment: hostile('staging') },
      { mode: 'validate', 'mapping-file': hostile('missing.yaml') },
      { mode: hostile('validate') },
    ] as Record<string, string>[]) {
      const run = await runAction({ inputs, workspace: ws });
      expect(run.code).toBe(1);
      expect(shown(run).length, JSON.stringify(inputs)).toBeGreaterThan(0);
      expectNoLineFromData(run);
    }
  });

  it('plan and apply on the sandbox: hostile annotation values and echoed inputs', async () => {
    const mapping = EXAMPLE.replace('team.example.com/owner: data-platform', `team.example.com/owner: ${yq('data-platform')}\n      ${yq('team.example.com/key')}: x`);
    expect(mapping).not.toBe(EXAMPLE);
    const ws = workspaceWith(mapping);
    const inputs = { 'mapping-file': '.github/workload-identity.yaml', verify: 'false' };
    for (const extra of [
      { mode: 'plan', environment: 'staging' },
      { mode: 'plan', environment: hostile('staging') },
      { mode: 'plan', environment: 'staging', 'azure-subscription-id': hostile('5f0c3a1e-2b4d-4c6e-8f90-1a2b3c4d5e6f') },
      { mode: 'apply', environment: 'staging' },
      { mode: 'plan', environment: 'staging', 'arm-endpoint': hostile('https://127.0.0.1:1') },
    ] as Record<string, string>[]) {
      const run = await runAction({ workspace: ws, env: demo.sb.env, inputs: { ...inputs, ...extra } });
      expect(run.stdout.length).toBeGreaterThan(0);
      expect(shown(run).length, JSON.stringify(extra)).toBeGreaterThan(0);
      expectNoLineFromData(run);
    }
  });
});
