// The pipeline (DESIGN §2): load mapping → resolve → observe → plan → apply → verify →
// report. Each mode runs a prefix of it. This module only sequences stages; the stages
// live in src/mapping, src/azure, src/kube, src/plan and src/report.
import { isAbsolute, relative, resolve } from 'node:path';
import { loadMapping, resolveBindings, selectEnvironment } from './mapping/index.ts';
import type { ClusterRef, Mapping, MappingProblem, ResolvedBinding } from './mapping/types.ts';
import { applyPlan } from './apply.ts';
import { cleanupStage } from './discover/cleanup-stage.ts';
import { discoverStage } from './discover/stage.ts';
import { describeFailure } from './failure.ts';
import { blockingChecks, planEnvironment, type Ports } from './plan/environment.ts';
import { createClusterSnapshot } from './kube/snapshot.ts';
import { readinessStage } from './workloads/stage.ts';
import { isChange } from './plan/types.ts';
import type { RunReport } from './report/model.ts';
import { capProblems } from './report/limits.ts';
import { parallelism, type Settings } from './settings.ts';
import type { LogSink } from './output/sink.ts';
import { createNetwork, type Network } from './net/index.ts';
import type { CleanupRegistry } from './cleanup.ts';
import type { Invocation } from './verify/invocation.ts';
import { verifyStage } from './verify/stage.ts';

export interface RunEnvironment {
  settings: Settings;
  /** GITHUB_WORKSPACE: relative paths (mapping file, annotations) are relative to it. */
  workspace: string;
  /** Every line the pipeline prints goes through it (src/output/sink.ts). */
  sink: LogSink;
  /** Logs in to Azure and opens the cluster; only called by modes that need them. */
  connect: () => Promise<Ports>;
  /** Request timeout, the run's deadline, retry log (src/net); default: 30 s, no deadline. */
  net?: Network;
  /** Undo steps (verification pods) that must run whatever happens (src/cleanup.ts). */
  cleanups: CleanupRegistry;
  /** This invocation: its verification pods carry its label, and only those are deleted. */
  invocation: Invocation;
  /** Tells the post step which namespaces may hold this invocation's pods (core.saveState). */
  rememberPods?: (namespaces: string[]) => void;
}

export function displayPath(workspace: string, file: string): string {
  const rel = relative(workspace, file);
  return rel && !rel.startsWith('..') && !isAbsolute(rel) ? rel : file;
}

function environmentsToShow(mapping: Mapping, selected: string): string[] {
  if (selected) return [selected];
  return mapping.environments.length ? mapping.environments.map((e) => e.name) : [''];
}

/** The problems to report: the first ones listed, the rest counted (GitHub's limits). */
function setProblems(report: RunReport, problems: MappingProblem[]): void {
  const capped = capProblems(problems);
  report.problems = capped.problems;
  report.problemsLeftOut = capped.leftOut;
}

/** Loads and validates the mapping; selects the environment when one is asked for. */
async function loadStage(run: RunEnvironment, report: RunReport): Promise<Mapping | undefined> {
  const file = resolve(run.workspace, run.settings.mappingFile);
  const loaded = await loadMapping(file, report.mappingFile, { workspace: run.workspace });
  setProblems(report, loaded.problems);
  if (!loaded.mapping || loaded.problems.length) {
    report.failures.push(`${loaded.problems.length} problem(s) in the mapping file ${report.mappingFile}`);
    return undefined;
  }
  const mapping = loaded.mapping;
  // validate with no environment input checks every environment; other modes act on one.
  if (run.settings.environment || run.settings.mode !== 'validate') {
    const selected = selectEnvironment(mapping, run.settings.environment);
    if (!selected.spec) {
      report.failures.push(selected.problem ?? 'no environment selected');
      return undefined;
    }
    // GitHub environment names are case-insensitive: from here on, the mapping's spelling.
    report.environment = selected.spec.name;
  }
  const fallback = { subscriptionId: run.settings.azure.subscriptionId };
  for (const env of environmentsToShow(mapping, report.environment)) {
    report.bindings.set(env, resolveBindings(mapping, env, fallback));
  }
  return mapping;
}

/** Identities need a subscription from the mapping or the azure-subscription-id input. */
function subscriptionProblems(bindings: ResolvedBinding[]): MappingProblem[] {
  return bindings
    .filter((b) => !b.identity.subscriptionId)
    .map((b) => ({
      ...b.identityAt,
      message: `identity '${b.identity.name}' has no subscription: set defaults.subscriptionId (or the environment's defaults, or the identity's subscriptionId) in the mapping, or the azure-subscription-id input`,
    }));
}

/** An empty report for this run; main keeps it to report even a pipeline the deadline left hanging. */
export function newReport(run: Pick<RunEnvironment, 'settings' | 'workspace'>): RunReport {
  const { settings } = run;
  return {
    mode: settings.mode,
    mappingFile: displayPath(run.workspace, resolve(run.workspace, settings.mappingFile)),
    environment: settings.environment,
    bindings: new Map<string, ResolvedBinding[]>(),
    problems: [],
    failures: [],
    notes: [],
  };
}

/** The failure line of a run whose deadline passed: once, whichever stage noticed. */
export function noteDeadline(report: RunReport, net: Network): void {
  if (!net.deadline.passed() || report.failures.some((f) => f.includes("the run's deadline passed"))) return;
  report.failures.push(`the run's deadline passed (timeout: ${net.deadline.seconds} s): no further work was started; what was done is reported above`);
}

export async function runPipeline(run: RunEnvironment, report: RunReport = newReport(run)): Promise<RunReport> {
  const { settings } = run;
  const net = run.net ?? createNetwork();
  if (settings.mode === 'discover') {
    try {
      const result = await discoverStage({ settings, workspace: run.workspace, sink: run.sink, connect: run.connect });
      report.environment = settings.environment || 'default';
      report.discovered = { ...result, shownAs: displayPath(run.workspace, result.file) };
    } catch (err) {
      report.failures.push(describeFailure(err));
    }
    noteDeadline(report, net);
    return report;
  }
  const mapping = await loadStage(run, report);
  if (!mapping || settings.mode === 'validate') return report;

  try {
    await planAndApply(run, net, mapping, report, settings.mode);
  } catch (err) {
    // Keep what was planned and applied so far in the report: the summary and the
    // outputs must say what happened before the failure.
    report.failures.push(describeFailure(err));
  }
  noteDeadline(report, net);
  return report;
}

async function planAndApply(run: RunEnvironment, net: Network, mapping: Mapping, report: RunReport, mode: 'plan' | 'apply' | 'verify'): Promise<void> {
  const { settings } = run;
  const missing = subscriptionProblems(report.bindings.get(report.environment) ?? []);
  setProblems(report, missing);
  if (missing.length) {
    report.failures.push(`${missing.length} identity reference(s) without a subscription in ${report.mappingFile}`);
    return;
  }
  // One collapsible group per stage in the job log; the verdict and annotations stay outside.
  const stage = report.environment ? `Plan ${report.environment}` : 'Plan';
  const { ports, snapshot, plan } = await run.sink.group(`${stage}: log in, read Azure and the cluster`, async () => {
    net.deadline.check('logging in to Azure and the cluster');
    const ports = await run.connect();
    // One view of the cluster for the whole run: plan reads it, apply records its writes in it.
    const snapshot = createClusterSnapshot(ports.kube, { concurrency: parallelism(settings.concurrency) });
    const plan = await planEnvironment(
      {
        mapping,
        environment: report.environment,
        mode,
        verify: settings.verify,
        verifyImage: settings.verifyImage,
        prune: settings.prune,
        concurrency: parallelism(settings.concurrency),
        subscriptionId: settings.azure.subscriptionId,
      },
      ports,
      snapshot,
    );
    return { ports, snapshot, plan };
  });
  report.plan = plan;
  if (!net.deadline.passed()) {
    const readiness = await readinessStage(plan, snapshot);
    report.workloads = readiness.workloads;
    report.notes.push(...readiness.skipped);
  }
  // A plan the deadline cut short is not one to act on or to judge drift by: the pipeline
  // reports the deadline (noteDeadline) with what was planned so far.
  if (net.deadline.passed()) return;
  const blocking = blockingChecks(plan);
  if (blocking.length) {
    report.failures.push(
      `${blocking.length} preflight check(s) failed, each annotated at its mapping line: ${countedNames(blocking)}` + (mode === 'apply' ? '; nothing was applied' : ''),
    );
    // verify still runs its pods: they show what the failed check means for a real pod.
    if (mode !== 'verify') return;
  }
  if (mode === 'verify') return verify(run, report, ports, net, podIdentityClusterOf(mapping, report.environment, settings.azure.subscriptionId));
  const pending = [...plan.federatedCredentials, ...plan.serviceAccounts].filter(isChange).length;
  if (mode === 'plan') {
    if (settings.failOnChanges && pending) report.failures.push(`${pending} change(s) pending and fail-on-changes is set: the cluster or Azure drifted from the mapping`);
    return;
  }

  report.applied = await run.sink.group(`Apply ${report.environment}`.trim(), () =>
    applyPlan(plan, ports, { concurrency: settings.concurrency, log: (m) => run.sink.info(m), net, snapshot }),
  );
  const failed = report.applied.filter((a) => !a.ok);
  if (failed.length) report.failures.push(`${failed.length} of ${report.applied.length} write(s) failed; ${failed.length === report.applied.length ? 'none was applied' : 'the others were applied'}`);
  if (settings.verify) await verify(run, report, ports, net, podIdentityClusterOf(mapping, report.environment, settings.azure.subscriptionId));
  else report.notes.push('Not verified (verify: false): nothing proved that a pod can exchange its token.');
}

/** The environment's AKS cluster, for the add-on's view of Pod Identity (podIdentityProfile). */
interface PodIdentityCluster {
  ref?: ClusterRef;
  subscriptionId: string;
}

function podIdentityClusterOf(mapping: Mapping, environment: string, fallback: string): PodIdentityCluster {
  const spec = selectEnvironment(mapping, environment).spec;
  const ref = spec?.cluster ?? mapping.cluster;
  return { ...(ref ? { ref } : {}), subscriptionId: ref?.subscriptionId ?? spec?.defaults.subscriptionId ?? mapping.defaults.subscriptionId ?? fallback };
}

/** One pod per binding; failures and bindings not applied fail the run. */
async function verify(run: RunEnvironment, report: RunReport, ports: Ports, net: Network, podIdentityCluster: PodIdentityCluster): Promise<void> {
  const { settings } = run;
  const results = await run.sink.group('Verification', () =>
    verifyStage({
      plan: report.plan!,
      bindings: report.bindings.get(report.environment) ?? [],
      applied: report.applied,
      scope: settings.verifyScope,
      image: settings.verifyImage,
      timeoutSeconds: settings.verifyTimeoutSeconds,
      concurrency: settings.verifyConcurrency,
      invocation: run.invocation,
      kube: ports.kube,
      cleanups: run.cleanups,
      sink: run.sink,
      beforePods: run.rememberPods,
      // At the run's deadline no pod is started, and running ones are stopped and deleted.
      signal: net.deadline.signal,
    }),
  );
  report.verifications = results;
  const notApplied = results.filter((r) => r.notApplied).length;
  const failed = results.filter((r) => !r.ok && !r.notApplied).length;
  if (failed) report.failures.push(`${failed} of ${results.length} verification(s) failed: a pod of that ServiceAccount would not get its Azure token`);
  if (notApplied) report.failures.push(`${notApplied} binding(s) not applied yet: run apply for this environment`);
  await cleanupPlanStage(report, ports, results, podIdentityCluster);
}

/** Once bindings verify: which Pod Identity objects now serve nothing (listing only). */
async function cleanupPlanStage(report: RunReport, ports: Ports, results: { ok: boolean; namespace: string; serviceAccount: string }[], cluster: PodIdentityCluster): Promise<void> {
  const verified = new Set(results.filter((r) => r.ok).map((r) => `${r.namespace}/${r.serviceAccount}`));
  if (!verified.size) return;
  try {
    report.cleanupPlan = await cleanupStage(ports, verified, cluster.ref, cluster.subscriptionId);
  } catch (err) {
    report.notes.push(`No Pod Identity clean-up plan: ${(err as Error).message}`);
  }
}

/** Each check's name once, with how many of it failed: "webhook-dry-run (3), issuer". */
function countedNames(checks: readonly { name: string }[]): string {
  const counts = new Map<string, number>();
  for (const c of checks) counts.set(c.name, (counts.get(c.name) ?? 0) + 1);
  return [...counts].map(([name, n]) => (n > 1 ? `${name} (${n})` : name)).join(', ');
}
