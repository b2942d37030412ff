// `npm run demo`: the whole job on the sandbox, through the built dist/index.js, as a
// workflow would run it. Prints what a user would see in the job log and summary.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';

const root = resolve(import.meta.dirname, '..');
const dir = mkdtempSync(join(tmpdir(), 'wi-demo-'));
const summary = join(dir, 'summary.md');
const output = join(dir, 'output');
writeFileSync(summary, '');
writeFileSync(output, '');

function step(title: string, inputs: Record<string, string>): number {
  console.log(`\n━━━ ${title} ━━━`);
  writeFileSync(summary, '');
  const env: Record<string, string> = {
    PATH: process.env.PATH ?? '',
    HOME: process.env.HOME ?? dir,
    GITHUB_ACTIONS: 'true',
    GITHUB_WORKSPACE: root,
    GITHUB_STEP_SUMMARY: summary,
    GITHUB_OUTPUT: output,
    RUNNER_TEMP: dir,
  };
  for (const [k, v] of Object.entries(inputs)) env[`INPUT_${k.toUpperCase()}`] = v;
  const run = spawnSync(process.execPath, [join(root, 'dist/index.js')], { env, stdio: 'inherit' });
  console.log(`\n(exit code ${run.status}; job summary written to ${summary}: ${readFileSync(summary, 'utf8').length} characters)`);
  return run.status ?? 1;
}

const code = step('validate examples/workload-identity.yaml', { mode: 'validate', 'mapping-file': 'examples/workload-identity.yaml' });
process.exit(code);
