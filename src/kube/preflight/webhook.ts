// Is the Azure Workload Identity webhook registered, and only once? Registration is a hint;
// the dry run (dry-run.ts) is the proof.
import type { PreflightCheck, Severity } from '../../plan/types.ts';
import { check, type PreflightContext } from './check.ts';

const WEBHOOK_CONFIGURATION = 'azure-wi-webhook-mutating-webhook-configuration';
export const WEBHOOK_NAME = 'mutation.azure-workload-identity.io';
const WEBHOOK_SERVICE = 'azure-wi-webhook-webhook-service';
export const USE_LABEL = 'azure.workload.identity/use';
/** Env the webhook injects (DESIGN §5). */
export const INJECTED_ENV = ['AZURE_CLIENT_ID', 'AZURE_TENANT_ID', 'AZURE_FEDERATED_TOKEN_FILE', 'AZURE_AUTHORITY_HOST'] as const;

/** A missing webhook blocks verification (and every migrated workload); without verification the writes themselves still work. */
export const webhookSeverity = (ctx: PreflightContext): Severity => (ctx.input.mode === 'verify' || ctx.input.verify ? 'error' : 'warning');

function installKind(serviceNamespace: string | undefined): string {
  if (serviceNamespace === 'kube-system') return 'the AKS add-on (kube-system)';
  if (serviceNamespace === 'azure-workload-identity-system') return 'Helm (azure-workload-identity-system)';
  return serviceNamespace ? `a custom install in namespace ${serviceNamespace}` : 'an unknown install';
}

export async function checkWebhook(ctx: PreflightContext): Promise<{ checks: PreflightCheck[]; installed: boolean | 'unknown' }> {
  const severity = webhookSeverity(ctx);
  let registrations;
  try {
    registrations = await ctx.port.listMutatingWebhookConfigurations();
  } catch (err) {
    return {
      checks: [
        check(
          'webhook',
          false,
          'warning',
          `Could not check whether the Azure Workload Identity webhook is installed: ${(err as Error).message}.`,
          'Allow list on mutatingwebhookconfigurations.admissionregistration.k8s.io (see the rbac check).',
        ),
      ],
      // Unknown: still try the dry run, which proves it either way.
      installed: 'unknown',
    };
  }
  const ours = registrations.filter((r) => r.configuration === WEBHOOK_CONFIGURATION || r.webhook === WEBHOOK_NAME || r.serviceName === WEBHOOK_SERVICE);
  if (!ours.length) {
    return {
      installed: false,
      checks: [
        check(
          'webhook',
          false,
          severity,
          `The Azure Workload Identity webhook is not installed: there is no MutatingWebhookConfiguration ${WEBHOOK_CONFIGURATION}. ` +
            `Without it, pods labelled ${USE_LABEL}: "true" get no ${INJECTED_ENV.join(', ')} and no projected ServiceAccount token, ` +
            'so verification cannot pass and migrated workloads cannot get Azure tokens.',
          'Enable it on AKS: `az aks update -g <resource-group> -n <cluster> --enable-oidc-issuer --enable-workload-identity`. ' +
            'On other clusters install the Helm chart azure-workload-identity/workload-identity-webhook into azure-workload-identity-system.',
        ),
      ],
    };
  }
  const installs = new Map<string, { configuration: string; serviceNamespace?: string; failurePolicy?: string }>();
  for (const r of ours) installs.set(`${r.configuration}|${r.serviceNamespace ?? ''}`, r);
  const list = [...installs.values()];
  const first = list[0]!;
  const checks = [
    check(
      'webhook',
      true,
      'info',
      `The Azure Workload Identity webhook is installed by ${installKind(first.serviceNamespace)} (MutatingWebhookConfiguration ${first.configuration}` +
        `${first.failurePolicy ? `, failurePolicy ${first.failurePolicy}` : ''}).`,
    ),
  ];
  if (list.length > 1) {
    checks.push(
      check(
        'webhook',
        false,
        'warning',
        `The webhook is installed ${list.length} times: ${list.map((i) => `${i.configuration} → ${installKind(i.serviceNamespace)}`).join('; ')}. ` +
          'Every labelled pod is then mutated by each of them, and they may disagree (versions, token path).',
        'Keep one: with the AKS add-on enabled, remove the Helm release (`helm uninstall workload-identity-webhook -n azure-workload-identity-system`).',
      ),
    );
  }
  return { checks, installed: true };
}
