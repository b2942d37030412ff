import { mkdirSync, mkdtempSync, readFileSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { writeInsideWorkspace } from '../../src/discover/write.ts';

function workspace() {
  const root = mkdtempSync(join(tmpdir(), 'wi-discover-'));
  const ws = join(root, 'ws');
  mkdirSync(ws);
  const outside = join(root, 'outside.txt');
  writeFileSync(outside, 'precious');
  return { ws, outside, root };
}

describe('discover-output is written inside the workspace, never through a symlink', () => {
  it('writes a new file in a folder of the workspace', () => {
    const { ws } = workspace();
    mkdirSync(join(ws, '.github'));
    const path = writeInsideWorkspace(ws, '.github/discovered.yaml', 'version: 1\n');
    expect(readFileSync(path, 'utf8')).toBe('version: 1\n');
  });

  it('refuses a path outside the workspace', () => {
    const { ws } = workspace();
    expect(() => writeInsideWorkspace(ws, '../escape.yaml', 'x')).toThrow(/outside the workspace/);
  });

  it('refuses an output that is a symlink, even to a file inside', () => {
    const { ws, outside } = workspace();
    symlinkSync(outside, join(ws, 'out.yaml'));
    expect(() => writeInsideWorkspace(ws, 'out.yaml', 'x')).toThrow(/symbolic link/);
    expect(readFileSync(outside, 'utf8')).toBe('precious');
  });

  it('refuses a symlinked folder that leads out of the workspace', () => {
    const { ws, root } = workspace();
    symlinkSync(root, join(ws, 'up'));
    expect(() => writeInsideWorkspace(ws, 'up/outside.txt', 'x')).toThrow(/outside the workspace through a symbolic link/);
    expect(readFileSync(join(root, 'outside.txt'), 'utf8')).toBe('precious');
  });
});
