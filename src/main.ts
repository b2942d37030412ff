// Entry point: read inputs once, run the pipeline, turn its report into annotations,
// a job summary and outputs. Any thrown error becomes one readable failure line.
import * as core from '@actions/core';
import { createAzureCredential } from './azure/credential.ts';
import { createArmPort } from './azure/port.ts';
import { createCleanupRegistry, type CleanupRegistry } from './cleanup.ts';
import { describeFailure } from './failure.ts';
import { createKubePort, KUBECONFIG_STATE_KEY, kubeconfigSecrets, loadKubeConfig } from './kube/client.ts';
import type { Ports } from './plan/environment.ts';
import { runPipeline } from './pipeline.ts';
import { renderMarkdown } from './report/markdown.ts';
import { renderText } from './report/text.ts';
import { toResultJson, countChanges, allVerified } from './report/outputs.ts';
import { parseSettings, type Settings } from './settings.ts';
import { createSink, oneLine, type LogSink } from './output/sink.ts';

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

/**
 * Each ARM client asks for an assertion when it first needs a token; GitHub's OIDC token
 * is valid for minutes, so one per audience serves the whole run (fewer calls, one mask).
 */
function oneIdTokenPerAudience(): (audience: string) => Promise<string> {
  const tokens = new Map<string, { value: Promise<string>; at: number }>();
  return (audience) => {
    const cached = tokens.get(audience);
    if (cached && Date.now() - cached.at < 4 * 60_000) return cached.value;
    const value = core.getIDToken(audience);
    tokens.set(audience, { value, at: Date.now() });
    value.catch(() => tokens.delete(audience));
    return value;
  };
}

function connect(settings: Settings): Ports {
  const credential = createAzureCredential(settings.azure, oneIdTokenPerAudience());
  // The kubeconfig input may hold a token or a client key: mask them before anything can log them.
  for (const secret of kubeconfigSecrets(settings.kubeconfig)) sink.secret(secret);
  const kube = loadKubeConfig(settings);
  if (kube.tempFile) {
    core.saveState(KUBECONFIG_STATE_KEY, kube.tempFile); // the post step removes it if we die
    cleanups.add('temporary kubeconfig', () => kube.cleanup());
  }
  sink.info(`Kubernetes: ${kube.source.kind} (${kube.kc.getCurrentCluster()?.server ?? 'no server'}); Azure: ${settings.azure.armEndpoint}`);
  return { azure: createArmPort(credential, { armEndpoint: settings.azure.armEndpoint }), kube: createKubePort(kube.kc) };
}

export async function run(): Promise<void> {
  handleSignals();
  try {
    const settings = parseSettings((name) => core.getInput(name));
    sink.secret(settings.githubToken);
    const workspace = process.env.GITHUB_WORKSPACE || process.cwd();
    const report = await runPipeline({ settings, workspace, sink, connect: async () => connect(settings) });

    for (const p of report.problems) {
      sink.error(p.message, { title: 'Workload Identity mapping', file: p.file, line: p.line, column: p.column });
    }
    if (report.problems.length) {
      sink.info(`${report.problems.length} problem(s) in ${report.mappingFile}:`);
      for (const p of report.problems) sink.info(`  ${p.file}:${p.line}:${p.column}  ${p.message}`);
    }
    for (const line of renderText(report)) sink.info(line);
    const markdown = renderMarkdown(report);
    if (process.env.GITHUB_STEP_SUMMARY) await core.summary.addRaw(markdown, true).write();

    core.setOutput('result', JSON.stringify(toResultJson(report)));
    core.setOutput('changes', String(countChanges(report)));
    core.setOutput('verified', String(allVerified(report)));
    if (report.failures.length) core.setFailed(report.failures.map(oneLine).join('\n'));
  } catch (err) {
    core.setFailed(describeFailure(err)); // core escapes CR/LF in command values: a stack stays one annotation
  } finally {
    await cleanups.runAll((m) => sink.warning(m));
  }
}

await run();
