// The clean-up plan in the report: a list of what can go, never a command the action runs.
import type { CleanupPlan } from '../discover/cleanup.ts';
import { mdCode, mdCodeBlock, mdLines } from '../output/markdown-escape.ts';

export function cleanupText(plan: CleanupPlan): string[] {
  const lines: string[] = [];
  for (const l of plan.labelsToRemove) lines.push(`  clean-up: remove the label aadpodidbinding: ${l.selector} from ${l.workload} (its ServiceAccount verified)`);
  for (const b of plan.unusedBindings) lines.push(`  clean-up: ${b} serves no pod template: it can be deleted`);
  for (const i of plan.unusedIdentities) lines.push(`  clean-up: ${i} is named by no binding in use: it can be deleted`);
  if (plan.stillInUse.length) lines.push(`  clean-up: still on Pod Identity: ${plan.stillInUse.join(', ')}`);
  for (const r of plan.removal) lines.push(`  clean-up: nothing uses Pod Identity any more: ${r}`);
  for (const u of plan.unseen) lines.push(`  clean-up: could not see ${u}`);
  return lines;
}

export function cleanupMarkdown(plan: CleanupPlan): string[] {
  const items = [
    ...plan.labelsToRemove.map((l) => `- remove ${mdCode(`aadpodidbinding: ${l.selector}`)} from ${mdCode(l.workload)} (its ServiceAccount verified)`),
    ...plan.unusedBindings.map((b) => `- delete ${mdCode(b)}: it serves no pod template`),
    ...plan.unusedIdentities.map((i) => `- delete ${mdCode(i)}: no binding in use names it`),
  ];
  if (!items.length && !plan.removal.length && !plan.unseen.length) return [];
  const out = ['#### Pod Identity clean-up (listing only)', '', ...items];
  if (plan.stillInUse.length) out.push(`- still on Pod Identity: ${plan.stillInUse.map(mdCode).join(', ')}`);
  if (plan.removal.length) out.push('', 'Nothing in the cluster uses Pod Identity any more; remove it:', '', ...mdCodeBlock(plan.removal.join('\n')));
  for (const u of plan.unseen) out.push(`- could not see ${mdLines(u)}`);
  out.push('');
  return out;
}
