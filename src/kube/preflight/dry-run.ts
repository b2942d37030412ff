// Proof that the webhook mutates pods: a server-side dry run of a labelled pod runs the
// whole admission chain (the webhook too) and stores nothing.
import { randomBytes } from 'node:crypto';
import type { ResolvedBinding } from '../../mapping/types.ts';
import { DEFAULT_AUDIENCE } from '../../mapping/types.ts';
import type { PreflightCheck } from '../../plan/types.ts';
import { LABEL_MANAGED_BY, MANAGED_BY } from '../../plan/service-accounts.ts';
import type { DryRunPodResult } from '../port.ts';
import { check, type PreflightContext } from './check.ts';
import { INJECTED_ENV, USE_LABEL, WEBHOOK_NAME, webhookSeverity } from './webhook.ts';

/** The verify-image default (DESIGN §3); the dry-run pod is never pulled, but admission policies read it. */
const DEFAULT_DRY_RUN_IMAGE = 'mcr.microsoft.com/azurelinux/base/nodejs:24';

/** Mutated means: a projected token volume and AZURE_FEDERATED_TOKEN_FILE (DESIGN §5). */
export function describeMutation(result: DryRunPodResult, audience: string): { mutated: boolean; env: string[]; tokens: string[] } {
  const env = [...new Set(result.containers.flatMap((c) => c.env.map((e) => e.name)))].filter((n) => (INJECTED_ENV as readonly string[]).includes(n));
  const tokens = result.volumes.flatMap((v) =>
    v.projectedTokens.filter((t) => !t.audience || t.audience === audience || t.audience === DEFAULT_AUDIENCE).map((t) => {
      const mount = result.containers.flatMap((c) => c.volumeMounts).find((m) => m.name === v.name);
      return `${v.name} (audience ${t.audience ?? 'default'}${mount ? `, at ${mount.mountPath}/${t.path}` : ''})`;
    }),
  );
  return { mutated: env.includes('AZURE_FEDERATED_TOKEN_FILE') && tokens.length > 0, env, tokens };
}

export async function checkDryRun(
  ctx: PreflightContext,
  absent: Set<string>,
  /** Its MutatingWebhookConfiguration was seen (false: that could not be checked). */
  registered: boolean,
): Promise<PreflightCheck> {
  const { input, port, ask } = ctx;
  const severity = webhookSeverity(ctx);
  // Namespaces that could not be checked are tried: the dry run tells.
  const candidates = input.bindings.filter((b) => !absent.has(b.namespace));
  const ordered = [...candidates.filter((b) => b.verify.enabled), ...candidates.filter((b) => !b.verify.enabled)];
  let binding: ResolvedBinding | undefined;
  for (const b of ordered) {
    try {
      if (await ask({ verb: 'create', resource: 'pods', group: '', namespace: b.namespace })) {
        binding = b;
        break;
      }
    } catch {
      // cannot tell: try the next namespace
    }
  }
  if (!binding) {
    return check(
      'webhook-dry-run',
      true,
      'info',
      candidates.length
        ? 'Skipped the dry-run proof that the webhook mutates pods: the action may not create pods in the bindings\' namespaces.'
        : 'Skipped the dry-run proof that the webhook mutates pods: none of the bindings\' namespaces exists.',
    );
  }
  // The ServiceAccount admission plugin rejects a pod whose ServiceAccount does not exist
  // yet (plan before the first apply): fall back to the namespace's default one.
  let serviceAccount = binding.serviceAccount;
  try {
    const sa = input.snapshot
      ? await input.snapshot.get('serviceaccounts', binding.namespace, binding.serviceAccount)
      : await port.readServiceAccount(binding.namespace, binding.serviceAccount);
    if (!sa) serviceAccount = 'default';
  } catch {
    serviceAccount = 'default';
  }
  const image = input.image?.trim() || DEFAULT_DRY_RUN_IMAGE;
  const pod = {
    name: `wi-preflight-${randomBytes(4).toString('hex')}`,
    namespace: binding.namespace,
    labels: { [USE_LABEL]: 'true', [LABEL_MANAGED_BY]: MANAGED_BY },
    annotations: { 'sidecar.istio.io/inject': 'false', 'linkerd.io/inject': 'disabled' },
    serviceAccountName: serviceAccount,
    image,
  };
  const subject = `a labelled dry-run pod in ${binding.namespace} with ServiceAccount ${serviceAccount}`;
  let result: DryRunPodResult;
  try {
    result = await port.dryRunCreatePod(pod);
  } catch (err) {
    const message = (err as Error).message;
    if (message.includes(WEBHOOK_NAME) || /admission webhook .*azure-workload-identity/.test(message)) {
      return check(
        'webhook-dry-run',
        false,
        severity,
        `The webhook refused or failed on ${subject}: ${message}. With failurePolicy Fail, labelled pods cannot start until this is fixed.`,
        'Check the webhook pods: `kubectl get pods -A -l azure-workload-identity.io/system=true` and their logs; a rejected token expiration must be 3600..86400.',
        binding.at,
      );
    }
    const fix = message.includes(image)
      ? `The dry-run pod uses image ${image}, the same as the verification pods: set the verify-image input to an image your cluster's admission policies allow (e.g. a mirror in your registry).`
      : /PodSecurity|quota/i.test(message)
        ? 'The verification pod meets Pod Security "restricted" and sets resources; check the namespace\'s admission policies.'
        : undefined;
    return check(
      'webhook-dry-run',
      true,
      'warning',
      `Could not prove the webhook mutates pods: the dry run of ${subject} was refused before the webhook's answer could be seen: ${message}.`,
      fix,
      binding.at,
    );
  }
  const m = describeMutation(result, binding.audience);
  if (!m.mutated) {
    return check(
      'webhook-dry-run',
      false,
      severity,
      `${registered ? 'The webhook is registered but did not mutate' : 'The webhook (whose registration could not be checked) did not mutate'} ${subject}: ` +
        `${m.env.length ? `only ${m.env.join(', ')} injected` : 'no AZURE_* env injected'}, ${m.tokens.length ? 'a projected token' : 'no projected token volume'}. ` +
        'Verification cannot pass while pods are created unmutated.',
      (registered ? '' : 'If it is not installed, enable it: `az aks update -g <resource-group> -n <cluster> --enable-workload-identity`. Otherwise, check') +
        `${registered ? 'Check' : ''} that the webhook's pods run and that its namespaceSelector/objectSelector include namespace ${binding.namespace} and the label ${USE_LABEL}: "true".`,
      binding.at,
    );
  }
  return check(
    'webhook-dry-run',
    true,
    'info',
    `The webhook mutates pods: ${subject} got ${m.env.join(', ')} and the projected token ${m.tokens.join(', ')} (server-side dry run, nothing was created).`,
  );
}
