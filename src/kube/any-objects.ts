// LIST of any kind, custom resources included, as plain JSON: discover reads the Pod Identity
// CRDs (aadpodidentity.k8s.io) and KEDA's (keda.sh), which client-node has no typed API for.
// KubernetesObjectApi finds the plural through API discovery; a group the cluster does not
// serve (the CRD is not installed) is "none of them", not an error.
import { KubernetesObjectApi, type KubeConfig, type KubernetesObject } from '@kubernetes/client-node';
import { KubeApiError } from './port.ts';

export interface AnyObject {
  apiVersion?: string;
  kind: string;
  metadata: { name: string; namespace?: string; labels?: Record<string, string>; annotations?: Record<string, string>; ownerReferences?: { kind: string; name: string; controller?: boolean }[] };
  spec?: Record<string, unknown>;
}

export interface ListAnyRequest {
  /** Absent: every namespace. */
  namespace?: string;
  labelSelector?: string;
}

type Call = <T>(operation: string, fn: () => Promise<T>) => Promise<T>;

const PAGE = 500;

/** Discovery of a group the server does not serve fails before any request for the list. */
const notServed = (err: unknown): boolean => {
  if (err instanceof KubeApiError) return err.status === 404;
  const message = (err as Error)?.message ?? '';
  return /Unrecognized API version and kind|does not have a resource type|404/i.test(message);
};

export function listAnyObjects(kc: KubeConfig, call: Call) {
  const api = KubernetesObjectApi.makeApiClient(kc);
  /** Every page; undefined when the cluster does not serve the kind at all. */
  return async (apiVersion: string, kind: string, request: ListAnyRequest): Promise<AnyObject[] | undefined> => {
    const where = request.namespace ? `in namespace ${request.namespace}` : 'in all namespaces';
    const items: AnyObject[] = [];
    let cont: string | undefined;
    try {
      do {
        const page = await call(`list ${kind} (${apiVersion}) ${where}`, () =>
          api.list<KubernetesObject>(apiVersion, kind, request.namespace, undefined, undefined, undefined, undefined, request.labelSelector, PAGE, cont),
        );
        for (const o of page.items) items.push({ ...(o as unknown as AnyObject), kind: o.kind ?? kind });
        cont = page.metadata?._continue || undefined;
      } while (cont);
    } catch (err) {
      if (notServed(err)) return undefined;
      throw err;
    }
    return items;
  };
}
