// What `mode: discover` reports: the file it wrote, the namespaces it found Pod Identity in,
// and everything it could not carry over mechanically (findings), plus what RBAC hid.
import type { DiscoverResult } from '../discover/run.ts';
import { mdCode, mdLines, mdText } from '../output/markdown-escape.ts';

export interface DiscoverReport extends DiscoverResult {
  /** The written file as the user sees it (workspace-relative). */
  shownAs: string;
}

export function discoverVerdict(d: DiscoverReport): string {
  const held = d.held ? `, ${d.held} held back (see the file)` : '';
  return `${d.bindings} binding(s) proposed from ${d.namespaces.length} namespace(s) in ${d.shownAs}${held}`;
}

export function discoverText(d: DiscoverReport): string[] {
  const lines = [`  wrote ${d.shownAs}: ${discoverVerdict(d)}`];
  if (d.namespaces.length) lines.push(`  Pod Identity in use in: ${d.namespaces.join(', ')}`);
  for (const f of d.findings) lines.push(`  ${f.code} ${f.object}: ${f.detail}${f.fix ? ` Fix: ${f.fix}` : ''}`);
  for (const u of d.unseen) lines.push(`  not seen: ${u}`);
  return lines;
}

export function discoverMarkdown(d: DiscoverReport): string[] {
  const out = [`Wrote ${mdCode(d.shownAs)}: review it and open a pull request; ${mdCode('mode: plan')} then shows what applying it changes.`, ''];
  if (d.namespaces.length) out.push(`Pod Identity in use in: ${d.namespaces.map(mdCode).join(', ')}`, '');
  if (d.findings.length) {
    out.push('#### To decide before migrating', '');
    for (const f of d.findings) out.push(`- **${mdText(f.code)}** ${mdCode(f.object)}: ${mdLines(f.detail)}${f.fix ? ` *Fix:* ${mdLines(f.fix)}` : ''}`);
    out.push('');
  }
  if (d.unseen.length) {
    out.push('#### Not seen (the draft may be incomplete)', '');
    for (const u of d.unseen) out.push(`- ${mdLines(u)}`);
    out.push('');
  }
  return out;
}
