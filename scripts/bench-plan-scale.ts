// The plan-scale benchmark (issue 16), run by `npm run bench` after the FIC benchmark: one
// environment's plan — issuer, identities and FICs from ARM, the cluster's preflight and
// ServiceAccounts — for 1000 bindings over 50 identities in 20 namespaces, with 20 ms per
// Kubernetes and 50 ms per ARM request injected. Half of the ServiceAccounts exist, unannotated,
// each with a running pod (workloads still on Pod Identity): every one of them changes
// identity, so the plan also needs the pods to restart (test/plan/scale-scenario.ts).
// Prints one `BENCH {"scenario":"plan-scale",…}` line; targets: Kubernetes calls a few per
// namespace plus the preflight's, wall ≤ 1.5 s.
import { parseMapping } from '../src/mapping/index.ts';
import { createClusterSnapshot } from '../src/kube/snapshot.ts';
import { planEnvironment } from '../src/plan/environment.ts';
import { readinessStage } from '../src/workloads/stage.ts';
import { startSandbox } from '../test/sandbox/index.ts';
import { sandboxPorts, scaleMapping, scaleScenario } from '../test/plan/scale-scenario.ts';

const SHAPE = { namespaces: 20, perNamespace: 50, identities: 50 };
const BINDINGS = SHAPE.namespaces * SHAPE.perNamespace;
const LATENCY = { kube: 20, arm: 50 };
/** Kubernetes reads per namespace besides the preflight's: LIST serviceaccounts, LIST pods, a further page of each. */
const KUBE_PER_NAMESPACE = 4;
/** The snapshot's reads; the rest is the preflight's (access reviews, namespaces, webhook, issuer, dry run). */
const isSnapshotRead = (kind: string): boolean => /^kube (list|get) (serviceaccounts|pods|deployments|statefulsets|daemonsets|jobs|cronjobs)$/.test(kind);
const WALL_TARGET_MS = 1500;

export interface PlanScaleResult {
  kubeCalls: number;
  snapshotCalls: number;
  armCalls: number;
  wallMs: number;
  calls: Record<string, number>;
  ok: boolean;
}

export async function benchPlanScale(): Promise<PlanScaleResult> {
  const sb = await startSandbox({ scenario: scaleScenario(SHAPE) });
  try {
    const ports = sandboxPorts(sb);
    const loaded = parseMapping(scaleMapping(sb, SHAPE), 'bench.yaml');
    if (!loaded.mapping) throw new Error(loaded.problems.map((p) => `${p.line}: ${p.message}`).join('\n'));
    const input = { mapping: loaded.mapping, environment: 'scale', mode: 'plan' as const, verify: true, verifyImage: '', prune: false, concurrency: 8, subscriptionId: sb.subscriptionId };
    const run = async () => {
      // What mode: plan does with the cluster: the plan and workload readiness, on one snapshot.
      const snapshot = createClusterSnapshot(ports.kube, { concurrency: input.concurrency });
      const plan = await planEnvironment(input, ports, snapshot);
      const readiness = await readinessStage(plan, snapshot);
      if (readiness.skipped.length) throw new Error(`plan-scale: ${readiness.skipped.join('; ')}`);
      const errors = plan.preflight.filter((c) => !c.ok && c.severity === 'error');
      if (errors.length) throw new Error(`plan-scale: ${errors.map((c) => c.detail).join('; ')}`);
      if (plan.serviceAccounts.length !== BINDINGS || plan.federatedCredentials.length !== BINDINGS) {
        throw new Error(`plan-scale: ${plan.serviceAccounts.length} ServiceAccount and ${plan.federatedCredentials.length} FIC changes, expected ${BINDINGS} each`);
      }
      // Half the ServiceAccounts exist with a pod still on Pod Identity (no use label): the
      // plan reads their pods and says a restart alone will not do.
      const unlabelled = plan.serviceAccounts.filter((c) => c.reason.includes('lack the label')).length;
      if (unlabelled !== BINDINGS / 2) throw new Error(`plan-scale: ${unlabelled} ServiceAccounts with unlabelled pods, expected ${BINDINGS / 2}`);
    };

    // Warm up outside the measurement: login (one token per run) and TLS connections.
    await run();
    sb.faults.latency.kube = { readMs: LATENCY.kube, writeMs: LATENCY.kube };
    sb.faults.latency.arm = { readMs: LATENCY.arm, writeMs: LATENCY.arm };
    sb.log.reset();
    const t0 = performance.now();
    await run();
    const wallMs = performance.now() - t0;
    const calls = sb.log.counts();
    const kubeCalls = sb.log.of('kube').length;
    const snapshotCalls = Object.entries(calls)
      .filter(([k]) => isSnapshotRead(k))
      .reduce((n, [, v]) => n + v, 0);
    const ok = snapshotCalls <= KUBE_PER_NAMESPACE * SHAPE.namespaces && wallMs <= WALL_TARGET_MS;
    return { kubeCalls, snapshotCalls, armCalls: sb.log.of('arm').length, wallMs, calls, ok };
  } finally {
    await sb.stop();
  }
}

export function printPlanScale(r: PlanScaleResult): void {
  console.log(`\nPlan at scale: ${BINDINGS} bindings over ${SHAPE.identities} identities in ${SHAPE.namespaces} namespaces, ${LATENCY.kube} ms per Kubernetes and ${LATENCY.arm} ms per ARM request\n`);
  console.table(r.calls);
  const line = {
    scenario: 'plan-scale',
    bindings: BINDINGS,
    identities: SHAPE.identities,
    namespaces: SHAPE.namespaces,
    kube_calls: r.kubeCalls,
    kube_snapshot_calls: r.snapshotCalls,
    arm_calls: r.armCalls,
    wall_ms: Math.round(r.wallMs),
    calls: r.calls,
  };
  console.log(`BENCH ${JSON.stringify(line)}`);
  console.log(
    r.ok
      ? `\nplan-scale meets the targets (Kubernetes reads ≤ ${KUBE_PER_NAMESPACE} per namespace besides the preflight's, wall ≤ ${WALL_TARGET_MS} ms).`
      : '\nplan-scale MISSES a target.',
  );
}

// On its own: node scripts/bench-plan-scale.ts
if (import.meta.url === `file://${process.argv[1]}`) {
  const r = await benchPlanScale();
  printPlanScale(r);
  process.exitCode = r.ok ? 0 : 1;
}
