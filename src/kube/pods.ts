// Verification pods through client-node: create, follow by watch (not by polling), read
// the log and the events, delete — one pod by name, or every pod of one invocation by its
// label. Part of the KubePort adapter (client.ts), kept apart so that file stays the
// kubeconfig's and the plan's.
import { CoreV1Api, Watch, type ConfigurationOptions, type KubeConfig, type V1Pod } from '@kubernetes/client-node';
import type { KubePort, PodEvent, PodObject, PodView } from './port.ts';
import { isKubeApiError } from './port.ts';

/**
 * The adapter's ways to call (client.ts): once under the request timeout, retried by the
 * policy, or retried as undoing, which goes on for a short grace past the run's deadline.
 */
export interface PodCalls {
  once<T>(operation: string, fn: (options: ConfigurationOptions) => Promise<T>): Promise<T>;
  retried<T>(operation: string, fn: (options: ConfigurationOptions) => Promise<T>): Promise<T>;
  undo<T>(operation: string, fn: (options: ConfigurationOptions) => Promise<T>): Promise<T>;
}

type PodOperations = Pick<KubePort, 'createPod' | 'followPod' | 'readPodLog' | 'listPodEvents' | 'deletePod' | 'deletePodsByLabel'>;

const FIELD_MANAGER = 'workload-identity-action';
/** A watch that sends nothing, not even a bookmark, for this long is dropped and re-made. */
export const WATCH_IDLE_MS = 30_000;

/** What the runner needs to know of a pod's state: phase, scheduling, the container's. */
export function podView(p: V1Pod): PodView {
  const cs = p.status?.containerStatuses?.[0];
  const scheduled = p.status?.conditions?.find((c) => c.type === 'PodScheduled');
  const t = cs?.state?.terminated;
  return {
    phase: p.status?.phase ?? 'Pending',
    reason: p.status?.reason,
    message: p.status?.message,
    resourceVersion: p.metadata?.resourceVersion,
    deleting: !!p.metadata?.deletionTimestamp,
    unschedulable: scheduled?.status === 'False' ? (scheduled.message ?? scheduled.reason ?? 'Unschedulable') : undefined,
    waiting: cs?.state?.waiting ? { reason: cs.state.waiting.reason ?? '', message: cs.state.waiting.message } : undefined,
    terminated: t ? { exitCode: t.exitCode, reason: t.reason, message: t.message } : undefined,
  };
}

export function podOperations(kc: KubeConfig, calls: PodCalls, idleMs = WATCH_IDLE_MS): PodOperations {
  const core = kc.makeApiClient(CoreV1Api);
  const read = (namespace: string, name: string) => calls.retried(`read pod ${namespace}/${name}`, (o) => core.readNamespacedPod({ name, namespace }, o));
  const notFound = (err: unknown) => isKubeApiError(err) && err.status === 404;

  return {
    async createPod(pod: PodObject) {
      const { namespace, name } = pod.metadata;
      const body = { apiVersion: 'v1', kind: 'Pod', metadata: pod.metadata, spec: pod.spec } as unknown as V1Pod;
      // Once: a retried create would meet its own pod (409), which the runner treats as ours anyway.
      await calls.once(`create pod ${namespace}/${name}`, (o) => core.createNamespacedPod({ namespace, body, fieldManager: FIELD_MANAGER }, o));
    },

    /**
     * Calls `onChange` with the pod's state until it returns true, the pod is gone
     * (undefined) or `signal` aborts. A read first, then a watch from its resourceVersion
     * with bookmarks; a watch that ends or stays silent for `idleMs` is re-made after a
     * fresh read, so a lost connection costs one GET, not a missed completion.
     */
    async followPod(namespace, name, onChange, signal) {
      const watch = new Watch(kc);
      (watch as unknown as { requestTimeoutMs: number }).requestTimeoutMs = idleMs;
      while (!signal.aborted) {
        let current: V1Pod;
        try {
          current = await read(namespace, name);
        } catch (err) {
          if (!notFound(err)) throw err;
          onChange(undefined);
          return;
        }
        if (onChange(podView(current))) return;
        let settled = false;
        await new Promise<void>((resolve) => {
          let controller: AbortController | undefined;
          const stop = () => {
            settled = true;
            controller?.abort();
            resolve();
          };
          signal.addEventListener('abort', stop, { once: true });
          void watch
            .watch(
              `/api/v1/namespaces/${encodeURIComponent(namespace)}/pods`,
              { fieldSelector: `metadata.name=${name}`, resourceVersion: current.metadata?.resourceVersion, allowWatchBookmarks: true },
              (type, obj: V1Pod) => {
                if (settled) return;
                if (type === 'DELETED') {
                  onChange(undefined);
                  return stop();
                }
                if (type === 'ADDED' || type === 'MODIFIED') {
                  if (onChange(podView(obj))) stop();
                }
                // BOOKMARK: only keeps the watch alive. ERROR (410 Expired): the watch ends, we re-read.
              },
              () => {
                signal.removeEventListener('abort', stop);
                resolve();
              },
            )
            .then((c) => {
              controller = c;
              if (settled) c.abort();
            }, () => resolve());
        });
        if (settled) return;
      }
    },

    async readPodLog(namespace, name, container) {
      // The probe prints one short line; 256 KiB bounds what a crashing image could print.
      const text = await calls.retried(`read the log of pod ${namespace}/${name}`, (o) => core.readNamespacedPodLog({ name, namespace, container, limitBytes: 256 * 1024 }, o));
      return typeof text === 'string' ? text : String(text ?? '');
    },

    async listPodEvents(namespace, name) {
      const list = await calls.retried(`list events of pod ${namespace}/${name}`, (o) =>
        core.listNamespacedEvent({ namespace, fieldSelector: `involvedObject.kind=Pod,involvedObject.name=${name}` }, o),
      );
      return list.items
        .filter((e) => e.involvedObject?.name === name)
        .map((e): PodEvent => ({ type: e.type ?? 'Normal', reason: e.reason ?? '', message: e.message ?? '' }));
    },

    async deletePod(namespace, name) {
      // Deleting is idempotent: retried, and "gone already" is success. At the run's deadline
      // too: the pods are what the deadline must not leave standing.
      try {
        await calls.undo(`delete pod ${namespace}/${name}`, (o) => core.deleteNamespacedPod({ name, namespace, gracePeriodSeconds: 1 }, o));
      } catch (err) {
        if (!notFound(err)) throw err;
      }
    },

    async deletePodsByLabel(namespace, labelSelector) {
      const list = await calls.undo(`list pods in ${namespace}`, (o) => core.listNamespacedPod({ namespace, labelSelector }, o));
      const names = list.items.map((p) => p.metadata?.name ?? '').filter(Boolean);
      if (names.length) await calls.undo(`delete pods in ${namespace}`, (o) => core.deleteCollectionNamespacedPod({ namespace, labelSelector, gracePeriodSeconds: 1 }, o));
      return names;
    },
  };
}
