// Post step: runs even when the main step failed or was cancelled. It removes what the
// main step may have left behind (verification pods by run label, a temp kubeconfig).
import * as core from '@actions/core';
import { rmSync } from 'node:fs';
import { KUBECONFIG_STATE_KEY } from './kube/client.ts';

export function runPost(): void {
  const kubeconfig = core.getState(KUBECONFIG_STATE_KEY);
  if (kubeconfig) {
    rmSync(kubeconfig, { force: true });
    core.info(`Removed the temporary kubeconfig ${kubeconfig}`);
  }
}

try {
  runPost();
} catch (err) {
  core.warning(`post step: ${(err as Error).message}`);
}
