// Proof that the webhook mutates pods: a server-side dry run of a labelled pod runs the
// whole admission chain (the webhook too) and stores nothing. One per distinct namespace of
// the environment: a webhook can reach one namespace and not another (namespaceSelector, or
// AKS's admissions enforcer, which keeps every webhook out of kube-system), and the token it
// projects must carry exactly each binding's audience, or every login fails AADSTS700212.
import { randomBytes } from 'node:crypto';
import type { ResolvedBinding } from '../../mapping/types.ts';
import type { PreflightCheck, Severity } from '../../plan/types.ts';
import { LABEL_MANAGED_BY, MANAGED_BY } from '../../plan/service-accounts.ts';
import type { DryRunPodResult } from '../port.ts';
import { check, type PreflightContext } from './check.ts';
import { INJECTED_ENV, USE_LABEL, WEBHOOK_NAME, webhookSeverity } from './webhook.ts';

/** The verify-image default (DESIGN §3); the dry-run pod is never pulled, but admission policies read it. */
const DEFAULT_DRY_RUN_IMAGE = 'mcr.microsoft.com/azurelinux/base/nodejs:24';

export interface Mutation {
  /** AZURE_FEDERATED_TOKEN_FILE injected and a projected token volume added (DESIGN §5): the webhook reached the pod. */
  injected: boolean;
  /** Injected, with a projected token of exactly the audience: what the workload needs. */
  mutated: boolean;
  env: string[];
  /** Every projected token, described. */
  tokens: string[];
  /** Whether a projected token carries exactly `audience` (a token without one has the API server's default audience, never the binding's). */
  audienceMatches: boolean;
  audiences: string[];
}

export function describeMutation(result: DryRunPodResult, audience: string): Mutation {
  const env = [...new Set(result.containers.flatMap((c) => c.env.map((e) => e.name)))].filter((n) => (INJECTED_ENV as readonly string[]).includes(n));
  const projected = result.volumes.flatMap((v) => v.projectedTokens.map((t) => ({ v, t })));
  const tokens = projected.map(({ v, t }) => {
    const mount = result.containers.flatMap((c) => c.volumeMounts).find((m) => m.name === v.name);
    return `${v.name} (audience ${t.audience ?? "the API server's default"}${mount ? `, at ${mount.mountPath}/${t.path}` : ''})`;
  });
  const injected = env.includes('AZURE_FEDERATED_TOKEN_FILE') && projected.length > 0;
  const audienceMatches = projected.some(({ t }) => t.audience === audience);
  return {
    injected,
    mutated: injected && audienceMatches,
    env,
    tokens,
    audienceMatches,
    audiences: [...new Set(projected.map(({ t }) => t.audience ?? "the API server's default"))],
  };
}

type Outcome =
  | { kind: 'skipped' }
  | { kind: 'refused'; check: PreflightCheck }
  | { kind: 'ran'; binding: ResolvedBinding; subject: string; mutation: (audience: string) => Mutation };

/** Dry-runs one labelled pod in the namespace, if the action may create pods there. */
async function dryRun(ctx: PreflightContext, namespace: string, severity: Severity): Promise<Outcome> {
  const { input, port, ask } = ctx;
  const bindings = ctx.bindingsIn(namespace);
  let allowed = false;
  try {
    allowed = await ask({ verb: 'create', resource: 'pods', group: '', namespace });
  } catch {
    // cannot tell: skipped like a refusal
  }
  if (!allowed) return { kind: 'skipped' };
  const binding = bindings.find((b) => b.verify.enabled) ?? bindings[0]!;
  // The ServiceAccount admission plugin rejects a pod whose ServiceAccount does not exist
  // yet (plan before the first apply): fall back to the namespace's default one.
  let serviceAccount = binding.serviceAccount;
  try {
    const sa = input.snapshot
      ? await input.snapshot.get('serviceaccounts', namespace, binding.serviceAccount)
      : await port.readServiceAccount(namespace, binding.serviceAccount);
    if (!sa) serviceAccount = 'default';
  } catch {
    serviceAccount = 'default';
  }
  const image = input.image?.trim() || DEFAULT_DRY_RUN_IMAGE;
  const pod = {
    name: `wi-preflight-${randomBytes(4).toString('hex')}`,
    namespace,
    labels: { [USE_LABEL]: 'true', [LABEL_MANAGED_BY]: MANAGED_BY },
    annotations: { 'sidecar.istio.io/inject': 'false', 'linkerd.io/inject': 'disabled' },
    serviceAccountName: serviceAccount,
    image,
  };
  const subject = `a labelled dry-run pod in ${namespace} with ServiceAccount ${serviceAccount}`;
  let result: DryRunPodResult;
  try {
    result = await port.dryRunCreatePod(pod);
  } catch (err) {
    const message = (err as Error).message;
    if (message.includes(WEBHOOK_NAME) || /admission webhook .*azure-workload-identity/.test(message)) {
      return {
        kind: 'refused',
        check: check(
          'webhook-dry-run',
          false,
          severity,
          `The webhook refused or failed on ${subject}: ${message}. With failurePolicy Fail, labelled pods cannot start until this is fixed.`,
          'Check the webhook pods: `kubectl get pods -A -l azure-workload-identity.io/system=true` and their logs; a rejected token expiration must be 3600..86400.',
          binding.at,
        ),
      };
    }
    const fix = message.includes(image)
      ? `The dry-run pod uses image ${image}, the same as the verification pods: set the verify-image input to an image your cluster's admission policies allow (e.g. a mirror in your registry).`
      : /PodSecurity|quota/i.test(message)
        ? 'The verification pod meets Pod Security "restricted" and sets resources; check the namespace\'s admission policies.'
        : undefined;
    return {
      kind: 'refused',
      check: check(
        'webhook-dry-run',
        true,
        'warning',
        `Could not prove the webhook mutates pods: the dry run of ${subject} was refused before the webhook's answer could be seen: ${message}.`,
        fix,
        binding.at,
      ),
    };
  }
  return { kind: 'ran', binding, subject, mutation: (audience) => describeMutation(result, audience) };
}

export async function checkDryRun(
  ctx: PreflightContext,
  absent: Set<string>,
  /** Its MutatingWebhookConfiguration was seen (false: that could not be checked). */
  registered: boolean,
): Promise<PreflightCheck[]> {
  const severity = webhookSeverity(ctx);
  // Namespaces that could not be checked are tried: the dry run tells.
  const namespaces = ctx.namespaces.filter((n) => !absent.has(n));
  if (!namespaces.length) {
    return [check('webhook-dry-run', true, 'info', "Skipped the dry-run proof that the webhook mutates pods: none of the bindings' namespaces exists.")];
  }
  const outcomes = await Promise.all(namespaces.map((n) => ctx.limit(() => dryRun(ctx, n, severity))));
  const mutatedSomewhere = outcomes.some((o) => o.kind === 'ran' && o.mutation('').injected);
  const checks: PreflightCheck[] = [];
  const proven: string[] = [];
  const skipped: string[] = [];
  outcomes.forEach((o, i) => {
    const namespace = namespaces[i]!;
    if (o.kind === 'skipped') return void skipped.push(namespace);
    if (o.kind === 'refused') return void checks.push(o.check);
    const any = o.mutation('');
    if (!any.injected) {
      // Registered, yet the dry run shows no mutation here: its workloads would start without
      // a token, so this blocks whatever the mode. The dry run decides; the namespace's name
      // only explains (AKS keeps webhooks out of kube-system unless the configuration opts out).
      const systemNamespace = registered && namespace === 'kube-system';
      const cause = systemNamespace
        ? ' AKS keeps every admission webhook out of kube-system (its admissions enforcer): workloads that need Workload Identity cannot run there.'
        : registered && mutatedSomewhere
          ? ` The webhook mutates pods in other namespaces: its namespaceSelector (or a policy) leaves ${namespace} out.`
          : '';
      checks.push(
        check(
          'webhook-dry-run',
          false,
          registered ? 'error' : severity,
          `${registered ? 'The webhook is registered but did not mutate' : 'The webhook (whose registration could not be checked) did not mutate'} ${o.subject}: ` +
            `${any.env.length ? `only ${any.env.join(', ')} injected` : 'no AZURE_* env injected'}, ${any.tokens.length ? 'a projected token' : 'no projected token volume'}.${cause} ` +
            'Verification cannot pass while pods are created unmutated.',
          systemNamespace
            ? 'Move the workload and its binding to a namespace of its own.'
            : (registered ? '' : 'If it is not installed, enable it: `az aks update -g <resource-group> -n <cluster> --enable-workload-identity`. Otherwise, check') +
                `${registered ? 'Check' : ''} that the webhook's pods run and that its namespaceSelector/objectSelector include namespace ${namespace} and the label ${USE_LABEL}: "true".`,
          o.binding.at,
        ),
      );
      return;
    }
    let namespaceOk = true;
    for (const b of ctx.bindingsIn(namespace)) {
      const m = o.mutation(b.audience);
      if (m.audienceMatches) continue;
      namespaceOk = false;
      checks.push(
        check(
          'webhook-dry-run',
          false,
          'error',
          `The webhook projects tokens with audience ${m.audiences.join(', ')} (${o.subject}), but the binding of ${b.namespace}/${b.serviceAccount} federates audience '${b.audience}': ` +
            'every token exchange of its pods would fail with AADSTS700212 (audience mismatch).',
          `Use the audience the webhook projects (${m.audiences.join(', ')}): remove \`audience\` from the defaults that set it, so its federated credential lists the projected one.`,
          b.at,
        ),
      );
    }
    if (namespaceOk) proven.push(`${namespace} (${any.env.join(', ')}; ${any.tokens.join(', ')})`);
  });
  if (proven.length) {
    checks.push(check('webhook-dry-run', true, 'info', `The webhook mutates pods, with each binding's audience, in ${proven.join('; ')} (server-side dry run, nothing was created).`));
  }
  if (skipped.length) {
    checks.push(
      check('webhook-dry-run', true, 'info', `Skipped the dry-run proof that the webhook mutates pods in ${skipped.join(', ')}: the action may not create pods there.`),
    );
  }
  return checks;
}
