// Apply a plan: Azure first (the FICs must exist before a pod presents its token), then the
// ServiceAccounts. Nothing is written when the plan has a blocking preflight error (the
// pipeline stops before), and a ServiceAccount whose federated credential failed is left
// as it was: pointing it at an identity that cannot accept its token would break the next
// pod that starts, where the old annotation (or none) at least keeps today's behaviour.
import { applyFederatedCredentials } from './azure/apply.ts';
import { applyServiceAccounts } from './kube/apply.ts';
import type { Network } from './net/index.ts';
import type { ClusterSnapshot } from './kube/snapshot.ts';
import type { Ports } from './plan/environment.ts';
import { parallelism, type Concurrency } from './settings.ts';
import type { AppliedChange, FicChange, Plan, ServiceAccountChange } from './plan/types.ts';

const saKey = (namespace: string, name: string) => `${namespace}/${name}`;

export async function applyPlan(
  plan: Plan,
  ports: Ports,
  opts: { concurrency: Concurrency; log: (m: string) => void; net?: Network; /** The run's snapshot, told what apply wrote. */ snapshot?: ClusterSnapshot },
): Promise<AppliedChange[]> {
  const net = opts.net ? { net: opts.net } : {};
  const fics = await applyFederatedCredentials(plan.federatedCredentials, ports.azure, { concurrency: opts.concurrency, log: opts.log, ...net });

  const failedFor = new Map<string, FicChange>();
  for (const a of fics) {
    if (a.ok || a.change.kind !== 'federated-credential') continue;
    for (const b of a.change.bindings) if (b.environment === plan.environment) failedFor.set(saKey(b.namespace, b.serviceAccount), a.change);
  }
  const held: AppliedChange[] = [];
  const ready: ServiceAccountChange[] = [];
  for (const change of plan.serviceAccounts) {
    const fic = failedFor.get(saKey(change.namespace, change.name));
    if (fic && change.action !== 'unchanged') {
      const error = `not applied: its federated credential '${fic.name}' on identity '${fic.identity.name}' could not be written`;
      // Logged here as each write is when it completes: the closing report only counts them.
      opts.log(`ServiceAccount ${change.namespace}/${change.name}: ${error}`);
      held.push({ change, ok: false, attempts: 0, error });
    } else ready.push(change);
  }
  const sas = await applyServiceAccounts(ready, ports.kube, { concurrency: parallelism(opts.concurrency), log: opts.log, ...net, snapshot: opts.snapshot });
  return [...fics, ...held, ...sas];
}
