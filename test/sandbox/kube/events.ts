// core/v1 Events as the scheduler and kubelet record them (k8s.io/client-go/tools/record:
// name `<object>.<hex>`, repeated events aggregated into count/lastTimestamp), so that
// `kubectl describe` (which lists events with fieldSelector involvedObject.name/namespace/uid)
// and the action's stuck-pod diagnosis see what a real cluster shows.
import { randomUUID } from 'node:crypto';
import type { KubeStore } from './store.ts';
import type { KObject } from './types.ts';

export interface EventSource {
  component: string;
  host?: string;
}

export interface CoreEvent extends KObject {
  involvedObject: { kind?: string; namespace?: string; name?: string; uid?: string; apiVersion?: string; resourceVersion?: string; fieldPath?: string };
  reason: string;
  message: string;
  source: EventSource;
  firstTimestamp: string;
  lastTimestamp: string;
  count: number;
  type: 'Normal' | 'Warning';
  eventTime: null;
  reportingComponent: string;
  reportingInstance: string;
}

export const timestamp = (d = new Date()): string => d.toISOString().replace(/\.\d{3}Z$/, 'Z');

let lastNanos = 0n;
/** client-go record names events `<object>.<hex UnixNano>`: unique and in creation order. */
function eventName(object: string): string {
  let nanos = BigInt(Date.now()) * 1_000_000n;
  if (nanos <= lastNanos) nanos = lastNanos + 1n;
  lastNanos = nanos;
  return `${object}.${nanos.toString(16)}`;
}

export class EventRecorder {
  private readonly store: KubeStore;

  constructor(store: KubeStore) {
    this.store = store;
  }

  record(involved: KObject, type: 'Normal' | 'Warning', reason: string, message: string, source: EventSource, fieldPath?: string): void {
    const ns = involved.metadata.namespace ?? 'default';
    if (!this.store.get('namespaces', undefined, ns)) return;
    const now = timestamp();
    const existing = this.store
      .list<CoreEvent>('events', ns)
      .find(
        (e) =>
          e.involvedObject.uid === involved.metadata.uid &&
          e.reason === reason &&
          e.message === message &&
          e.source.component === source.component &&
          (e.involvedObject.fieldPath ?? '') === (fieldPath ?? ''),
      );
    if (existing) {
      existing.count += 1;
      existing.lastTimestamp = now;
      this.store.update('events', existing);
      return;
    }
    const event: CoreEvent = {
      apiVersion: 'v1',
      kind: 'Event',
      metadata: { name: eventName(involved.metadata.name ?? ''), namespace: ns, uid: randomUUID(), creationTimestamp: now },
      involvedObject: {
        kind: involved.kind,
        namespace: involved.metadata.namespace,
        name: involved.metadata.name,
        uid: involved.metadata.uid,
        apiVersion: involved.apiVersion,
        resourceVersion: involved.metadata.resourceVersion,
        ...(fieldPath ? { fieldPath } : {}),
      },
      reason,
      message,
      source,
      firstTimestamp: now,
      lastTimestamp: now,
      count: 1,
      type,
      eventTime: null,
      reportingComponent: source.component,
      reportingInstance: source.host ?? '',
    };
    this.store.create('events', event);
  }
}
