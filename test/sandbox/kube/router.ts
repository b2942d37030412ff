// URL → request info → handler, as k8s.io/apiserver/pkg/endpoints/request/requestinfo.go
// splits `/api/v1/namespaces/<ns>/<resource>/<name>/<subresource>` and
// `/apis/<group>/<version>/…` (plus the legacy `/watch/` prefix), authenticates the bearer
// token from the kubeconfig, authorizes, and answers errors as Status bodies.
import type { ServerResponse } from 'node:http';
import type { Reply, SandboxRequest } from '../http.ts';
import type { ClusterIssuer } from '../cluster-issuer.ts';
import { apiGroup, apiGroupList, apiResourceList, apiVersions, openApiV3Document, openApiV3Index, SERVER_VERSION } from './discovery.ts';
import type { Handlers, RequestInfo } from './handlers.ts';
import { forbiddenError } from './rbac.ts';
import { findResource, RESOURCES, type ResourceDef } from './resources.ts';
import { KubeError, methodNotAllowed, noSuchResource, unauthorized } from './status.ts';
import { jwks, openIdConfiguration } from './tokens.ts';

export const TOKEN_PREFIX = 'sandbox-kube.';

/** The bearer token the kubeconfig carries for `user`; the server reads the user back from it. */
export const tokenFor = (user: string): string => `${TOKEN_PREFIX}${Buffer.from(user).toString('base64url')}`;

export function userFrom(authorization: string | undefined): string | undefined {
  if (!authorization) return 'system:anonymous';
  const m = authorization.match(/^Bearer\s+(.+)$/i);
  if (!m || !m[1]!.startsWith(TOKEN_PREFIX)) return undefined;
  const user = Buffer.from(m[1]!.slice(TOKEN_PREFIX.length), 'base64url').toString('utf8');
  return user || undefined;
}

const text = (status: number, body: string): Reply => ({ status, headers: { 'content-type': 'text/plain; charset=utf-8' }, body });
const ok = (body: unknown): Reply => ({ status: 200, body });

interface Parsed {
  r: ResourceDef;
  namespace?: string;
  name?: string;
  subresource?: string;
  watchPath: boolean;
}

/** `/api/v1/...` or `/apis/g/v/...` segments after the group version. */
function parseResourcePath(group: string, version: string, segs: string[]): Parsed | undefined {
  let s = segs;
  let watchPath = false;
  if (s[0] === 'watch') {
    watchPath = true;
    s = s.slice(1);
  }
  if (!s.length) return undefined;
  if (s[0] === 'namespaces' && s.length >= 3) {
    const r = findResource(group, version, s[2]!);
    if (r?.namespaced) return { r, namespace: s[1], name: s[3], subresource: s[4], watchPath };
    if (group === '' && s.length === 3) return { r: findResource('', 'v1', 'namespaces')!, name: s[1], subresource: s[2], watchPath };
    return undefined;
  }
  const r = findResource(group, version, s[0]!);
  if (!r) return undefined;
  if (r.namespaced && s.length > 1) return undefined; // namespaced resource addressed without a namespace
  return { r, name: s[1], subresource: s[2], watchPath };
}

function verbOf(method: string, p: Parsed, watchParam: boolean): string {
  switch (method) {
    case 'GET':
    case 'HEAD':
      if (p.watchPath || watchParam) return 'watch';
      return p.name ? 'get' : 'list';
    case 'POST':
      return 'create';
    case 'PUT':
      return 'update';
    case 'PATCH':
      return 'patch';
    case 'DELETE':
      return p.name ? 'delete' : 'deletecollection';
    default:
      return method.toLowerCase();
  }
}

export interface RouterDeps {
  handlers: Handlers;
  issuer: ClusterIssuer;
}

export async function route(deps: RouterDeps, req: SandboxRequest, res: ServerResponse): Promise<Reply | void> {
  try {
    return await dispatch(deps, req, res);
  } catch (err) {
    if (err instanceof KubeError) return { status: err.status.code, headers: err.headers, body: err.status };
    throw err;
  }
}

async function dispatch(deps: RouterDeps, req: SandboxRequest, res: ServerResponse): Promise<Reply | void> {
  const path = req.url.pathname.length > 1 ? req.url.pathname.replace(/\/+$/, '') : req.url.pathname;
  const method = req.method;
  const user = userFrom(req.headers.authorization);
  if (!user) throw unauthorized();

  // Non-resource paths (system:discovery and system:service-account-issuer-discovery allow them to everyone).
  if (method === 'GET') {
    switch (path) {
      case '/version':
        return ok(SERVER_VERSION);
      case '/healthz':
      case '/livez':
      case '/readyz':
        return text(200, 'ok');
      case '/api':
        return ok(apiVersions(req.url.host));
      case '/apis':
        return ok(apiGroupList());
      case '/api/v1':
        return ok(apiResourceList('', 'v1'));
      case '/openapi/v3':
        return ok(openApiV3Index());
      case '/.well-known/openid-configuration':
        return ok(openIdConfiguration(deps.issuer));
      case '/openid/v1/jwks':
        return { status: 200, headers: { 'content-type': 'application/jwk-set+json' }, body: JSON.stringify(jwks(deps.issuer)) };
    }
    const oa = path.match(/^\/openapi\/v3\/(?:api\/(v1)|apis\/([^/]+)\/([^/]+))$/);
    if (oa) {
      const doc = oa[1] ? openApiV3Document('', 'v1') : openApiV3Document(oa[2]!, oa[3]!);
      return doc ? ok(doc) : text(404, '404 page not found\n');
    }
    const g = path.match(/^\/apis\/([^/]+)$/);
    if (g) {
      const group = apiGroup(g[1]!);
      if (group) return ok(group);
      throw noSuchResource();
    }
    const gv = path.match(/^\/apis\/([^/]+)\/([^/]+)$/);
    if (gv) {
      const list = apiResourceList(gv[1]!, gv[2]!);
      if (list) return ok(list);
      throw noSuchResource();
    }
  }

  let group: string;
  let version: string;
  let rest: string[];
  const segs = path.split('/').filter(Boolean);
  if (segs[0] === 'api' && segs[1] === 'v1') {
    group = '';
    version = 'v1';
    rest = segs.slice(2);
  } else if (segs[0] === 'apis' && segs.length >= 3) {
    group = segs[1]!;
    version = segs[2]!;
    rest = segs.slice(3);
  } else {
    return text(404, '404 page not found\n');
  }
  if (!RESOURCES.some((r) => r.group === group && r.version === version)) throw noSuchResource();
  const parsed = parseResourcePath(group, version, rest);
  if (!parsed) throw noSuchResource();
  const q = req.url.searchParams;
  const watchParam = ['true', '1'].includes(q.get('watch') ?? '');
  const verb = verbOf(method, parsed, watchParam);
  const sub = parsed.subresource ? parsed.r.subresources?.find((s) => s.name === parsed.subresource) : undefined;
  if (parsed.subresource && !sub) throw noSuchResource();
  const allowed = sub ? sub.verbs : parsed.r.verbs;
  if (!allowed.includes(verb)) throw methodNotAllowed();

  const info: RequestInfo = {
    r: parsed.r,
    namespace: parsed.r.namespaced ? parsed.namespace : undefined,
    name: parsed.name,
    subresource: parsed.subresource,
    verb,
    user,
    query: q,
    headers: req.headers,
    body: req.body,
    method,
  };
  if (user === 'system:anonymous') {
    throw forbiddenError({ user, verb, group, resource: parsed.r.plural, subresource: parsed.subresource, namespace: info.namespace, name: info.name }, {
      verb,
      resource: parsed.r.plural,
    });
  }
  const h = deps.handlers;
  h.authorize(info);

  switch (parsed.subresource) {
    case 'log':
      return h.log(info, res);
    case 'token':
      return h.token(info);
    case 'finalize':
      return h.update(info);
    default:
  }
  switch (verb) {
    case 'get':
      return h.get(info);
    case 'list':
      return h.list(info);
    case 'watch':
      return h.watch(info, res);
    case 'create':
      if (parsed.name && !parsed.subresource) throw methodNotAllowed();
      return h.create(info);
    case 'update':
      return h.update(info);
    case 'patch':
      return h.patch(info);
    case 'delete':
      return h.delete(info);
    case 'deletecollection':
      return h.deleteCollection(info);
    default:
      throw methodNotAllowed();
  }
}
