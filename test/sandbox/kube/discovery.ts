// Discovery (https://kubernetes.io/docs/concepts/overview/kubernetes-api/#discovery-api):
// /version, /api, /apis, /apis/<g>, /api/v1 and /apis/<g>/<v> in the unaggregated form
// (a client asking for the aggregated apidiscovery.k8s.io/v2 form gets application/json and
// falls back, as client-go does), and an OpenAPI v3 index with one document per group
// version (https://kubernetes.io/docs/concepts/overview/kubernetes-api/#openapi-v3).
// kubectl reads the v3 documents to learn that PATCH accepts `fieldValidation`
// (k8s.io/cli-runtime resource/query_param_verifier_v3.go); without that it would fall
// back to client-side validation against /openapi/v2.
import { createHash } from 'node:crypto';
import { apiGroups, groupVersion, RESOURCES, type ResourceDef } from './resources.ts';
import type { JsonObject } from './types.ts';

export const SERVER_VERSION = {
  major: '1',
  minor: '32',
  gitVersion: 'v1.32.4',
  gitCommit: '59526cd4867447956156ae3a602fcbac10a2c335',
  gitTreeState: 'clean',
  buildDate: '2025-04-22T16:02:27Z',
  goVersion: 'go1.23.6',
  compiler: 'gc',
  platform: 'linux/amd64',
};

const STORAGE_HASH = (r: ResourceDef) => createHash('sha256').update(`${r.group}/${r.version}/${r.kind}`).digest('base64').slice(0, 12);

export function apiVersions(serverAddress: string): JsonObject {
  return { kind: 'APIVersions', versions: ['v1'], serverAddressByClientCIDRs: [{ clientCIDR: '0.0.0.0/0', serverAddress }] };
}

function groupEntry(g: { name: string; versions: string[] }): JsonObject {
  const versions = g.versions.map((v) => ({ groupVersion: `${g.name}/${v}`, version: v }));
  return { name: g.name, versions, preferredVersion: versions[0]! };
}

export function apiGroupList(): JsonObject {
  return { kind: 'APIGroupList', apiVersion: 'v1', groups: apiGroups().map(groupEntry) };
}

export function apiGroup(name: string): JsonObject | undefined {
  const g = apiGroups().find((x) => x.name === name);
  return g ? { kind: 'APIGroup', apiVersion: 'v1', ...groupEntry(g) } : undefined;
}

export function apiResourceList(group: string, version: string): JsonObject | undefined {
  const defs = RESOURCES.filter((r) => r.group === group && r.version === version);
  if (!defs.length) return undefined;
  const resources: JsonObject[] = [];
  for (const r of defs) {
    resources.push({
      name: r.plural,
      singularName: r.singular,
      namespaced: r.namespaced,
      kind: r.kind,
      verbs: r.verbs,
      ...(r.shortNames ? { shortNames: r.shortNames } : {}),
      ...(r.categories ? { categories: r.categories } : {}),
      ...(r.virtual ? {} : { storageVersionHash: STORAGE_HASH(r) }),
    });
    for (const s of r.subresources ?? []) {
      resources.push({
        name: `${r.plural}/${s.name}`,
        singularName: '',
        namespaced: r.namespaced,
        ...(s.group !== undefined ? { group: s.group, version: s.version } : {}),
        kind: s.kind,
        verbs: s.verbs,
      });
    }
  }
  return { kind: 'APIResourceList', apiVersion: 'v1', groupVersion: groupVersion({ group, version }), resources };
}

// ---- OpenAPI v3 ----

const gvPath = (group: string, version: string) => (group ? `apis/${group}/${version}` : `api/${version}`);

function gvs(): { group: string; version: string }[] {
  const out: { group: string; version: string }[] = [];
  for (const r of RESOURCES) if (!out.some((x) => x.group === r.group && x.version === r.version)) out.push({ group: r.group, version: r.version });
  return out;
}

export function openApiV3Index(): JsonObject {
  const paths: JsonObject = {};
  for (const gv of gvs()) {
    const p = gvPath(gv.group, gv.version);
    paths[p] = { serverRelativeURL: `/openapi/v3/${p}?hash=${hash(JSON.stringify(openApiV3Document(gv.group, gv.version)))}` };
  }
  return { paths };
}

const hash = (s: string) => createHash('sha512').update(s).digest('hex').toUpperCase().slice(0, 128);

function schemaName(r: ResourceDef): string {
  if (r.custom) return `${r.group.split('.').reverse().join('.')}.${r.version}.${r.kind}`;
  const pkg = r.group === '' ? 'core' : r.group.replace('.k8s.io', '').replace('.', '');
  return `io.k8s.api.${pkg}.${r.version}.${r.kind}`;
}

const queryParam = (name: string, description: string, type = 'string') => ({ name, in: 'query', description, schema: { type, uniqueItems: true } });

const PATCH_PARAMS = [
  queryParam('dryRun', 'When present, indicates that modifications should not be persisted. Valid values are: - All: all dry run stages will be processed'),
  queryParam('fieldManager', 'fieldManager is a name associated with the actor or entity that is making these changes.'),
  queryParam('fieldValidation', 'fieldValidation instructs the server on how to handle objects in the request (POST/PUT/PATCH) containing unknown or duplicate fields. Valid values are: - Ignore - Warn - Strict'),
  queryParam('force', 'Force is going to "force" Apply requests. It means user will re-acquire conflicting fields owned by other people.', 'boolean'),
];

export function openApiV3Document(group: string, version: string): JsonObject | undefined {
  const defs = RESOURCES.filter((r) => r.group === group && r.version === version);
  if (!defs.length) return undefined;
  const prefix = `/${gvPath(group, version)}`;
  const paths: JsonObject = {};
  const schemas: JsonObject = {
    'io.k8s.apimachinery.pkg.apis.meta.v1.ObjectMeta': {
      description: 'ObjectMeta is metadata that all persisted resources must have, which includes all objects users must create.',
      type: 'object',
      properties: {
        name: { type: 'string', description: 'Name must be unique within a namespace.' },
        namespace: { type: 'string', description: 'Namespace defines the space within which each name must be unique.' },
        labels: { type: 'object', additionalProperties: { type: 'string', default: '' }, description: 'Map of string keys and values that can be used to organize and categorize (scope and select) objects.' },
        annotations: { type: 'object', additionalProperties: { type: 'string', default: '' }, description: 'Annotations is an unstructured key value map stored with a resource.' },
      },
    },
  };
  for (const r of defs) {
    const gvk = { group: r.group, version: r.version, kind: r.kind };
    const ref = { $ref: `#/components/schemas/${schemaName(r)}` };
    const ok = { '200': { description: 'OK', content: { 'application/json': { schema: ref } } } };
    const item = r.namespaced ? `${prefix}/namespaces/{namespace}/${r.plural}/{name}` : `${prefix}/${r.plural}/{name}`;
    const collection = r.namespaced ? `${prefix}/namespaces/{namespace}/${r.plural}` : `${prefix}/${r.plural}`;
    if (r.virtual) {
      paths[collection] = { post: { description: `create a ${r.kind}`, operationId: `create${r.kind}`, 'x-kubernetes-action': 'post', 'x-kubernetes-group-version-kind': gvk, parameters: PATCH_PARAMS.slice(0, 3), responses: ok } };
    } else {
      paths[collection] = {
        get: { description: `list or watch objects of kind ${r.kind}`, operationId: `list${r.kind}`, 'x-kubernetes-action': 'list', 'x-kubernetes-group-version-kind': gvk, responses: { '200': { description: 'OK' } } },
        post: { description: `create a ${r.kind}`, operationId: `create${r.kind}`, 'x-kubernetes-action': 'post', 'x-kubernetes-group-version-kind': gvk, parameters: PATCH_PARAMS.slice(0, 3), responses: ok },
      };
      paths[item] = {
        get: { description: `read the specified ${r.kind}`, operationId: `read${r.kind}`, 'x-kubernetes-action': 'get', 'x-kubernetes-group-version-kind': gvk, responses: ok },
        put: { description: `replace the specified ${r.kind}`, operationId: `replace${r.kind}`, 'x-kubernetes-action': 'put', 'x-kubernetes-group-version-kind': gvk, parameters: PATCH_PARAMS.slice(0, 3), responses: ok },
        patch: { description: `partially update the specified ${r.kind}`, operationId: `patch${r.kind}`, 'x-kubernetes-action': 'patch', 'x-kubernetes-group-version-kind': gvk, parameters: PATCH_PARAMS, responses: ok },
        delete: { description: `delete a ${r.kind}`, operationId: `delete${r.kind}`, 'x-kubernetes-action': 'delete', 'x-kubernetes-group-version-kind': gvk, responses: { '200': { description: 'OK' } } },
        parameters: [
          { name: 'name', in: 'path', required: true, description: `name of the ${r.kind}`, schema: { type: 'string', uniqueItems: true } },
          ...(r.namespaced ? [{ name: 'namespace', in: 'path', required: true, description: 'object name and auth scope, such as for teams and projects', schema: { type: 'string', uniqueItems: true } }] : []),
        ],
      };
    }
    schemas[schemaName(r)] = {
      description: `${r.kind} (emulated schema: fields are not enumerated).`,
      type: 'object',
      properties: {
        apiVersion: { type: 'string', description: 'APIVersion defines the versioned schema of this representation of an object.' },
        kind: { type: 'string', description: 'Kind is a string value representing the REST resource this object represents.' },
        metadata: { allOf: [{ $ref: '#/components/schemas/io.k8s.apimachinery.pkg.apis.meta.v1.ObjectMeta' }], default: {}, description: "Standard object's metadata." },
        spec: { type: 'object', description: 'Specification of the desired behavior.', 'x-kubernetes-preserve-unknown-fields': true },
        status: { type: 'object', description: 'Most recently observed status.', 'x-kubernetes-preserve-unknown-fields': true },
      },
      'x-kubernetes-group-version-kind': [gvk],
    };
  }
  return { openapi: '3.0.0', info: { title: 'Kubernetes', version: SERVER_VERSION.gitVersion }, paths, components: { schemas } };
}
