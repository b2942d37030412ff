// Post step: runs even when the main step failed or was cancelled. It removes what the
// main step may have left behind: first the verification pods of this invocation (by its
// label, with the kubeconfig main used — so before that file goes), then the temp
// kubeconfig written from the input.
// It is in the core bundle (src/core.ts), so it starts in milliseconds, and it loads the
// connected bundle only when it has pods to delete.
import * as core from '@actions/core';
import { resolve, sep } from 'node:path';
import { loadConnected } from './load-connected.ts';
import { KUBECONFIG_STATE_KEY } from './kube/state-key.ts';
import { kubeconfigTempDir, removeKubeconfigTempFiles } from './kube/temp-files.ts';
import { createNetwork } from './net/index.ts';
import { createSink } from './output/sink.ts';
import { INVOCATION_STATE_KEY, parseRecordedPods } from './verify/invocation.ts';

const sink = createSink(core);

export async function runPost(): Promise<void> {
  // The saved state only says a kubeconfig was written; which files go is decided by the
  // temp directory and prefix alone, so a state value naming any other path deletes nothing.
  const recorded = core.getState(KUBECONFIG_STATE_KEY);
  const pods = parseRecordedPods(core.getState(INVOCATION_STATE_KEY));
  if (pods?.namespaces.length) {
    // Only a kubeconfig in our temp directory is read; else what main read (KUBECONFIG, ~/.kube/config).
    const ours = recorded && resolve(recorded).startsWith(kubeconfigTempDir() + sep) ? recorded : undefined;
    const connected = await loadConnected();
    const deleted = await connected.deleteLeftoverPods(pods, ours, { warn: (m) => sink.warning(m), net: createNetwork() });
    for (const p of deleted) sink.info(`Deleted leftover verification pod ${p}`);
  }
  const removed = removeKubeconfigTempFiles();
  for (const file of removed) sink.info(`Removed the temporary kubeconfig ${file}`);
  if (recorded && !removed.includes(recorded)) sink.info(`Left ${recorded} alone: not a temporary kubeconfig of this action, or already gone`);
}

/** What dist/post.js runs: the post step never fails the job. */
export async function runPostStep(): Promise<void> {
  try {
    await runPost();
  } catch (err) {
    sink.warning(`post step: ${(err as Error).message}`);
  }
}
