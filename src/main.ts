// The main step: read inputs once, run the pipeline, turn its report into annotations,
// a job summary and outputs. Any thrown error becomes one readable failure line.
// dist/index.js only calls run() from the core bundle (src/core.ts, scripts/build.mjs).
import * as core from '@actions/core';
import { createCleanupRegistry, type CleanupRegistry } from './cleanup.ts';
import { describeFailure } from './failure.ts';
import { kubeconfigSecrets } from './kube/kubeconfig-secrets.ts';
import { loadConnected } from './load-connected.ts';
import type { Ports } from './plan/environment.ts';
import { newReport, noteDeadline, runPipeline } from './pipeline.ts';
import { createDeadline, createNetwork, GRACE_MS, requestTimeoutFrom, withGrace, type Network } from './net/index.ts';
import { readGithubRun, runUrl } from './github/context.ts';
import { annotations } from './report/annotations.ts';
import { renderMarkdown } from './report/markdown.ts';
import { capResult, capSummary, problemsLeftOutLine } from './report/limits.ts';
import { renderText } from './report/text.ts';
import { toResultJson, countChanges, allVerified } from './report/outputs.ts';
import { parseSettings, type Settings } from './settings.ts';
import { createSink, oneLine, type LogSink } from './output/sink.ts';
import { INVOCATION_STATE_KEY, newInvocation } from './verify/invocation.ts';

const sink: LogSink = createSink(core);
const cleanups: CleanupRegistry = createCleanupRegistry();

function handleSignals(): void {
  // A cancelled workflow sends SIGINT then SIGTERM: clean up before the runner kills us.
  for (const signal of ['SIGINT', 'SIGTERM'] as const) {
    process.once(signal, () => {
      sink.warning(`Received ${signal}: cleaning up before exit`);
      void cleanups.runAll((m) => sink.warning(m)).finally(() => process.exit(signal === 'SIGINT' ? 130 : 143));
    });
  }
}

/** Only modes that connect load the SDKs (dist/connected.js); validate never does. */
async function connect(settings: Settings, net: Network): Promise<Ports> {
  // The kubeconfig input may hold a token or a client key: mask them before anything can log them.
  for (const secret of kubeconfigSecrets(settings.kubeconfig)) sink.secret(secret);
  const connected = await loadConnected();
  return connected.connect(settings, { sink, cleanups, net, saveState: (name, value) => core.saveState(name, value) });
}

/**
 * Every request honours the deadline's signal, so the pipeline returns soon after it; this
 * is the backstop for one that does not (a credential process, a library without a
 * signal): the report is written with what is known and the run ends anyway. Deleting
 * verification pods has GRACE_MS past the deadline; this waits one second more.
 */
const DEADLINE_GRACE_MS = GRACE_MS + 1_000;
function pastDeadline(net: Network): Promise<'deadline'> {
  return new Promise((resolve) => {
    const wait = (): void => void setTimeout(() => resolve('deadline'), DEADLINE_GRACE_MS).unref();
    if (net.deadline.signal.aborted) wait();
    else net.deadline.signal.addEventListener('abort', wait, { once: true });
  });
}

export async function run(): Promise<void> {
  handleSignals();
  let net: Network | undefined;
  try {
    const settings = parseSettings((name) => core.getInput(name));
    sink.secret(settings.githubToken);
    const workspace = process.env.GITHUB_WORKSPACE || process.cwd();
    net = createNetwork({ timeoutMs: requestTimeoutFrom(process.env), deadline: createDeadline(settings.timeoutSeconds), log: (line) => sink.info(line) });
    const invocation = newInvocation(process.env);
    const run = {
      settings,
      workspace,
      sink,
      net,
      connect: () => connect(settings, net!),
      cleanups,
      invocation,
      // Before the first pod: if this process is killed, the post step deletes by this label.
      rememberPods: (namespaces: string[]) => core.saveState(INVOCATION_STATE_KEY, JSON.stringify({ id: invocation.id, namespaces })),
    };
    const report = newReport(run);
    const outcome = await Promise.race([runPipeline(run, report), pastDeadline(net)]);
    if (outcome === 'deadline') {
      sink.warning(`Work still in flight ${DEADLINE_GRACE_MS / 1000} s after the run's deadline was abandoned`);
      noteDeadline(report, net);
    }

    for (const a of annotations(report)) sink[a.level](a.message, { title: a.title, file: a.at.file, line: a.at.line, column: a.at.column });
    if (report.problems.length) {
      const leftOut = report.problemsLeftOut ?? 0;
      sink.info(`${report.problems.length + leftOut} problem(s) in ${report.mappingFile}:`);
      for (const p of report.problems) sink.info(`  ${p.file}:${p.line}:${p.column}  ${p.message}`);
      if (leftOut) sink.info(`  ${problemsLeftOutLine(leftOut)}`);
    }
    for (const line of renderText(report)) sink.info(line);
    const github = readGithubRun(process.env);
    const markdown = renderMarkdown(report, { runUrl: runUrl(github) });
    if (process.env.GITHUB_STEP_SUMMARY) await core.summary.addRaw(capSummary(markdown), true).write();
    // validate runs on fork PRs without a write token: only the modes that connect comment.
    const commenting = settings.comment && ['plan', 'apply', 'verify'].includes(settings.mode);
    const commentUrl = commenting ? await (await loadConnected()).publishComment({ run: github, token: settings.githubToken, environment: report.environment, markdown, sink, net: withGrace(net) }) : '';

    core.setOutput('result', capResult(toResultJson(report)));
    core.setOutput('changes', String(countChanges(report)));
    core.setOutput('verified', String(allVerified(report)));
    core.setOutput('comment-url', commentUrl);
    if (report.discovered) core.setOutput('mapping-file', report.discovered.shownAs);
    if (report.failures.length) core.setFailed(report.failures.map(oneLine).join('\n'));
  } catch (err) {
    core.setFailed(describeFailure(err)); // core escapes CR/LF in command values: a stack stays one annotation
  } finally {
    await cleanups.runAll((m) => sink.warning(m));
  }
  // Past the deadline, nothing may keep the job (and the environment's lock) alive: work
  // abandoned above, an SDK timer. The report is written; exit with its code.
  if (net?.deadline.passed()) process.exit();
}

