// The resource verbs: get, list, watch, create, update, patch, delete, deletecollection, and
// the subresources the action touches (pods/log, pods/status, serviceaccounts/token), with the
// request flow of k8s.io/apiserver (endpoints/handlers + registry/generic/registry/store.go):
// mutating admission → validation (422) → validating admission → storage (409), dry-run
// stopping short of storage, optimistic concurrency on resourceVersion, graceful pod
// deletion, namespace termination.
// Conventions: https://github.com/kubernetes/community/blob/master/contributors/devel/sig-architecture/api-conventions.md
import { randomUUID } from 'node:crypto';
import type { ServerResponse } from 'node:http';
import { parse as parseYaml } from 'yaml';
import type { Reply } from '../http.ts';
import type { ClusterIssuer } from '../cluster-issuer.ts';
import { defaultNamespace, defaultPod, randomSuffix, serviceAccountAdmission } from './admission/defaults.ts';
import { describeViolations, evaluate, policyOf } from './admission/pod-security.ts';
import { matchingWebhook, mutatePod, unreachable, type WebhookSettings } from './admission/webhook.ts';
import { defaultManager, serverSideApply, trackUpdate } from './apply.ts';
import { timestamp, type EventRecorder } from './events.ts';
import type { PodLogs } from './logs.ts';
import { decodeProtobuf } from './protobuf.ts';
import { jsonPatch, mergePatch, strategicMerge } from './patch.ts';
import { ALLOWED_REASON, forbiddenError, type Rbac } from './rbac.ts';
import { groupVersion, RESOURCES, type ResourceDef } from './resources.ts';
import { checkFieldSelector, matchFields, matchLabels, parseFieldSelector, parseLabelSelector } from './selectors.ts';
import { alreadyExists, badRequest, conflict, failure, forbidden, KubeError, namespaceNotFound, notFound, success, unsupportedMediaType } from './status.ts';
import type { KubeStore } from './store.ts';
import { toTable, wantsTable } from './table.ts';
import { signServiceAccountToken, tokenRequestSpec, type TokenRequestSpec } from './tokens.ts';
import { clone, isObject, type JsonObject, type KObject, type Namespace, type Pod, type ServiceAccount } from './types.ts';
import { validateCreate, validateUpdate } from './validation.ts';
import type { Watches } from './watch.ts';

export interface RequestInfo {
  r: ResourceDef;
  namespace?: string;
  name?: string;
  subresource?: string;
  verb: string;
  user: string;
  query: URLSearchParams;
  headers: Record<string, string | string[] | undefined>;
  body: Buffer;
  method: string;
}

export interface ApiState {
  webhook: boolean | 'unreachable';
  webhookSettings: WebhookSettings;
  /** The API server's clock runs this many seconds ahead (negative: behind): it stamps iat/nbf/exp of the tokens it issues. */
  clockSkewSeconds: number;
}

export interface HandlerDeps {
  store: KubeStore;
  events: EventRecorder;
  logs: PodLogs;
  rbac: Rbac;
  watches: Watches;
  issuer: ClusterIssuer;
  state: ApiState;
  caPem: string;
}

const def = (kind: string) => RESOURCES.find((r) => r.kind === kind)!;
const PODS = def('Pod');
const NAMESPACES = def('Namespace');
const SERVICE_ACCOUNTS = def('ServiceAccount');
const MWCS = def('MutatingWebhookConfiguration');

const json = (status: number, body: unknown, headers: Record<string, string | string[]> = {}): Reply => ({ status, body, headers });

/** Built-in typed lists carry items without kind/apiVersion; custom resource lists keep them. */
function listItem(r: ResourceDef, o: KObject): KObject {
  if (r.custom) return o;
  const { apiVersion: _a, kind: _k, ...rest } = o;
  return rest as KObject;
}

export function withType(r: ResourceDef, o: KObject): KObject {
  const { apiVersion: _a, kind: _k, ...rest } = o;
  return { kind: r.kind, apiVersion: groupVersion(r), ...rest } as KObject;
}

function header(h: RequestInfo['headers'], name: string): string | undefined {
  const v = h[name];
  return Array.isArray(v) ? v.join(',') : v;
}

function decodeBody(info: RequestInfo): unknown {
  const type = (header(info.headers, 'content-type') ?? 'application/json').split(';')[0]!.trim().toLowerCase();
  if (!info.body.length) return {};
  const text = info.body.toString('utf8');
  if (type === 'application/vnd.kubernetes.protobuf') return decodeProtobuf(info.body);
  if (type.includes('protobuf') || type.includes('cbor')) {
    throw unsupportedMediaType(type, ['application/json', 'application/yaml', 'application/vnd.kubernetes.protobuf']);
  }
  try {
    if (type.includes('yaml')) return parseYaml(text) as unknown;
    return JSON.parse(text) as unknown;
  } catch (err) {
    throw badRequest(`the object provided is unrecognized (must be of type ${info.r.kind}): couldn't get version/kind; json parse error: ${(err as Error).message}`);
  }
}

function dryRun(q: URLSearchParams): boolean {
  const v = q.getAll('dryRun');
  if (!v.length) return false;
  for (const x of v) {
    if (x !== 'All') throw new KubeError(failure(400, 'BadRequest', `Invalid dryRun value: ${x}. Supported values: "All"`));
  }
  return true;
}

function managerOf(info: RequestInfo): string {
  return info.query.get('fieldManager') || defaultManager(header(info.headers, 'user-agent'));
}

const sameContent = (a: KObject, b: KObject): boolean => {
  const strip = (o: KObject) => {
    const c = clone(o);
    delete c.metadata.resourceVersion;
    delete c.metadata.managedFields;
    return JSON.stringify(c);
  };
  return strip(a) === strip(b);
};

/** Anything outside metadata and status changed: generation goes up (API conventions, "metadata.generation"). */
function specChanged(a: KObject, b: KObject): boolean {
  const strip = (o: KObject) => {
    const { metadata: _m, status: _s, ...rest } = o;
    return JSON.stringify(rest);
  };
  return strip(a) !== strip(b);
}

export class Handlers {
  private readonly d: HandlerDeps;

  constructor(deps: HandlerDeps) {
    this.d = deps;
  }

  // ---------------------------------------------------------------- read

  get(info: RequestInfo): Reply {
    const o = this.d.store.get(info.r, info.namespace, info.name!);
    if (!o) throw notFound(info.r, info.name!);
    if (wantsTable(header(info.headers, 'accept'))) {
      return json(200, toTable(info.r, [o], o.metadata.resourceVersion ?? '', info.query.get('includeObject')));
    }
    return json(200, withType(info.r, o));
  }

  private selected(info: RequestInfo): KObject[] {
    const labels = parseLabelSelector(info.query.get('labelSelector'));
    const fields = parseFieldSelector(info.query.get('fieldSelector'));
    checkFieldSelector(info.r.kind, fields);
    return this.d.store.list(info.r, info.namespace).filter((o) => matchLabels(labels, o.metadata.labels) && matchFields(fields, o));
  }

  list(info: RequestInfo): Reply {
    const rv = this.d.store.currentResourceVersion();
    let items = this.selected(info);
    // Pagination (limit/continue): the token records where the previous page ended.
    let cont: string | undefined;
    let remaining: number | undefined;
    const token = info.query.get('continue');
    if (token) {
      let start: { key: string };
      try {
        start = JSON.parse(Buffer.from(token, 'base64').toString('utf8')) as { key: string };
      } catch {
        throw badRequest('continue key is not valid: illegal base64 data at input byte 0');
      }
      items = items.filter((o) => `${o.metadata.namespace ?? ''}/${o.metadata.name}` > start.key);
    }
    const limit = Number(info.query.get('limit') ?? 0);
    if (limit > 0 && items.length > limit) {
      remaining = items.length - limit;
      items = items.slice(0, limit);
      const last = items[items.length - 1]!;
      cont = Buffer.from(JSON.stringify({ v: 'meta.k8s.io/v1', rv: Number(rv), key: `${last.metadata.namespace ?? ''}/${last.metadata.name}` })).toString('base64');
    }
    if (wantsTable(header(info.headers, 'accept'))) return json(200, toTable(info.r, items, rv, info.query.get('includeObject'), cont));
    return json(200, {
      kind: info.r.listKind,
      apiVersion: groupVersion(info.r),
      metadata: { resourceVersion: rv, ...(cont ? { continue: cont, remainingItemCount: remaining } : {}) },
      items: items.map((o) => listItem(info.r, o)),
    });
  }

  watch(info: RequestInfo, res: ServerResponse): void {
    const fields = parseFieldSelector(info.query.get('fieldSelector'));
    checkFieldSelector(info.r.kind, fields);
    if (info.name) fields.push({ field: 'metadata.name', op: '=', value: info.name });
    const timeout = info.query.get('timeoutSeconds');
    this.d.watches.serve(res, {
      resource: info.r,
      namespace: info.namespace,
      labels: parseLabelSelector(info.query.get('labelSelector')),
      fields,
      resourceVersion: info.query.get('resourceVersion') ?? undefined,
      timeoutSeconds: timeout ? Number(timeout) : undefined,
      table: wantsTable(header(info.headers, 'accept')),
      includeObject: info.query.get('includeObject'),
      allowBookmarks: info.query.get('allowWatchBookmarks') === 'true',
      sendInitialEvents: info.query.get('sendInitialEvents') === 'true',
    });
  }

  // ---------------------------------------------------------------- create

  private requireNamespace(r: ResourceDef, name: string, ns: string | undefined): void {
    if (!r.namespaced || !ns) return;
    const n = this.d.store.get<Namespace>(NAMESPACES, undefined, ns);
    if (!n) throw namespaceNotFound(ns);
    if (n.status?.phase === 'Terminating' || n.metadata.deletionTimestamp) {
      const message = `unable to create new content in namespace ${ns} because it is being terminated`;
      const e = forbidden(r, name, message);
      e.status.details = { ...e.status.details, causes: [{ reason: 'NamespaceTerminating', message, field: 'metadata.namespace' }] };
      throw e;
    }
  }

  private typed(info: RequestInfo, body: unknown): KObject {
    if (!isObject(body)) throw badRequest(`the object provided is unrecognized (must be of type ${info.r.kind})`);
    const o = body as KObject;
    if (o.kind && o.kind !== info.r.kind) {
      throw badRequest(`the object provided is unrecognized (must be of type ${info.r.kind}): Object 'Kind' is ${JSON.stringify(o.kind)}`);
    }
    if (o.apiVersion && o.apiVersion !== groupVersion(info.r)) {
      throw badRequest(`the API version in the data (${o.apiVersion}) does not match the expected API version (${groupVersion(info.r)})`);
    }
    o.metadata = isObject(o.metadata) ? o.metadata : {};
    return withType(info.r, o);
  }

  create(info: RequestInfo): Reply {
    if (info.r.kind === 'SelfSubjectAccessReview') return this.accessReview(info);
    if (info.r.kind === 'SelfSubjectRulesReview') return this.rulesReview(info);
    if (info.r.kind === 'SelfSubjectReview') return this.whoAmI(info);
    const obj = this.typed(info, decodeBody(info));
    if (info.r.namespaced) {
      if (obj.metadata.namespace && obj.metadata.namespace !== info.namespace) {
        throw badRequest('the namespace of the provided object does not match the namespace sent on the request');
      }
      obj.metadata.namespace = info.namespace;
    } else delete obj.metadata.namespace;
    const manager = managerOf(info);
    return this.createObject(info, obj, dryRun(info.query), (o) => trackUpdate(undefined, o, manager, groupVersion(info.r), !info.r.custom));
  }

  /** The create flow shared by POST and server-side apply of a missing object. */
  private createObject(info: RequestInfo, input: KObject, isDryRun: boolean, managed: (o: KObject) => KObject['metadata']['managedFields']): Reply {
    const r = info.r;
    let obj = clone(input);
    const m = obj.metadata;
    if (!m.name && m.generateName) m.name = `${m.generateName}${randomSuffix(5)}`;
    this.requireNamespace(r, m.name ?? '', m.namespace);
    for (const k of ['uid', 'resourceVersion', 'creationTimestamp', 'deletionTimestamp', 'deletionGracePeriodSeconds', 'selfLink', 'managedFields']) delete m[k];
    m.uid = randomUUID();
    m.creationTimestamp = timestamp();
    if (r.generation) m.generation = 1;
    if (r.statusSubresource && r.kind !== 'Namespace') {
      if (r.custom) delete obj['status'];
      else obj['status'] = {};
    }
    const warnings: string[] = [];

    if (r.kind === 'Namespace') obj = defaultNamespace(obj as Namespace);
    if (r.kind === 'Pod') obj = this.admitPod(obj as Pod, warnings);
    validateCreate(r, obj);
    if (r.kind === 'Pod') this.enforcePodSecurity(obj as Pod);
    else this.warnTemplate(obj, warnings);

    if (this.d.store.get(r, m.namespace, m.name!)) throw alreadyExists(r, m.name!);
    obj.metadata.managedFields = managed(obj);
    const headers: Record<string, string[]> = warnings.length ? { warning: warnings.map((w) => `299 - ${JSON.stringify(w)}`) } : {};
    if (isDryRun) return json(201, obj, headers);
    const stored = this.d.store.create(r, obj);
    if (r.kind === 'Namespace') this.namespaceCreated(stored);
    return json(201, withType(r, stored), headers);
  }

  /** ServiceAccount admission, defaulting, and the workload identity webhook (in apiserver plugin order). */
  private admitPod(pod: Pod, warnings: string[]): Pod {
    if (!isObject(pod.spec)) pod.spec = { containers: [] };
    pod.spec.containers ??= [];
    const ns = pod.metadata.namespace!;
    const saName = pod.spec.serviceAccountName || pod.spec.serviceAccount || 'default';
    let out = serviceAccountAdmission(pod, this.d.store.get<ServiceAccount>(SERVICE_ACCOUNTS, ns, saName));
    const state = this.d.state;
    if (state.webhook !== false) {
      const nsObj = this.d.store.get<Namespace>(NAMESPACES, undefined, ns);
      const hook = matchingWebhook(this.d.store.list(MWCS), out, nsObj?.metadata.labels);
      if (hook) {
        if (state.webhook === 'unreachable') throw unreachable(hook);
        out = mutatePod(out, this.d.store.get<ServiceAccount>(SERVICE_ACCOUNTS, ns, saName), state.webhookSettings);
      }
    }
    defaultPod(out);
    const warn = policyOf(this.d.store.get<Namespace>(NAMESPACES, undefined, ns), 'warn');
    const results = evaluate(warn.level, out.metadata, out.spec);
    if (results.length) warnings.push(`would violate PodSecurity ${describeViolations(warn, results)}`);
    return out;
  }

  /** PodSecurity enforce (validating admission, after mutation): 403 with every violation. */
  private enforcePodSecurity(pod: Pod): void {
    const ns = this.d.store.get<Namespace>(NAMESPACES, undefined, pod.metadata.namespace!);
    const policy = policyOf(ns, 'enforce');
    const results = evaluate(policy.level, pod.metadata, pod.spec);
    if (results.length) throw forbidden(PODS, pod.metadata.name ?? '', `violates PodSecurity ${describeViolations(policy, results)}`);
  }

  /** Workload resources only get warnings (enforce applies to pods; warn and enforce levels are reported). */
  private warnTemplate(obj: KObject, warnings: string[]): void {
    const spec = obj['spec'] as { template?: { metadata?: KObject['metadata']; spec?: Pod['spec'] }; jobTemplate?: { spec?: { template?: { metadata?: KObject['metadata']; spec?: Pod['spec'] } } } } | undefined;
    const template = spec?.template ?? spec?.jobTemplate?.spec?.template;
    if (!template?.spec || !obj.metadata.namespace) return;
    const ns = this.d.store.get<Namespace>(NAMESPACES, undefined, obj.metadata.namespace);
    for (const mode of ['enforce', 'warn'] as const) {
      const policy = policyOf(ns, mode);
      const results = evaluate(policy.level, template.metadata ?? {}, { ...template.spec, containers: template.spec.containers ?? [] });
      if (results.length) {
        warnings.push(`would violate PodSecurity ${describeViolations(policy, results)}`);
        return;
      }
    }
  }

  /** The serviceaccount controller and root-ca-cert-publisher fill a new namespace (synchronously here). */
  namespaceCreated(ns: KObject): void {
    const name = ns.metadata.name!;
    if (!this.d.store.get(SERVICE_ACCOUNTS, name, 'default')) {
      this.d.store.create(SERVICE_ACCOUNTS, { apiVersion: 'v1', kind: 'ServiceAccount', metadata: { name: 'default', namespace: name, uid: randomUUID(), creationTimestamp: timestamp() } });
    }
    if (!this.d.store.get('configmaps', name, 'kube-root-ca.crt')) {
      this.d.store.create('configmaps', {
        apiVersion: 'v1',
        kind: 'ConfigMap',
        metadata: { name: 'kube-root-ca.crt', namespace: name, uid: randomUUID(), creationTimestamp: timestamp(), annotations: { 'kubernetes.io/description': 'Contains a CA bundle that can be used to verify the kube-apiserver when using internal endpoints such as the internal service IP or kubernetes.default.svc. No other usage is guaranteed across distributions of Kubernetes clusters.' } },
        data: { 'ca.crt': this.d.caPem },
      });
    }
  }

  // ---------------------------------------------------------------- update / patch

  update(info: RequestInfo): Reply {
    const body = this.typed(info, decodeBody(info));
    if (body.metadata.name && body.metadata.name !== info.name) throw badRequest(`the name of the object (${body.metadata.name}) does not match the name on the URL (${info.name})`);
    if (info.r.namespaced && body.metadata.namespace && body.metadata.namespace !== info.namespace) {
      throw badRequest('the namespace of the provided object does not match the namespace sent on the request');
    }
    const existing = this.d.store.get(info.r, info.namespace, info.name!);
    if (!existing) throw notFound(info.r, info.name!);
    if (body.metadata.resourceVersion && body.metadata.resourceVersion !== existing.metadata.resourceVersion) throw conflict(info.r, info.name!);
    return this.store(info, existing, body, managerOf(info), false);
  }

  patch(info: RequestInfo): Reply {
    const type = (header(info.headers, 'content-type') ?? '').split(';')[0]!.trim().toLowerCase();
    const r = info.r;
    const accepted = ['application/json-patch+json', 'application/merge-patch+json', ...(r.custom ? [] : ['application/strategic-merge-patch+json']), 'application/apply-patch+yaml'];
    if (!accepted.includes(type)) throw unsupportedMediaType(type, accepted);
    const isApply = type === 'application/apply-patch+yaml';
    const text = info.body.toString('utf8');
    let patch: unknown;
    try {
      patch = isApply ? (parseYaml(text) as unknown) : JSON.parse(text || 'null');
    } catch (err) {
      throw badRequest(`error decoding patch: ${(err as Error).message}`);
    }
    const existing = this.d.store.get(r, info.namespace, info.name!);
    const manager = info.query.get('fieldManager') ?? '';

    if (isApply) {
      if (!manager) throw badRequest('PATCH request: fieldManager is required for apply requests');
      const applied = this.typed(info, patch);
      if (applied.metadata.name && applied.metadata.name !== info.name) throw badRequest(`the name of the object (${applied.metadata.name}) does not match the name on the URL (${info.name})`);
      applied.metadata.name = info.name;
      if (r.namespaced) {
        if (applied.metadata.namespace && applied.metadata.namespace !== info.namespace) throw badRequest('the namespace of the provided object does not match the namespace sent on the request');
        applied.metadata.namespace = info.namespace;
      }
      const force = info.query.get('force') === 'true';
      const gv = groupVersion(r);
      if (!existing) {
        // The applier owns what it applied, not what admission and defaulting added.
        return this.createObject(info, applied, dryRun(info.query), () => serverSideApply(undefined, applied, manager, force, gv, !r.custom).managedFields);
      }
      const target = info.subresource === 'status' ? { ...existing, status: applied['status'] } : applied;
      const { object } = serverSideApply(existing, target as KObject, manager, force, gv, !r.custom);
      return this.store(info, existing, object, manager, true);
    }

    if (!existing) throw notFound(r, info.name!);
    let next: unknown;
    if (type === 'application/merge-patch+json') next = mergePatch(existing, patch);
    else if (type === 'application/strategic-merge-patch+json') next = strategicMerge(existing, patch, true);
    else next = jsonPatch(existing, patch);
    if (!isObject(next)) throw badRequest('the patch produced something that is not an object');
    const patched = next as KObject;
    if (!isObject(patched.metadata)) patched.metadata = {};
    if (patched.metadata.resourceVersion && patched.metadata.resourceVersion !== existing.metadata.resourceVersion) throw conflict(r, info.name!);
    return this.store(info, existing, patched, manager || defaultManager(header(info.headers, 'user-agent')), false);
  }

  /** Update flow shared by PUT and PATCH: keep what clients may not change, validate, store. */
  private store(info: RequestInfo, existing: KObject, proposed: KObject, manager: string, applied: boolean): Reply {
    const r = info.r;
    let next = withType(r, clone(proposed));
    const keep = ['uid', 'creationTimestamp', 'generation', 'deletionTimestamp', 'deletionGracePeriodSeconds', 'namespace', 'name'] as const;
    for (const k of keep) {
      if (existing.metadata[k] === undefined) delete next.metadata[k];
      else (next.metadata as JsonObject)[k] = existing.metadata[k];
    }
    next.metadata.resourceVersion = existing.metadata.resourceVersion;
    if (info.subresource === 'status') {
      // The status subresource changes status only.
      const s = next['status'];
      next = clone(existing);
      next['status'] = s;
    } else if (r.statusSubresource) {
      if (existing['status'] === undefined) delete next['status'];
      else next['status'] = existing['status'];
    }
    if (r.kind === 'Namespace') {
      next.metadata.labels = { ...(next.metadata.labels ?? {}), 'kubernetes.io/metadata.name': existing.metadata.name! };
    }
    if (r.generation && specChanged(existing, next)) next.metadata.generation = (existing.metadata.generation ?? 1) + 1;
    validateUpdate(r, existing, next);
    if (!applied) next.metadata.managedFields = trackUpdate(existing, next, manager, groupVersion(r), !r.custom, info.subresource);
    if (sameContent(existing, next)) return json(200, withType(r, existing));
    if (dryRun(info.query)) return json(200, next);
    const stored = this.d.store.update(r, next);
    this.afterUpdate(r, existing, stored);
    return json(200, withType(r, stored));
  }

  private afterUpdate(r: ResourceDef, before: KObject, after: KObject): void {
    if (!after.metadata.deletionTimestamp || !before) return;
    // A terminating namespace whose spec finalizers are emptied is finalized (it goes once
    // its metadata finalizers are gone too).
    if (r.kind === 'Namespace') {
      if (!((after as Namespace).spec?.finalizers ?? []).length) this.finalizeNamespace(after.metadata.name!);
      return;
    }
    // Any other object being deleted goes when its last finalizer is removed (pods go through the kubelet).
    if (r.kind !== 'Pod' && !(after.metadata.finalizers ?? []).length) this.d.store.remove(r, after.metadata.namespace, after.metadata.name!);
  }

  // ---------------------------------------------------------------- delete

  private deleteOptions(info: RequestInfo): { grace?: number; uid?: string; resourceVersion?: string; dryRun: boolean } {
    const parsed = decodeBody(info);
    const body: JsonObject = isObject(parsed) ? parsed : {};
    const q = info.query.get('gracePeriodSeconds');
    const grace = q !== null ? Number(q) : typeof body['gracePeriodSeconds'] === 'number' ? (body['gracePeriodSeconds'] as number) : undefined;
    const pre = isObject(body['preconditions']) ? (body['preconditions'] as { uid?: string; resourceVersion?: string }) : {};
    const bodyDryRun = Array.isArray(body['dryRun']) && (body['dryRun'] as string[]).includes('All');
    return { grace, uid: pre.uid, resourceVersion: pre.resourceVersion, dryRun: dryRun(info.query) || bodyDryRun };
  }

  delete(info: RequestInfo): Reply {
    const r = info.r;
    const existing = this.d.store.get(r, info.namespace, info.name!);
    if (!existing) throw notFound(r, info.name!);
    const opts = this.deleteOptions(info);
    if (opts.uid && opts.uid !== existing.metadata.uid) {
      throw conflict(r, info.name!, `Precondition failed: UID in precondition: ${opts.uid}, UID in object meta: ${existing.metadata.uid}`);
    }
    if (opts.resourceVersion && opts.resourceVersion !== existing.metadata.resourceVersion) {
      throw conflict(r, info.name!, `Precondition failed: ResourceVersion in precondition: ${opts.resourceVersion}, ResourceVersion in object meta: ${existing.metadata.resourceVersion}`);
    }
    return json(200, this.deleteObject(r, existing, opts.grace, opts.dryRun));
  }

  private deleteObject(r: ResourceDef, existing: KObject, grace: number | undefined, isDryRun: boolean): unknown {
    const name = existing.metadata.name!;
    const typed = (o: KObject) => withType(r, o);
    if (r.kind === 'Namespace') {
      if (['default', 'kube-system', 'kube-public'].includes(name)) throw forbidden(NAMESPACES, name, 'this namespace may not be deleted');
      if (isDryRun || existing.metadata.deletionTimestamp) return typed(existing);
      const terminating = clone(existing) as Namespace;
      terminating.metadata.deletionTimestamp = timestamp();
      terminating.metadata.deletionGracePeriodSeconds = 0;
      terminating.status = { phase: 'Terminating' };
      const stored = this.d.store.update(r, terminating);
      setTimeout(() => this.finalizeNamespace(name), 30);
      return typed(stored);
    }
    if (r.kind === 'Pod') {
      const pod = existing as Pod;
      const phase = pod.status?.phase;
      // Pod strategy CheckGracefulDelete: unscheduled or finished pods go at once.
      const g = grace ?? pod.spec.terminationGracePeriodSeconds ?? 30;
      const graceful = !!pod.spec.nodeName && phase !== 'Succeeded' && phase !== 'Failed' && g > 0;
      if (isDryRun) return typed(existing);
      if (graceful) {
        if (pod.metadata.deletionTimestamp) return typed(existing);
        const p = clone(pod);
        p.metadata.deletionTimestamp = new Date(Date.now() + g * 1000).toISOString().replace(/\.\d{3}Z$/, 'Z');
        p.metadata.deletionGracePeriodSeconds = g;
        return typed(this.d.store.update(r, p));
      }
      const gone = this.d.store.remove(r, pod.metadata.namespace, name)!;
      return typed(gone);
    }
    if (isDryRun) return r.returnDeletedObject ? typed(existing) : success(r, name, existing.metadata.uid);
    if ((existing.metadata.finalizers ?? []).length) {
      if (existing.metadata.deletionTimestamp) return typed(existing);
      const f = clone(existing);
      f.metadata.deletionTimestamp = timestamp();
      f.metadata.deletionGracePeriodSeconds = 0;
      return typed(this.d.store.update(r, f));
    }
    const gone = this.d.store.remove(r, existing.metadata.namespace, name)!;
    return r.returnDeletedObject ? typed(gone) : success(r, name, existing.metadata.uid);
  }

  /**
   * The namespace controller: delete everything in it and drop its `kubernetes` spec
   * finalizer; the namespace itself goes when no metadata finalizer is left (one set by
   * another controller keeps it Terminating, and creating in it answers 403, until removed).
   */
  finalizeNamespace(name: string): void {
    for (const { resource, object } of this.d.store.namespacedContents(name)) this.d.store.remove(resource, name, object.metadata.name!);
    const ns = this.d.store.get<Namespace>(NAMESPACES, undefined, name);
    if (!ns) return;
    if ((ns.metadata.finalizers ?? []).length) {
      if ((ns.spec?.finalizers ?? []).length) this.d.store.update(NAMESPACES, { ...ns, spec: { ...ns.spec, finalizers: [] } });
      return;
    }
    this.d.store.remove(NAMESPACES, undefined, name);
  }

  deleteCollection(info: RequestInfo): Reply {
    const opts = this.deleteOptions(info);
    const items = this.selected(info).map((o) => this.deleteObject(info.r, o, opts.grace, opts.dryRun));
    return json(200, { kind: info.r.listKind, apiVersion: groupVersion(info.r), metadata: { resourceVersion: this.d.store.currentResourceVersion() }, items });
  }

  // ---------------------------------------------------------------- subresources

  async token(info: RequestInfo): Promise<Reply> {
    const sa = this.d.store.get<ServiceAccount>(SERVICE_ACCOUNTS, info.namespace, info.name!);
    if (!sa) throw notFound(SERVICE_ACCOUNTS, info.name!);
    const body = decodeBody(info) as { spec?: TokenRequestSpec; metadata?: JsonObject };
    const { audiences, expirationSeconds } = tokenRequestSpec(body.spec, this.d.issuer.url);
    let pod: { name: string; uid: string } | undefined;
    const ref = body.spec?.boundObjectRef;
    if (ref?.kind === 'Pod' && ref.name) {
      const p = this.d.store.get<Pod>(PODS, info.namespace, ref.name);
      if (!p) throw notFound(PODS, ref.name);
      if (ref.uid && ref.uid !== p.metadata.uid) throw conflict(PODS, ref.name, `the UID in the bound object reference (${ref.uid}) does not match the UID in record. The object might have been deleted and then recreated`);
      pod = { name: p.metadata.name!, uid: p.metadata.uid! };
    }
    const now = Math.floor(Date.now() / 1000) + this.d.state.clockSkewSeconds;
    const token = await signServiceAccountToken(
      this.d.issuer,
      { namespace: info.namespace!, serviceAccount: { name: info.name!, uid: sa.metadata.uid! }, audiences, expirationSeconds, pod },
      now,
    );
    return json(201, {
      kind: 'TokenRequest',
      apiVersion: 'authentication.k8s.io/v1',
      metadata: { name: info.name, namespace: info.namespace, creationTimestamp: null },
      spec: { audiences, expirationSeconds, boundObjectRef: ref ?? null },
      status: { token, expirationTimestamp: new Date((now + expirationSeconds) * 1000).toISOString().replace(/\.\d{3}Z$/, 'Z') },
    });
  }

  /** GET pods/<name>/log: wording of the kubelet and pod registry (pkg/registry/core/pod/strategy.go LogLocation). */
  log(info: RequestInfo, res: ServerResponse): Reply | void {
    const pod = this.d.store.get<Pod>(PODS, info.namespace, info.name!);
    if (!pod) throw notFound(PODS, info.name!);
    const names = pod.spec.containers.map((c) => c.name);
    const initNames = (pod.spec.initContainers ?? []).map((c) => c.name);
    let container = info.query.get('container') ?? '';
    if (!container) {
      if (names.length === 1) container = names[0]!;
      else {
        const init = initNames.length ? ` or one of the init containers: [${initNames.join(' ')}]` : '';
        throw badRequest(`a container name must be specified for pod ${pod.metadata.name}, choose one of: [${names.join(' ')}]${init}`);
      }
    }
    if (!names.includes(container) && !initNames.includes(container)) throw badRequest(`container ${container} is not valid for pod ${pod.metadata.name}`);
    if (!pod.spec.nodeName) throw badRequest(`pod ${pod.metadata.name} does not have a host assigned`);
    const uid = pod.metadata.uid!;
    const status = [...(pod.status?.initContainerStatuses ?? []), ...(pod.status?.containerStatuses ?? [])].find((c) => c.name === container);
    if (info.query.get('previous') === 'true' && !status?.lastState.terminated) {
      throw badRequest(`previous terminated container "${container}" in pod "${pod.metadata.name}" not found`);
    }
    if (!this.d.logs.has(uid, container)) {
      // A pod seeded as running (no emulated process) has an empty log.
      if (status?.state.running || status?.state.terminated) return { status: 200, headers: { 'content-type': 'text/plain' }, body: '' };
      const waiting = status?.state.waiting?.reason ?? 'ContainerCreating';
      const why = waiting === 'ErrImagePull' || waiting === 'ImagePullBackOff' ? 'trying and failing to pull image' : waiting;
      throw badRequest(`container "${container}" in pod "${pod.metadata.name}" is waiting to start: ${why}`);
    }
    const num = (k: string) => (info.query.get(k) ? Number(info.query.get(k)) : undefined);
    const text = this.d.logs.text(uid, container, {
      tailLines: num('tailLines'),
      timestamps: info.query.get('timestamps') === 'true',
      limitBytes: num('limitBytes'),
      sinceSeconds: num('sinceSeconds'),
    });
    if (info.query.get('follow') !== 'true' || this.d.logs.isDone(uid, container)) {
      return { status: 200, headers: { 'content-type': 'text/plain' }, body: text };
    }
    res.writeHead(200, { 'content-type': 'text/plain', 'transfer-encoding': 'chunked' });
    res.flushHeaders();
    if (text) res.write(text);
    const stamps = info.query.get('timestamps') === 'true';
    const unsubscribe = this.d.logs.follow(
      uid,
      container,
      (chunk) => {
        if (!res.writableEnded) res.write(stamps ? chunk.replace(/^(?=.)/gm, `${new Date().toISOString().replace('Z', '000000Z')} `) : chunk);
      },
      () => {
        if (!res.writableEnded) res.end();
      },
    );
    res.on('close', unsubscribe);
  }

  // ---------------------------------------------------------------- reviews

  private accessReview(info: RequestInfo): Reply {
    const body = decodeBody(info) as { spec?: { resourceAttributes?: JsonObject; nonResourceAttributes?: JsonObject } };
    const spec = body.spec ?? {};
    const ra = spec.resourceAttributes as { namespace?: string; verb?: string; group?: string; resource?: string; subresource?: string; name?: string } | undefined;
    let allowed = true;
    let reason: string | undefined = ALLOWED_REASON;
    if (ra) {
      const rule = this.d.rbac.denied({ user: info.user, verb: ra.verb ?? '', group: ra.group ?? '', resource: ra.resource ?? '', subresource: ra.subresource || undefined, namespace: ra.namespace || undefined, name: ra.name });
      if (rule) {
        allowed = false;
        reason = rule.reason;
      }
    }
    return json(201, {
      kind: 'SelfSubjectAccessReview',
      apiVersion: 'authorization.k8s.io/v1',
      metadata: { creationTimestamp: null },
      spec,
      status: { allowed, ...(reason ? { reason } : {}) },
    });
  }

  private rulesReview(info: RequestInfo): Reply {
    const body = decodeBody(info) as { spec?: JsonObject };
    return json(201, {
      kind: 'SelfSubjectRulesReview',
      apiVersion: 'authorization.k8s.io/v1',
      metadata: { creationTimestamp: null },
      spec: body.spec ?? {},
      status: {
        resourceRules: [{ verbs: ['*'], apiGroups: ['*'], resources: ['*'] }],
        nonResourceRules: [{ verbs: ['*'], nonResourceURLs: ['*'] }],
        incomplete: false,
      },
    });
  }

  private whoAmI(info: RequestInfo): Reply {
    return json(201, {
      kind: 'SelfSubjectReview',
      apiVersion: 'authentication.k8s.io/v1',
      metadata: { creationTimestamp: null },
      status: { userInfo: { username: info.user, groups: info.user === 'system:anonymous' ? ['system:unauthenticated'] : ['system:masters', 'system:authenticated'] } },
    });
  }

  /** RBAC: throws 403 when a deny rule matches. */
  authorize(info: RequestInfo): void {
    const a = { user: info.user, verb: info.verb, group: info.r.group, resource: info.r.plural, subresource: info.subresource, namespace: info.namespace, name: info.name };
    const rule = this.d.rbac.denied(a);
    if (rule) throw forbiddenError(a, rule);
  }
}
