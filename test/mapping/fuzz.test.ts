// The validator never crashes: whatever a pull request puts in the mapping, the user gets
// problems with a position, never "Unexpected error (please report it)". Thousands of
// mutations of real mappings (deleted characters and lines, shifted indentation, stray
// brackets and quotes), from a fixed seed so a failure replays exactly.
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parseMapping, resolveBindings, selectEnvironment } from '../../src/mapping/index.ts';
import type { LoadResult } from '../../src/mapping/index.ts';
import { HEADER } from './fixtures.ts';

const EXAMPLE = readFileSync(resolve(import.meta.dirname, '../../examples/workload-identity.yaml'), 'utf8');
const SMALL = [
  ...HEADER,
  'bindings:',
  '  - namespace: payments',
  '    serviceAccount: payments-api',
  '    identity: { name: id-payments, resourceGroup: rg-other }',
  '    environments: [staging]',
  '    annotations: { team: "payments" }',
  "    verify: { enabled: true, scope: 'https://vault.azure.net/.default' }",
  '  - namespace: orders',
  '    serviceAccount: orders-worker',
  '    identity: /subscriptions/00000000-0000-0000-0000-000000000000/resourceGroups/rg/providers/Microsoft.ManagedIdentity/userAssignedIdentities/id-orders',
  '    tokenExpiration: 3600',
  '',
].join('\n');
const CORPUS = [EXAMPLE, SMALL];
const STRAY = ['[', ']', '{', '}', '"', "'", ':', '-', '- ', '#', '&a ', '*a', '!', '|', '>', '%', '@', '`', ',', '?', '\t', '\n', ' ', '\\', '\u0000', '\ufeff'];

/** mulberry32: small, fast, and the same sequence on every machine. */
function random(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

function mutate(text: string, rnd: () => number): string {
  const int = (n: number) => Math.floor(rnd() * n);
  let s = text;
  for (let k = 1 + int(3); k > 0; k--) {
    const lines = s.split('\n');
    const at = int(lines.length);
    const pos = int(s.length + 1);
    switch (int(8)) {
      case 0: // delete a run of characters
        s = s.slice(0, pos) + s.slice(pos + 1 + int(12));
        break;
      case 1: // delete a line
        lines.splice(at, 1);
        s = lines.join('\n');
        break;
      case 2: // shift a line's indentation
        lines[at] = int(2) ? ' '.repeat(1 + int(3)) + lines[at] : lines[at]!.replace(/^ {1,3}/, '');
        s = lines.join('\n');
        break;
      case 3: // a stray bracket, quote or YAML indicator
        s = s.slice(0, pos) + STRAY[int(STRAY.length)] + s.slice(pos);
        break;
      case 4: // duplicate a line (duplicate keys, a second binding)
        lines.splice(at, 0, lines[at] ?? '');
        s = lines.join('\n');
        break;
      case 5: // swap two lines
        [lines[at], lines[int(lines.length)]] = [lines[int(lines.length)]!, lines[at]!];
        s = lines.join('\n');
        break;
      case 6: // cut the file short
        s = s.slice(0, pos);
        break;
      default: // replace a value with another line's value
        lines[at] = lines[at]!.replace(/:\s.*$/, `: ${(lines[int(lines.length)] ?? '').trim()}`);
        s = lines.join('\n');
    }
  }
  return s;
}

/** What the pipeline does with a mapping in every mode: load, then select and resolve. */
function validate(text: string): LoadResult {
  const result = parseMapping(text, 'fuzz.yaml');
  if (result.mapping) {
    for (const env of result.mapping.environments.length ? result.mapping.environments.map((e) => e.name) : ['']) {
      if (selectEnvironment(result.mapping, env).spec) resolveBindings(result.mapping, env, { subscriptionId: '00000000-0000-0000-0000-000000000000' });
    }
  }
  return result;
}

function expectProblemsWithPositions(result: LoadResult, text: string): void {
  expect(result.mapping || result.problems.length > 0, text).toBeTruthy();
  for (const p of result.problems) {
    expect(p.line, text).toBeGreaterThanOrEqual(1);
    expect(p.column, text).toBeGreaterThanOrEqual(1);
    expect(typeof p.message === 'string' && p.message.length > 0, text).toBe(true);
  }
}

describe('the validator never crashes', () => {
  it.each([
    ['an empty list item before a less indented key and an unclosed flow', 'a:\n  - b\n c: [\nd\n'],
    ['an empty item inside an unclosed flow', 'bindings:\n  -\n  - [\n'],
    ['a lone quote', '"'],
    ['only a tab', '\t'],
  ])('%s', (_, text) => {
    const result = validate(text);
    expect(result.problems.length).toBeGreaterThan(0);
    expectProblemsWithPositions(result, text);
  });

  it('3000 seeded mutations of real mappings each give a mapping or positioned problems', () => {
    const rnd = random(20260612);
    for (let i = 0; i < 3000; i++) {
      const text = mutate(CORPUS[i % CORPUS.length]!, rnd);
      let result: LoadResult;
      try {
        result = validate(text);
      } catch (error) {
        throw new Error(`mutation ${i} crashed the validator: ${(error as Error).stack}\n--- input (JSON) ---\n${JSON.stringify(text)}`);
      }
      expectProblemsWithPositions(result, text);
    }
  });
});
