// One snapshot of the cluster per run (DESIGN §2, cross-stage decisions): what the
// environment's namespaces hold, read once and shared by every stage that looks at the
// cluster — preflight, the ServiceAccount plan, workload readiness and verification.
//
// Reads are proportional to namespaces, not to bindings: one LIST per kind per namespace,
// paged with `limit`/`continue`, instead of a GET per ServiceAccount (1000 bindings in 20
// namespaces: 20 LISTs, not 1000 GETs). Where the mapping spans many namespaces and RBAC
// allows it, one cluster-wide LIST replaces the per-namespace ones (see CLUSTER_WIDE_FROM).
// Where `list` is forbidden in a namespace, ServiceAccounts are read one by one with `get`
// (the preflight's access review warns about the missing verb); other kinds have no such
// fallback — their readers name the error.
//
// Apply records what it wrote (record), so verification reads the ServiceAccounts as they
// are after apply without listing again; forget() drops what a stage knows has changed
// behind the snapshot (pods restarted), and the next read lists again.
import pLimit from 'p-limit';
import { isKubeApiError, type KubePort, type PodState, type ServiceAccountState, type SnapshotKind, type SnapshotObjects } from './port.ts';

/**
 * From how many namespaces of one read a single cluster-wide LIST is used (when RBAC allows
 * `list` cluster-wide). Per namespace, N LISTs run `concurrency` (default 8) at a time: up to
 * 16 namespaces that is at most two rounds, each request reading only what the mapping names.
 * Beyond, a cluster-wide LIST makes fewer requests (⌈objects in the cluster / 500⌉ pages,
 * one after the other, against one request per namespace) and so less API Priority and
 * Fairness load — and a mapping spanning that many namespaces is usually a platform team
 * migrating much of the cluster, so most of what it reads is needed anyway. Below the
 * threshold it would read other teams' namespaces for no gain, and it needs a ClusterRole,
 * which the least-privilege setup (a Role per namespace, as the RBAC snippet writes it) has not.
 */
export const CLUSTER_WIDE_FROM = 16;
/** Objects per page: the API server's default chunk size for kubectl (--chunk-size 500). */
export const PAGE_SIZE = 500;

const GROUP: Record<SnapshotKind, string> = {
  serviceaccounts: '',
  pods: '',
  deployments: 'apps',
  statefulsets: 'apps',
  daemonsets: 'apps',
  jobs: 'batch',
  cronjobs: 'batch',
};

export interface SnapshotOptions {
  /** Parallel requests; default 8 (the concurrency input). */
  concurrency?: number;
  pageSize?: number;
  clusterWideFrom?: number;
}

export interface ClusterSnapshot {
  /**
   * Reads a kind in these namespaces now, in parallel (cluster-wide when worthwhile), so
   * later list/get calls answer from memory. Never rejects: list and get report a failure.
   */
  read(kind: SnapshotKind, namespaces: readonly string[]): Promise<void>;
  /** Every object of a kind in a namespace (listed on first use). Rejects with the LIST's error. */
  list<K extends SnapshotKind>(kind: K, namespace: string): Promise<SnapshotObjects[K][]>;
  /** One object; undefined when it does not exist. ServiceAccounts fall back to a GET where `list` is forbidden. */
  get<K extends SnapshotKind>(kind: K, namespace: string, name: string): Promise<SnapshotObjects[K] | undefined>;
  /** What a write returned (apply): later reads see it without listing again. */
  record<K extends SnapshotKind>(kind: K, state: SnapshotObjects[K]): void;
  /** Drops what is held for a kind (in one namespace, or everywhere): the next read lists again. */
  forget(kind: SnapshotKind, namespace?: string): void;
}

type Entry = { items: Map<string, unknown> } | { error: unknown };

const key = (...parts: string[]): string => parts.join('\u0000');

/** Pods using a ServiceAccount that have not finished: those keep the old identity until restarted. */
export function activePodsOf(pods: readonly PodState[], serviceAccount: string): PodState[] {
  return pods.filter((p) => p.serviceAccountName === serviceAccount && p.phase !== 'Succeeded' && p.phase !== 'Failed').sort((a, b) => a.name.localeCompare(b.name));
}

export function createClusterSnapshot(port: KubePort, options: SnapshotOptions = {}): ClusterSnapshot {
  const limit = pLimit(Math.max(1, options.concurrency ?? 8));
  const pageSize = options.pageSize ?? PAGE_SIZE;
  const clusterWideFrom = options.clusterWideFrom ?? CLUSTER_WIDE_FROM;
  /** By kind + namespace. */
  const entries = new Map<string, Promise<Entry>>();
  /** A kind read cluster-wide: every namespace's objects (undefined: not allowed, read per namespace). */
  const clusterWide = new Map<SnapshotKind, Promise<Map<string, Map<string, unknown>> | undefined>>();
  /** Written by apply since the LIST, by kind + namespace + name. */
  const written = new Map<string, unknown>();
  /** Namespaces forgotten after a cluster-wide read: listed on their own next time. */
  const detached = new Set<string>();
  /** ServiceAccounts read by GET where `list` is forbidden. */
  const fallbackReads = new Map<string, Promise<ServiceAccountState | undefined>>();

  /** Every page of one LIST; each page waits for a free request slot. */
  async function listAll(kind: SnapshotKind, namespace?: string): Promise<unknown[]> {
    const items: unknown[] = [];
    let cont: string | undefined;
    do {
      const page = await limit(() => port.listObjects(kind, { namespace, limit: pageSize, continue: cont }));
      items.push(...page.items);
      cont = page.continue;
    } while (cont);
    return items;
  }

  const byName = (items: unknown[]): Map<string, unknown> => new Map(items.map((o) => [(o as { name: string }).name, o]));

  async function listNamespace(kind: SnapshotKind, namespace: string): Promise<Entry> {
    try {
      return { items: byName(await listAll(kind, namespace)) };
    } catch (error) {
      return { error };
    }
  }

  async function readClusterWide(kind: SnapshotKind): Promise<Map<string, Map<string, unknown>> | undefined> {
    try {
      const access = await port.selfSubjectAccessReview({ verb: 'list', resource: kind, group: GROUP[kind] });
      if (!access.allowed) return undefined;
    } catch {
      return undefined; // cannot tell: per namespace asks for no more than the preflight checked
    }
    const out = new Map<string, Map<string, unknown>>();
    for (const o of await listAll(kind)) {
      const ns = (o as { namespace: string }).namespace;
      if (!out.has(ns)) out.set(ns, new Map());
      out.get(ns)!.set((o as { name: string }).name, o);
    }
    return out;
  }

  function entry(kind: SnapshotKind, namespace: string): Promise<Entry> {
    const k = key(kind, namespace);
    let e = entries.get(k);
    if (!e) {
      const all = detached.has(k) ? undefined : clusterWide.get(kind);
      e = all
        ? all.then(
            (byNamespace) => (byNamespace ? { items: byNamespace.get(namespace) ?? new Map() } : listNamespace(kind, namespace)),
            // A cluster-wide LIST that failed part-way: each namespace on its own.
            () => listNamespace(kind, namespace),
          )
        : listNamespace(kind, namespace);
      entries.set(k, e);
    }
    return e;
  }

  function withWritten<K extends SnapshotKind>(kind: K, namespace: string, items: Map<string, unknown>): SnapshotObjects[K][] {
    const merged = new Map(items);
    const prefix = key(kind, namespace, '');
    for (const [k, v] of written) if (k.startsWith(prefix)) merged.set(k.slice(prefix.length), v);
    return [...merged.values()] as SnapshotObjects[K][];
  }

  const isForbidden = (err: unknown): boolean => isKubeApiError(err) && err.status === 403;

  return {
    async read(kind, namespaces) {
      const wanted = [...new Set(namespaces)].filter((ns) => !entries.has(key(kind, ns)));
      if (!clusterWide.has(kind) && wanted.length >= clusterWideFrom) clusterWide.set(kind, readClusterWide(kind));
      await Promise.all(wanted.map((ns) => entry(kind, ns)));
    },

    async list(kind, namespace) {
      const e = await entry(kind, namespace);
      if ('error' in e) throw e.error;
      return withWritten(kind, namespace, e.items);
    },

    async get(kind, namespace, name) {
      const mine = written.get(key(kind, namespace, name));
      if (mine) return mine as SnapshotObjects[typeof kind];
      const e = await entry(kind, namespace);
      if ('items' in e) return e.items.get(name) as SnapshotObjects[typeof kind] | undefined;
      if (kind !== 'serviceaccounts' || !isForbidden(e.error)) throw e.error;
      // `list` forbidden, maybe `get` allowed: one GET per ServiceAccount, each once.
      const k = key(namespace, name);
      let read = fallbackReads.get(k);
      if (!read) {
        read = limit(() => port.readServiceAccount(namespace, name));
        fallbackReads.set(k, read);
      }
      return (await read) as SnapshotObjects[typeof kind] | undefined;
    },

    record(kind, state) {
      const s = state as { namespace: string; name: string };
      written.set(key(kind, s.namespace, s.name), state);
    },

    forget(kind, namespace) {
      const prefix = namespace === undefined ? key(kind, '') : key(kind, namespace);
      const match = (k: string) => (namespace === undefined ? k.startsWith(prefix) : k === prefix || k.startsWith(`${prefix}\u0000`));
      for (const k of [...entries.keys()]) if (match(k)) entries.delete(k);
      for (const k of [...written.keys()]) if (match(k)) written.delete(k);
      if (kind === 'serviceaccounts') {
        for (const k of [...fallbackReads.keys()]) if (namespace === undefined || k.startsWith(key(namespace, ''))) fallbackReads.delete(k);
      }
      if (namespace === undefined) {
        clusterWide.delete(kind);
        for (const k of [...detached]) if (match(k)) detached.delete(k);
      } else if (clusterWide.has(kind)) detached.add(prefix);
    },
  };
}
