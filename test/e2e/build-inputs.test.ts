// The e2e tests run dist/: a dist/ built before the last edit of src/ must be refused, or
// they test the old bundle. A fresh clone, whose dist/ was built from what it holds, passes.
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { BUILD_INPUTS_FILE, buildInputsHash } from '../../scripts/build-inputs.ts';
import { assertFreshDist } from './run-action.ts';

const ROOT = resolve(import.meta.dirname, '../..');
const repo = mkdtempSync(join(tmpdir(), 'wi-build-inputs-'));
const bares: string[] = [];
afterAll(() => {
  for (const dir of [repo, ...bares]) rmSync(dir, { recursive: true, force: true });
});

function git(...args: string[]): void {
  execFileSync('git', ['-c', 'user.email=t@example.com', '-c', 'user.name=t', ...args], { cwd: repo, stdio: 'ignore' });
}

describe('dist/ matches the sources it was built from', () => {
  it('a dist/ built before an edit of src/ is refused with what to run; rebuilt, it passes', () => {
    mkdirSync(join(repo, 'src'));
    mkdirSync(join(repo, 'dist'));
    writeFileSync(join(repo, 'src/main.ts'), 'export const a = 1;\n');
    writeFileSync(join(repo, 'package.json'), '{}\n');
    writeFileSync(join(repo, 'notes.md'), 'not an input\n');
    git('init', '-q');
    git('add', '.');
    git('commit', '-qm', 'x');
    writeFileSync(join(repo, BUILD_INPUTS_FILE), `${buildInputsHash(repo)}\n`);
    expect(() => assertFreshDist(repo)).not.toThrow();

    writeFileSync(join(repo, 'notes.md'), 'still not an input\n');
    expect(() => assertFreshDist(repo)).not.toThrow();

    writeFileSync(join(repo, 'src/main.ts'), 'export const a = 2;\n');
    expect(() => assertFreshDist(repo)).toThrow(/dist\/build-inputs\.sha256 says dist\/ was built from other sources .*: run 'npm run build' first/);

    writeFileSync(join(repo, BUILD_INPUTS_FILE), `${buildInputsHash(repo)}\n`);
    expect(() => assertFreshDist(repo)).not.toThrow();
  });

  it('a dist/ without the hash is refused too', () => {
    // Beside the other test's repository, not inside it: a nested repository without a
    // commit makes its `git add .` fail when the shuffle runs this test first.
    const bare = mkdtempSync(join(tmpdir(), 'wi-build-inputs-bare-'));
    bares.push(bare);
    execFileSync('git', ['init', '-q'], { cwd: bare });
    expect(() => assertFreshDist(bare)).toThrow(/built from other sources \(\(none\)\)/);
  });

  it("this checkout's dist/ was built from its sources (run 'npm run build' after editing src/)", () => {
    expect(() => assertFreshDist(ROOT)).not.toThrow();
  });
});
