// Where the temp kubeconfigs written from the `kubeconfig` input live. Node built-ins only,
// so the post step can remove them without bundling @kubernetes/client-node.
import { lstatSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/** Temp kubeconfigs live in `<RUNNER_TEMP or tmpdir>/workload-identity-action/kubeconfig-*`. */
const KUBECONFIG_DIR_NAME = 'workload-identity-action';
export const KUBECONFIG_FILE_PREFIX = 'kubeconfig-';

/** The directory holding this action's temp kubeconfigs, for main and the post step. */
export function kubeconfigTempDir(env: Record<string, string | undefined> = process.env): string {
  return join(env.RUNNER_TEMP || tmpdir(), KUBECONFIG_DIR_NAME);
}

/** Post step: removes every temp kubeconfig this action may have left behind, and nothing else. */
export function removeKubeconfigTempFiles(env: Record<string, string | undefined> = process.env): string[] {
  const dir = kubeconfigTempDir(env);
  // Only a real directory: a symlink in its place could point the removal anywhere.
  const stat = lstatSync(dir, { throwIfNoEntry: false });
  if (!stat?.isDirectory()) return [];
  const removed: string[] = [];
  for (const name of readdirSync(dir)) {
    if (!name.startsWith(KUBECONFIG_FILE_PREFIX)) continue;
    const file = join(dir, name);
    rmSync(file, { force: true });
    removed.push(file);
  }
  return removed;
}
