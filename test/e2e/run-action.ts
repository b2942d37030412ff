// Runs the built action (dist/index.js) as GitHub's runner does: a node24 subprocess with
// INPUT_* variables (dashes kept, as the runner sets them), GITHUB_OUTPUT/GITHUB_STEP_SUMMARY
// files and a workspace. What it asserts on is what a user would see in the job.
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { BUILD_INPUTS_FILE, buildInputsHash } from '../../scripts/build-inputs.ts';
import type { VerificationResult } from '../../src/result.ts';

export const DIST = resolve(import.meta.dirname, '../../dist');

/**
 * Refuses a dist/ built from other sources than the working tree holds: after an edit of
 * src/ without `npm run build`, an e2e test would run the old bundle and prove nothing.
 */
export function assertFreshDist(root: string): void {
  const file = join(root, BUILD_INPUTS_FILE);
  const built = existsSync(file) ? readFileSync(file, 'utf8').trim() : '(none)';
  const now = buildInputsHash(root);
  if (built !== now)
    throw new Error(`${BUILD_INPUTS_FILE} says dist/ was built from other sources (${built.slice(0, 12)}) than the working tree holds (${now.slice(0, 12)}): run 'npm run build' first`);
}
let freshDist = false;

export interface ActionRun {
  code: number;
  stdout: string;
  stderr: string;
  outputs: Record<string, string>;
  /** core.saveState values: the runner hands them to the post step as STATE_<name>. */
  state: Record<string, string>;
  summary: string;
  /** `::error file=…,line=…::message` workflow commands, parsed. */
  annotations: { level: string; props: Record<string, string>; message: string }[];
}

/** The `verifications` of the run's `result` output. */
export const verificationsOf = (r: ActionRun): VerificationResult[] => (JSON.parse(r.outputs.result!) as { verifications: VerificationResult[] }).verifications;

/** Parses the GITHUB_OUTPUT file (name<<delimiter … delimiter blocks). */
export function parseOutputFile(text: string): Record<string, string> {
  const out: Record<string, string> = {};
  const lines = text.split('\n');
  for (let i = 0; i < lines.length; i++) {
    const m = /^([^<=]+)<<(.+)$/.exec(lines[i]!);
    if (!m) continue;
    const [, name, delim] = m;
    const value: string[] = [];
    for (i++; i < lines.length && lines[i] !== delim; i++) value.push(lines[i]!);
    out[name!] = value.join('\n');
  }
  return out;
}

function parseAnnotations(stdout: string): ActionRun['annotations'] {
  const found: ActionRun['annotations'] = [];
  for (const line of stdout.split('\n')) {
    const m = /^::(error|warning|notice)( [^:]*)?::(.*)$/.exec(line);
    if (!m) continue;
    const props: Record<string, string> = {};
    for (const kv of (m[2] ?? '').trim().split(',')) {
      const [k, ...v] = kv.split('=');
      if (k) props[k] = decodeURIComponent(v.join('=').replaceAll('%2C', ',').replaceAll('%3A', ':'));
    }
    found.push({ level: m[1]!, props, message: m[3]!.replaceAll('%0A', '\n').replaceAll('%25', '%') });
  }
  return found;
}

const workspaces: string[] = [];

/** A workspace holding `.github/workload-identity.yaml`; removed by removeWorkspaces(). */
export function workspaceWith(mapping: string): string {
  const ws = mkdtempSync(join(tmpdir(), 'wi-ws-'));
  workspaces.push(ws);
  mkdirSync(join(ws, '.github'));
  writeFileSync(join(ws, '.github/workload-identity.yaml'), mapping);
  return ws;
}

export function removeWorkspaces(): void {
  for (const ws of workspaces.splice(0)) rmSync(ws, { recursive: true, force: true });
}

export interface RunOptions {
  inputs: Record<string, string>;
  workspace?: string;
  env?: Record<string, string>;
  entry?: 'index.js' | 'post.js';
  timeoutMs?: number;
  /** Another build of the action than ./dist (e.g. one with a bundle taken out). */
  dist?: string;
  /** Called with the action's process once started (to signal it, as a cancelled run does). */
  onSpawn?: (child: ChildProcess) => void;
}

export async function runAction(opts: RunOptions): Promise<ActionRun> {
  const dist = opts.dist ?? DIST;
  if (!existsSync(join(dist, opts.entry ?? 'index.js'))) throw new Error(`${dist} has no ${opts.entry ?? 'index.js'}: run 'npm run build' first`);
  // This checkout's dist/ (a test may run a copy of it elsewhere): checked once per process.
  if (dist === DIST && !freshDist) {
    assertFreshDist(resolve(DIST, '..'));
    freshDist = true;
  }
  const dir = mkdtempSync(join(tmpdir(), 'wi-action-'));
  try {
    return await runIn(dir, opts);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

async function runIn(dir: string, opts: RunOptions): Promise<ActionRun> {
  const workspace = opts.workspace ?? dir;
  const outputFile = join(dir, 'github_output');
  const summaryFile = join(dir, 'step_summary');
  const stateFile = join(dir, 'github_state');
  const eventFile = join(dir, 'event.json');
  for (const f of [outputFile, summaryFile, stateFile]) writeFileSync(f, '');
  writeFileSync(eventFile, JSON.stringify({}));
  const env: Record<string, string> = {
    PATH: process.env.PATH ?? '',
    HOME: process.env.HOME ?? dir,
    RUNNER_TEMP: dir,
    GITHUB_ACTIONS: 'true',
    GITHUB_WORKSPACE: workspace,
    GITHUB_OUTPUT: outputFile,
    GITHUB_STEP_SUMMARY: summaryFile,
    GITHUB_STATE: stateFile,
    GITHUB_EVENT_PATH: eventFile,
    GITHUB_EVENT_NAME: 'push',
    GITHUB_REPOSITORY: 'contoso/platform',
    ...opts.env,
  };
  // The files this harness reads back always win over a sandbox's defaults.
  Object.assign(env, { GITHUB_OUTPUT: outputFile, GITHUB_STEP_SUMMARY: summaryFile, GITHUB_STATE: stateFile });
  if (opts.workspace) env.GITHUB_WORKSPACE = opts.workspace;
  for (const [name, value] of Object.entries(opts.inputs)) env[`INPUT_${name.toUpperCase()}`] = value;
  const child = spawn(process.execPath, [join(opts.dist ?? DIST, opts.entry ?? 'index.js')], { cwd: workspace, env });
  opts.onSpawn?.(child);
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (d) => (stdout += d));
  child.stderr.on('data', (d) => (stderr += d));
  const timer = setTimeout(() => child.kill('SIGKILL'), opts.timeoutMs ?? 120_000);
  const code = await new Promise<number>((res) => child.on('close', (c, signal) => res(c ?? (signal === 'SIGKILL' ? 137 : -1))));
  clearTimeout(timer);
  return {
    code,
    stdout,
    stderr,
    outputs: parseOutputFile(readFileSync(outputFile, 'utf8')),
    state: parseOutputFile(readFileSync(stateFile, 'utf8')),
    summary: existsSync(summaryFile) ? readFileSync(summaryFile, 'utf8') : '',
    annotations: parseAnnotations(stdout),
  };
}
