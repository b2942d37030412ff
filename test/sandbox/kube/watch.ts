// Watch (https://kubernetes.io/docs/reference/using-api/api-concepts/#efficient-detection-of-changes):
// a chunked stream of `{"type":"ADDED|MODIFIED|DELETED","object":{…}}` lines. Without a
// resourceVersion (or "0") it starts with synthetic ADDED events for what exists; with one, it
// replays the changes after it, or answers an ERROR event with a 410 Expired Status when the
// history no longer reaches back. With selectors, an object that stops matching arrives as
// DELETED and one that starts matching as ADDED (as the watch cache does). Bookmarks when
// asked (allowWatchBookmarks, sendInitialEvents).
import type { ServerResponse } from 'node:http';
import type { ResourceDef } from './resources.ts';
import { matchFields, matchLabels, type FieldRequirement, type Requirement } from './selectors.ts';
import { failure } from './status.ts';
import type { Change, KubeStore, WatchEventType } from './store.ts';
import { toTable } from './table.ts';
import type { KObject } from './types.ts';

export interface WatchRequest {
  resource: ResourceDef;
  namespace?: string;
  labels: Requirement[];
  fields: FieldRequirement[];
  resourceVersion?: string;
  timeoutSeconds?: number;
  table: boolean;
  includeObject: string | null;
  allowBookmarks: boolean;
  sendInitialEvents: boolean;
}

export class Watches {
  private readonly open = new Set<ServerResponse>();
  private readonly store: KubeStore;
  /**
   * Stalled: open watches stay connected but deliver nothing, not even bookmarks — a
   * connection a load balancer or NAT dropped silently. Clients need an idle timeout.
   */
  stalled = false;

  constructor(store: KubeStore) {
    this.store = store;
  }

  serve(res: ServerResponse, w: WatchRequest): void {
    const matches = (o: KObject | undefined) =>
      !!o && (!w.namespace || !w.resource.namespaced || o.metadata.namespace === w.namespace) && matchLabels(w.labels, o.metadata.labels) && matchFields(w.fields, o);

    res.writeHead(200, { 'content-type': 'application/json', 'cache-control': 'no-cache, private', 'transfer-encoding': 'chunked' });
    res.flushHeaders(); // clients wait for the headers before reading events
    this.open.add(res);
    let first = true;
    let lastRv = 0;
    const send = (type: WatchEventType | 'BOOKMARK' | 'ERROR', object: unknown) => {
      if (res.writableEnded || res.destroyed || this.stalled) return;
      let obj = object;
      if (w.table && type !== 'BOOKMARK' && type !== 'ERROR') {
        const o = object as KObject;
        obj = toTable(w.resource, [o], o.metadata.resourceVersion ?? '', w.includeObject, undefined, first);
        first = false;
      }
      res.write(`${JSON.stringify({ type, object: obj })}\n`);
    };

    const emit = (c: Change) => {
      if (c.resource !== w.resource || c.rv <= lastRv) return;
      lastRv = c.rv;
      const now = matches(c.object);
      const before = c.type === 'ADDED' ? false : matches(c.previous);
      if (c.type === 'ADDED' && now) send('ADDED', c.object);
      else if (c.type === 'MODIFIED') {
        if (now && before) send('MODIFIED', c.object);
        else if (now) send('ADDED', c.object);
        else if (before) send('DELETED', c.object);
      } else if (c.type === 'DELETED' && (before || now)) send('DELETED', c.object);
    };

    // Buffer live changes while the starting point is sent.
    const buffered: Change[] = [];
    let live = false;
    const unsubscribe = this.store.subscribe((c) => (live ? emit(c) : buffered.push(c)));

    const rv = w.resourceVersion;
    if (!rv || rv === '0') {
      lastRv = Number(this.store.currentResourceVersion());
      for (const o of this.store.list(w.resource, w.namespace)) if (matches(o)) send('ADDED', o);
      if (w.sendInitialEvents && w.allowBookmarks) send('BOOKMARK', bookmark(w.resource, String(lastRv), true));
    } else {
      const changes = this.store.changesSince(Number(rv));
      if (changes === 'expired' || !/^\d+$/.test(rv)) {
        send('ERROR', failure(410, 'Expired', `too old resource version: ${rv} (${this.store.oldestResourceVersion()})`));
        this.close(res, unsubscribe);
        return;
      }
      lastRv = Number(rv);
      for (const c of changes) emit(c);
    }
    for (const c of buffered) emit(c);
    live = true;

    const timers: NodeJS.Timeout[] = [];
    if (w.allowBookmarks) {
      const t = setInterval(() => send('BOOKMARK', bookmark(w.resource, this.store.currentResourceVersion(), false)), 5000);
      t.unref();
      timers.push(t);
    }
    if (w.timeoutSeconds && w.timeoutSeconds > 0) {
      const t = setTimeout(() => this.close(res, unsubscribe), w.timeoutSeconds * 1000);
      t.unref();
      timers.push(t);
    }
    res.on('close', () => {
      timers.forEach((t) => clearTimeout(t));
      this.close(res, unsubscribe);
    });
  }

  private close(res: ServerResponse, unsubscribe: () => void): void {
    unsubscribe();
    this.open.delete(res);
    if (!res.writableEnded) res.end();
  }

  /** Ends every open watch (server stopping). */
  closeAll(): void {
    for (const res of [...this.open]) {
      this.open.delete(res);
      if (!res.writableEnded) res.end();
    }
  }
}

function bookmark(r: ResourceDef, resourceVersion: string, initialEventsEnd: boolean): unknown {
  return {
    kind: r.kind,
    apiVersion: r.group ? `${r.group}/${r.version}` : r.version,
    metadata: { resourceVersion, ...(initialEventsEnd ? { annotations: { 'k8s.io/initial-events-end': 'true' } } : {}) },
  };
}
