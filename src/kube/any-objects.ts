// LIST of any kind as plain JSON, custom resources included: discover reads the Pod Identity
// CRDs (aadpodidentity.k8s.io), KEDA's (keda.sh) and the workloads of the namespaces that use
// them. The generic path /apis/<group>/<version>/… serves built-in groups (apps, batch) as
// well as CRDs; core pods go through CoreV1Api. A group the cluster does not serve (the CRD
// is not installed) is "none of them", not an error.
import { CoreV1Api, CustomObjectsApi, type ConfigurationOptions, type KubeConfig } from '@kubernetes/client-node';
import { KubeApiError, type AnyObject, type KindRef, type ListAnyRequest } from './port.ts';

/** The adapter's retried read (client.ts): timeout, deadline, one retry policy. */
export type Read = <T>(operation: string, fn: (options: ConfigurationOptions) => Promise<T>) => Promise<T>;

interface Page {
  items?: unknown[];
  metadata?: { _continue?: string; continue?: string };
}

const PAGE = 500;

export function listAnyObjects(kc: KubeConfig, read: Read) {
  const custom = kc.makeApiClient(CustomObjectsApi);
  const core = kc.makeApiClient(CoreV1Api);
  return async (ref: KindRef, request: ListAnyRequest): Promise<AnyObject[] | undefined> => {
    const where = request.namespace ? `in namespace ${request.namespace}` : 'in all namespaces';
    const operation = `list ${ref.kind} ${where}`;
    const items: AnyObject[] = [];
    let cont: string | undefined;
    try {
      do {
        const page = { limit: PAGE, _continue: cont, labelSelector: request.labelSelector };
        const listed = (await read(operation, (o) => {
          if (ref.group === '' && ref.plural === 'pods') {
            return request.namespace ? core.listNamespacedPod({ ...page, namespace: request.namespace }, o) : core.listPodForAllNamespaces(page, o);
          }
          const kind = { group: ref.group, version: ref.version, plural: ref.plural, ...page };
          return request.namespace ? custom.listNamespacedCustomObject({ ...kind, namespace: request.namespace }, o) : custom.listClusterCustomObject(kind, o);
        })) as Page;
        // Items of a built-in LIST carry no kind: the request names it.
        for (const o of listed.items ?? []) items.push({ ...(o as AnyObject), kind: (o as AnyObject).kind ?? ref.kind });
        cont = listed.metadata?._continue || listed.metadata?.continue || undefined;
      } while (cont);
    } catch (err) {
      if (err instanceof KubeApiError && err.status === 404) return undefined;
      throw err;
    }
    return items;
  };
}
