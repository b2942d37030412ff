// Is the API server there, and does it accept our credentials? The first access review
// doubles as the ping, so a healthy cluster costs no extra call.
import type { PreflightCheck } from '../../plan/types.ts';
import { isKubeApiError, isUnreachable, type AccessQuery } from '../port.ts';
import { check, type PreflightContext } from './check.ts';

export interface Reachability {
  checks: PreflightCheck[];
  /** Nothing else can be checked: the server is unreachable or refuses the credentials. */
  fatal: boolean;
  /** Access reviews answer; false when they are refused (the rbac warning says so). */
  reviews: boolean;
}

export async function checkReachability(ctx: PreflightContext, first: AccessQuery | undefined): Promise<Reachability> {
  const { port } = ctx;
  const answered = check('api', true, 'info', `The Kubernetes API server at ${port.server} answered.`);
  if (!first) return { checks: [], fatal: false, reviews: false };
  try {
    await ctx.ask(first);
    return { checks: [answered], fatal: false, reviews: true };
  } catch (err) {
    const fatal = (detail: string, fix: string): Reachability => ({ fatal: true, reviews: false, checks: [check('api', false, 'error', detail, fix)] });
    if (isUnreachable(err)) {
      return fatal(
        `The Kubernetes API server at ${port.server} cannot be reached: ${(err as Error).message}.`,
        'Check the kubeconfig (azure/aks-set-context sets it) and that this runner can reach the API server: a private cluster needs a self-hosted runner in its network, and authorized IP ranges must include the runner.',
      );
    }
    if (isKubeApiError(err) && err.status === 401) {
      return fatal(
        `The Kubernetes API server at ${port.server} rejected the credentials (401 Unauthorized).`,
        'On AKS with Entra ID authentication, convert the kubeconfig after azure/aks-set-context: `kubelogin convert-kubeconfig -l azurecli` (or use azure/aks-set-context with use-kubelogin: true). An expired token also gives 401.',
      );
    }
    // Access reviews themselves may be refused; every other check still tells something.
    return {
      fatal: false,
      reviews: false,
      checks: [
        answered,
        check(
          'rbac',
          false,
          'warning',
          `Could not ask the API server which permissions the action has: ${(err as Error).message}.`,
          'Allow create on selfsubjectaccessreviews.authorization.k8s.io (every authenticated user has it by default through system:basic-user).',
        ),
      ],
    };
  }
}
