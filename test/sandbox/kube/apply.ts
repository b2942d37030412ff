// Server-side apply and managedFields
// (https://kubernetes.io/docs/reference/using-api/server-side-apply/): every write records
// which manager owns which fields (FieldsV1 encoding: `f:<field>`, `k:{"name":"c"}` for list
// items keyed by their merge key, `v:<value>` for set members). An apply conflicts when it
// sets a field another manager owns to a different value (409 unless force=true), and
// drops the fields the same manager applied before but no longer applies.
// Simplifications: ownership is tracked at leaf level, maps and structs are not told apart
// (only list items carry "."), and lists without a merge key are atomic.
import { MERGE_KEYS, strategicMerge } from './patch.ts';
import { failure, KubeError } from './status.ts';
import { clone, isObject, type JsonObject, type KObject, type ManagedFieldsEntry } from './types.ts';

type Path = string[];

const META_SYSTEM = new Set(['name', 'namespace', 'uid', 'resourceVersion', 'generation', 'creationTimestamp', 'deletionTimestamp', 'deletionGracePeriodSeconds', 'managedFields', 'selfLink', 'generateName']);

/** The part of an object that field ownership covers (no apiVersion/kind, system metadata, or status). */
export function ownedPart(obj: KObject, subresource?: string): JsonObject {
  if (subresource === 'status') return isObject(obj['status']) ? { status: clone(obj['status']) } : {};
  const out: JsonObject = {};
  for (const [k, v] of Object.entries(obj)) {
    if (k === 'apiVersion' || k === 'kind' || k === 'status') continue;
    if (k === 'metadata' && isObject(v)) {
      const m: JsonObject = {};
      for (const [mk, mv] of Object.entries(v)) if (!META_SYSTEM.has(mk)) m[mk] = clone(mv);
      if (Object.keys(m).length) out['metadata'] = m;
      continue;
    }
    out[k] = clone(v);
  }
  return out;
}

const keyFor = (item: JsonObject, mergeKey: string): string => `k:${JSON.stringify({ [mergeKey]: item[mergeKey] })}`;

/** Leaf paths of a value in FieldsV1 segments. */
export function leafPaths(value: unknown, keyed = true, prefix: Path = []): Path[] {
  if (!isObject(value)) return prefix.length ? [prefix] : [];
  const out: Path[] = [];
  for (const [k, v] of Object.entries(value)) {
    const p = [...prefix, `f:${k}`];
    if (Array.isArray(v)) {
      const mergeKey = keyed ? MERGE_KEYS[k] : undefined;
      if (mergeKey && v.every((i) => isObject(i) && i[mergeKey] !== undefined)) {
        if (!v.length) out.push(p);
        for (const item of v as JsonObject[]) {
          const ip = [...p, keyFor(item, mergeKey)];
          const inner = leafPaths(item, keyed, ip);
          out.push(...(inner.length ? inner : [ip]));
        }
      } else if (keyed && k === 'finalizers') {
        if (!v.length) out.push(p);
        for (const s of v) out.push([...p, `v:${JSON.stringify(s)}`]);
      } else out.push(p);
    } else if (isObject(v) && Object.keys(v).length) {
      out.push(...leafPaths(v, keyed, p));
    } else out.push(p);
  }
  return out;
}

export function toFieldsV1(paths: Path[]): JsonObject {
  const root: JsonObject = {};
  for (const p of paths) {
    let cur = root;
    for (const seg of p) {
      if (!isObject(cur[seg])) cur[seg] = {};
      cur = cur[seg] as JsonObject;
      if (seg.startsWith('k:') || seg.startsWith('v:')) cur['.'] ??= {};
    }
  }
  // "." only where the node has other children or is a list item.
  return root;
}

export function fromFieldsV1(f: unknown, prefix: Path = []): Path[] {
  if (!isObject(f)) return [];
  const keys = Object.keys(f).filter((k) => k !== '.');
  if (!keys.length) return prefix.length ? [prefix] : [];
  return keys.flatMap((k) => fromFieldsV1(f[k], [...prefix, k]));
}

const pathKey = (p: Path) => p.join('\u0000');

function step(cur: unknown, seg: string): unknown {
  if (seg.startsWith('f:')) return isObject(cur) ? cur[seg.slice(2)] : undefined;
  if (seg.startsWith('k:')) {
    if (!Array.isArray(cur)) return undefined;
    const key = JSON.parse(seg.slice(2)) as JsonObject;
    return cur.find((i) => isObject(i) && Object.entries(key).every(([k, v]) => i[k] === v));
  }
  if (seg.startsWith('v:')) {
    if (!Array.isArray(cur)) return undefined;
    const v = JSON.parse(seg.slice(2)) as unknown;
    return cur.includes(v) ? v : undefined;
  }
  return undefined;
}

export function valueAt(obj: unknown, p: Path): unknown {
  let cur = obj;
  for (const seg of p) {
    cur = step(cur, seg);
    if (cur === undefined) return undefined;
  }
  return cur;
}

function removePath(obj: unknown, p: Path): void {
  const parent = valueAt(obj, p.slice(0, -1));
  const last = p[p.length - 1]!;
  if (last.startsWith('f:') && isObject(parent)) delete parent[last.slice(2)];
  else if (Array.isArray(parent)) {
    const item = step(parent, last);
    const i = parent.indexOf(item);
    if (i >= 0) parent.splice(i, 1);
  }
}

/** `.metadata.labels.app`, `.spec.containers[name="c"].image`: how conflicts name a field. */
function describe(p: Path): string {
  return p
    .map((seg) => {
      if (seg.startsWith('f:')) return `.${seg.slice(2)}`;
      if (seg.startsWith('k:')) {
        const key = JSON.parse(seg.slice(2)) as JsonObject;
        return `[${Object.entries(key).map(([k, v]) => `${k}=${JSON.stringify(v)}`).join(',')}]`;
      }
      return `[${seg.slice(2)}]`;
    })
    .join('');
}

const now = () => new Date().toISOString().replace(/\.\d{3}Z$/, 'Z');

function entryPaths(e: ManagedFieldsEntry): Path[] {
  return fromFieldsV1(e.fieldsV1);
}

function withPaths(e: ManagedFieldsEntry, paths: Path[]): ManagedFieldsEntry {
  return { ...e, fieldsV1: toFieldsV1(paths) };
}

const covers = (owner: Path, p: Path) => owner.length <= p.length && owner.every((s, i) => s === p[i]);
const overlaps = (a: Path, b: Path) => covers(a, b) || covers(b, a);

/** Drops `taken` (and anything under it) from every other manager; removes entries left empty. */
function transfer(entries: ManagedFieldsEntry[], taken: Path[], except: (e: ManagedFieldsEntry) => boolean): ManagedFieldsEntry[] {
  const out: ManagedFieldsEntry[] = [];
  for (const e of entries) {
    if (except(e)) {
      out.push(e);
      continue;
    }
    const kept = entryPaths(e).filter((p) => !taken.some((t) => covers(t, p)));
    if (kept.length) out.push(withPaths(e, kept));
  }
  return out;
}

/** managedFields after a create/update/patch by `manager` (operation Update). */
export function trackUpdate(previous: KObject | undefined, next: KObject, manager: string, apiVersion: string, keyed: boolean, subresource?: string): ManagedFieldsEntry[] {
  const entries = clone(previous?.metadata.managedFields ?? []);
  const before = previous ? ownedPart(previous, subresource) : {};
  const after = ownedPart(next, subresource);
  const beforeLeaves = new Map(leafPaths(before, keyed).map((p) => [pathKey(p), p]));
  const changed = leafPaths(after, keyed).filter((p) => {
    const old = beforeLeaves.get(pathKey(p));
    return !old || JSON.stringify(valueAt(before, p)) !== JSON.stringify(valueAt(after, p));
  });
  const afterKeys = new Set(leafPaths(after, keyed).map(pathKey));
  const removed = [...beforeLeaves.values()].filter((p) => !afterKeys.has(pathKey(p)));
  if (!changed.length && !removed.length) return entries;
  const sameEntry = (e: ManagedFieldsEntry) => e.manager === manager && e.operation === 'Update' && (e.subresource ?? '') === (subresource ?? '');
  let out = transfer(entries, [...changed, ...removed], sameEntry);
  const mine = out.find(sameEntry);
  const minePaths = mine ? entryPaths(mine).filter((p) => !removed.some((r) => covers(r, p))) : [];
  const merged = [...minePaths, ...changed.filter((c) => !minePaths.some((m) => pathKey(m) === pathKey(c)))];
  out = out.filter((e) => !sameEntry(e));
  if (merged.length) {
    out.push({ manager, operation: 'Update', apiVersion, time: now(), fieldsType: 'FieldsV1', fieldsV1: toFieldsV1(merged), ...(subresource ? { subresource } : {}) });
  }
  return out;
}

export interface ApplyResult {
  object: KObject;
  managedFields: ManagedFieldsEntry[];
}

/**
 * Applies `applied` (the manager's whole intent) over `live`. Conflicts: a field another
 * manager owns, set here to a different value. Message shape from
 * sigs.k8s.io/structured-merge-diff merge/conflict.go and apiserver fieldmanager.
 */
export function serverSideApply(live: KObject | undefined, applied: KObject, manager: string, force: boolean, apiVersion: string, keyed: boolean): ApplyResult {
  const entries = clone(live?.metadata.managedFields ?? []);
  const appliedPart = ownedPart(applied);
  const appliedPaths = leafPaths(appliedPart, keyed);
  const isMine = (e: ManagedFieldsEntry) => e.manager === manager && e.operation === 'Apply' && !e.subresource;

  const conflicts: { manager: string; apiVersion: string; path: Path }[] = [];
  if (live) {
    const livePart = ownedPart(live);
    for (const e of entries) {
      if (isMine(e) || e.subresource) continue;
      for (const owned of entryPaths(e)) {
        for (const p of appliedPaths) {
          if (!overlaps(owned, p)) continue;
          const deeper = owned.length >= p.length ? owned : p;
          if (JSON.stringify(valueAt(livePart, deeper)) !== JSON.stringify(valueAt(appliedPart, deeper))) {
            if (!conflicts.some((c) => c.manager === e.manager && pathKey(c.path) === pathKey(deeper))) conflicts.push({ manager: e.manager, apiVersion: e.apiVersion, path: deeper });
          }
        }
      }
    }
    if (conflicts.length && !force) throw conflictError(conflicts);
  }

  // Merge the intent over the live object.
  const base: KObject = live ? clone(live) : { apiVersion: applied.apiVersion, kind: applied.kind, metadata: {} };
  const merged = strategicMerge(base, stripForMerge(applied), keyed) as KObject;

  // Fields this manager applied before and no longer applies go, unless someone else owns them.
  const previousMine = entries.find(isMine);
  const others = entries.filter((e) => !isMine(e));
  if (previousMine) {
    const now = new Set(appliedPaths.map(pathKey));
    const dropped = entryPaths(previousMine)
      .filter((p) => !now.has(pathKey(p)) && !appliedPaths.some((a) => covers(p, a)))
      .filter((p) => !others.some((e) => entryPaths(e).some((o) => overlaps(o, p))))
      .sort((a, b) => b.length - a.length);
    for (const p of dropped) removePath(merged, p);
  }

  // Equal values are shared with their other owners; forced conflicts change hands.
  let out = entries.filter((e) => !isMine(e));
  if (force && conflicts.length) out = transfer(out, conflicts.map((c) => c.path), () => false);
  out.push({ manager, operation: 'Apply', apiVersion, time: now(), fieldsType: 'FieldsV1', fieldsV1: toFieldsV1(appliedPaths) });
  merged.metadata.managedFields = out;
  return { object: merged, managedFields: out };
}

function stripForMerge(applied: KObject): KObject {
  const copy = clone(applied);
  delete copy.metadata.managedFields;
  delete copy.metadata.resourceVersion;
  delete copy.metadata.uid;
  delete copy.metadata.creationTimestamp;
  return copy;
}

function conflictError(conflicts: { manager: string; apiVersion: string; path: Path }[]): KubeError {
  const byManager = new Map<string, { apiVersion: string; paths: string[] }>();
  for (const c of conflicts) {
    const m = byManager.get(c.manager) ?? { apiVersion: c.apiVersion, paths: [] };
    m.paths.push(describe(c.path));
    byManager.set(c.manager, m);
  }
  const parts: string[] = [];
  for (const [manager, m] of byManager) {
    if (m.paths.length === 1) parts.push(`conflict with "${manager}" using ${m.apiVersion}: ${m.paths[0]}`);
    else parts.push(`conflicts with "${manager}" using ${m.apiVersion}:\n${m.paths.map((p) => `- ${p}`).join('\n')}`);
  }
  const n = conflicts.length;
  const message = `Apply failed with ${n} conflict${n === 1 ? '' : 's'}: ${parts.join('\n')}`;
  return new KubeError(
    failure(409, 'Conflict', message, {
      causes: conflicts.map((c) => ({ reason: 'FieldManagerConflict', message: `conflict with "${c.manager}" using ${c.apiVersion}`, field: describe(c.path) })),
    }),
  );
}

/** The default field manager: the User-Agent up to the first '/' (apiserver handlers/create.go). */
export function defaultManager(userAgent: string | undefined): string {
  const ua = (userAgent ?? '').split('/')[0]?.trim();
  return ua ? ua.slice(0, 128) : 'unknown';
}
