// GitHub annotations from the report: each points at the mapping line it is about, so a
// reviewer sees it on the PR's Files tab — mapping problems, blocking preflight checks that
// know their line, and failed verifications at their binding.
import type { SourcePosition } from '../mapping/types.ts';
import { verificationCause } from './markdown.ts';
import type { RunReport } from './model.ts';

export interface ReportAnnotation {
  /** Blocking findings are errors; preflight warnings stay warnings. */
  level: 'error' | 'warning';
  title: string;
  message: string;
  at: SourcePosition;
}

export function annotations(report: RunReport): ReportAnnotation[] {
  const out: ReportAnnotation[] = report.problems.map((p) => ({ level: 'error', title: 'Workload Identity mapping', message: p.message, at: p }));
  for (const c of report.plan?.preflight ?? []) {
    // With its fix: the annotation is what a reviewer reads on the PR's Files tab.
    const message = c.fix ? `${c.detail} Fix: ${c.fix}` : c.detail;
    if (!c.ok && c.severity !== 'info' && c.at) out.push({ level: c.severity === 'error' ? 'error' : 'warning', title: `Workload Identity preflight: ${c.name}`, message, at: c.at });
  }
  const bindings = report.bindings.get(report.environment) ?? [];
  for (const v of (report.verifications ?? []).filter((x) => !x.ok)) {
    const binding = bindings.find((b) => b.namespace === v.namespace && b.serviceAccount === v.serviceAccount);
    if (!binding) continue;
    out.push({
      level: 'error',
      title: `Workload Identity verification: ${v.namespace}/${v.serviceAccount}`,
      message: `${v.namespace}/${v.serviceAccount} as ${v.identity} failed verification: ${verificationCause(v)}`,
      at: binding.at,
    });
  }
  return out;
}
