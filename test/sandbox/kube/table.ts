// Server-side printing: `kubectl get` asks for `application/json;as=Table;v=v1;g=meta.k8s.io`
// and prints the columns the server chooses (https://kubernetes.io/docs/reference/using-api/api-concepts/#receiving-resources-as-tables).
// Columns and cells follow pkg/printers/internalversion/printers.go for the built-in kinds
// (pods: NAME READY STATUS RESTARTS AGE …); custom resources get NAME and AGE like a CRD
// without additionalPrinterColumns.
import type { ResourceDef } from './resources.ts';
import type { CoreEvent } from './events.ts';
import type { KObject, Pod } from './types.ts';

interface Column {
  name: string;
  type: string;
  format: string;
  description: string;
  priority: number;
}

const col = (name: string, type = 'string', priority = 0, format = '', description = ''): Column => ({ name, type, format, description, priority });

/** duration.HumanDuration (k8s.io/apimachinery/pkg/util/duration). */
export function humanDuration(ms: number): string {
  const seconds = Math.round(ms / 1000);
  if (seconds < -1) return '<invalid>';
  if (seconds < 0) return '0s';
  if (seconds < 120) return `${seconds}s`;
  const minutes = Math.floor(ms / 60000);
  if (minutes < 10) {
    const s = Math.floor(ms / 1000) % 60;
    return s === 0 ? `${minutes}m` : `${minutes}m${s}s`;
  }
  if (minutes < 180) return `${minutes}m`;
  const hours = Math.floor(ms / 3600000);
  if (hours < 8) {
    const m = minutes % 60;
    return m === 0 ? `${hours}h` : `${hours}h${m}m`;
  }
  if (hours < 48) return `${hours}h`;
  if (hours < 24 * 8) {
    const h = hours % 24;
    return h === 0 ? `${Math.floor(hours / 24)}d` : `${Math.floor(hours / 24)}d${h}h`;
  }
  if (hours < 24 * 365 * 2) return `${Math.floor(hours / 24)}d`;
  if (hours < 24 * 365 * 8) {
    const dy = Math.floor(hours / 24) % 365;
    return dy === 0 ? `${Math.floor(hours / 24 / 365)}y` : `${Math.floor(hours / 24 / 365)}y${dy}d`;
  }
  return `${Math.floor(hours / 24 / 365)}y`;
}

const age = (ts: string | undefined | null): string => (ts ? humanDuration(Date.now() - Date.parse(ts)) : '<unknown>');

const NAME = col('Name', 'string', 0, 'name', 'Name must be unique within a namespace. Is required when creating resources, although some resources may allow a client to request the generation of an appropriate name automatically. Name is primarily intended for creation idempotence and configuration definition. Cannot be updated. More info: https://kubernetes.io/docs/concepts/overview/working-with-objects/names#names');
const AGE = col('Age', 'string', 0, '', 'CreationTimestamp is a timestamp representing the server time when this object was created. It is not guaranteed to be set in happens-before order across separate operations. Clients may not set this value. It is represented in RFC3339 form and is in UTC.');

/** printPod's STATUS: phase, or the reason of the last waiting/terminated container, or Terminating. */
function podStatus(p: Pod): { ready: string; status: string; restarts: string } {
  const cs = p.status?.containerStatuses ?? [];
  let reason = p.status?.reason || p.status?.phase || 'Pending';
  let readyCount = 0;
  let restarts = 0;
  const init = p.status?.initContainerStatuses ?? [];
  let initializing = false;
  init.forEach((c, i) => {
    restarts += c.restartCount;
    if (c.state.terminated?.exitCode === 0) return;
    initializing = true;
    if (c.state.terminated) reason = c.state.terminated.reason ? `Init:${c.state.terminated.reason}` : `Init:ExitCode:${c.state.terminated.exitCode}`;
    else if (c.state.waiting?.reason && c.state.waiting.reason !== 'PodInitializing') reason = `Init:${c.state.waiting.reason}`;
    else reason = `Init:${i}/${init.length}`;
  });
  if (!initializing) {
    let hasRunning = false;
    for (let i = cs.length - 1; i >= 0; i--) {
      const c = cs[i]!;
      restarts += c.restartCount;
      if (c.state.waiting?.reason) reason = c.state.waiting.reason;
      else if (c.state.terminated?.reason) reason = c.state.terminated.reason;
      else if (c.state.terminated) reason = c.state.terminated.signal ? `Signal:${c.state.terminated.signal}` : `ExitCode:${c.state.terminated.exitCode}`;
      else if (c.state.running && c.ready) {
        hasRunning = true;
        readyCount++;
      } else if (c.state.running) hasRunning = true;
    }
    if (reason === 'Completed' && hasRunning) reason = 'Running';
  }
  if (p.status?.phase === 'Pending' && !cs.length && p.spec.nodeName) reason = 'ContainerCreating';
  if (p.metadata.deletionTimestamp) reason = 'Terminating';
  return { ready: `${readyCount}/${p.spec.containers.length}`, status: reason, restarts: String(restarts) };
}

function columnsAndCells(r: ResourceDef): { columns: Column[]; cells: (o: KObject) => unknown[] } {
  switch (r.kind) {
    case 'Pod':
      return {
        columns: [NAME, col('Ready', 'string', 0, '', 'The aggregate readiness state of this pod for accepting traffic.'), col('Status', 'string', 0, '', 'The aggregate status of the containers in this pod.'), col('Restarts', 'string', 0, '', 'The number of times the containers in this pod have been restarted and when the last container in this pod has restarted.'), AGE, col('IP', 'string', 1, '', 'IP address allocated to the pod. Routable at least within the cluster. Empty if not yet allocated.'), col('Node', 'string', 1, '', 'Name of the Node this pod is assigned to.'), col('Nominated Node', 'string', 1), col('Readiness Gates', 'string', 1)],
        cells: (o) => {
          const p = o as Pod;
          const s = podStatus(p);
          return [p.metadata.name, s.ready, s.status, s.restarts, age(p.metadata.creationTimestamp), p.status?.podIP || '<none>', p.spec.nodeName || '<none>', '<none>', '<none>'];
        },
      };
    case 'Namespace':
      return { columns: [NAME, col('Status', 'string', 0, '', 'The status of the namespace'), AGE], cells: (o) => [o.metadata.name, (o['status'] as { phase?: string } | undefined)?.phase ?? '', age(o.metadata.creationTimestamp)] };
    case 'ServiceAccount':
      return { columns: [NAME, col('Secrets', 'string'), AGE], cells: (o) => [o.metadata.name, ((o['secrets'] as unknown[] | undefined) ?? []).length, age(o.metadata.creationTimestamp)] };
    case 'Deployment':
      return {
        columns: [NAME, col('Ready'), col('Up-to-date'), col('Available'), AGE, col('Containers', 'string', 1), col('Images', 'string', 1), col('Selector', 'string', 1)],
        cells: (o) => {
          const spec = (o['spec'] ?? {}) as { replicas?: number; template?: { spec?: { containers?: { name: string; image?: string }[] } }; selector?: { matchLabels?: Record<string, string> } };
          const st = (o['status'] ?? {}) as { readyReplicas?: number; updatedReplicas?: number; availableReplicas?: number };
          const cs = spec.template?.spec?.containers ?? [];
          return [o.metadata.name, `${st.readyReplicas ?? 0}/${spec.replicas ?? 1}`, st.updatedReplicas ?? 0, st.availableReplicas ?? 0, age(o.metadata.creationTimestamp), cs.map((c) => c.name).join(','), cs.map((c) => c.image).join(','), Object.entries(spec.selector?.matchLabels ?? {}).map(([k, v]) => `${k}=${v}`).join(',')];
        },
      };
    case 'Node':
      return {
        columns: [NAME, col('Status'), col('Roles'), AGE, col('Version')],
        cells: (o) => {
          const unsched = (o['spec'] as { unschedulable?: boolean } | undefined)?.unschedulable;
          return [o.metadata.name, unsched ? 'Ready,SchedulingDisabled' : 'Ready', '<none>', age(o.metadata.creationTimestamp), ((o['status'] as { nodeInfo?: { kubeletVersion?: string } })?.nodeInfo?.kubeletVersion) ?? ''];
        },
      };
    case 'Event':
      return {
        columns: [col('Last Seen'), col('Type'), col('Reason'), col('Object'), col('Message')],
        cells: (o) => {
          const e = o as CoreEvent;
          return [age(e.lastTimestamp), e.type, e.reason, `${(e.involvedObject.kind ?? '').toLowerCase()}/${e.involvedObject.name}`, e.message];
        },
      };
    case 'MutatingWebhookConfiguration':
    case 'ValidatingWebhookConfiguration':
      return { columns: [NAME, col('Webhooks', 'integer'), AGE], cells: (o) => [o.metadata.name, ((o['webhooks'] as unknown[] | undefined) ?? []).length, age(o.metadata.creationTimestamp)] };
    case 'ConfigMap':
      return { columns: [NAME, col('Data', 'integer'), AGE], cells: (o) => [o.metadata.name, Object.keys((o['data'] as object | undefined) ?? {}).length, age(o.metadata.creationTimestamp)] };
    default:
      return { columns: [NAME, AGE], cells: (o) => [o.metadata.name, age(o.metadata.creationTimestamp)] };
  }
}

export const wantsTable = (accept: string | undefined): boolean => !!accept && /as=Table/.test(accept);

function rowObject(o: KObject, includeObject: string | null): unknown {
  if (includeObject === 'None') return undefined;
  if (includeObject === 'Object') return o;
  return { kind: 'PartialObjectMetadata', apiVersion: 'meta.k8s.io/v1', metadata: o.metadata };
}

export function toTable(r: ResourceDef, objects: KObject[], resourceVersion: string, includeObject: string | null, cont?: string, withHeaders = true): unknown {
  const { columns, cells } = columnsAndCells(r);
  return {
    kind: 'Table',
    apiVersion: 'meta.k8s.io/v1',
    metadata: { resourceVersion, ...(cont ? { continue: cont } : {}) },
    columnDefinitions: withHeaders ? columns : null,
    rows: objects.map((o) => ({ cells: cells(o), object: rowObject(o, includeObject) })),
  };
}
