// The cluster as the planner, preflight and apply see it: a few domain operations over
// plain data. The client-node adapter (client.ts) is the only place that knows the SDK;
// tests may fake this interface or run the real adapter against the sandbox.
import { recognisedAcrossBundles } from '../cross-bundle.ts';

export interface ServiceAccountState {
  namespace: string;
  name: string;
  labels: Record<string, string>;
  annotations: Record<string, string>;
  resourceVersion?: string;
}

export interface ServiceAccountWrite {
  namespace: string;
  name: string;
  labels: Record<string, string>;
  annotations: Record<string, string>;
}

export interface PodRef {
  name: string;
  phase: string; // Pending | Running | Succeeded | Failed | Unknown
  /** Label azure.workload.identity/use === "true": the webhook mutates it when it is (re)created. */
  usesWorkloadIdentity: boolean;
  /** The first controller owner, e.g. 'ReplicaSet/payments-api-7c9d'. */
  owner?: string;
}

/** The kinds a cluster snapshot holds (snapshot.ts): what plan, preflight, readiness and verification read. */
export type WorkloadKind = 'deployments' | 'statefulsets' | 'daemonsets' | 'jobs' | 'cronjobs';
export type SnapshotKind = 'serviceaccounts' | 'pods' | WorkloadKind;

export interface ContainerState {
  name: string;
  /** Env as the spec sets it: a hard-coded AZURE_CLIENT_ID wins over the webhook's (DESIGN §5). */
  env: { name: string; value?: string }[];
}

export interface PodState extends PodRef {
  namespace: string;
  serviceAccountName: string;
  labels: Record<string, string>;
  annotations: Record<string, string>;
  containers: ContainerState[];
  /** Readiness: IMDS emulation cannot serve host-network pods. */
  hostNetwork?: boolean;
  nodeSelector?: Record<string, string>;
  resourceVersion?: string;
}

/** A workload's pod template: what its next pods will be (the webhook mutates them on creation). */
export interface PodTemplateState {
  serviceAccountName: string;
  labels: Record<string, string>;
  annotations: Record<string, string>;
  containers: ContainerState[];
  hostNetwork?: boolean;
  nodeSelector?: Record<string, string>;
}

export interface WorkloadState {
  kind: WorkloadKind;
  namespace: string;
  name: string;
  labels: Record<string, string>;
  annotations: Record<string, string>;
  /** Deployments and StatefulSets; undefined for the others. */
  replicas?: number;
  template: PodTemplateState;
  /** The controller, e.g. 'CronJob/nightly' for a Job a CronJob made. */
  owner?: string;
  resourceVersion?: string;
}

export interface SnapshotObjects {
  serviceaccounts: ServiceAccountState;
  pods: PodState;
  deployments: WorkloadState;
  statefulsets: WorkloadState;
  daemonsets: WorkloadState;
  jobs: WorkloadState;
  cronjobs: WorkloadState;
}

/** One page of a LIST: `continue` is the token of the next page, absent on the last. */
export interface ObjectPage<T> {
  items: T[];
  continue?: string;
}

export interface ListRequest {
  /** Absent: cluster-wide (every namespace). */
  namespace?: string;
  limit: number;
  continue?: string;
}

export interface NamespaceState {
  name: string;
  phase: string; // Active | Terminating
  labels: Record<string, string>;
}

export interface AccessQuery {
  verb: string;
  resource: string; // plural, e.g. 'serviceaccounts'
  group?: string; // '' core
  subresource?: string; // e.g. 'log'
  namespace?: string; // absent: cluster-wide
}

export interface AccessAnswer {
  allowed: boolean;
  reason?: string;
}

export interface WebhookRegistration {
  /** The MutatingWebhookConfiguration's name. */
  configuration: string;
  webhook: string;
  serviceNamespace?: string;
  serviceName?: string;
  failurePolicy?: string;
  labels: Record<string, string>;
}

export interface OpenIdConfiguration {
  issuer: string;
  jwks_uri?: string;
}

/** The minimum of a pod we ask the API server to dry-run. */
export interface PodManifest {
  name: string;
  namespace: string;
  labels: Record<string, string>;
  annotations: Record<string, string>;
  serviceAccountName: string;
  image: string;
}

/** A whole pod as plain data (the verification pod): the adapter sends it as it is. */
export interface PodObject {
  metadata: { name: string; namespace: string; labels: Record<string, string>; annotations: Record<string, string> };
  spec: Record<string, unknown>;
}

/** A pod's state as verification reads it. */
export interface PodView {
  phase: string; // Pending | Running | Succeeded | Failed | Unknown
  reason?: string; // e.g. DeadlineExceeded
  message?: string;
  resourceVersion?: string;
  deleting: boolean;
  /** PodScheduled=False: the scheduler's message ("0/3 nodes are available: …"). */
  unschedulable?: string;
  /** The (first) container waits: ContainerCreating, ErrImagePull, ImagePullBackOff, CrashLoopBackOff … */
  waiting?: { reason: string; message?: string };
  terminated?: { exitCode: number; reason?: string; message?: string };
}

export interface PodEvent {
  type: string; // Normal | Warning
  reason: string;
  message: string;
}

/** What the admission chain made of a dry-run pod. */
export interface DryRunPodResult {
  containers: { name: string; env: { name: string; value?: string }[]; volumeMounts: { name: string; mountPath: string }[] }[];
  volumes: { name: string; projectedTokens: { audience?: string; path: string; expirationSeconds?: number }[] }[];
}

/** Any object as discover reads it (any-objects.ts): the fields it looks at, as plain JSON. */
export interface AnyObject {
  apiVersion?: string;
  kind: string;
  metadata: {
    name: string;
    namespace?: string;
    labels?: Record<string, string>;
    annotations?: Record<string, string>;
    ownerReferences?: { kind: string; name: string; controller?: boolean }[];
  };
  spec?: Record<string, unknown>;
}

export interface KindRef {
  /** '' for the core group. */
  group: string;
  version: string;
  plural: string;
  kind: string;
}

export interface ListAnyRequest {
  /** Absent: every namespace. */
  namespace?: string;
  labelSelector?: string;
}

export interface KubePort {
  /** The API server URL, for messages. */
  readonly server: string;
  /** undefined when the ServiceAccount does not exist. */
  readServiceAccount(namespace: string, name: string): Promise<ServiceAccountState | undefined>;
  /** Throws KubeApiError with status 409 / reason AlreadyExists when it exists. */
  createServiceAccount(sa: ServiceAccountWrite): Promise<ServiceAccountState>;
  /**
   * Merge patch of exactly these annotations, null removing one (fieldManager
   * workload-identity-action): every label, other annotation, secret and imagePullSecret stays.
   */
  patchServiceAccountAnnotations(namespace: string, name: string, annotations: Record<string, string | null>): Promise<ServiceAccountState>;
  /** One page of a LIST of a kind, in a namespace or cluster-wide: the snapshot (snapshot.ts) reads through it. */
  listObjects<K extends SnapshotKind>(kind: K, request: ListRequest): Promise<ObjectPage<SnapshotObjects[K]>>;
  /** undefined when the namespace does not exist. */
  readNamespace(name: string): Promise<NamespaceState | undefined>;
  selfSubjectAccessReview(query: AccessQuery): Promise<AccessAnswer>;
  listMutatingWebhookConfigurations(): Promise<WebhookRegistration[]>;
  /** GET /.well-known/openid-configuration through the API server (issuer discovery). */
  getOpenIdConfiguration(): Promise<OpenIdConfiguration>;
  /**
   * Every object of any kind (CRDs included) as plain JSON, all pages; undefined when the
   * cluster does not serve the kind. Only discover uses it (the client-node adapter has it;
   * test fakes of the other stages may leave it out).
   */
  listAny?(kind: KindRef, request: ListAnyRequest): Promise<AnyObject[] | undefined>;
  /** Server-side dry run (dryRun=All): admission runs, nothing is stored. */
  dryRunCreatePod(pod: PodManifest): Promise<DryRunPodResult>;
  /** Throws KubeApiError: 403 (Pod Security, ServiceAccount admission), 400/500 (a webhook), 409 AlreadyExists. */
  createPod(pod: PodObject): Promise<void>;
  /**
   * Watches one pod (after a first read) and calls `onChange` with each state, undefined
   * once it is gone, until it returns true or `signal` aborts.
   */
  followPod(namespace: string, name: string, onChange: (pod: PodView | undefined) => boolean | void, signal: AbortSignal): Promise<void>;
  readPodLog(namespace: string, name: string, container: string): Promise<string>;
  listPodEvents(namespace: string, name: string): Promise<PodEvent[]>;
  /** Gone already is fine. */
  deletePod(namespace: string, name: string): Promise<void>;
  /** Deletes the pods of one namespace that carry exactly this label selector; returns their names. */
  deletePodsByLabel(namespace: string, labelSelector: string): Promise<string[]>;
}

/** A failed Kubernetes call with the API's own reason kept (NotFound, AlreadyExists, Forbidden …). */
export class KubeApiError extends Error {
  readonly operation: string;
  /** HTTP status; undefined when the server was not reached. */
  readonly status?: number;
  /** Status.reason from the API server, or the network error code (ECONNREFUSED, RequestTimeout …). */
  readonly reason?: string;
  /** Retry-After of a 429 or 5xx, in ms. */
  readonly retryAfterMs?: number;
  constructor(operation: string, message: string, status: number | undefined, reason: string | undefined, cause?: unknown, retryAfterMs?: number) {
    super(message, { cause });
    this.name = 'KubeApiError';
    this.operation = operation;
    this.status = status;
    this.reason = reason;
    if (retryAfterMs !== undefined) this.retryAfterMs = retryAfterMs;
  }
}

recognisedAcrossBundles(KubeApiError, 'KubeApiError');

export const isKubeApiError = (err: unknown): err is KubeApiError => err instanceof KubeApiError;
export const isAlreadyExists = (err: unknown): boolean => isKubeApiError(err) && err.status === 409 && err.reason === 'AlreadyExists';
/** Not an answer from the API server: DNS, refused, TLS, timeout. */
export const isUnreachable = (err: unknown): boolean => isKubeApiError(err) && err.status === undefined;
