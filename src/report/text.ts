// The job log's version of the report: plain lines that read well in a terminal (the
// markdown goes to the job summary and the PR comment).
import { isChange } from '../plan/types.ts';
import { describeTarget } from '../result.ts';
import type { RunReport } from './model.ts';
import { workloadsText } from './workloads.ts';
import { verdict } from './verdict.ts';
import { discoverText } from './discover.ts';
import { cleanupText } from './cleanup.ts';

export function renderText(report: RunReport): string[] {
  const env = report.environment ? ` — ${report.environment}` : '';
  const v = verdict(report);
  // The same verdict as the summary's first line, so the log and the PR say one thing.
  const lines = [`Workload Identity ${report.mode}${env}: ${v.icon} ${v.text}`];
  if (report.discovered) lines.push(...discoverText(report.discovered));
  const plan = report.plan;
  if (plan) {
    lines.push(`  issuer: ${plan.issuer || '(unknown)'}`);
    for (const c of plan.preflight.filter((c) => !c.ok || c.severity !== 'info')) {
      const mark = c.ok ? 'ok' : c.severity === 'error' ? 'ERROR' : 'warning';
      const where = c.at ? `${c.at.file}:${c.at.line}` : '';
      const at = where && !c.detail.includes(where) ? ` (${where})` : '';
      lines.push(`  preflight ${mark} ${c.name}: ${c.detail}${at}`);
    }
    const all = [...plan.federatedCredentials, ...plan.serviceAccounts];
    const changes = all.filter(isChange);
    lines.push(`  ${changes.length} change(s), ${all.length - changes.length} already right`);
    // After apply, each write was logged when it completed: not listed a second time.
    if (!report.applied) for (const c of changes) lines.push(`    ${c.action.padEnd(9)} ${c.kind} ${describeTarget(c)}: ${c.reason}`);
    const adopted = plan.federatedCredentials.filter((c) => c.action === 'adopt');
    if (adopted.length) lines.push(`  adopted as they are: ${adopted.map(describeTarget).join(', ')}`);
  }
  if (report.applied) {
    const failed = report.applied.filter((a) => !a.ok).length;
    // Each write was logged once, when it completed (apply's log): only the count here.
    lines.push(`  applied: ${report.applied.length - failed} ok, ${failed} failed`);
  }
  if (report.cleanupPlan) lines.push(...cleanupText(report.cleanupPlan));
  lines.push(...workloadsText(report.workloads ?? []));
  for (const n of report.notes) lines.push(`  note: ${n}`);
  for (const f of report.failures) lines.push(`  failed: ${f}`);
  return lines;
}
