// Workload readiness in the report: only workloads with something to change are listed (a
// warning), informational findings folded after them; a binding whose workloads are all
// ready adds nothing, so a migrated environment's report stays short.
import { mdCode, mdLines } from '../output/markdown-escape.ts';
import type { WorkloadReadiness } from '../workloads/readiness.ts';

const needsWork = (w: WorkloadReadiness) => w.findings.some((f) => f.severity === 'warning');
const label = (w: WorkloadReadiness) => `${w.kind} ${w.namespace}/${w.name}`;

export function workloadsText(workloads: WorkloadReadiness[]): string[] {
  const lines: string[] = [];
  for (const w of workloads) {
    for (const f of w.findings) lines.push(`  workload ${f.severity === 'warning' ? 'warning' : 'info'} ${label(w)} (ServiceAccount ${w.serviceAccount}): ${f.detail}${f.fix ? ` Fix: ${f.fix}` : ''}`);
  }
  return lines;
}

export function workloadsMarkdown(workloads: WorkloadReadiness[]): string[] {
  const todo = workloads.filter(needsWork);
  const info = workloads.flatMap((w) => w.findings.filter((f) => f.severity === 'info').map((f) => ({ w, f })));
  if (!todo.length && !info.length) return [];
  const out: string[] = [];
  if (todo.length) {
    out.push(`#### Workloads to change: ${todo.length}`, '');
    for (const w of todo) {
      const fixes = w.findings.filter((f) => f.severity === 'warning').map((f) => `${mdLines(f.detail)}${f.fix ? ` *Fix:* ${mdLines(f.fix)}` : ''}`);
      out.push(`- ${mdCode(label(w))} as ${mdCode(w.serviceAccount)}: ${fixes.join(' ')}`);
    }
    out.push('');
  }
  if (info.length) {
    out.push('<details><summary>Worth knowing about the workloads</summary>', '');
    for (const { w, f } of info) out.push(`- ${mdCode(label(w))}: ${mdLines(f.detail)}${f.fix ? ` ${mdLines(f.fix)}` : ''}`);
    out.push('', '</details>', '');
  }
  return out;
}
