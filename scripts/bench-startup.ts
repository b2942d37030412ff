// The startup scenario of `npm run bench`: how long `mode: validate` (the fork-PR path, no
// credentials) takes as a runner would start it — a fresh node process on dist/index.js —
// against bare node started the same way in the same run, so a slow machine shows as a
// slow baseline rather than a slow action. Runs alternate between the two so that noise
// from other processes falls on both. Sizes are what the runner downloads and parses.
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';

export interface StartupMeasurement {
  runs: number;
  medianMs: number;
  nodeBaselineMs: number;
  /** What validate loads: the step file dist/index.js and the core bundle dist/core.js (the whole bundle before the split). */
  coreBytes: number;
  distBytes: number;
}

const median = (xs: number[]): number => {
  const s = [...xs].sort((a, b) => a - b);
  const mid = s.length >> 1;
  return s.length % 2 ? s[mid]! : (s[mid - 1]! + s[mid]!) / 2;
};

function timed(args: string[], env: NodeJS.ProcessEnv, cwd: string): number {
  const t0 = performance.now();
  const r = spawnSync(process.execPath, args, { env, cwd, encoding: 'utf8' });
  const ms = performance.now() - t0;
  if (r.status !== 0) throw new Error(`${args.join(' ')} exited ${r.status}: ${r.stderr || r.stdout}`);
  return ms;
}

const dirBytes = (dir: string): number =>
  readdirSync(dir, { withFileTypes: true }).reduce((sum, e) => sum + (e.isDirectory() ? dirBytes(join(dir, e.name)) : statSync(join(dir, e.name)).size), 0);

export function measureStartup(dist: string, mappingFile: string, runs = 11): StartupMeasurement {
  const dir = mkdtempSync(join(tmpdir(), 'wi-startup-'));
  try {
    mkdirSync(join(dir, '.github'));
    writeFileSync(join(dir, '.github/workload-identity.yaml'), readFileSync(mappingFile));
    const env: NodeJS.ProcessEnv = { PATH: process.env.PATH, HOME: dir, RUNNER_TEMP: dir, GITHUB_ACTIONS: 'true', GITHUB_WORKSPACE: dir, INPUT_MODE: 'validate' };
    for (const name of ['GITHUB_OUTPUT', 'GITHUB_STEP_SUMMARY', 'GITHUB_STATE']) {
      env[name] = join(dir, name.toLowerCase());
      writeFileSync(env[name], '');
    }
    const entry = resolve(dist, 'index.js');
    timed([entry], env, dir); // warm the file cache: the runner has just downloaded the action
    const action: number[] = [];
    const bare: number[] = [];
    for (let i = 0; i < runs; i++) {
      action.push(timed([entry], env, dir));
      bare.push(timed(['-e', ''], env, dir));
    }
    return { runs, medianMs: median(action), nodeBaselineMs: median(bare), coreBytes: statSync(entry).size + (existsSync(resolve(dist, 'core.js')) ? statSync(resolve(dist, 'core.js')).size : 0), distBytes: dirBytes(dist) };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

