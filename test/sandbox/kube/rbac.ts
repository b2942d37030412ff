// Authorization: the kubeconfig's user may do everything (like AKS's admin credential,
// CN=masterclient in system:masters) except what a test denies. Denials answer as the
// RBAC authorizer does through the API server (k8s.io/apiserver/pkg/endpoints/handlers/
// responsewriters/errors.go ForbiddenStatusError):
// `pods "x" is forbidden: User "u" cannot create resource "pods" in API group "" in the namespace "ns"`,
// and a SelfSubjectAccessReview answers allowed:false for the same request.
import { forbidden, type KubeError } from './status.ts';

export interface DenyRule {
  verb: string; // get, list, watch, create, update, patch, delete, deletecollection, or '*'
  resource: string; // 'pods', 'pods/log', 'serviceaccounts/token', or '*'
  namespace?: string; // omitted: every namespace and the cluster scope
  group?: string; // API group; omitted matches any
  user?: string; // omitted matches every user
  /** SSAR status.reason and a suffix of the 403 message (Azure RBAC on AKS adds one); default none, as Kubernetes RBAC. */
  reason?: string;
}

export interface Attributes {
  user: string;
  verb: string;
  group: string;
  resource: string;
  subresource?: string;
  namespace?: string;
  name?: string;
}

export class Rbac {
  private rules: DenyRule[] = [];

  deny(rule: DenyRule): void {
    this.rules.push({ ...rule });
  }

  clear(): void {
    this.rules = [];
  }

  /** The first deny rule that matches, if any. */
  denied(a: Attributes): DenyRule | undefined {
    const full = a.subresource ? `${a.resource}/${a.subresource}` : a.resource;
    return this.rules.find(
      (r) =>
        (r.verb === '*' || r.verb === a.verb) &&
        (r.resource === '*' || r.resource === full) &&
        (r.group === undefined || r.group === '*' || r.group === a.group) &&
        (r.user === undefined || r.user === a.user) &&
        // A namespaced denial also denies the all-namespaces (cluster-scope) request.
        (r.namespace === undefined || !a.namespace || r.namespace === a.namespace),
    );
  }
}

export function forbiddenError(a: Attributes, rule: DenyRule): KubeError {
  const full = a.subresource ? `${a.resource}/${a.subresource}` : a.resource;
  const scope = a.namespace ? `in the namespace "${a.namespace}"` : 'at the cluster scope';
  const why = `User "${a.user}" cannot ${a.verb} resource "${full}" in API group "${a.group}" ${scope}${rule.reason ? `: ${rule.reason}` : ''}`;
  return forbidden({ plural: a.resource, group: a.group }, a.name ?? '', why);
}

/** The RBAC reason an allowed SSAR carries for the admin credential. */
export const ALLOWED_REASON = 'RBAC: allowed by ClusterRoleBinding "cluster-admin" of ClusterRole "cluster-admin" to Group "system:masters"';
