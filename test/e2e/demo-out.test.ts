// `npm run demo -- --out DIR` leaves the PR comment beside the run: DIR/comment.md, whose
// first line is the verdict a reviewer sees on the pull request.
import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { expect, it } from 'vitest';
import { ROOT } from './demo-sandbox.ts';

it('npm run demo -- --out DIR writes DIR/comment.md with the verdict first', async () => {
  const out = mkdtempSync(join(tmpdir(), 'wi-demo-out-'));
  try {
    await promisify(execFile)(process.execPath, ['scripts/demo.ts', '--out', out], { cwd: ROOT, timeout: 240_000 });
    const comment = readFileSync(join(out, 'comment.md'), 'utf8');
    expect(comment.split('\n')[0]).toMatch(/^### ✅ staging: 3 bindings /);
    expect(comment.trimEnd().split('\n').at(-1)).toBe('<!-- workload-identity-action environment=staging -->');
  } finally {
    rmSync(out, { recursive: true, force: true });
  }
}, 300_000);
