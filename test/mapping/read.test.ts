// The mapping file is chosen by whoever wrote the pull request: it may be a symlink to a
// runner file, a device or a pipe. Only a regular file reached without leaving the
// workspace is read, and never more than 1 MiB + 1.
import { execFileSync } from 'node:child_process';
import { copyFileSync, mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { loadMapping } from '../../src/mapping/index.ts';

const EXAMPLE = resolve(import.meta.dirname, '../../examples/workload-identity.yaml');
const root = mkdtempSync(join(tmpdir(), 'wi-read-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));

let count = 0;
/** A fresh workspace with .github/, and a directory outside it. */
function layout() {
  const base = join(root, String(++count));
  const workspace = join(base, 'workspace');
  const outside = join(base, 'outside');
  mkdirSync(join(workspace, '.github'), { recursive: true });
  mkdirSync(outside);
  return { workspace, outside, mapping: join(workspace, '.github/workload-identity.yaml') };
}

const load = (path: string, workspace: string) => loadMapping(path, '.github/workload-identity.yaml', { workspace });
const messages = (r: { problems: { message: string }[] }) => r.problems.map((p) => p.message);

describe('reading the mapping file', () => {
  it('a symlink to a file outside the workspace is refused without a word of its content', async () => {
    const { workspace, outside, mapping } = layout();
    writeFileSync(join(outside, 'runner.json'), JSON.stringify({ version: 'S3CRET-RUNNER-VALUE', token: 'S3CRET-TOKEN' }));
    symlinkSync(join(outside, 'runner.json'), mapping);
    const result = await load(mapping, workspace);
    expect(result.mapping).toBeUndefined();
    expect(messages(result)).toEqual([expect.stringMatching(/^mapping file \.github\/workload-identity\.yaml is a symbolic link that leads outside the workspace/)]);
    expect(JSON.stringify(result)).not.toMatch(/S3CRET/);
  });

  it('a directory symlinked out of the workspace is refused the same way', async () => {
    const { workspace, outside } = layout();
    copyFileSync(EXAMPLE, join(outside, 'workload-identity.yaml'));
    rmSync(join(workspace, '.github'), { recursive: true });
    symlinkSync(outside, join(workspace, '.github'));
    const result = await load(join(workspace, '.github/workload-identity.yaml'), workspace);
    expect(messages(result)).toEqual([expect.stringContaining('leads outside the workspace')]);
  });

  it('a symlink to /dev/urandom is refused at once, nothing read', async () => {
    const { workspace, mapping } = layout();
    symlinkSync('/dev/urandom', mapping);
    const started = performance.now();
    const result = await load(mapping, workspace);
    expect(messages(result)).toEqual([expect.stringContaining('leads outside the workspace')]);
    expect(performance.now() - started).toBeLessThan(1000);
  });

  it('a device or a pipe named directly is not a regular file, and the pipe does not block', async () => {
    const { workspace, outside } = layout();
    const fifo = join(outside, 'pipe.yaml');
    execFileSync('mkfifo', [fifo]);
    for (const path of ['/dev/zero', fifo]) {
      const result = await load(path, workspace);
      expect(messages(result)).toEqual(['mapping file .github/workload-identity.yaml is not a regular file (a device, pipe or socket); refusing to read it']);
    }
  });

  it('a plain path outside the workspace stays allowed, and so does a symlink within it', async () => {
    const { workspace, outside, mapping } = layout();
    copyFileSync(EXAMPLE, join(outside, 'shared.yaml'));
    expect((await load(join(outside, 'shared.yaml'), workspace)).problems).toEqual([]);
    copyFileSync(EXAMPLE, join(workspace, 'real.yaml'));
    symlinkSync('../real.yaml', mapping);
    expect((await load(mapping, workspace)).problems).toEqual([]);
  });

  it('a symlink loop says so', async () => {
    const { workspace, mapping } = layout();
    symlinkSync(mapping, mapping);
    expect(messages(await load(mapping, workspace))).toEqual(['mapping file .github/workload-identity.yaml is a loop of symbolic links']);
  });
});
