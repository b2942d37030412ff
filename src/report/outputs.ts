// The action's outputs derived from the run report (DESIGN §3, §6).
import { isChange } from '../plan/types.ts';
import { appliedEntries, planEntries, type ResultJson } from '../result.ts';
import type { RunReport } from './model.ts';
import { problemsLeftOutLine } from './limits.ts';

export function countChanges(report: RunReport): number {
  if (report.applied) return report.applied.filter((a) => a.ok).length;
  if (!report.plan) return 0;
  return [...report.plan.federatedCredentials, ...report.plan.serviceAccounts].filter(isChange).length;
}

export function allVerified(report: RunReport): boolean {
  const v = report.verifications ?? [];
  return v.length > 0 && v.every((x) => x.ok);
}

export function toResultJson(report: RunReport): ResultJson {
  const plan = report.plan;
  return {
    version: 1,
    environment: report.environment,
    mode: report.mode,
    issuer: plan?.issuer ?? '',
    plan: plan ? planEntries([...plan.federatedCredentials, ...plan.serviceAccounts].filter(isChange)) : [],
    applied: appliedEntries(report.applied ?? []),
    verifications: report.verifications ?? [],
    preflight: plan?.preflight ?? [],
    ...(report.cleanupPlan ? { podIdentityCleanup: report.cleanupPlan } : {}),
    ...(report.workloads ? { workloads: report.workloads } : {}),
    problems: [
      ...report.problems.map((p) => `${p.file}:${p.line}:${p.column}: ${p.message}`),
      ...(report.problemsLeftOut ? [problemsLeftOutLine(report.problemsLeftOut)] : []),
      ...report.failures,
    ],
  };
}
