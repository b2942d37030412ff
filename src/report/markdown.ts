// One Markdown renderer for the job summary and the sticky PR comment, so the two never
// disagree. Order is what a reviewer needs: the verdict, then what failed (with the
// diagnosis folded in <details>), then what changes, then warnings, then the run. When all
// is well it stays a few lines; tables list changes, never the unchanged rows. Every value
// from data goes through src/output/markdown-escape.ts.
import type { ResolvedBinding } from '../mapping/types.ts';
import { mdCode, mdCodeBlock, mdLines, mdTableRow, mdText } from '../output/markdown-escape.ts';
import type { FicChange, PreflightCheck, ServiceAccountChange } from '../plan/types.ts';
import { isChange } from '../plan/types.ts';
import { describeTarget, type VerificationResult } from '../result.ts';
import type { RunReport } from './model.ts';
import { workloadsMarkdown } from './workloads.ts';
import { pendingChanges, verdict } from './verdict.ts';
import { problemsLeftOutLine } from './limits.ts';
import { discoverMarkdown } from './discover.ts';
import { cleanupMarkdown } from './cleanup.ts';

/** Where the report is read: the run's page for the footer link ('' outside Actions). */
export interface RenderContext {
  runUrl?: string;
}

const ICON: Record<string, string> = {
  create: '➕ create',
  update: '✏️ update',
  annotate: '✏️ annotate',
  delete: '🗑️ delete',
  adopt: '🤝 adopt',
  unchanged: '✔️ unchanged',
};

function table(head: string[], rows: string[][]): string[] {
  if (!rows.length) return [];
  return [mdTableRow(head), `|${head.map(() => '---').join('|')}|`, ...rows.map(mdTableRow), ''];
}

/** A verification with its diagnosis (cause, fix), notApplied and claims (src/result.ts). */
type Verification = VerificationResult;

/** One sentence on why a verification failed: the diagnosis, else the first failed check. */
export function verificationCause(v: Verification): string {
  const why = v.cause ?? v.checks.find((c) => !c.ok)?.detail ?? 'failed';
  return v.aadsts && !why.includes(`AADSTS${v.aadsts}`) ? `${why} (AADSTS${v.aadsts})` : why;
}

/**
 * A failed verification, folded. The summary line is Markdown between blank lines (GitHub
 * renders it so): data then goes through the same escape as everywhere, never raw HTML.
 */
function verificationDetails(v: Verification): string[] {
  const token = v.claims?.token;
  const claims = token ? [`Token: iss ${mdCode(token.iss ?? '')}, sub ${mdCode(token.sub ?? '')}, aud ${mdCode((token.aud ?? []).join(','))}`, ''] : [];
  return [
    '<details>',
    '<summary>',
    '',
    `❌ ${mdCode(`${v.namespace}/${v.serviceAccount}`)} as ${mdCode(v.identity)}: ${mdLines(verificationCause(v))}`,
    '',
    '</summary>',
    '',
    ...(v.fix ? [`**Fix:** ${mdLines(v.fix)}`, ''] : []),
    ...claims,
    ...table(['check', 'result', 'detail'], v.checks.map((c) => [mdCode(c.name), c.ok ? '✅' : '❌', mdLines(c.detail)])),
    '</details>',
    '',
  ];
}

function preflightLine(c: PreflightCheck, mark: string): string[] {
  const line = `- ${mark} **${mdText(c.name)}**: ${mdLines(c.detail)}`;
  if (!c.fix) return [line];
  return [line, '', '  <details><summary>How to fix</summary>', '', ...mdCodeBlock(c.fix, '  '), '  </details>', ''];
}

function failureSection(report: RunReport): string[] {
  const out: string[] = [];
  for (const f of report.failures) out.push(`> **Failed:** ${mdLines(f)}`, '');
  if (report.problems.length) {
    const leftOut = report.problemsLeftOut ?? 0;
    out.push(`**${report.problems.length + leftOut} problem(s) in ${mdCode(report.mappingFile)}**`, '');
    for (const p of report.problems) out.push(`- line ${p.line}, column ${p.column}: ${mdLines(p.message)}`);
    if (leftOut) out.push(`- ${problemsLeftOutLine(leftOut)}`);
    out.push('');
  }
  // Bindings not applied yet first: they are the whole story of a verify before apply.
  const failedVerifications = (report.verifications ?? []).filter((x) => !x.ok) as Verification[];
  for (const v of [...failedVerifications.filter((x) => x.notApplied), ...failedVerifications.filter((x) => !x.notApplied)]) out.push(...verificationDetails(v));
  const failedWrites = (report.applied ?? []).filter((x) => !x.ok);
  for (const a of failedWrites) out.push(`- ❌ ${mdCode(describeTarget(a.change))} (${a.change.action}, ${a.attempts} attempt(s)): ${mdLines(a.error ?? 'failed')}`);
  if (failedWrites.length) out.push('');
  for (const c of report.plan?.preflight.filter((x) => !x.ok && x.severity === 'error') ?? []) out.push(...preflightLine(c, '❌'));
  if (out.length && out.at(-1) !== '') out.push('');
  return out;
}

const ficRow = (c: FicChange): string[] => [ICON[c.action] ?? c.action, mdCode(c.name), mdCode(c.identity.name), mdLines(c.reason)];
const saRow = (c: ServiceAccountChange): string[] => {
  const restart = c.podsToRestart.length ? `<br>restart: ${c.podsToRestart.map(mdCode).join(', ')}` : '';
  return [ICON[c.action] ?? c.action, mdCode(`${c.namespace}/${c.name}`), mdLines(c.reason) + restart];
};

function changeSection(report: RunReport): string[] {
  const plan = report.plan;
  if (!plan) return [];
  const fics = plan.federatedCredentials.filter(isChange);
  const sas = plan.serviceAccounts.filter(isChange);
  const adopted = plan.federatedCredentials.filter((c) => c.action === 'adopt');
  const quiet = plan.federatedCredentials.length - fics.length + plan.serviceAccounts.length - sas.length;
  const out: string[] = [];
  if (fics.length + sas.length) {
    const applied = report.applied?.filter((a) => a.ok).length;
    const title = applied === undefined ? `Changes: ${pendingChanges(report)}` : `Applied: ${applied} of ${fics.length + sas.length} change(s)`;
    out.push(`#### ${title}` + (quiet ? ` (${quiet} already right)` : ''), '');
    out.push(...table(['Azure', 'federated credential', 'identity', 'why'], fics.map(ficRow)));
    out.push(...table(['Kubernetes', 'ServiceAccount', 'why'], sas.map(saRow)));
  }
  if (adopted.length) {
    out.push(`Adopted as they are (same issuer, subject and audience under another name, e.g. made with az CLI): ${adopted.map((c) => `${mdCode(c.name)} on ${mdCode(c.identity.name)}`).join(', ')}`, '');
  }
  return out;
}

function verifiedLine(report: RunReport): string[] {
  const passed = (report.verifications ?? []).filter((v) => v.ok);
  if (!passed.length) return [];
  const shown = passed.slice(0, 20).map((v) => `${mdCode(`${v.namespace}/${v.serviceAccount}`)} as ${mdCode(v.identity)}`);
  const more = passed.length > shown.length ? ` and ${passed.length - shown.length} more` : '';
  return [`✅ Verified (a pod exchanged its token): ${shown.join(', ')}${more}`, ''];
}

function warningSection(report: RunReport): string[] {
  const out: string[] = [];
  for (const c of report.plan?.preflight.filter((x) => !x.ok && x.severity === 'warning') ?? []) out.push(...preflightLine(c, '⚠️'));
  for (const n of report.notes) out.push(`- ⚠️ ${mdLines(n)}`);
  if (out.length && out.at(-1) !== '') out.push('');
  return out;
}

function bindingsTable(env: string, bindings: ResolvedBinding[]): string[] {
  const head = env ? `**${mdText(env)}**: ${bindings.length} binding(s)` : `${bindings.length} binding(s)`;
  const rows = bindings.map((b) => [mdCode(b.namespace), mdCode(b.serviceAccount), mdCode(b.identity.name), mdCode(b.identity.resourceGroup), mdCode(b.ficName)]);
  return [head, '', ...table(['namespace', 'ServiceAccount', 'identity', 'resource group', 'federated credential'], rows)];
}

function footer(report: RunReport, ctx: RenderContext): string {
  const parts = [`Workload Identity ${report.mode}`, `mapping ${mdCode(report.mappingFile)}`];
  if (report.plan?.issuer) parts.push(`issuer ${mdCode(report.plan.issuer)}`);
  // The URL is GitHub's own (server, repository, run id), never data from the mapping.
  if (ctx.runUrl) parts.push(`[the run](${ctx.runUrl})`);
  return parts.join(' · ');
}

export function renderMarkdown(report: RunReport, ctx: RenderContext = {}): string {
  const v = verdict(report);
  const out: string[] = [`### ${v.icon} ${mdText(v.subject)}: ${mdLines(v.text)}`, ''];
  out.push(...failureSection(report));
  if (report.discovered) out.push(...discoverMarkdown(report.discovered));
  out.push(...changeSection(report));
  out.push(...verifiedLine(report));
  if (report.cleanupPlan) out.push(...cleanupMarkdown(report.cleanupPlan));
  out.push(...workloadsMarkdown(report.workloads ?? []));
  out.push(...warningSection(report));
  if (report.mode === 'validate' || (!report.plan && report.problems.length === 0)) {
    for (const [env, bindings] of report.bindings) out.push(...bindingsTable(env, bindings));
  }
  out.push(footer(report, ctx));
  return out.join('\n');
}
