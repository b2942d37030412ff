// dist/ as the runner downloads it: a core bundle (core.js, imported by the step files
// index.js and post.js) that validates and runs the post step on its own, and the connected bundle (Azure, Kubernetes, GitHub SDKs) that only the modes
// which connect load. Taking connected.js out of a copy of dist/ proves which paths need it.
import { cpSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { DIST, removeWorkspaces, runAction, workspaceWith } from './run-action.ts';

const EXAMPLE = readFileSync(resolve(import.meta.dirname, '../../examples/workload-identity.yaml'), 'utf8');
const coreOnly = mkdtempSync(join(tmpdir(), 'wi-core-only-'));
cpSync(DIST, coreOnly, { recursive: true, filter: (src) => !/connected\.js(\.map)?$/.test(src) });

afterAll(() => {
  removeWorkspaces();
  rmSync(coreOnly, { recursive: true, force: true });
});

describe('the core bundle works without the connected one', () => {
  it('validate (the fork-PR path) and the post step with nothing to delete never load connected.js', async () => {
    const validate = await runAction({ dist: coreOnly, inputs: { mode: 'validate' }, workspace: workspaceWith(EXAMPLE) });
    expect(validate.stderr).toBe('');
    expect(validate.code).toBe(0);
    expect(validate.summary).toContain('**staging**');
    const post = await runAction({ dist: coreOnly, entry: 'post.js', inputs: {} });
    expect(post.stderr).toBe('');
    expect(post.code).toBe(0);
  });

  it('plan loads it, and says so when it is missing instead of exiting silently', async () => {
    const run = await runAction({ dist: coreOnly, inputs: { mode: 'plan', environment: 'staging' }, workspace: workspaceWith(EXAMPLE) });
    expect(run.code).toBe(1);
    expect(run.annotations.find((a) => a.level === 'error')?.message).toMatch(/could not load the action's connected part .*connected\.js/);
  });
});

describe('dist/ ships what a path loads, within its budget', () => {
  const files = readdirSync(DIST).sort();
  const bytes = (f: string): number => statSync(join(DIST, f)).size;

  it('holds the two bundles, their maps, the two step files, package.json, the licenses and the hash of its inputs: no xdg-open, no unused chunk', () => {
    expect(files).toEqual(['build-inputs.sha256', 'connected.js', 'connected.js.map', 'core.js', 'core.js.map', 'index.js', 'licenses.txt', 'package.json', 'post.js']);
  });

  it('what validate loads is at most 1 MiB, and dist/ no larger than the single bundle was (7 637 418 bytes)', () => {
    expect(bytes('index.js') + bytes('core.js')).toBeLessThanOrEqual(1024 * 1024);
    expect(files.reduce((sum, f) => sum + bytes(f), 0)).toBeLessThanOrEqual(7_637_418);
  });

  it('licenses.txt says what each bundle contains: the SDKs only in connected.js', () => {
    const licenses = readFileSync(join(DIST, 'licenses.txt'), 'utf8');
    const section = (bundle: string): string => new RegExp(`^dist/${bundle.replace('.', '\\.')} contains:\\n((?:  .*\\n)*)`, 'm').exec(licenses)?.[1] ?? '';
    expect(section('core.js')).toMatch(/@actions\/core@/);
    expect(section('core.js')).not.toMatch(/@azure|@kubernetes/);
    expect(section('connected.js')).toMatch(/@azure\/identity@/);
    expect(section('connected.js')).toMatch(/@kubernetes\/client-node@/);
    expect(licenses).toMatch(/^@kubernetes\/client-node@\S+\nApache-2\.0\n/m);
  });
});
