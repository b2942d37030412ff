// Pathological files: each returns problems, never a throw, and quickly. The time bounds are
// generous on purpose (a busy CI runner must not make them flake); before the fixes these
// inputs took minutes, so even a loose bound catches a return to quadratic behaviour.
import { describe, expect, it } from 'vitest';
import { parseMapping } from '../../src/mapping/index.ts';
import { load } from './fixtures.ts';

const FAST_MS = 5_000;

async function timed<T>(run: () => Promise<T> | T): Promise<{ result: T; ms: number }> {
  const start = performance.now();
  const result = await run();
  return { result, ms: performance.now() - start };
}

describe('pathological mapping files', () => {
  it('a version that contains itself (version: &v [*v]) is a problem, not a throw', async () => {
    const { problems, path } = await load(['version: &v [*v]', 'bindings: []']);
    expect(problems).toEqual([{ file: path, line: 1, column: 13, message: 'version (a list) is not supported by this action; expected version: 1' }]);
  });

  it('a version that is a mapping is described in words', () => {
    const { problems } = parseMapping('version: { a: 1 }\nbindings: []\n', 'm.yaml');
    expect(problems.map((p) => p.message)).toEqual(['version (a mapping) is not supported by this action; expected version: 1']);
  });

  it('thousands of bindings the schema refuses are each reported, quickly', async () => {
    const lines = ['version: 1', 'defaults:', '  resourceGroup: rg', 'bindings:'];
    for (let i = 0; i < 2000; i++) lines.push(`  - { namespace: "Bad_NS${i}", serviceAccount: sa, identity: id-x }`);
    const { result, ms } = await timed(() => load(lines));
    expect(result.problems).toHaveLength(2000);
    expect(result.problems[0]).toMatchObject({ line: 5, message: expect.stringContaining("bindings[0].namespace 'Bad_NS0'") as unknown });
    expect(ms).toBeLessThan(FAST_MS);
  });

  it('thousands of YAML errors: the first 20 explained, the rest counted in one problem', async () => {
    const lines = ['version: 1', 'bindings:'];
    for (let i = 0; i < 2000; i++) lines.push('- namespace: "a');
    const { result, ms } = await timed(() => load(lines));
    expect(result.problems.length).toBeLessThanOrEqual(21);
    expect(result.problems[0]).toMatchObject({ line: 3, message: expect.stringContaining('is never closed') as unknown });
    expect(result.problems.at(-1)?.message).toMatch(/^… and \d+ more YAML errors from here on; fix the ones above first/);
    expect(ms).toBeLessThan(FAST_MS);
  });

  it('many environments times many bindings on one identity: one limit problem, quickly', async () => {
    const lines = ['version: 1', 'defaults:', '  resourceGroup: rg', 'environments:'];
    for (let e = 0; e < 20; e++) lines.push(`  e${e}: { issuer: "https://i${e}.example.com/" }`);
    lines.push('bindings:');
    for (let i = 0; i < 1000; i++) lines.push(`  - { namespace: n${i}, serviceAccount: s, identity: id-shared }`);
    const { result, ms } = await timed(() => load(lines));
    expect(result.problems.map((p) => p.message)).toEqual([expect.stringMatching(/^identity 'id-shared' would need 20000 federated credentials/)]);
    expect(ms).toBeLessThan(FAST_MS);
  });

  it('a mapping file over 1 MiB is refused before parsing, at line 1', async () => {
    const { result, ms } = await timed(() => load(`version: 1\n${'# padding\n'.repeat(110_000)}`));
    expect(result.problems).toEqual([
      {
        file: result.path,
        line: 1,
        column: 1,
        message: `mapping file ${result.path} is 1075 KiB; the limit is 1024 KiB — a mapping this large is almost certainly not hand-written; split it or check what generated it`,
      },
    ]);
    expect(ms).toBeLessThan(FAST_MS);
  });

  it('nesting deeper than the parser can follow is "nesting too deep" at line 1', async () => {
    const { result, ms } = await timed(() => load(`version: 1\nbindings: ${'['.repeat(5000)}\n`));
    expect(result.problems).toHaveLength(1);
    expect(result.problems[0]).toMatchObject({ line: 1, column: 1, message: expect.stringMatching(/^nesting too deep: /) as unknown });
    expect(ms).toBeLessThan(FAST_MS);
  });
});
