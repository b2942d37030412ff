// Is this cluster ready for Workload Identity, and may the action do its job here?
// Every answer is a PreflightCheck with a plain-language detail and a fix, so the plan
// comment tells the user what to do before anything is written. Reads only (plus one
// server-side dry run, which stores nothing). One file per check; this runner orders them.
import pLimit from 'p-limit';
import type { PreflightCheck } from '../../plan/types.ts';
import type { KubePort } from '../port.ts';
import { accessReviews, type PreflightContext, type PreflightInput } from './check.ts';
import { checkDryRun } from './dry-run.ts';
import { checkIssuer } from './issuer.ts';
import { checkNamespaces } from './namespaces.ts';
import { checkReachability } from './reachability.ts';
import { checkRbac, permissionQueries, requiredPermissions, toAccessQuery, type Permission } from './rbac.ts';
import { checkWebhook } from './webhook.ts';

export type { PreflightContext, PreflightInput, PreflightMode } from './check.ts';
export { describeMutation } from './dry-run.ts';
export { describeIssuerDifference } from './issuer.ts';
export { rbacSnippet, requiredPermissions, type Permission } from './rbac.ts';

export async function preflight(input: PreflightInput, port: KubePort): Promise<PreflightCheck[]> {
  const ctx: PreflightContext = {
    input,
    port,
    limit: pLimit(input.concurrency ?? 8),
    namespaces: [...new Set(input.bindings.map((b) => b.namespace))].sort(),
    bindingsIn: (n) => input.bindings.filter((b) => b.namespace === n),
    ask: accessReviews(port),
  };

  // 1. Reachable and authenticated: the first access review doubles as the ping.
  const permissions = requiredPermissions(input.mode, input.verify);
  const queries = permissionQueries(permissions, ctx.namespaces);
  const reach = await checkReachability(ctx, queries[0] && toAccessQuery(queries[0]));
  if (reach.fatal) return reach.checks;
  const checks = [...reach.checks];

  // 2. RBAC: exactly the verbs this mode needs, per namespace.
  let skipped = new Set<Permission>();
  if (reach.reviews) {
    const rbac = await checkRbac(ctx, permissions, queries);
    checks.push(...rbac.checks);
    skipped = rbac.skipped;
  }
  const isSkipped = (resource: string) => [...skipped].some((p) => p.resource === resource);

  // 3–5 are independent reads; a check whose permission is known to be missing is skipped.
  const [namespaceResult, webhookResult, issuerChecks] = await Promise.all([
    isSkipped('namespaces') ? { checks: [], absent: new Set<string>() } : checkNamespaces(ctx),
    // Unknown whether it is installed: the dry run below proves it either way.
    isSkipped('mutatingwebhookconfigurations') ? { checks: [], installed: 'unknown' as const } : checkWebhook(ctx),
    checkIssuer(ctx),
  ]);
  checks.push(...namespaceResult.checks, ...webhookResult.checks, ...issuerChecks);

  // 6. Proof by dry run, where allowed: the API server runs admission (the webhook too) and stores nothing.
  if (webhookResult.installed) {
    checks.push(...(await checkDryRun(ctx, namespaceResult.absent, webhookResult.installed === true)));
  }
  return checks;
}
