// Calls by service and kind, from the call log: what a test or the benchmark counts
// ("kube list serviceaccounts", "arm GET fic-list"). Kubernetes calls are named as the API
// server's authorizer names them (verb + resource, requestinfo.go), so a count reads like
// the RBAC rule it needs; ARM calls by the resource they address.
import type { CallRecord } from './http.ts';

/** `list serviceaccounts`, `get pods/log`, `create selfsubjectaccessreviews`, `get /.well-known/openid-configuration`. */
export function kubeCallKind({ method, path }: { method: string; path: string }): string {
  const [pathname = '', query = ''] = path.split('?');
  const segs = pathname.split('/').filter(Boolean);
  // /api/v1/… or /apis/<group>/<version>/…; anything else is a non-resource URL.
  const rest = segs[0] === 'api' ? segs.slice(2) : segs[0] === 'apis' ? segs.slice(3) : undefined;
  if (!rest || !rest.length) return `${method.toLowerCase()} ${pathname}`;
  let s = rest;
  const watch = s[0] === 'watch' || /(?:^|&)watch=(?:true|1)(?:&|$)/.test(query);
  if (s[0] === 'watch') s = s.slice(1);
  let resource: string;
  let name: string | undefined;
  let sub: string | undefined;
  if (s[0] === 'namespaces' && s.length >= 3) [, , resource = '', name, sub] = s;
  else [resource = '', name, sub] = s;
  const verb =
    method === 'GET' || method === 'HEAD'
      ? watch
        ? 'watch'
        : name
          ? 'get'
          : 'list'
      : method === 'POST'
        ? 'create'
        : method === 'PUT'
          ? 'update'
          : method === 'PATCH'
            ? 'patch'
            : method === 'DELETE'
              ? name
                ? 'delete'
                : 'deletecollection'
              : method.toLowerCase();
  return `${verb} ${resource}${sub ? `/${sub}` : ''}`;
}

/** `GET fic`, `GET fic-list`, `GET identity`, `GET cluster`, `PUT fic`. */
export function armCallKind(c: { method: string; path: string }): string {
  const p = c.path.split('?')[0]!.toLowerCase();
  if (/\/federatedidentitycredentials\/[^/]+$/.test(p)) return `${c.method} fic`;
  if (/\/federatedidentitycredentials\/?$/.test(p)) return `${c.method} fic-list`;
  if (/\/userassignedidentities\/[^/]+$/.test(p)) return `${c.method} identity`;
  if (/\/managedclusters\/[^/]+$/.test(p)) return `${c.method} cluster`;
  return `${c.method} other`;
}

/** `kube list serviceaccounts`, `arm GET fic-list`, `entra POST`. */
export function callKind(c: Pick<CallRecord, 'service' | 'method' | 'path'>): string {
  if (c.service === 'kube') return `kube ${kubeCallKind(c)}`;
  if (c.service === 'arm') return `arm ${armCallKind(c)}`;
  return `${c.service} ${c.method}`;
}

/** Calls per kind, sorted by kind. */
export function countCallKinds(calls: readonly CallRecord[]): Record<string, number> {
  const out: Record<string, number> = {};
  for (const c of calls) {
    const k = callKind(c);
    out[k] = (out[k] ?? 0) + 1;
  }
  return Object.fromEntries(Object.entries(out).sort(([a], [b]) => a.localeCompare(b)));
}
