// The post step's last line of defence: delete the verification pods of this invocation
// that a killed main step (SIGKILL, a runner lost mid-job) left behind. Only this
// invocation's label is ever selected: another matrix job's pods, or another attempt's,
// are never touched. Runs before the temporary kubeconfig is removed — it needs it.
// In the connected bundle (connected.ts): the post step loads it only when pods are recorded.
import { existsSync } from 'node:fs';
import { KubeConfig } from '@kubernetes/client-node';
import { createKubePort } from '../kube/client.ts';
import type { Network } from '../net/index.ts';
import { invocationSelector, type RecordedPods } from './invocation.ts';

/** Deletes what is left; returns the pods deleted as "namespace/name". */
export async function deleteLeftoverPods(recorded: RecordedPods, kubeconfigFile: string | undefined, o: { warn: (m: string) => void; net: Network }): Promise<string[]> {
  const { warn } = o;
  const kc = new KubeConfig();
  if (kubeconfigFile && existsSync(kubeconfigFile)) kc.loadFromFile(kubeconfigFile);
  else kc.loadFromDefault();
  if (!kc.getCurrentCluster()) {
    warn(`No kubeconfig to delete leftover verification pods (label ${invocationSelector(recorded.id)}) with`);
    return [];
  }
  const kube = createKubePort(kc, o.net);
  const deleted: string[] = [];
  await Promise.all(
    recorded.namespaces.map(async (ns) => {
      try {
        for (const name of await kube.deletePodsByLabel(ns, invocationSelector(recorded.id))) deleted.push(`${ns}/${name}`);
      } catch (err) {
        warn(`Could not delete verification pods in ${ns} (label ${invocationSelector(recorded.id)}): ${(err as Error).message}`);
      }
    }),
  );
  return deleted.sort();
}
