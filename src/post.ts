// Post step: runs even when the main step failed or was cancelled. It removes what the
// main step may have left behind: the temp kubeconfig written from the input and, once
// verification lands, verification pods by the invocation's label.
// It is in the core bundle (src/core.ts), so it starts in milliseconds, and it loads the
// connected bundle only when it has pods to delete.
import * as core from '@actions/core';
import { KUBECONFIG_STATE_KEY } from './kube/state-key.ts';
import { removeKubeconfigTempFiles } from './kube/temp-files.ts';
import { createSink } from './output/sink.ts';

const sink = createSink(core);

export function runPost(): void {
  // The saved state only says a kubeconfig was written; which files go is decided by the
  // temp directory and prefix alone, so a state value naming any other path deletes nothing.
  const recorded = core.getState(KUBECONFIG_STATE_KEY);
  const removed = removeKubeconfigTempFiles();
  for (const file of removed) sink.info(`Removed the temporary kubeconfig ${file}`);
  if (recorded && !removed.includes(recorded)) sink.info(`Left ${recorded} alone: not a temporary kubeconfig of this action, or already gone`);
  // Verification's hook: when the state names pods this invocation created, and only then,
  // `await loadConnected()` (./load-connected.ts) and hand it this sink, a cleanup registry
  // and a network, as main.ts does: deleting them needs the Kubernetes client.
}

/** What dist/post.js runs: the post step never fails the job. */
export function runPostStep(): void {
  try {
    runPost();
  } catch (err) {
    sink.warning(`post step: ${(err as Error).message}`);
  }
}
