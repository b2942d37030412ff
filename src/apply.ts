// Apply a plan: Azure first (the FICs must exist before a pod presents its token), then the
// ServiceAccounts. Nothing is written when the plan has a blocking preflight error: a
// half-applied environment is worse than none.
import { applyFederatedCredentials } from './azure/apply.ts';
import { applyServiceAccounts } from './kube/apply.ts';
import type { Ports } from './plan/environment.ts';
import type { AppliedChange, Plan } from './plan/types.ts';

export async function applyPlan(plan: Plan, ports: Ports, opts: { concurrency: number; log: (m: string) => void }): Promise<AppliedChange[]> {
  const fics = await applyFederatedCredentials(plan.federatedCredentials, ports.azure, { concurrency: opts.concurrency, log: opts.log });
  const sas = await applyServiceAccounts(plan.serviceAccounts, ports.kube, { concurrency: opts.concurrency });
  return [...fics, ...sas];
}
