// Kubernetes objects as discover reads them: plain JSON, whatever their kind. aad-pod-identity
// decoded its fields case-insensitively before v1.6 (`ResourceID`, `ClientID`,
// `AzureIdentity`, `Selector`), and clusters still hold objects written that way: every
// Pod Identity field is looked up in any casing.

import type { AnyObject } from '../kube/port.ts';

/** Discover's view of any object: the port's plain JSON shape (src/kube/any-objects.ts reads it). */
export type KubeObject = AnyObject;
export type OwnerReference = NonNullable<AnyObject['metadata']['ownerReferences']>[number];

/** A field of `obj` by name in any casing (aad-pod-identity < v1.6 wrote PascalCase). */
export function field(obj: unknown, name: string): unknown {
  if (!obj || typeof obj !== 'object') return undefined;
  const record = obj as Record<string, unknown>;
  if (name in record) return record[name];
  const lower = name.toLowerCase();
  const key = Object.keys(record).find((k) => k.toLowerCase() === lower);
  return key === undefined ? undefined : record[key];
}

export const text = (value: unknown): string | undefined => (typeof value === 'string' && value ? value : undefined);

export const ref = (o: KubeObject): string => `${o.kind} ${o.metadata.namespace ? `${o.metadata.namespace}/` : ''}${o.metadata.name}`;

/** A workload's pod template (Deployment, StatefulSet, DaemonSet, Job, CronJob) or the pod itself. */
export interface PodTemplate {
  labels: Record<string, string>;
  serviceAccountName: string;
  spec: Record<string, unknown>;
}

export const WORKLOAD_KINDS = ['Deployment', 'StatefulSet', 'DaemonSet', 'CronJob', 'Job', 'Pod'] as const;
export type WorkloadKind = (typeof WORKLOAD_KINDS)[number];

export function podTemplate(o: KubeObject): PodTemplate | undefined {
  let template: unknown;
  if (o.kind === 'Pod') template = { metadata: o.metadata, spec: o.spec };
  else if (o.kind === 'CronJob') template = field(field(field(o.spec, 'jobTemplate'), 'spec'), 'template');
  else template = field(o.spec, 'template');
  if (!template || typeof template !== 'object') return undefined;
  const metadata = (field(template, 'metadata') ?? {}) as { labels?: Record<string, string> };
  const spec = (field(template, 'spec') ?? {}) as Record<string, unknown>;
  // A pod without serviceAccountName runs as the namespace's `default` ServiceAccount.
  const serviceAccountName = text(spec.serviceAccountName) ?? text(spec.serviceAccount) ?? 'default';
  return { labels: metadata.labels ?? {}, serviceAccountName, spec };
}

/** A pod or Job made by a controller belongs to that workload, not reported on its own. */
export const controlledBy = (o: KubeObject): OwnerReference | undefined => o.metadata.ownerReferences?.find((r) => r.controller);
