// The job log's version of the report: plain lines that read well in a terminal (the
// markdown goes to the job summary and the PR comment).
import { isChange } from '../plan/types.ts';
import { describeTarget } from '../result.ts';
import type { RunReport } from './model.ts';

export function renderText(report: RunReport): string[] {
  const env = report.environment ? ` — ${report.environment}` : '';
  const lines = [`Workload Identity ${report.mode}${env}`];
  const plan = report.plan;
  if (plan) {
    lines.push(`  issuer: ${plan.issuer || '(unknown)'}`);
    for (const c of plan.preflight.filter((c) => !c.ok || c.severity !== 'info')) {
      const mark = c.ok ? 'ok' : c.severity === 'error' ? 'ERROR' : 'warning';
      const at = c.at ? ` (${c.at.file}:${c.at.line})` : '';
      lines.push(`  preflight ${mark} ${c.name}: ${c.detail}${at}`);
    }
    const all = [...plan.federatedCredentials, ...plan.serviceAccounts];
    const changes = all.filter(isChange);
    lines.push(`  ${changes.length} change(s), ${all.length - changes.length} already right`);
    for (const c of all.filter((c) => c.action !== 'unchanged')) lines.push(`    ${c.action.padEnd(9)} ${c.kind} ${describeTarget(c)}: ${c.reason}`);
  }
  for (const a of report.applied ?? []) {
    if (!a.ok) lines.push(`  FAILED ${a.change.action} ${describeTarget(a.change)} after ${a.attempts} attempt(s): ${a.error ?? ''}`);
  }
  for (const n of report.notes) lines.push(`  note: ${n}`);
  for (const f of report.failures) lines.push(`  failed: ${f}`);
  return lines;
}
