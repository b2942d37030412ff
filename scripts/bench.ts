// npm run bench: how fast the action starts, and how fast the Azure stage writes federated
// credentials, on the sandbox with ARM latency injected (50 ms per read, 200 ms per write;
// the emulator's own write hold is set to 0 so a write costs exactly the injected 200 ms,
// and a write still counts as in flight for concurrent-write 409s during that latency).
// Scenarios, each one `BENCH {json}` line:
//   startup                  `mode: validate` of the built dist/ as a child process, median of
//                            11 runs against bare node in the same run (bench-startup.ts)
//   fic-apply                200 bindings over 20 identities, `concurrency` at its default (auto)
//   fic-apply-concurrency-8  the same with `concurrency: 8` (the default before auto)
//   fic-apply-throttled      40 bindings over 8 identities in one subscription, the sandbox
//                            enforcing the documented write limits (2/s per subscription,
//                            0.25/s per identity, 10/s per tenant; test/sandbox/throttle.ts)
// What the fic scenarios measure, from the sandbox's call log:
//   wall          the apply phase, start to end
//   critical path the longest per-identity chain of writes (sum of that identity's write
//                 durations): Azure serializes FIC writes per identity, so no schedule can
//                 beat it
//   bound         (throttled) the time the limits alone impose: max(writes ÷ 2/s, the
//                 largest identity's writes ÷ 0.25/s)
//   serial        the same 200 creates one at a time, as an `az identity
//                 federated-credential create` loop would do them
//   vs-az-cli                the seeds' way with the real az CLI — one `az identity
//                            federated-credential create` per binding, in sequence, identity
//                            by identity — through the sandbox's proxy with the same ARM
//                            latency, against the action's plan + apply of all the bindings.
//                            az costs seconds per call, so it writes a subset (AZ_IDENTITIES
//                            identities) and its time is scaled linearly to every binding (the
//                            BENCH line says so). Skipped, with the reason, without az.
//   verify                   verification pods (bench-verify.ts)
//   plan-scale               a whole plan of 1000 bindings in 20 namespaces (bench-plan-scale.ts, issue 16):
//                            Kubernetes reads a few per namespace besides the preflight's, wall ≤ 1.5 s
// Targets: startup ≤ 150 ms median and ≤ 6 × node, what validate loads ≤ 1 MiB, dist/ ≤
// 7 637 418 bytes; fic-apply wall ≤ 1.3 × critical path, serial ≥ 10 × wall, 0 writes on an
// immediate re-run; fic-apply-throttled wall ≤ 1.2 × bound with ≤ 10 % of writes answered 429.
import { existsSync } from 'node:fs';
import { resolve } from 'node:path';
import tls from 'node:tls';
import { applyFederatedCredentials } from '../src/azure/apply.ts';
import { createAzureCredential } from '../src/azure/credential.ts';
import { resolveIssuer } from '../src/azure/issuer.ts';
import { planFederatedCredentials } from '../src/azure/plan.ts';
import { createArmPort, type AzurePort } from '../src/azure/port.ts';
import { parseMapping, resolveBindings, selectEnvironment } from '../src/mapping/index.ts';
import type { ResolvedBinding } from '../src/mapping/types.ts';
import type { FicChange } from '../src/plan/types.ts';
import type { Concurrency } from '../src/settings.ts';
import { azCli, findAz } from '../test/sandbox/az.ts';
import { startSandboxCore, type SandboxCore } from '../test/sandbox/sandbox.ts';
import type { CallRecord } from '../test/sandbox/http.ts';
import { FIC_WRITE_LIMITS } from '../test/sandbox/throttle.ts';
import { measureStartup } from './bench-startup.ts';
import { benchVerify } from './bench-verify.ts';
import { armCallKind } from '../test/sandbox/call-kinds.ts';
import { benchPlanScale, printPlanScale } from './bench-plan-scale.ts';

const IDENTITIES = 20;
const PER_IDENTITY = 10;
const THROTTLED = { identities: 8, perIdentity: 5 };
const LATENCY = { readMs: 50, writeMs: 200 };
/** Identities az writes in vs-az-cli (PER_IDENTITY bindings each), scaled to all of them. */
const AZ_IDENTITIES = 2;

type Sandbox = SandboxCore<undefined>;

function mappingText(subscriptionId: string, tenantId: string, identities: number, perIdentity: number): string {
  const lines = [
    'version: 1',
    'defaults:',
    `  tenantId: ${tenantId}`,
    `  subscriptionId: ${subscriptionId}`,
    '  resourceGroup: rg-identities',
    'environments:',
    '  bench:',
    '    cluster: { resourceGroup: rg-aks, name: aks-bench }',
    'bindings:',
  ];
  for (let i = 0; i < identities; i++) {
    for (let j = 0; j < perIdentity; j++) {
      lines.push(`  - namespace: team-${String(i).padStart(2, '0')}`, `    serviceAccount: app-${j}`, `    identity: id-${String(i).padStart(2, '0')}`);
    }
  }
  return lines.join('\n');
}

const callKind = (c: CallRecord): string => (c.service === 'arm' ? armCallKind(c) : `${c.service} ${c.method}`);

const isWrite = (c: CallRecord): boolean => c.service === 'arm' && !['GET', 'HEAD'].includes(c.method);
const identityOf = (c: CallRecord): string => /\/userassignedidentities\/([^/?]+)/i.exec(c.path)?.[1]?.toLowerCase() ?? '?';

function countKinds(calls: CallRecord[]): Record<string, number> {
  const out: Record<string, number> = {};
  for (const c of calls) {
    const kind = callKind(c) + (c.status === 429 ? ' 429' : '');
    out[kind] = (out[kind] ?? 0) + 1;
  }
  return Object.fromEntries(Object.entries(out).sort());
}

/** Longest per-identity chain of writes that were carried out: the sum of that identity's write durations. */
function criticalPath(calls: CallRecord[]): number {
  const perIdentity = new Map<string, number>();
  for (const c of calls.filter((c) => isWrite(c) && c.status < 300)) perIdentity.set(identityOf(c), (perIdentity.get(identityOf(c)) ?? 0) + (c.end - c.start));
  return Math.max(0, ...perIdentity.values());
}

/** The longest run of consecutive writes (by start) to one identity: 1 means they took turns. */
function longestRun(calls: CallRecord[]): number {
  let longest = 0;
  let run = 0;
  let last = '';
  for (const c of calls.filter(isWrite).sort((a, b) => a.start - b.start)) {
    run = identityOf(c) === last ? run + 1 : 1;
    last = identityOf(c);
    longest = Math.max(longest, run);
  }
  return longest;
}

const settle = (): Promise<void> => new Promise((r) => setTimeout(r, 50));

interface Stage {
  port: AzurePort;
  bindings: ResolvedBinding[];
  cluster: { resourceGroup: string; name: string };
  at: { file: string; line: number; column: number };
}

async function plan(sb: Sandbox, stage: Stage, concurrency: number): Promise<FicChange[]> {
  const issuer = await resolveIssuer({ cluster: stage.cluster, at: stage.at }, stage.port, sb.subscriptionId);
  if (!issuer.issuer) throw new Error(`issuer: ${issuer.checks.map((c) => c.detail).join('; ')}`);
  const result = await planFederatedCredentials({ bindings: stage.bindings, issuer: issuer.issuer, environment: 'bench', prune: false, concurrency }, stage.port);
  const errors = result.checks.filter((c) => !c.ok && c.severity === 'error');
  if (errors.length) throw new Error(`plan: ${errors.map((c) => c.detail).join('; ')}`);
  return result.changes;
}

function clearFics(sb: Sandbox): void {
  for (const identity of sb.state.identities) identity.fics = [];
}

interface Measured {
  scenario: string;
  concurrency: Concurrency;
  bindings: number;
  identities: number;
  planMs: number;
  wallMs: number;
  criticalMs: number;
  writes: number;
  throttled: number;
  longestRun: number;
  calls: Record<string, number>;
  rerunWrites: number;
  failed: number;
}

async function measure(sb: Sandbox, stage: Stage, scenario: string, concurrency: Concurrency): Promise<Measured> {
  clearFics(sb);
  sb.log.reset();
  const reads = concurrency === 'auto' ? 8 : concurrency;
  const t0 = performance.now();
  const changes = await plan(sb, stage, reads);
  const t1 = performance.now();
  const applied = await applyFederatedCredentials(changes, stage.port, { concurrency });
  const t2 = performance.now();
  await settle();
  const calls = [...sb.log.calls];
  const writes = calls.filter(isWrite);

  sb.log.reset();
  const again = await plan(sb, stage, reads);
  await applyFederatedCredentials(again, stage.port, { concurrency });
  await settle();
  return {
    scenario,
    concurrency,
    bindings: stage.bindings.length,
    identities: new Set(stage.bindings.map((b) => b.identity.name)).size,
    planMs: t1 - t0,
    wallMs: t2 - t1,
    criticalMs: criticalPath(calls),
    writes: writes.filter((c) => c.status < 300).length,
    throttled: writes.filter((c) => c.status === 429).length,
    longestRun: longestRun(calls),
    calls: countKinds(calls),
    rerunWrites: sb.log.calls.filter(isWrite).length,
    failed: applied.filter((a) => !a.ok).length,
  };
}

/** One write at a time, no plan: what a shell loop over `az identity federated-credential create` does. */
async function serialBaseline(sb: Sandbox, stage: Stage): Promise<number> {
  clearFics(sb);
  const changes = await plan(sb, stage, 8);
  clearFics(sb);
  sb.log.reset();
  const t0 = performance.now();
  for (const c of changes) if (c.desired) await stage.port.putFederatedCredential(c.identity, c.desired);
  return performance.now() - t0;
}

/** Targets of issue 15: validate ≤ 150 ms median and ≤ 6 × bare node; what it loads ≤ 1 MiB; dist/ ≤ 7 637 418 bytes. */
function startup(): boolean {
  const root = resolve(import.meta.dirname, '..');
  if (!existsSync(resolve(root, 'dist/index.js'))) throw new Error("dist/ is not built: run 'npm run build' first");
  const m = measureStartup(resolve(root, 'dist'), resolve(root, 'examples/workload-identity.yaml'));
  console.log(`\nStartup: mode validate, built dist/ as a child process, median of ${m.runs} runs\n`);
  console.table([{ 'median ms': Math.round(m.medianMs), 'bare node ms': Math.round(m.nodeBaselineMs), 'over node': +(m.medianMs / m.nodeBaselineMs).toFixed(2), 'core bytes': m.coreBytes, 'dist bytes': m.distBytes }]);
  console.log(
    `BENCH ${JSON.stringify({ scenario: 'startup', mode: 'validate', runs: m.runs, median_ms: Math.round(m.medianMs), node_baseline_ms: Math.round(m.nodeBaselineMs), over_baseline: +(m.medianMs / m.nodeBaselineMs).toFixed(2), core_bytes: m.coreBytes, dist_bytes: m.distBytes })}`,
  );
  const ok = m.medianMs <= 150 && m.medianMs <= 6 * m.nodeBaselineMs && m.coreBytes <= 1024 * 1024 && m.distBytes <= 7_637_418;
  console.log(ok ? 'startup meets the targets (≤ 150 ms, ≤ 6 × node, core ≤ 1 MiB, dist/ ≤ 7.64 MB).' : 'startup MISSES a target.');
  return ok;
}

interface VsAzCli {
  azBindings: number;
  azMs: number;
  failed: number;
  /** Requests az made during the loop, by kind (ARM and Entra). */
  calls: Record<string, number>;
}

/** The seeds' loop with the real az: one create per binding, in sequence, identity by identity. */
async function azLoop(sb: Sandbox, stage: Stage, az: string): Promise<VsAzCli> {
  clearFics(sb);
  const changes = (await plan(sb, stage, IDENTITIES)).filter((c) => c.desired);
  clearFics(sb);
  const ids = [...new Set(changes.map((c) => c.identity.name))].sort().slice(0, AZ_IDENTITIES);
  const subset = changes.filter((c) => ids.includes(c.identity.name)).sort((a, b) => a.identity.name.localeCompare(b.identity.name));
  const cli = azCli(az, sb.env);
  try {
    // Outside the measurement, as a workflow logs in once: azure/login.
    const login = await cli.login(sb.loginApp.clientId, sb.tenantId, await sb.githubIdToken('api://AzureADTokenExchange'));
    if (login.code !== 0) throw new Error(`az login failed: ${login.stderr}`);
    let failed = 0;
    sb.log.reset();
    const t0 = performance.now();
    for (const c of subset) {
      const f = c.desired!;
      const r = await cli.run(['identity', 'federated-credential', 'create', '--name', f.name, '--identity-name', c.identity.name, '-g', c.identity.resourceGroup, '--subscription', c.identity.subscriptionId, '--issuer', f.issuer, '--subject', f.subject, '--audiences', ...f.audiences, '-o', 'none']);
      if (r.code !== 0) failed++;
    }
    const azMs = performance.now() - t0;
    await settle();
    return { azBindings: subset.length, azMs, failed, calls: countKinds(sb.log.calls) };
  } finally {
    cli.dispose();
  }
}

function stageFor(sb: Sandbox, port: AzurePort, identities: number, perIdentity: number): Stage {
  const loaded = parseMapping(mappingText(sb.subscriptionId, sb.tenantId, identities, perIdentity), 'bench.yaml');
  if (!loaded.mapping) throw new Error(loaded.problems.map((p) => `${p.line}: ${p.message}`).join('\n'));
  const env = selectEnvironment(loaded.mapping, 'bench').spec!;
  return { port, bindings: resolveBindings(loaded.mapping, 'bench'), cluster: env.cluster!, at: env.at };
}

const round = (n: number, digits = 3): number => +n.toFixed(digits);

async function main(): Promise<void> {
  const startupOk = startup();
  const sb = await startSandboxCore<undefined>({
    arm: { writeHoldMs: 0 },
    proxy: true, // for the az CLI peer (vs-az-cli); the action's port talks to ARM directly
    scenario: {
      name: 'bench',
      resourceGroups: ['rg-identities'],
      identities: Array.from({ length: IDENTITIES }, (_, i) => ({ name: `id-${String(i).padStart(2, '0')}` })),
      clusters: [{ name: 'aks-bench', resourceGroup: 'rg-aks' }],
      github: { event: 'deployment', environment: 'bench' },
    },
  });
  try {
    // NODE_EXTRA_CA_CERTS is read at process start; the CA exists only now (see test/azure/sandbox-helpers.ts).
    tls.setDefaultCACertificates([...tls.getCACertificates('default'), sb.tls.caPem]);
    const settings = { clientId: sb.loginApp.clientId, tenantId: sb.tenantId, subscriptionId: sb.subscriptionId, cloud: 'AzureCloud' as const, armEndpoint: sb.urls.arm, authorityHost: sb.urls.entra, audience: 'api://AzureADTokenExchange' };
    const getIdToken = async (audience: string): Promise<string> => {
      const res = await fetch(`${sb.env.ACTIONS_ID_TOKEN_REQUEST_URL}&audience=${encodeURIComponent(audience)}`, { headers: { authorization: `Bearer ${sb.env.ACTIONS_ID_TOKEN_REQUEST_TOKEN}` } });
      return ((await res.json()) as { value: string }).value;
    };
    const credential = createAzureCredential(settings, getIdToken);
    const port = createArmPort(credential, { armEndpoint: sb.urls.arm });
    const stage = stageFor(sb, port, IDENTITIES, PER_IDENTITY);
    const small = stageFor(sb, port, THROTTLED.identities, THROTTLED.perIdentity);

    // Warm up outside the measurement: login (one token per run) and TLS connections.
    await plan(sb, stage, IDENTITIES);

    sb.faults.latency.arm = { ...LATENCY };
    const auto = await measure(sb, stage, 'fic-apply', 'auto');
    const eight = await measure(sb, stage, 'fic-apply-concurrency-8', 8);
    const serialMs = await serialBaseline(sb, stage);
    const az = findAz();
    const vsAz = az ? await azLoop(sb, stage, az) : undefined;
    sb.arm.setWriteLimits(FIC_WRITE_LIMITS);
    const throttled = await measure(sb, small, 'fic-apply-throttled', 'auto');
    sb.arm.setWriteLimits(undefined);
    const boundMs = 1000 * Math.max(throttled.writes / FIC_WRITE_LIMITS.subscription, THROTTLED.perIdentity / FIC_WRITE_LIMITS.resource);

    console.log(`\nFederated credentials: ARM latency ${LATENCY.readMs} ms/read, ${LATENCY.writeMs} ms/write\n`);
    console.table(
      [auto, eight, throttled].map((m) => ({
        scenario: m.scenario,
        bindings: m.bindings,
        concurrency: m.concurrency,
        'plan ms': Math.round(m.planMs),
        'wall ms': Math.round(m.wallMs),
        'critical path ms': Math.round(m.criticalMs),
        'wall / critical': round(m.wallMs / m.criticalMs, 2),
        'bound ms': m === throttled ? Math.round(boundMs) : '',
        'wall / bound': m === throttled ? round(m.wallMs / boundMs, 2) : '',
        '429s': m.throttled,
        'longest run': m.longestRun,
        'rerun writes': m.rerunWrites,
        failed: m.failed,
      })),
    );
    console.log(`serial loop (200 creates, one at a time): ${Math.round(serialMs)} ms, ${round(serialMs / auto.wallMs, 1)} × fic-apply's wall`);
    for (const m of [auto, eight, throttled]) {
      console.log(
        `BENCH ${JSON.stringify({
          scenario: m.scenario,
          bindings: m.bindings,
          identities: m.identities,
          concurrency: m.concurrency,
          plan_ms: Math.round(m.planMs),
          wall_ms: Math.round(m.wallMs),
          critical_path_ms: Math.round(m.criticalMs),
          wall_over_critical: round(m.wallMs / m.criticalMs),
          ...(m === throttled
            ? { bound_ms: Math.round(boundMs), wall_over_bound: round(m.wallMs / boundMs), writes: m.writes, throttled_429: m.throttled, throttled_share: round(m.throttled / m.writes) }
            : { serial_ms: Math.round(serialMs), serial_over_wall: round(serialMs / m.wallMs, 2) }),
          longest_run_one_identity: m.longestRun,
          calls: m.calls,
          rerun_writes: m.rerunWrites,
        })}`,
      );
    }
    if (vsAz) {
      // The action's whole Azure stage (plan + apply) at its default concurrency, against az's
      // loop scaled to every binding.
      const bindings = IDENTITIES * PER_IDENTITY;
      const actionMs = auto.planMs + auto.wallMs;
      const azMs = (vsAz.azMs * bindings) / vsAz.azBindings;
      console.log(
        `\naz CLI loop: ${vsAz.azBindings} bindings (${AZ_IDENTITIES} identities) in ${Math.round(vsAz.azMs)} ms = ${Math.round(vsAz.azMs / vsAz.azBindings)} ms per binding, ${vsAz.failed} failed; scaled to ${bindings}: ${Math.round(azMs)} ms vs the action's ${Math.round(actionMs)} ms (plan + apply, concurrency ${auto.concurrency}).`,
      );
      console.log(
        `BENCH ${JSON.stringify({
          scenario: 'vs-az-cli',
          bindings,
          identities: IDENTITIES,
          az_ms: Math.round(azMs),
          az_measured_bindings: vsAz.azBindings,
          az_scaled: `linear from ${vsAz.azBindings} bindings`,
          az_ms_per_binding: Math.round(vsAz.azMs / vsAz.azBindings),
          az_failed: vsAz.failed,
          az_calls: vsAz.calls,
          action_ms: Math.round(actionMs),
          action_concurrency: auto.concurrency,
          action_ms_concurrency_8: Math.round(eight.planMs + eight.wallMs),
          ratio: +(azMs / actionMs).toFixed(1),
          arm_latency_ms: LATENCY,
        })}`,
      );
    } else {
      console.log("\nvs-az-cli skipped: no `az` on PATH (apt-get install azure-cli to compare with the seeds' az loop).");
    }
    const fast = auto.wallMs <= 1.3 * auto.criticalMs && serialMs >= 10 * auto.wallMs && auto.rerunWrites === 0 && auto.failed === 0;
    const graceful = throttled.wallMs <= 1.2 * boundMs && throttled.throttled <= 0.1 * throttled.writes && throttled.failed === 0 && throttled.rerunWrites === 0;
    console.log(fast ? '\nfic-apply meets the targets (wall ≤ 1.3 × critical path, serial ≥ 10 × wall, 0 re-run writes).' : '\nfic-apply MISSES a target.');
    console.log(graceful ? 'fic-apply-throttled meets the targets (wall ≤ 1.2 × bound, ≤ 10 % of writes answered 429).' : 'fic-apply-throttled MISSES a target.');
    process.exitCode = startupOk && fast && graceful ? 0 : 1;
  } finally {
    await sb.stop();
  }
  const v = await benchVerify();
  console.log(`\nVerification: ${v.bindings} bindings, ${v.concurrency} pods at once, each pod's image pull fixed at ${v.pull_ms} ms`);
  console.log(`BENCH ${JSON.stringify({ scenario: 'verify', bindings: v.bindings, concurrency: v.concurrency, wall_ms: v.wall_ms, one_pod_ms: v.one_pod_ms, target_ms: v.target_ms, verified: v.ok })}`);
  const verifyOk = v.wall_ms <= v.target_ms && v.ok === v.bindings;
  console.log(verifyOk ? 'verify meets the target (wall ≤ 1.5 × ceil(bindings / concurrency) × one pod, every binding verified).' : 'verify MISSES the target.');
  if (!verifyOk) process.exitCode = 1;
  const scale = await benchPlanScale();
  printPlanScale(scale);
  if (!scale.ok) process.exitCode = 1;
}

await main();
