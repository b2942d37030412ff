// The first line of every report: what happened to this environment, in one sentence a
// reviewer can act on without opening anything ("✅ staging: 5 bindings applied and verified").
import { isChange } from '../plan/types.ts';
import type { RunReport } from './model.ts';
import { discoverVerdict } from './discover.ts';

const plural = (n: number, one: string, many = `${one}s`) => `${n} ${n === 1 ? one : many}`;

export function bindingCount(report: RunReport): number {
  if (report.environment || report.mode !== 'validate') return report.bindings.get(report.environment)?.length ?? 0;
  return [...report.bindings.values()].reduce((n, b) => n + b.length, 0);
}

export function pendingChanges(report: RunReport): number {
  const plan = report.plan;
  return plan ? [...plan.federatedCredentials, ...plan.serviceAccounts].filter(isChange).length : 0;
}

/** The verdict as plain text (the caller escapes it for Markdown). */
export function verdict(report: RunReport): { ok: boolean; icon: string; subject: string; text: string } {
  const subject = report.environment || (report.mode === 'validate' ? report.mappingFile : report.mode === 'discover' ? 'cluster' : 'mapping');
  const bindings = plural(bindingCount(report), 'binding');
  const say = (icon: string, text: string, ok = true) => ({ ok, icon, subject, text });
  if (report.failures.length) {
    const more = report.failures.length > 1 ? ` (+${report.failures.length - 1} more)` : '';
    return say('❌', `${report.mode} failed: ${report.failures[0]}${more}`, false);
  }
  const verifications = report.verifications ?? [];
  const verified = verifications.length > 0 && verifications.every((v) => v.ok);
  switch (report.mode) {
    case 'validate':
      return say('✅', `valid, ${bindings} in ${plural(report.bindings.size, 'environment')}`);
    case 'plan': {
      const pending = pendingChanges(report);
      return pending ? say('📝', `${plural(pending, 'change')} to apply for ${bindings}`) : say('✅', `${bindings} up to date, nothing to change`);
    }
    case 'apply': {
      const done = (report.applied ?? []).filter((a) => a.ok).length;
      const what = done ? `${bindings} applied (${plural(done, 'change')})` : `${bindings} already applied`;
      return verified ? say('✅', `${what} and verified`) : say('✅', `${what}, not verified`);
    }
    case 'discover':
      return report.discovered ? say('🔎', discoverVerdict(report.discovered)) : say('✅', 'discover done');
    case 'verify':
      return say('✅', `${plural(verifications.length, 'binding')} verified`);
    default:
      return say('✅', `${report.mode} done`);
  }
}
