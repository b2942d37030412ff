// Mapping fixtures written to a temp dir, line by line, so a test's expected line number
// is the fixture's array index + 1 and can be read straight off the test.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll } from 'vitest';
import { loadMapping } from '../../src/mapping/index.ts';
import type { LoadResult } from '../../src/mapping/index.ts';

const dir = mkdtempSync(join(tmpdir(), 'wi-mapping-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
let count = 0;

export function writeMapping(lines: string[] | string): string {
  const path = join(dir, `mapping-${++count}.yaml`);
  writeFileSync(path, Array.isArray(lines) ? `${lines.join('\n')}\n` : lines);
  return path;
}

export async function load(lines: string[] | string): Promise<LoadResult & { path: string }> {
  const path = writeMapping(lines);
  return { ...(await loadMapping(path)), path };
}

/** A valid header: two environments and defaults with a resource group. Lines 1-9. */
export const HEADER = [
  'version: 1', // 1
  'defaults:', // 2
  '  resourceGroup: rg-identities', // 3
  'environments:', // 4
  '  staging:', // 5
  '    cluster: { resourceGroup: rg-aks-stg, name: aks-stg }', // 6
  '  production:', // 7
  '    issuer: https://westeurope.oic.prod-aks.azure.com/tenant/uuid/', // 8
  'bindings:', // 9
];

export function binding(namespace: string, serviceAccount: string, identity: string, ...extra: string[]): string[] {
  return [`  - namespace: ${namespace}`, `    serviceAccount: ${serviceAccount}`, `    identity: ${identity}`, ...extra.map((l) => `    ${l}`)];
}
