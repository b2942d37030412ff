// PATCH bodies: JSON merge patch (RFC 7386), strategic merge patch for built-in kinds
// (https://github.com/kubernetes/community/blob/master/contributors/devel/sig-api-machinery/strategic-merge-patch.md:
// lists with a patchMergeKey merge by that key, `$patch: delete|replace` directives), and
// JSON patch (RFC 6902). Server-side apply builds on the strategic merge in apply.ts.
import { badRequest, KubeError, failure } from './status.ts';
import { clone, isObject, type JsonObject } from './types.ts';

/** patchMergeKey of the list fields the emulated kinds carry (k8s.io/api core/v1 types.go tags). */
export const MERGE_KEYS: Record<string, string> = {
  containers: 'name',
  initContainers: 'name',
  ephemeralContainers: 'name',
  volumes: 'name',
  env: 'name',
  imagePullSecrets: 'name',
  volumeMounts: 'mountPath',
  volumeDevices: 'devicePath',
  ports: 'containerPort',
  ownerReferences: 'uid',
  conditions: 'type',
  hostAliases: 'ip',
  webhooks: 'name',
  secrets: 'name',
};

/** Primitive lists with patchStrategy merge (set union). */
const SET_LISTS = new Set(['finalizers']);

export function mergePatch(target: unknown, patch: unknown): unknown {
  if (!isObject(patch)) return clone(patch);
  const out: JsonObject = isObject(target) ? clone(target) : {};
  for (const [k, v] of Object.entries(patch)) {
    if (v === null) delete out[k];
    else out[k] = mergePatch(out[k], v);
  }
  return out;
}

const stripDirectives = (o: JsonObject): JsonObject => {
  const out: JsonObject = {};
  for (const [k, v] of Object.entries(o)) {
    if (k.startsWith('$')) continue;
    out[k] = v;
  }
  return out;
};

/** Strategic merge of `patch` into `target`; `keyed` false treats every list as atomic (custom resources). */
export function strategicMerge(target: unknown, patch: unknown, keyed = true): unknown {
  if (!isObject(patch)) return clone(patch);
  if (patch['$patch'] === 'replace') return stripDirectives(clone(patch));
  if (patch['$patch'] === 'delete') return undefined;
  const out: JsonObject = isObject(target) ? clone(target) : {};
  for (const [k, v] of Object.entries(patch)) {
    if (k.startsWith('$')) continue;
    if (v === null) {
      delete out[k];
      continue;
    }
    if (Array.isArray(v)) {
      out[k] = keyed ? mergeList(k, out[k], v) : clone(v);
      continue;
    }
    const merged = strategicMerge(out[k], v, keyed);
    if (merged === undefined) delete out[k];
    else out[k] = merged;
  }
  return out;
}

function mergeList(field: string, current: unknown, patch: unknown[]): unknown[] {
  const mergeKey = MERGE_KEYS[field];
  if (patch.some((p) => isObject(p) && p['$patch'] === 'replace')) {
    return patch.filter((p) => !(isObject(p) && p['$patch'] === 'replace')).map((p) => (isObject(p) ? stripDirectives(p) : p));
  }
  const cur = Array.isArray(current) ? clone(current) : [];
  if (SET_LISTS.has(field)) {
    const out = [...cur];
    for (const p of patch) if (!out.includes(p)) out.push(p);
    return out;
  }
  if (!mergeKey) return patch.map((p) => clone(p));
  const out = [...cur];
  for (const p of patch) {
    if (!isObject(p)) continue;
    const key = p[mergeKey];
    const idx = out.findIndex((c) => isObject(c) && c[mergeKey] === key);
    if (p['$patch'] === 'delete') {
      if (idx >= 0) out.splice(idx, 1);
      continue;
    }
    if (idx >= 0) out[idx] = strategicMerge(out[idx], p, true);
    else out.push(stripDirectives(strategicMerge({}, p, true) as JsonObject));
  }
  return out;
}

// ---- RFC 6902 JSON patch ----

interface JsonPatchOp {
  op: 'add' | 'remove' | 'replace' | 'move' | 'copy' | 'test';
  path: string;
  value?: unknown;
  from?: string;
}

const unescape = (s: string) => s.replace(/~1/g, '/').replace(/~0/g, '~');

function pointer(path: string): string[] {
  if (path === '') return [];
  if (!path.startsWith('/')) throw jsonPatchError(`invalid JSON pointer ${JSON.stringify(path)}`);
  return path.slice(1).split('/').map(unescape);
}

function jsonPatchError(message: string): KubeError {
  // The apiserver answers a patch that cannot be applied with 422 (patch.go, interpretStrategicMergePatchError/jsonpatch).
  return new KubeError(failure(422, 'Invalid', message));
}

function parentOf(doc: unknown, segs: string[]): { parent: unknown; last: string } {
  let cur = doc;
  for (const s of segs.slice(0, -1)) {
    if (Array.isArray(cur)) cur = cur[Number(s)];
    else if (isObject(cur)) cur = cur[s];
    else throw jsonPatchError(`jsonpatch: path does not exist: /${segs.join('/')}`);
    if (cur === undefined) throw jsonPatchError(`doc is missing path: "/${segs.join('/')}": missing value`);
  }
  return { parent: cur, last: segs[segs.length - 1] ?? '' };
}

function getAt(doc: unknown, segs: string[]): unknown {
  let cur = doc;
  for (const s of segs) {
    if (Array.isArray(cur)) cur = cur[Number(s)];
    else if (isObject(cur)) cur = cur[s];
    else return undefined;
  }
  return cur;
}

function addAt(doc: unknown, segs: string[], value: unknown, replace: boolean): unknown {
  if (segs.length === 0) return clone(value);
  const { parent, last } = parentOf(doc, segs);
  if (Array.isArray(parent)) {
    const i = last === '-' ? parent.length : Number(last);
    if (!Number.isInteger(i) || i < 0 || i > parent.length) throw jsonPatchError(`add operation does not apply: index out of bounds: ${last}`);
    if (replace) parent[i] = clone(value);
    else parent.splice(i, 0, clone(value));
  } else if (isObject(parent)) {
    if (replace && !(last in parent)) throw jsonPatchError(`the server rejected our request due to an error in our request: replace operation does not apply: doc is missing key: /${segs.join('/')}: missing value`);
    parent[last] = clone(value);
  } else throw jsonPatchError(`doc is missing path: "/${segs.join('/')}": missing value`);
  return doc;
}

function removeAt(doc: unknown, segs: string[]): unknown {
  const { parent, last } = parentOf(doc, segs);
  if (Array.isArray(parent)) {
    const i = Number(last);
    if (!(i >= 0 && i < parent.length)) throw jsonPatchError(`remove operation does not apply: doc is missing path: "/${segs.join('/')}": missing value`);
    parent.splice(i, 1);
  } else if (isObject(parent) && last in parent) delete parent[last];
  else throw jsonPatchError(`remove operation does not apply: doc is missing path: "/${segs.join('/')}": missing value`);
  return doc;
}

export function jsonPatch(target: unknown, ops: unknown): unknown {
  if (!Array.isArray(ops)) throw badRequest('json: cannot unmarshal object into Go value of type jsonpatch.Patch');
  let doc = clone(target);
  for (const raw of ops as JsonPatchOp[]) {
    const segs = pointer(raw.path);
    switch (raw.op) {
      case 'add':
        doc = addAt(doc, segs, raw.value, false);
        break;
      case 'replace':
        doc = addAt(doc, segs, raw.value, true);
        break;
      case 'remove':
        doc = removeAt(doc, segs);
        break;
      case 'move': {
        const from = pointer(raw.from ?? '');
        const v = getAt(doc, from);
        doc = removeAt(doc, from);
        doc = addAt(doc, segs, v, false);
        break;
      }
      case 'copy':
        doc = addAt(doc, segs, getAt(doc, pointer(raw.from ?? '')), false);
        break;
      case 'test':
        if (JSON.stringify(getAt(doc, segs)) !== JSON.stringify(raw.value)) throw jsonPatchError(`the server rejected our request due to an error in our request: testing value /${segs.join('/')} failed: test failed`);
        break;
      default:
        throw badRequest(`Unexpected kind: ${String((raw as { op?: unknown }).op)}`);
    }
  }
  return doc;
}
