// GitHub drops a step summary over 1 MiB whole and refuses an output over 1 MB: a large
// plan must still leave a summary and a result a later step can parse, each saying what
// was left out and where the whole is.
import { describe, expect, it } from 'vitest';
import type { FicChange } from '../../src/plan/types.ts';
import { renderMarkdown } from '../../src/report/markdown.ts';
import { capResult, capSummary, MAX_OUTPUT_BYTES, MAX_SUMMARY_BYTES } from '../../src/report/limits.ts';
import { toResultJson } from '../../src/report/outputs.ts';
import type { RunReport } from '../../src/report/model.ts';
import { allNodes, parseGfm, visibleText } from '../output/gfm.ts';

const identity = { resourceId: '/subscriptions/s/resourceGroups/rg/providers/Microsoft.ManagedIdentity/userAssignedIdentities/id', name: 'id-shared', resourceGroup: 'rg', subscriptionId: 's', clientId: 'c', principalId: 'p', tenantId: 't' };
const fic = (i: number): FicChange => ({ kind: 'federated-credential', action: 'create', identity, name: `staging_team-${i}_app-${i}`, bindings: [], reason: `no credential for system:serviceaccount:team-${i}:app-${i} from this issuer` });
const big = (n: number): RunReport => ({
  mode: 'apply',
  mappingFile: '.github/workload-identity.yaml',
  environment: 'staging',
  bindings: new Map(),
  problems: [],
  failures: ['2 of 20000 write(s) failed; the others were applied'],
  notes: [],
  plan: { environment: 'staging', issuer: 'https://issuer.example/', federatedCredentials: Array.from({ length: n }, (_, i) => fic(i)), serviceAccounts: [], preflight: [] },
  applied: Array.from({ length: n }, (_, i) => ({ change: fic(i), ok: i % 10_000 !== 7, attempts: 1, ...(i % 10_000 === 7 ? { error: 'Conflict' } : {}) })),
});
const bytes = (s: string) => Buffer.byteLength(s, 'utf8');

describe("GitHub's limits", () => {
  it('a summary over 1 MiB is cut at a line, within 1 MiB, with a note that the job log has the whole', () => {
    const whole = renderMarkdown(big(20_000));
    expect(bytes(whole)).toBeGreaterThan(MAX_SUMMARY_BYTES);
    const capped = capSummary(whole);
    expect(bytes(capped)).toBeLessThanOrEqual(MAX_SUMMARY_BYTES);
    const root = parseGfm(capped);
    const last = root.children.at(-1)!;
    expect(last.type).toBe('blockquote');
    expect(visibleText(last)).toMatch(/^Summary cut here: \d+ more line\(s\) did not fit GitHub's 1 MiB limit for a step summary; the job log has the whole report\.$/);
    expect(root.children.filter((n) => n.type === 'table').length).toBeGreaterThan(0);
  });

  it('a cut inside a code block closes it, so the note is not swallowed by the code', () => {
    const markdown = ['# report', '', '```', ...Array.from({ length: 5000 }, (_, i) => `line ${i} ${'x'.repeat(40)}`), '```', 'after'].join('\n');
    const capped = capSummary(markdown, 64 * 1024);
    expect(bytes(capped)).toBeLessThanOrEqual(64 * 1024);
    const root = parseGfm(capped);
    expect(root.children.map((n) => n.type)).toEqual(['heading', 'code', 'blockquote']);
  });

  it('a summary within the limit is left as it is', () => {
    const md = renderMarkdown(big(3));
    expect(capSummary(md)).toBe(md);
  });

  it('a result over 1 MB keeps the failures and counts the rest; a later step can still parse it', () => {
    const report = big(20_000);
    expect(bytes(JSON.stringify(toResultJson(report)))).toBeGreaterThan(MAX_OUTPUT_BYTES);
    const text = capResult(toResultJson(report));
    expect(bytes(text)).toBeLessThanOrEqual(MAX_OUTPUT_BYTES);
    const result = JSON.parse(text);
    expect(result).toMatchObject({ version: 1, mode: 'apply', environment: 'staging', issuer: 'https://issuer.example/', plan: [] });
    expect(result.truncated).toMatchObject({ plan: 20_000, applied: 20_000 });
    expect(result.truncated.reason).toContain('the job log has every line');
    expect(result.applied.map((a: { target: string }) => a.target)).toEqual(['id-shared/staging_team-7_app-7', 'id-shared/staging_team-10007_app-10007']);
    expect(result.problems).toEqual(['2 of 20000 write(s) failed; the others were applied']);
  });

  it('a result within the limit is the whole result, unmarked', () => {
    const result = toResultJson(big(3));
    expect(capResult(result)).toBe(JSON.stringify(result));
  });

  it('a code block of the capped summary never holds the note', () => {
    const capped = capSummary(['```', 'x'.repeat(2 * MAX_SUMMARY_BYTES)].join('\n'));
    expect(allNodes(parseGfm(capped)).filter((n) => n.type === 'blockquote')).toHaveLength(1);
  });
});
