// What the API server adds to a pod before storing it: defaulting
// (pkg/apis/core/v1/defaults.go), the ServiceAccount admission plugin
// (plugin/pkg/admission/serviceaccount/admission.go: default SA, lookup, and the
// kube-api-access projected volume when the token is automounted), DefaultTolerationSeconds,
// and the status a new pod starts with (phase Pending, qosClass).
import { randomBytes } from 'node:crypto';
import { forbidden } from '../status.ts';
import { RESOURCES } from '../resources.ts';
import type { Container, Namespace, Pod, ServiceAccount } from '../types.ts';

const podsDef = RESOURCES.find((r) => r.kind === 'Pod')!;

export const SA_MOUNT_PATH = '/var/run/secrets/kubernetes.io/serviceaccount';

/** utilrand.String: names.SimpleNameGenerator's alphabet (no vowels, no look-alikes). */
export function randomSuffix(n: number): string {
  const alphabet = 'bcdfghjklmnpqrstvwxz2456789';
  return [...randomBytes(n)].map((b) => alphabet[b % alphabet.length]).join('');
}

function imagePullPolicy(image: string | undefined): string {
  const ref = image ?? '';
  if (ref.includes('@')) return 'IfNotPresent';
  const lastSlash = ref.lastIndexOf('/');
  const tag = ref.slice(lastSlash + 1).split(':')[1];
  return !tag || tag === 'latest' ? 'Always' : 'IfNotPresent';
}

function defaultContainer(c: Container): void {
  c.imagePullPolicy ??= imagePullPolicy(c.image);
  c.terminationMessagePath ??= '/dev/termination-log';
  c.terminationMessagePolicy ??= 'File';
  c.resources ??= {};
  for (const p of c.ports ?? []) p.protocol ??= 'TCP';
}

function qosClass(pod: Pod): string {
  const all = [...(pod.spec.initContainers ?? []), ...pod.spec.containers];
  let any = false;
  let guaranteed = true;
  for (const c of all) {
    const req = c.resources?.requests ?? {};
    const lim = c.resources?.limits ?? {};
    if (Object.keys(req).length || Object.keys(lim).length) any = true;
    for (const r of ['cpu', 'memory']) {
      if (!lim[r] || (req[r] !== undefined && req[r] !== lim[r])) guaranteed = false;
    }
  }
  if (!any) return 'BestEffort';
  return guaranteed ? 'Guaranteed' : 'Burstable';
}

/** Defaulting plus the starting status; mutates and returns `pod`. */
export function defaultPod(pod: Pod): Pod {
  const s = pod.spec;
  s.restartPolicy ??= 'Always';
  s.terminationGracePeriodSeconds ??= 30;
  s['dnsPolicy'] ??= 'ClusterFirst';
  s['schedulerName'] ??= 'default-scheduler';
  s.securityContext ??= {};
  s['enableServiceLinks'] ??= true;
  s['preemptionPolicy'] ??= 'PreemptLowerPriority';
  s['priority'] ??= 0;
  for (const c of [...(s.initContainers ?? []), ...s.containers]) defaultContainer(c);
  for (const v of s.volumes ?? []) if (v.projected) v.projected.defaultMode ??= 420;
  // DefaultTolerationSeconds admission plugin.
  const tolerations = s.tolerations ?? [];
  for (const key of ['node.kubernetes.io/not-ready', 'node.kubernetes.io/unreachable']) {
    if (!tolerations.some((t) => t['key'] === key)) tolerations.push({ key, operator: 'Exists', effect: 'NoExecute', tolerationSeconds: 300 });
  }
  s.tolerations = tolerations;
  pod.status = { phase: 'Pending', qosClass: qosClass(pod) };
  return pod;
}

/**
 * ServiceAccount admission (a mutating plugin, so it runs before any webhook): the SA must
 * exist (403 `error looking up service account ns/sa: serviceaccount "sa" not found`), the
 * SA's imagePullSecrets are copied, and unless automount is off the pod gets the
 * kube-api-access-xxxxx projected volume mounted in every container.
 */
export function serviceAccountAdmission(pod: Pod, sa: ServiceAccount | undefined): Pod {
  const ns = pod.metadata.namespace ?? '';
  const name = pod.spec.serviceAccountName || pod.spec.serviceAccount || 'default';
  pod.spec.serviceAccountName = name;
  pod.spec.serviceAccount = name;
  if (!sa) {
    throw forbidden(podsDef, pod.metadata.name ?? pod.metadata.generateName ?? '', `error looking up service account ${ns}/${name}: serviceaccount "${name}" not found`);
  }
  const pullSecrets = (sa as { imagePullSecrets?: { name: string }[] }).imagePullSecrets ?? [];
  if (!(pod.spec['imagePullSecrets'] as unknown[] | undefined)?.length && pullSecrets.length) pod.spec['imagePullSecrets'] = pullSecrets.map((s) => ({ name: s.name }));
  const automount = pod.spec.automountServiceAccountToken ?? sa.automountServiceAccountToken ?? true;
  if (!automount) return pod;
  const all = [...(pod.spec.initContainers ?? []), ...pod.spec.containers];
  if (all.some((c) => (c.volumeMounts ?? []).some((m) => m.mountPath === SA_MOUNT_PATH))) return pod;
  const volumeName = `kube-api-access-${randomSuffix(5)}`;
  (pod.spec.volumes ??= []).push({
    name: volumeName,
    projected: {
      defaultMode: 420,
      sources: [
        { serviceAccountToken: { expirationSeconds: 3607, path: 'token' } },
        { configMap: { name: 'kube-root-ca.crt', items: [{ key: 'ca.crt', path: 'ca.crt' }] } },
        { downwardAPI: { items: [{ path: 'namespace', fieldRef: { apiVersion: 'v1', fieldPath: 'metadata.namespace' } }] } },
      ],
    },
  });
  for (const c of all) (c.volumeMounts ??= []).push({ name: volumeName, mountPath: SA_MOUNT_PATH, readOnly: true });
  return pod;
}

/** Namespace defaults: the immutable kubernetes.io/metadata.name label (1.21+), finalizer, phase. */
export function defaultNamespace(ns: Namespace): Namespace {
  ns.metadata.labels = { ...(ns.metadata.labels ?? {}), 'kubernetes.io/metadata.name': ns.metadata.name! };
  ns.spec = { finalizers: ['kubernetes'], ...(ns.spec ?? {}) };
  ns.status = { phase: 'Active' };
  return ns;
}
