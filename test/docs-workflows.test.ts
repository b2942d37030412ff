// The workflows people copy (docs/workflows/) stay true to the action: every input they set
// exists, each job asks for the permissions its mode needs and no more, gated jobs never race.
import { readdirSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';

const ROOT = resolve(import.meta.dirname, '..');
const DIR = join(ROOT, 'docs/workflows');
const inputs = Object.keys((parse(readFileSync(join(ROOT, 'action.yml'), 'utf8')) as { inputs: object }).inputs);

interface Job {
  environment?: string;
  concurrency?: { group: string; 'cancel-in-progress'?: boolean };
  permissions?: Record<string, string>;
  steps: { uses?: string; with?: Record<string, unknown> }[];
}
interface Workflow {
  on: Record<string, unknown>;
  permissions?: Record<string, string>;
  jobs: Record<string, Job>;
}

const workflows = readdirSync(DIR).filter((f) => f.endsWith('.yml')).map((f) => ({ file: f, wf: parse(readFileSync(join(DIR, f), 'utf8')) as Workflow }));
const actionStep = (job: Job) => job.steps.find((s) => s.uses?.includes('workload-identity-action'))!;

describe('docs/workflows', () => {
  it('has the five workflows, each using the action', () => {
    expect(workflows.map((w) => w.file).sort()).toEqual(['apply.yml', 'drift.yml', 'matrix.yml', 'plan.yml', 'validate.yml']);
    for (const { wf } of workflows) for (const job of Object.values(wf.jobs)) expect(actionStep(job)).toBeDefined();
  });

  it('sets only inputs the action has', () => {
    for (const { file, wf } of workflows) {
      for (const job of Object.values(wf.jobs)) expect(Object.keys(actionStep(job).with ?? {}).filter((k) => !inputs.includes(k)), file).toEqual([]);
    }
  });

  it('asks for the least permissions: write access only where the mode needs it', () => {
    for (const { file, wf } of workflows) {
      expect(wf.permissions, file).toEqual({ contents: 'read' });
      for (const job of Object.values(wf.jobs)) {
        const mode = String(actionStep(job).with?.mode ?? 'plan');
        const perms = job.permissions ?? wf.permissions!;
        const onPulls = 'pull_request' in wf.on || 'push' in wf.on;
        expect(perms['id-token'], `${file} ${mode}`).toBe(mode === 'validate' ? undefined : 'write');
        // A comment is posted only for a PR (pull_request, or the push of its merge).
        expect(perms['pull-requests'], `${file} ${mode}`).toBe(mode !== 'validate' && onPulls ? 'write' : undefined);
        expect(Object.entries(perms).filter(([k, v]) => v === 'write' && k !== 'id-token' && k !== 'pull-requests'), file).toEqual([]);
      }
    }
  });

  it('jobs in an environment never race: one concurrency group per environment, runs queued not cancelled', () => {
    for (const { file, wf } of workflows) {
      for (const job of Object.values(wf.jobs).filter((j) => j.environment)) {
        expect(job.concurrency?.group, file).toContain(String(job.environment));
        expect(job.concurrency?.['cancel-in-progress'], file).toBe(false);
      }
    }
  });

  it('drift detection fails on changes and verifies', () => {
    const drift = workflows.find((w) => w.file === 'drift.yml')!.wf;
    expect(Object.keys(drift.on)).toContain('schedule');
    const modes = Object.values(drift.jobs).map((j) => actionStep(j).with);
    expect(modes).toContainEqual(expect.objectContaining({ mode: 'plan', 'fail-on-changes': true }));
    expect(modes).toContainEqual(expect.objectContaining({ mode: 'verify' }));
  });

  it('the README links them and no longer turns verification off', () => {
    const readme = readFileSync(join(ROOT, 'README.md'), 'utf8');
    expect(readme).toContain('](docs/workflows/)');
    expect(readme).not.toMatch(/verify:\s*false/);
  });
});
