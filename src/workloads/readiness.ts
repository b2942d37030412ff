// What stands between each workload and a working token (pure). The action never patches a
// workload (GitOps owners would revert it): it reads the pod templates and running pods of
// every binding's ServiceAccount from the cluster snapshot and says what to change.
// The webhook mutates a pod only at creation, only when the pod carries the label
// `azure.workload.identity/use: "true"`, and never overrides env the container already
// sets (DESIGN §5): each of those facts is one finding below.
import type { PodState, WorkloadState } from '../kube/port.ts';

export const USE_LABEL = 'azure.workload.identity/use';
const INJECTED_ENV = ['AZURE_CLIENT_ID', 'AZURE_TENANT_ID', 'AZURE_FEDERATED_TOKEN_FILE'] as const;

export type ReadinessCode = 'use-label-missing' | 'env-override' | 'pod-identity-label' | 'restart-needed' | 'host-network' | 'windows-node' | 'unused-service-account';

export interface ReadinessFinding {
  code: ReadinessCode;
  /** info: worth knowing, nothing to fix; warning: the workload will not get its token as it is. */
  severity: 'warning' | 'info';
  detail: string;
  fix?: string;
}

export interface WorkloadReadiness {
  namespace: string;
  /** Deployment, StatefulSet, DaemonSet, CronJob, Job, Pod; ServiceAccount for one nobody uses. */
  kind: string;
  name: string;
  serviceAccount: string;
  findings: ReadinessFinding[];
}

export interface ReadinessBinding {
  namespace: string;
  serviceAccount: string;
  /** The client ID the ServiceAccount is (or will be) annotated with. */
  clientId?: string;
  /** The mapping creates this ServiceAccount: nothing used it before. */
  created: boolean;
}

export interface ReadinessInput {
  bindings: ReadinessBinding[];
  workloads: WorkloadState[];
  pods: PodState[];
}

const KIND: Record<WorkloadState['kind'], string> = { deployments: 'Deployment', statefulsets: 'StatefulSet', daemonsets: 'DaemonSet', jobs: 'Job', cronjobs: 'CronJob' };

/**
 * The workload a pod belongs to: its controller, through the ReplicaSet for a Deployment and
 * through the Job for a CronJob (`cronJobOf`: Job name → CronJob name, from the listed Jobs).
 */
function podOwner(pod: PodState, cronJobOf: Map<string, string>): { kind: string; name: string } | undefined {
  if (!pod.owner) return undefined;
  const [kind, name = ''] = pod.owner.split('/');
  if (kind === 'ReplicaSet') {
    // A Deployment's ReplicaSet is named <deployment>-<pod-template-hash>.
    const hash = pod.labels['pod-template-hash'];
    return { kind: 'Deployment', name: hash && name.endsWith(`-${hash}`) ? name.slice(0, -hash.length - 1) : name };
  }
  const cronJob = kind === 'Job' ? cronJobOf.get(`${pod.namespace}/${name}`) : undefined;
  return cronJob ? { kind: 'CronJob', name: cronJob } : { kind: kind ?? '', name };
}

const restartCommand = (kind: string, namespace: string, name: string): string =>
  ['Deployment', 'StatefulSet', 'DaemonSet'].includes(kind)
    ? `kubectl rollout restart ${kind.toLowerCase()}/${name} -n ${namespace}`
    : kind === 'Pod'
      ? `kubectl delete pod ${name} -n ${namespace} (and recreate it from its manifest)`
      : `the next run of ${kind} ${name} picks it up`;

function envFindings(containers: WorkloadState['template']['containers']): ReadinessFinding[] {
  const out: ReadinessFinding[] = [];
  for (const c of containers) {
    const set = c.env.filter((e) => (INJECTED_ENV as readonly string[]).includes(e.name)).map((e) => e.name);
    if (!set.length) continue;
    out.push({
      code: 'env-override',
      severity: 'warning',
      detail: `container '${c.name}' sets ${set.join(', ')} itself; the webhook never overrides env a container already has, so this value wins over the ServiceAccount's.`,
      fix: `Remove ${set.join(', ')} from container '${c.name}' in the manifest.`,
    });
  }
  return out;
}

function restartFinding(kind: string, namespace: string, name: string, pods: PodState[], clientId: string | undefined): ReadinessFinding | undefined {
  const live = pods.filter((p) => p.phase === 'Running' || p.phase === 'Pending');
  const stale = live.filter((p) => {
    if (!p.usesWorkloadIdentity) return false; // not labelled: covered by use-label-missing
    const injected = p.containers.flatMap((c) => c.env).find((e) => e.name === 'AZURE_CLIENT_ID');
    return !injected || (clientId !== undefined && injected.value !== undefined && injected.value !== clientId);
  });
  if (!stale.length) return undefined;
  return {
    code: 'restart-needed',
    severity: 'warning',
    detail: `${stale.length} running pod(s) (${stale.map((p) => p.name).slice(0, 3).join(', ')}${stale.length > 3 ? ', …' : ''}) started without the injected environment or with another client ID: the webhook only changes pods when they are created.`,
    fix: `Restart them: ${restartCommand(kind, namespace, name)}`,
  };
}

function templateFindings(kind: string, namespace: string, name: string, template: WorkloadState['template'], pods: PodState[], clientId: string | undefined): ReadinessFinding[] {
  const out: ReadinessFinding[] = [];
  if (template.labels[USE_LABEL] !== 'true') {
    out.push({
      code: 'use-label-missing',
      severity: 'warning',
      detail: `its pod template lacks the label ${USE_LABEL}: "true", so the webhook injects nothing into its pods.`,
      fix: `Add the label ${USE_LABEL}: "true" to the pod template (spec.template.metadata.labels${kind === 'CronJob' ? ' of the jobTemplate' : ''}).`,
    });
  }
  out.push(...envFindings(template.containers));
  if (template.labels.aadpodidbinding !== undefined) {
    out.push({
      code: 'pod-identity-label',
      severity: 'info',
      detail: `its pod template still carries aadpodidbinding: ${template.labels.aadpodidbinding} (Pod Identity).`,
      fix: 'Keep it until this binding verifies, then remove it from the pod template.',
    });
  }
  if (!out.some((f) => f.code === 'env-override')) {
    const restart = restartFinding(kind, namespace, name, pods, clientId);
    if (restart) out.push(restart);
  }
  return out;
}

function placementFindings(pods: PodState[], template: { hostNetwork?: boolean; nodeSelector?: Record<string, string> }): ReadinessFinding[] {
  const out: ReadinessFinding[] = [];
  if (template.hostNetwork || pods.some((p) => p.hostNetwork)) {
    out.push({ code: 'host-network', severity: 'info', detail: 'runs with hostNetwork: if the app calls IMDS (169.254.169.254) directly, the migration sidecar cannot serve it there.' });
  }
  if (template.nodeSelector?.['kubernetes.io/os'] === 'windows' || pods.some((p) => p.nodeSelector?.['kubernetes.io/os'] === 'windows')) {
    out.push({ code: 'windows-node', severity: 'info', detail: 'runs on Windows nodes: tokens are injected, but the migration sidecar (IMDS emulation) is Linux-only.' });
  }
  return out;
}

export function workloadReadiness(input: ReadinessInput): WorkloadReadiness[] {
  const out: WorkloadReadiness[] = [];
  const cronJobOf = new Map(
    input.workloads.filter((w) => w.kind === 'jobs' && w.owner?.startsWith('CronJob/')).map((w) => [`${w.namespace}/${w.name}`, w.owner!.slice('CronJob/'.length)]),
  );
  for (const b of input.bindings) {
    const pods = input.pods.filter((p) => p.namespace === b.namespace && p.serviceAccountName === b.serviceAccount);
    const workloads = input.workloads.filter((w) => w.namespace === b.namespace && w.template.serviceAccountName === b.serviceAccount && !(w.kind === 'jobs' && w.owner));
    for (const w of workloads) {
      const kind = KIND[w.kind];
      const own = pods.filter((p) => {
        const o = podOwner(p, cronJobOf);
        return o?.kind === kind && o.name === w.name;
      });
      out.push({
        namespace: b.namespace,
        kind,
        name: w.name,
        serviceAccount: b.serviceAccount,
        findings: [...templateFindings(kind, b.namespace, w.name, w.template, own, b.clientId), ...placementFindings(own, w.template)],
      });
    }
    // Pods no listed workload explains: bare pods (no owner). Pods of Jobs a CronJob made
    // are reported through the CronJob.
    for (const p of pods.filter((p) => !p.owner)) {
      const template = { serviceAccountName: p.serviceAccountName, labels: p.labels, annotations: p.annotations, containers: p.containers };
      out.push({
        namespace: b.namespace,
        kind: 'Pod',
        name: p.name,
        serviceAccount: b.serviceAccount,
        findings: [...templateFindings('Pod', b.namespace, p.name, template, [p], b.clientId), ...placementFindings([p], {})],
      });
    }
    if (b.created && !workloads.length && !pods.some((p) => !p.owner)) {
      out.push({
        namespace: b.namespace,
        kind: 'ServiceAccount',
        name: b.serviceAccount,
        serviceAccount: b.serviceAccount,
        findings: [
          {
            code: 'unused-service-account',
            severity: 'warning',
            detail: `no workload in ${b.namespace} runs as ServiceAccount ${b.serviceAccount}: the binding is in place but nothing uses it yet.`,
            fix: `Set serviceAccountName: ${b.serviceAccount} in the workload's pod template.`,
          },
        ],
      });
    }
  }
  return out;
}
