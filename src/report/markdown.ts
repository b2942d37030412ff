// One markdown renderer for the job summary and (later) the sticky PR comment, so the two
// never disagree. Tables stay short: a reviewer reads the changes, not the unchanged rows.
import type { ResolvedBinding } from '../mapping/types.ts';
import type { FicChange, PreflightCheck, ServiceAccountChange } from '../plan/types.ts';
import { isChange } from '../plan/types.ts';
import { describeTarget } from '../result.ts';
import type { RunReport } from './model.ts';
import { mdCode, mdCodeBlock, mdLines, mdTableRow, mdText } from '../output/markdown-escape.ts';

const ICON: Record<string, string> = {
  create: '➕ create',
  update: '✏️ update',
  annotate: '✏️ annotate',
  delete: '🗑️ delete',
  adopt: '🤝 adopt',
  unchanged: '✔️ unchanged',
};

function title(report: RunReport): string {
  const env = report.environment ? ` — ${mdText(report.environment)}` : '';
  const state = report.failures.length ? '❌' : '✅';
  return `### ${state} Workload Identity ${report.mode}${env}`;
}

function bindingsTable(env: string, bindings: ResolvedBinding[]): string[] {
  const head = env ? `**${mdText(env)}** — ${bindings.length} binding(s)` : `${bindings.length} binding(s)`;
  const rows = bindings.map((b) => mdTableRow([mdCode(b.namespace), mdCode(b.serviceAccount), mdCode(b.identity.name), mdCode(b.identity.resourceGroup), mdCode(b.ficName)]));
  return [head, '', '| namespace | ServiceAccount | identity | resource group | federated credential |', '|---|---|---|---|---|', ...rows, ''];
}

function ficRows(changes: FicChange[]): string[] {
  if (!changes.length) return [];
  return [
    '| federated credential | identity | action | why |',
    '|---|---|---|---|',
    ...changes.map((c) => mdTableRow([mdCode(c.name), mdCode(c.identity.name), ICON[c.action]!, mdLines(c.reason)])),
    '',
  ];
}

function saRows(changes: ServiceAccountChange[]): string[] {
  if (!changes.length) return [];
  return [
    '| ServiceAccount | action | why |',
    '|---|---|---|',
    ...changes.map((c) => {
      const restart = c.podsToRestart.length ? `<br>restart: ${c.podsToRestart.map(mdCode).join(', ')}` : '';
      return mdTableRow([mdCode(`${c.namespace}/${c.name}`), ICON[c.action]!, mdLines(c.reason) + restart]);
    }),
    '',
  ];
}

function preflightRows(checks: PreflightCheck[]): string[] {
  const shown = checks.filter((c) => !c.ok || c.severity !== 'info');
  if (!shown.length) return [];
  const mark = (c: PreflightCheck) => (c.ok ? '✅' : c.severity === 'error' ? '❌' : '⚠️');
  const lines = ['#### Preflight', ''];
  for (const c of shown) {
    lines.push(`- ${mark(c)} **${mdText(c.name)}**: ${mdLines(c.detail)}`);
    if (!c.ok && c.fix) lines.push('', '  <details><summary>How to fix</summary>', '', ...mdCodeBlock(c.fix, '  '), '  </details>', '');
  }
  lines.push('');
  return lines;
}

export function renderMarkdown(report: RunReport): string {
  const out: string[] = [title(report), ''];
  for (const f of report.failures) out.push(`> **Failed:** ${mdLines(f)}`, '');
  if (report.problems.length) {
    out.push(`#### ${report.problems.length} problem(s) in ${mdCode(report.mappingFile)}`, '');
    for (const p of report.problems) out.push(`- line ${p.line}, column ${p.column}: ${mdLines(p.message)}`);
    out.push('');
  }
  const plan = report.plan;
  if (plan) {
    out.push(`Issuer: ${mdCode(plan.issuer)}`, '');
    out.push(...preflightRows(plan.preflight));
    const fics = plan.federatedCredentials.filter(isChange);
    const sas = plan.serviceAccounts.filter(isChange);
    const quiet = plan.federatedCredentials.length - fics.length + plan.serviceAccounts.length - sas.length;
    out.push(`#### Changes: ${fics.length + sas.length}` + (quiet ? ` (${quiet} already right)` : ''), '');
    out.push(...ficRows(fics));
    out.push(...saRows(sas));
    const adopted = plan.federatedCredentials.filter((c) => c.action === 'adopt');
    if (adopted.length) {
      out.push(`Adopted as they are (same issuer, subject and audience under another name, e.g. made with az CLI): ${adopted.map((c) => `${mdCode(c.name)} on ${mdCode(c.identity.name)}`).join(', ')}`, '');
    }
  }
  if (report.applied?.length) {
    const failed = report.applied.filter((a) => !a.ok);
    out.push(`#### Applied: ${report.applied.length - failed.length} ok, ${failed.length} failed`, '');
    for (const a of failed) {
      out.push(`- ❌ ${mdCode(describeTarget(a.change))} (${a.change.action}, ${a.attempts} attempt(s)): ${mdLines(a.error ?? 'failed')}`);
    }
    if (failed.length) out.push('');
  }
  if (report.mode === 'validate' || !plan) {
    for (const [env, bindings] of report.bindings) out.push(...bindingsTable(env, bindings));
  }
  for (const n of report.notes) out.push(`> ${mdLines(n)}`, '');
  return out.join('\n');
}
