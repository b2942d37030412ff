// `mode: validate` through the built dist/index.js, as a workflow step would run it.
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { removeWorkspaces, runAction, workspaceWith } from './run-action.ts';

const EXAMPLE = resolve(import.meta.dirname, '../../examples/workload-identity.yaml');

afterAll(removeWorkspaces);

describe('mode: validate (dist/index.js)', () => {
  it('a valid mapping exits 0 with a summary listing the bindings per environment', async () => {
    const run = await runAction({ inputs: { mode: 'validate' }, workspace: workspaceWith(readFileSync(EXAMPLE, 'utf8')) });
    expect(run.stderr).toBe('');
    expect(run.code).toBe(0);
    expect(run.annotations.filter((a) => a.level === 'error')).toEqual([]);
    expect(run.summary).toContain('Workload Identity validate');
    expect(run.summary).toContain('**staging**');
    expect(run.summary).toContain('**production**');
    const result = JSON.parse(run.outputs.result!);
    expect(result).toMatchObject({ version: 1, mode: 'validate', problems: [] });
    expect(run.outputs.changes).toBe('0');
  });

  it('a broken mapping prints one annotation per problem at its line and exits 1', async () => {
    const broken = [
      'version: 1', //                       1
      'defaults:', //                          2
      '  resourceGroup: rg-identities', //     3
      'bindings:', //                          4
      '  - namespace: Payments', //            5  invalid name
      '    serviceAccount: api', //            6
      '    identity: id-payments', //          7
      '  - namespace: orders', //              8
      '    serviceAcount: orders-api', //      9  unknown key
      '    identity: id-orders', //           10
      '',
    ].join('\n');
    const run = await runAction({ inputs: { mode: 'validate' }, workspace: workspaceWith(broken) });
    expect(run.code).toBe(1);
    const errors = run.annotations.filter((a) => a.level === 'error' && a.props.file);
    expect(errors.map((e) => [e.props.file, e.props.line, e.props.col])).toEqual([
      ['.github/workload-identity.yaml', '5', '16'],
      ['.github/workload-identity.yaml', '9', '5'],
    ]);
    expect(errors[0]!.message).toMatch(/'Payments' is not a valid Kubernetes namespace name/);
    expect(errors[1]!.message).toMatch(/unknown key 'serviceAcount'.*did you mean 'serviceAccount'/);
    expect(run.summary).toContain('2 problem(s)');
    const problems: string[] = JSON.parse(run.outputs.result!).problems;
    expect(problems.filter((p) => p.startsWith('.github/workload-identity.yaml:'))).toHaveLength(2);
  });

  it('a missing mapping file fails with a message naming it, not a stack trace', async () => {
    const run = await runAction({ inputs: { mode: 'validate', 'mapping-file': 'deploy/wi.yaml' }, workspace: workspaceWith('version: 1\nbindings: []\n') });
    expect(run.code).toBe(1);
    expect(run.stdout).toMatch(/deploy\/wi\.yaml/);
    expect(run.stdout).not.toMatch(/\n\s+at .*\.js:\d+/);
  });

  it('a wrong input value fails naming the input', async () => {
    const run = await runAction({ inputs: { mode: 'validate', concurrency: '0' }, workspace: workspaceWith('version: 1\nbindings: []\n') });
    expect(run.code).toBe(1);
    expect(run.stdout).toMatch(/::error::Input 'concurrency': expected auto or a number from 1 to 64, got '0'/);
  });

  it('an unknown mode fails naming the modes there are, before anything connects', async () => {
    const run = await runAction({ inputs: { mode: 'deploy' }, workspace: workspaceWith('version: 1\nbindings: []\n') });
    expect(run.code).toBe(1);
    expect(run.stdout).toMatch(/::error::Input 'mode': unknown mode 'deploy'; expected one of validate, plan, apply, verify, discover/);
  });
});

describe("GitHub's limits in validate (dist/index.js)", () => {
  it('a mapping of thousands of bad bindings prints a bounded problem list, saying how many more there are', async () => {
    const lines = ['version: 1', 'defaults: { resourceGroup: rg-identities }', 'bindings:'];
    for (let i = 0; i < 5000; i++) lines.push(`  - { namespace: Bad_Namespace_${i}, serviceAccount: Bad_Account_${i}, identity: id-${i} }`);
    const run = await runAction({ inputs: { mode: 'validate' }, workspace: workspaceWith(lines.join('\n')) });
    expect(run.code).toBe(1);
    expect(run.annotations.length).toBeLessThanOrEqual(51);
    expect(run.stdout.length).toBeLessThan(100_000);
    expect(run.stdout).toMatch(/^ {2}… and 99\d\d more problem\(s\) not listed: fix the ones above and run again/m);
    expect(run.summary).toContain('10000 problem(s) in');
    const result = JSON.parse(run.outputs.result!);
    expect(result.problems).toContainEqual(expect.stringMatching(/^… and 9950 more problem\(s\) not listed/));
    expect(result.problems.at(-1)).toBe('10000 problem(s) in the mapping file .github/workload-identity.yaml');
  });
});
