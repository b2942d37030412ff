// Post step: runs even when the main step failed or was cancelled. It removes what the
// main step may have left behind: the temp kubeconfig written from the input (and, once
// verification lands, verification pods by run label). Node built-ins only for now, so the
// bundle stays small.
import * as core from '@actions/core';
import { rmSync } from 'node:fs';
import { KUBECONFIG_STATE_KEY } from './kube/state-key.ts';
import { removeKubeconfigTempFiles } from './kube/temp-files.ts';

export function runPost(): void {
  const recorded = core.getState(KUBECONFIG_STATE_KEY);
  if (recorded) rmSync(recorded, { force: true });
  const removed = new Set([...(recorded ? [recorded] : []), ...removeKubeconfigTempFiles()]);
  for (const file of removed) core.info(`Removed the temporary kubeconfig ${file}`);
}

try {
  runPost();
} catch (err) {
  core.warning(`post step: ${(err as Error).message}`);
}
