// kubectl's typed clients send bodies as protobuf (`application/vnd.kubernetes.protobuf`):
// `kubectl auth can-i` (SelfSubjectAccessReview), `kubectl create token` (TokenRequest),
// `kubectl create namespace|serviceaccount|configmap|secret`. This decodes the Kubernetes
// envelope (4-byte magic "k8s\0" + runtime.Unknown, see
// https://kubernetes.io/docs/reference/using-api/api-concepts/#protobuf-encoding) and those
// messages, field numbers from k8s.io/api/*/v1/generated.proto and apimachinery meta/v1.
// Other kinds answer 415. Answers stay JSON: client-go decodes a response by its Content-Type.
import { badRequest, unsupportedMediaType } from './status.ts';
import type { JsonObject } from './types.ts';

type FieldType = 'string' | 'int64' | 'bool' | 'bytes' | 'map' | 'bytesMap' | Schema;
interface FieldDef {
  name: string;
  type: FieldType;
  repeated?: boolean;
}
type Schema = Record<number, FieldDef>;

const OWNER_REFERENCE: Schema = {
  1: { name: 'kind', type: 'string' },
  3: { name: 'name', type: 'string' },
  4: { name: 'uid', type: 'string' },
  5: { name: 'apiVersion', type: 'string' },
  6: { name: 'controller', type: 'bool' },
  7: { name: 'blockOwnerDeletion', type: 'bool' },
};

const OBJECT_META: Schema = {
  1: { name: 'name', type: 'string' },
  2: { name: 'generateName', type: 'string' },
  3: { name: 'namespace', type: 'string' },
  5: { name: 'uid', type: 'string' },
  6: { name: 'resourceVersion', type: 'string' },
  7: { name: 'generation', type: 'int64' },
  11: { name: 'labels', type: 'map' },
  12: { name: 'annotations', type: 'map' },
  13: { name: 'ownerReferences', type: OWNER_REFERENCE, repeated: true },
  14: { name: 'finalizers', type: 'string', repeated: true },
};

const NAME_REF: Schema = { 1: { name: 'name', type: 'string' } };
const OBJECT_REFERENCE: Schema = { 1: { name: 'kind', type: 'string' }, 2: { name: 'namespace', type: 'string' }, 3: { name: 'name', type: 'string' }, 4: { name: 'uid', type: 'string' }, 5: { name: 'apiVersion', type: 'string' } };

const SCHEMAS: Record<string, Schema> = {
  'authorization.k8s.io/v1/SelfSubjectAccessReview': {
    1: { name: 'metadata', type: OBJECT_META },
    2: {
      name: 'spec',
      type: {
        1: {
          name: 'resourceAttributes',
          type: {
            1: { name: 'namespace', type: 'string' },
            2: { name: 'verb', type: 'string' },
            3: { name: 'group', type: 'string' },
            4: { name: 'version', type: 'string' },
            5: { name: 'resource', type: 'string' },
            6: { name: 'subresource', type: 'string' },
            7: { name: 'name', type: 'string' },
          },
        },
        2: { name: 'nonResourceAttributes', type: { 1: { name: 'path', type: 'string' }, 2: { name: 'verb', type: 'string' } } },
      },
    },
  },
  'authentication.k8s.io/v1/TokenRequest': {
    1: { name: 'metadata', type: OBJECT_META },
    2: {
      name: 'spec',
      type: {
        1: { name: 'audiences', type: 'string', repeated: true },
        3: { name: 'boundObjectRef', type: { 1: { name: 'kind', type: 'string' }, 2: { name: 'apiVersion', type: 'string' }, 3: { name: 'name', type: 'string' }, 4: { name: 'uid', type: 'string' } } },
        4: { name: 'expirationSeconds', type: 'int64' },
      },
    },
  },
  'authentication.k8s.io/v1/SelfSubjectReview': { 1: { name: 'metadata', type: OBJECT_META } },
  'v1/ServiceAccount': {
    1: { name: 'metadata', type: OBJECT_META },
    2: { name: 'secrets', type: OBJECT_REFERENCE, repeated: true },
    3: { name: 'imagePullSecrets', type: NAME_REF, repeated: true },
    4: { name: 'automountServiceAccountToken', type: 'bool' },
  },
  'v1/Namespace': { 1: { name: 'metadata', type: OBJECT_META }, 2: { name: 'spec', type: { 1: { name: 'finalizers', type: 'string', repeated: true } } } },
  'v1/ConfigMap': { 1: { name: 'metadata', type: OBJECT_META }, 2: { name: 'data', type: 'map' }, 3: { name: 'binaryData', type: 'bytesMap' }, 4: { name: 'immutable', type: 'bool' } },
  'v1/Secret': {
    1: { name: 'metadata', type: OBJECT_META },
    2: { name: 'data', type: 'bytesMap' },
    3: { name: 'type', type: 'string' },
    4: { name: 'stringData', type: 'map' },
    5: { name: 'immutable', type: 'bool' },
  },
  'v1/DeleteOptions': {
    1: { name: 'gracePeriodSeconds', type: 'int64' },
    2: { name: 'preconditions', type: { 1: { name: 'uid', type: 'string' }, 2: { name: 'resourceVersion', type: 'string' } } },
    4: { name: 'propagationPolicy', type: 'string' },
    5: { name: 'dryRun', type: 'string', repeated: true },
  },
  'meta.k8s.io/v1/DeleteOptions': {},
};
SCHEMAS['meta.k8s.io/v1/DeleteOptions'] = SCHEMAS['v1/DeleteOptions']!;

class Reader {
  pos = 0;
  readonly buf: Buffer;
  constructor(buf: Buffer) {
    this.buf = buf;
  }
  varint(): bigint {
    let result = 0n;
    let shift = 0n;
    for (;;) {
      if (this.pos >= this.buf.length) throw badRequest('protobuf: unexpected end of data');
      const b = this.buf[this.pos++]!;
      result |= BigInt(b & 0x7f) << shift;
      if (!(b & 0x80)) return result;
      shift += 7n;
    }
  }
  bytes(): Buffer {
    const len = Number(this.varint());
    const out = this.buf.subarray(this.pos, this.pos + len);
    this.pos += len;
    return out;
  }
  skip(wire: number): void {
    if (wire === 0) this.varint();
    else if (wire === 1) this.pos += 8;
    else if (wire === 2) this.bytes();
    else if (wire === 5) this.pos += 4;
    else throw badRequest(`protobuf: unsupported wire type ${wire}`);
  }
}

function decode(buf: Buffer, schema: Schema): JsonObject {
  const r = new Reader(buf);
  const out: JsonObject = {};
  while (r.pos < buf.length) {
    const tag = Number(r.varint());
    const field = tag >> 3;
    const wire = tag & 7;
    const def = schema[field];
    if (!def) {
      r.skip(wire);
      continue;
    }
    let value: unknown;
    if (def.type === 'map' || def.type === 'bytesMap') {
      // map<string, T> is a repeated entry message {1: key, 2: value}.
      const entry = decode(r.bytes(), { 1: { name: 'k', type: 'string' }, 2: { name: 'v', type: def.type === 'map' ? 'string' : 'bytes' } });
      ((out[def.name] ??= {}) as JsonObject)[String(entry['k'] ?? '')] = entry['v'] ?? '';
      continue;
    }
    if (def.type === 'string') value = r.bytes().toString('utf8');
    else if (def.type === 'bytes') value = r.bytes().toString('base64');
    else if (def.type === 'int64') value = Number(BigInt.asIntN(64, r.varint()));
    else if (def.type === 'bool') value = r.varint() !== 0n;
    else value = decode(r.bytes(), def.type);
    if (def.repeated) ((out[def.name] ??= []) as unknown[]).push(value);
    // Go's generated marshallers write every non-pointer scalar, empty or not
    // (ObjectMeta's generateName "" and generation 0 on every kubectl create); the JSON
    // the API server stores and serves omits them (`json:",omitempty"`).
    else if (value === '' || value === 0) delete out[def.name];
    else out[def.name] = value;
  }
  return out;
}

/** Decodes a protobuf request body into the JSON object it stands for. */
export function decodeProtobuf(body: Buffer): JsonObject {
  if (body.length < 4 || body.subarray(0, 4).toString('binary') !== 'k8s\u0000') throw badRequest('protobuf: missing the k8s envelope');
  // runtime.Unknown: 1 typeMeta {1 apiVersion, 2 kind}, 2 raw, 3 contentEncoding, 4 contentType.
  const r = new Reader(body.subarray(4));
  let typeMeta: { apiVersion?: string; kind?: string } = {};
  let raw = Buffer.alloc(0);
  while (r.pos < r.buf.length) {
    const tag = Number(r.varint());
    if (tag >> 3 === 1 && (tag & 7) === 2) typeMeta = decode(r.bytes(), { 1: { name: 'apiVersion', type: 'string' }, 2: { name: 'kind', type: 'string' } });
    else if (tag >> 3 === 2 && (tag & 7) === 2) raw = Buffer.from(r.bytes());
    else r.skip(tag & 7);
  }
  const schema = SCHEMAS[`${typeMeta.apiVersion}/${typeMeta.kind}`];
  if (!schema) throw unsupportedMediaType('application/vnd.kubernetes.protobuf', ['application/json', 'application/yaml']);
  return { apiVersion: typeMeta.apiVersion, kind: typeMeta.kind, ...decode(raw, schema) };
}
