// The emulated etcd: objects by resource, one global resourceVersion that every write
// increments (resourceVersion is opaque to clients but, as with etcd, it grows with each
// write: https://kubernetes.io/docs/reference/using-api/api-concepts/#resource-versions),
// and a bounded change history so a watch can start from a resourceVersion.
import { findByKind, lookupResource, resourceKey, type ResourceDef } from './resources.ts';
import { clone, type KObject } from './types.ts';

export type WatchEventType = 'ADDED' | 'MODIFIED' | 'DELETED';

export interface Change {
  type: WatchEventType;
  rv: number;
  resource: ResourceDef;
  object: KObject;
  previous?: KObject;
}

/** Changes kept for watches that start from a resourceVersion (older ones answer 410 Expired). */
export const DEFAULT_WATCH_HISTORY = 20_000;

const keyOf = (ns: string | undefined, name: string): string => `${ns ?? ''}/${name}`;

export class KubeStore {
  private rv = 1000;
  private readonly data = new Map<string, Map<string, KObject>>();
  private readonly history: Change[] = [];
  private readonly listeners = new Set<(c: Change) => void>();
  private readonly maxHistory: number;

  constructor(maxHistory = DEFAULT_WATCH_HISTORY) {
    this.maxHistory = Math.max(1, Math.floor(maxHistory));
  }

  /** The resourceVersion of the latest write. */
  currentResourceVersion(): string {
    return String(this.rv);
  }

  private bucket(r: ResourceDef): Map<string, KObject> {
    const k = resourceKey(r);
    let b = this.data.get(k);
    if (!b) this.data.set(k, (b = new Map()));
    return b;
  }

  private resolve(r: ResourceDef | string): ResourceDef {
    if (typeof r !== 'string') return r;
    const found = lookupResource(r);
    if (!found) throw new Error(`unknown resource ${r}`);
    return found;
  }

  /** A copy of one object, or undefined. `resource` is a def or a name like 'pods' or 'azureidentities.aadpodidentity.k8s.io'. */
  get<T extends KObject = KObject>(resource: ResourceDef | string, namespace: string | undefined, name: string): T | undefined {
    const r = this.resolve(resource);
    const o = this.bucket(r).get(keyOf(r.namespaced ? namespace : undefined, name));
    return o ? (clone(o) as T) : undefined;
  }

  /** Copies of the objects of a resource, in one namespace or all, sorted by namespace then name. */
  list<T extends KObject = KObject>(resource: ResourceDef | string, namespace?: string): T[] {
    const r = this.resolve(resource);
    const out: KObject[] = [];
    for (const o of this.bucket(r).values()) {
      if (namespace && r.namespaced && o.metadata.namespace !== namespace) continue;
      out.push(clone(o));
    }
    return out.sort((a, b) => keyOf(a.metadata.namespace, a.metadata.name ?? '').localeCompare(keyOf(b.metadata.namespace, b.metadata.name ?? ''))) as T[];
  }

  private record(change: Change): void {
    this.history.push(change);
    if (this.history.length > this.maxHistory) this.history.splice(0, this.history.length - this.maxHistory);
    for (const l of [...this.listeners]) {
      try {
        l(change);
      } catch {
        // a listener's failure must not break the write
      }
    }
  }

  /** Stores a new object (the caller checked it does not exist) and returns the stored copy. */
  create<T extends KObject>(resource: ResourceDef | string, obj: T): T {
    const r = this.resolve(resource);
    const stored = clone(obj);
    stored.metadata.resourceVersion = String(++this.rv);
    this.bucket(r).set(keyOf(r.namespaced ? stored.metadata.namespace : undefined, stored.metadata.name!), stored);
    this.record({ type: 'ADDED', rv: this.rv, resource: r, object: clone(stored) });
    return clone(stored);
  }

  /** Replaces an existing object, bumping its resourceVersion. */
  update<T extends KObject>(resource: ResourceDef | string, obj: T): T {
    const r = this.resolve(resource);
    const k = keyOf(r.namespaced ? obj.metadata.namespace : undefined, obj.metadata.name!);
    const previous = this.bucket(r).get(k);
    const stored = clone(obj);
    stored.metadata.resourceVersion = String(++this.rv);
    this.bucket(r).set(k, stored);
    this.record({ type: previous ? 'MODIFIED' : 'ADDED', rv: this.rv, resource: r, object: clone(stored), previous });
    return clone(stored);
  }

  /** Removes an object; the DELETED event carries it with a fresh resourceVersion. */
  remove<T extends KObject = KObject>(resource: ResourceDef | string, namespace: string | undefined, name: string): T | undefined {
    const r = this.resolve(resource);
    const k = keyOf(r.namespaced ? namespace : undefined, name);
    const o = this.bucket(r).get(k);
    if (!o) return undefined;
    this.bucket(r).delete(k);
    const gone = clone(o);
    gone.metadata.resourceVersion = String(++this.rv);
    this.record({ type: 'DELETED', rv: this.rv, resource: r, object: clone(gone), previous: o });
    return gone as T;
  }

  /** Changes after `rv` (exclusive), or 'expired' when the history no longer reaches back that far. */
  changesSince(rv: number): Change[] | 'expired' {
    const first = this.history[0];
    if (first && rv < first.rv - 1) return 'expired';
    return this.history.filter((c) => c.rv > rv).map((c) => ({ ...c, object: clone(c.object) }));
  }

  oldestResourceVersion(): number {
    return this.history[0]?.rv ?? this.rv;
  }

  subscribe(listener: (c: Change) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /** Every resource that holds at least one object in `namespace` (namespace deletion). */
  namespacedContents(namespace: string): { resource: ResourceDef; object: KObject }[] {
    const out: { resource: ResourceDef; object: KObject }[] = [];
    for (const b of this.data.values()) {
      for (const o of b.values()) {
        if (o.metadata.namespace !== namespace) continue;
        const r = o.apiVersion && o.kind ? lookupByObject(o) : undefined;
        if (r?.namespaced) out.push({ resource: r, object: clone(o) });
      }
    }
    return out;
  }
}

function lookupByObject(o: KObject): ResourceDef | undefined {
  return findByKind(o.apiVersion!, o.kind!);
}
