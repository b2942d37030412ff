// LIST of the kinds the cluster snapshot holds (snapshot.ts), through client-node, one page
// at a time (`limit`/`continue`), in one namespace or across all of them; objects come back
// as the port's plain states (port.ts), never as SDK types.
import {
  AppsV1Api,
  BatchV1Api,
  CoreV1Api,
  type ConfigurationOptions,
  type KubeConfig,
  type V1Container,
  type V1ObjectMeta,
  type V1PodTemplateSpec,
} from '@kubernetes/client-node';
import type { ContainerState, KubePort, ListRequest, ObjectPage, PodState, ServiceAccountState, SnapshotKind, SnapshotObjects, WorkloadKind, WorkloadState } from './port.ts';

/**
 * The adapter's read (client.ts): under the request timeout and the run's deadline, retried
 * by the one policy, errors as KubeApiError naming the operation.
 */
export type Read = <T>(operation: string, fn: (options: ConfigurationOptions) => Promise<T>) => Promise<T>;

interface Listed<T> {
  items: T[];
  metadata?: { _continue?: string };
}

/** Page parameters as client-node names them. */
interface PageParams {
  limit: number;
  _continue?: string;
}

type Lister = (namespace: string | undefined, page: PageParams, options: ConfigurationOptions) => Promise<Listed<unknown>>;

const strings = (r: Record<string, string> | undefined): Record<string, string> => ({ ...(r ?? {}) });

function containers(list: V1Container[] | undefined): ContainerState[] {
  return (list ?? []).map((c) => ({ name: c.name, env: (c.env ?? []).map((e) => ({ name: e.name, value: e.value })) }));
}

function owner(meta: V1ObjectMeta | undefined): string | undefined {
  const o = meta?.ownerReferences?.find((r) => r.controller) ?? meta?.ownerReferences?.[0];
  return o ? `${o.kind}/${o.name}` : undefined;
}

interface Meta {
  metadata?: V1ObjectMeta;
}

function serviceAccountState(sa: Meta): ServiceAccountState {
  const m = sa.metadata;
  return { namespace: m?.namespace ?? '', name: m?.name ?? '', labels: strings(m?.labels), annotations: strings(m?.annotations), resourceVersion: m?.resourceVersion };
}

function podState(p: Meta & { spec?: { serviceAccountName?: string; containers?: V1Container[]; hostNetwork?: boolean; nodeSelector?: Record<string, string> }; status?: { phase?: string } }): PodState {
  const m = p.metadata;
  const labels = strings(m?.labels);
  return {
    namespace: m?.namespace ?? '',
    name: m?.name ?? '',
    phase: p.status?.phase ?? 'Unknown',
    // The API server defaults an unset serviceAccountName to 'default'.
    serviceAccountName: p.spec?.serviceAccountName || 'default',
    usesWorkloadIdentity: labels['azure.workload.identity/use'] === 'true',
    owner: owner(m),
    labels,
    annotations: strings(m?.annotations),
    containers: containers(p.spec?.containers),
    hostNetwork: p.spec?.hostNetwork === true,
    nodeSelector: strings(p.spec?.nodeSelector),
    resourceVersion: m?.resourceVersion,
  };
}

function templateState(t: V1PodTemplateSpec | undefined): WorkloadState['template'] {
  return {
    serviceAccountName: t?.spec?.serviceAccountName || 'default',
    labels: strings(t?.metadata?.labels),
    annotations: strings(t?.metadata?.annotations),
    containers: containers(t?.spec?.containers),
    hostNetwork: t?.spec?.hostNetwork === true,
    nodeSelector: strings(t?.spec?.nodeSelector),
  };
}

type WorkloadObject = Meta & {
  spec?: { replicas?: number; template?: V1PodTemplateSpec; jobTemplate?: { spec?: { template?: V1PodTemplateSpec } } };
};

const workloadState =
  (kind: WorkloadKind) =>
  (w: WorkloadObject): WorkloadState => {
    const m = w.metadata;
    return {
      kind,
      namespace: m?.namespace ?? '',
      name: m?.name ?? '',
      labels: strings(m?.labels),
      annotations: strings(m?.annotations),
      replicas: kind === 'deployments' || kind === 'statefulsets' ? (w.spec?.replicas ?? 1) : undefined,
      // A CronJob's pods come from its job template.
      template: templateState(kind === 'cronjobs' ? w.spec?.jobTemplate?.spec?.template : w.spec?.template),
      owner: owner(m),
      resourceVersion: m?.resourceVersion,
    };
  };

export function createObjectLister(kc: KubeConfig, read: Read): KubePort['listObjects'] {
  const core = kc.makeApiClient(CoreV1Api);
  const apps = kc.makeApiClient(AppsV1Api);
  const batch = kc.makeApiClient(BatchV1Api);

  /** A kind's LIST in one namespace, or across all of them. */
  type Call<P> = (p: P, o: ConfigurationOptions) => Promise<Listed<unknown>>;
  const either =
    (inNamespace: Call<PageParams & { namespace: string }>, everywhere: Call<PageParams>): Lister =>
    (namespace, page, options) =>
      namespace ? inNamespace({ namespace, ...page }, options) : everywhere(page, options);

  const kinds: { [K in SnapshotKind]: { list: Lister; state: (o: never) => SnapshotObjects[K] } } = {
    serviceaccounts: { list: either((p, o) => core.listNamespacedServiceAccount(p, o), (p, o) => core.listServiceAccountForAllNamespaces(p, o)), state: serviceAccountState },
    pods: { list: either((p, o) => core.listNamespacedPod(p, o), (p, o) => core.listPodForAllNamespaces(p, o)), state: podState },
    deployments: { list: either((p, o) => apps.listNamespacedDeployment(p, o), (p, o) => apps.listDeploymentForAllNamespaces(p, o)), state: workloadState('deployments') },
    statefulsets: { list: either((p, o) => apps.listNamespacedStatefulSet(p, o), (p, o) => apps.listStatefulSetForAllNamespaces(p, o)), state: workloadState('statefulsets') },
    daemonsets: { list: either((p, o) => apps.listNamespacedDaemonSet(p, o), (p, o) => apps.listDaemonSetForAllNamespaces(p, o)), state: workloadState('daemonsets') },
    jobs: { list: either((p, o) => batch.listNamespacedJob(p, o), (p, o) => batch.listJobForAllNamespaces(p, o)), state: workloadState('jobs') },
    cronjobs: { list: either((p, o) => batch.listNamespacedCronJob(p, o), (p, o) => batch.listCronJobForAllNamespaces(p, o)), state: workloadState('cronjobs') },
  };

  return async <K extends SnapshotKind>(kind: K, request: ListRequest): Promise<ObjectPage<SnapshotObjects[K]>> => {
    const { list, state } = kinds[kind] as { list: Lister; state: (o: unknown) => SnapshotObjects[K] };
    const op = `list ${kind} ${request.namespace ? `in ${request.namespace}` : 'in all namespaces'}`;
    const page = await read(op, (options) => list(request.namespace, { limit: request.limit, _continue: request.continue }, options));
    return { items: page.items.map(state), continue: page.metadata?._continue || undefined };
  };
}
