// Where the Kubernetes credentials come from (DESIGN §3 `kubeconfig`): the input's
// content, else KUBECONFIG (azure/aks-set-context sets it), else ~/.kube/config, else the
// in-cluster ServiceAccount (a self-hosted runner inside the cluster). Anything else is an
// error that says what to do — client-node would silently fall back to localhost:8080.
import { existsSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { delimiter, join } from 'node:path';
import { randomBytes } from 'node:crypto';
import {
  AdmissionregistrationV1Api,
  ApiException,
  AuthorizationV1Api,
  CoreV1Api,
  KubeConfig,
  PatchStrategy,
  WellKnownApi,
  setHeaderOptions,
  type ConfigurationOptions,
  type V1MutatingWebhookConfigurationList,
  type V1Pod,
  type V1ServiceAccount,
} from '@kubernetes/client-node';
import { createNetwork, networkCode, requestSignal, retryAfterMs, withGrace, withRetry, type Network } from '../net/index.ts';
import { KubeConfigError } from './config-error.ts';
import { decodeKubeconfigInput } from './kubeconfig-input.ts';
import { KUBECONFIG_FILE_PREFIX, kubeconfigTempDir } from './temp-files.ts';
import { listAnyObjects } from './any-objects.ts';
import { kubeFailure, kubeRetry, withSignal } from './policy.ts';
import { podOperations } from './pods.ts';
import { createObjectLister } from './list.ts';
import { KubeApiError, type KubePort, type ServiceAccountState, type WebhookRegistration } from './port.ts';

export type * from './port.ts';
export { KubeApiError } from './port.ts';
export { KubeConfigError } from './config-error.ts';
export { KUBECONFIG_STATE_KEY } from './state-key.ts';
export { kubeconfigTempDir, removeKubeconfigTempFiles } from './temp-files.ts';

const IN_CLUSTER_TOKEN = '/var/run/secrets/kubernetes.io/serviceaccount/token';

export interface KubeConfigSource {
  kind: 'input' | 'KUBECONFIG' | 'home' | 'in-cluster';
  /** The file read (the temp file for 'input'). */
  path: string;
}

export interface LoadedKubeConfig {
  kc: KubeConfig;
  source: KubeConfigSource;
  /** The 0600 temp file written from the input; record it for the post step. */
  tempFile?: string;
  /** Removes the temp file, if any. Idempotent. */
  cleanup(): void;
}

export interface KubeConfigEnvironment {
  /** Default process.env: KUBECONFIG, RUNNER_TEMP, KUBERNETES_SERVICE_HOST. */
  env?: Record<string, string | undefined>;
  home?: string;
  inClusterTokenPath?: string;
}

/** Messages of client-node's own structure checks: they name a field, never its value. */
const STRUCTURE_ERROR = /^(clusters|users|contexts)\[\d+\]\.[\w.-]+ is missing$/;

/**
 * A kubeconfig load error in words: the kind of problem and where, never the file's text.
 * js-yaml's message quotes the lines around the error, and those may hold a token.
 */
function describeLoadError(err: unknown): string {
  const e = (err ?? {}) as { name?: unknown; reason?: unknown; mark?: { line?: unknown; column?: unknown }; message?: unknown; code?: unknown };
  if (e.name === 'YAMLException') {
    // Reasons may quote a tag or alias from the file: drop anything quoted.
    const reason = typeof e.reason === 'string' && e.reason ? e.reason.replace(/"[^"]*"|'[^']*'|!<[^>]*>|`[^`]*`/g, '(value omitted)') : 'invalid YAML';
    const { line, column } = e.mark ?? {};
    const at = typeof line === 'number' && typeof column === 'number' ? ` at line ${line + 1}, column ${column + 1}` : '';
    return `YAML syntax error${at}: ${reason}`;
  }
  const message = typeof e.message === 'string' ? e.message : '';
  if (STRUCTURE_ERROR.test(message)) return message;
  // fs errors (ENOENT, EACCES …) name the path only.
  if (typeof e.code === 'string' && /^E[A-Z]+$/.test(e.code)) return message;
  return `its content is not a kubeconfig (${typeof e.name === 'string' ? e.name : 'unknown error'})`;
}

/** loadFromFile with an error that is safe to print (no cause attached: it quotes the file). */
function loadFile(kc: KubeConfig, file: string, what: string): void {
  try {
    kc.loadFromFile(file);
  } catch (err) {
    throw new KubeConfigError(`${what} is not a valid kubeconfig: ${describeLoadError(err)}.`);
  }
}

function writeTempKubeconfig(content: string, env: Record<string, string | undefined>): string {
  const dir = kubeconfigTempDir(env);
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  const file = join(dir, `${KUBECONFIG_FILE_PREFIX}${process.pid}-${randomBytes(4).toString('hex')}`);
  // 'wx': never follow or reuse a file someone else put there.
  writeFileSync(file, content, { mode: 0o600, flag: 'wx' });
  return file;
}

function checkUsable(kc: KubeConfig, source: KubeConfigSource): void {
  const cluster = kc.getCurrentCluster();
  if (!cluster) {
    const where = source.kind === 'input' ? "the 'kubeconfig' input" : source.path;
    throw new KubeConfigError(
      `The kubeconfig from ${where} has no current context with a cluster (current-context: '${kc.getCurrentContext() || ''}'). ` +
        'Set current-context, or run azure/aks-set-context before this action.',
    );
  }
}

export function loadKubeConfig(settings: { kubeconfig: string }, environment: KubeConfigEnvironment = {}): LoadedKubeConfig {
  const env = environment.env ?? process.env;
  const kc = new KubeConfig();
  let tempFile: string | undefined;
  const cleanup = (): void => {
    if (tempFile) rmSync(tempFile, { force: true });
  };

  try {
    let source: KubeConfigSource;
    if (settings.kubeconfig.trim()) {
      tempFile = writeTempKubeconfig(decodeKubeconfigInput(settings.kubeconfig), env);
      source = { kind: 'input', path: tempFile };
      loadFile(kc, tempFile, "The 'kubeconfig' input");
    } else if (env.KUBECONFIG) {
      // As kubectl reads it: several files, the first one's current-context wins.
      const files = env.KUBECONFIG.split(delimiter).filter(Boolean);
      source = { kind: 'KUBECONFIG', path: env.KUBECONFIG };
      const missing = files.filter((f) => !existsSync(f));
      if (missing.length === files.length) {
        throw new KubeConfigError(`KUBECONFIG points at ${missing.join(', ')}, which does not exist. Run azure/aks-set-context (or set the 'kubeconfig' input) in this job.`);
      }
      const [first, ...rest] = files.filter((f) => existsSync(f));
      loadFile(kc, first!, `The KUBECONFIG file ${first!}`);
      for (const f of rest) {
        const more = new KubeConfig();
        loadFile(more, f, `The KUBECONFIG file ${f}`);
        kc.mergeConfig(more, true);
      }
    } else {
      const home = environment.home ?? homedir();
      const file = join(home, '.kube', 'config');
      const tokenPath = environment.inClusterTokenPath ?? IN_CLUSTER_TOKEN;
      if (existsSync(file)) {
        source = { kind: 'home', path: file };
        loadFile(kc, file, file);
      } else if (env.KUBERNETES_SERVICE_HOST && existsSync(tokenPath)) {
        source = { kind: 'in-cluster', path: tokenPath };
        kc.loadFromCluster();
      } else {
        throw new KubeConfigError(
          "No Kubernetes credentials: the 'kubeconfig' input is empty, KUBECONFIG is not set, " +
            `${file} does not exist and this is not a pod in a cluster. ` +
            "Add a step `azure/aks-set-context` before this action, or pass the kubeconfig content in the 'kubeconfig' input.",
        );
      }
    }
    checkUsable(kc, source);
    return { kc, source, tempFile, cleanup };
  } catch (err) {
    cleanup();
    throw err;
  }
}

// ---------------------------------------------------------------------------------------
// The client-node adapter behind KubePort.

const FIELD_MANAGER = 'workload-identity-action';

type Api = {
  core: CoreV1Api;
  authz: AuthorizationV1Api;
  admission: AdmissionregistrationV1Api;
  wellKnown: WellKnownApi;
};

/** Status.reason and message from ApiException.body (raw JSON text in client-node 2.x). */
function statusOf(body: unknown): { reason?: string; message?: string } {
  let parsed: unknown = body;
  if (typeof body === 'string') {
    try {
      parsed = JSON.parse(body);
    } catch {
      return { message: body.slice(0, 500) || undefined };
    }
  }
  if (parsed && typeof parsed === 'object') {
    const s = parsed as { reason?: unknown; message?: unknown };
    return {
      reason: typeof s.reason === 'string' && s.reason ? s.reason : undefined,
      message: typeof s.message === 'string' && s.message ? s.message : undefined,
    };
  }
  return {};
}

function toKubeApiError(operation: string, err: unknown): KubeApiError {
  if (err instanceof KubeApiError) return err;
  if (err instanceof ApiException) {
    const { reason, message } = statusOf(err.body);
    const code = err.code as number;
    const why = message ?? (code === 401 ? 'Unauthorized' : `HTTP ${code}`);
    const headers = err.headers ?? {};
    const wait = retryAfterMs((name) => headers[name] ?? Object.entries(headers).find(([k]) => k.toLowerCase() === name)?.[1]);
    return new KubeApiError(operation, `${operation}: ${code}${reason ? ` ${reason}` : ''}: ${why}`, code, reason ?? (code === 401 ? 'Unauthorized' : undefined), err, wait);
  }
  const code = networkCode(err);
  const msg = (err as Error)?.message ?? String(err);
  return new KubeApiError(operation, `${operation}: ${code ? `${code}: ` : ''}${msg}`, undefined, code, err);
}


const strings = (r: Record<string, string> | undefined): Record<string, string> => ({ ...(r ?? {}) });

function saState(sa: V1ServiceAccount, namespace: string, name: string): ServiceAccountState {
  return {
    namespace: sa.metadata?.namespace ?? namespace,
    name: sa.metadata?.name ?? name,
    labels: strings(sa.metadata?.labels),
    annotations: strings(sa.metadata?.annotations),
    resourceVersion: sa.metadata?.resourceVersion,
  };
}

/**
 * The adapter. Every call is bounded by the request timeout and the run's deadline; reads
 * (GET, LIST, access reviews, dry runs: nothing changes) are retried here by the one
 * policy; writes make one attempt and kube/apply.ts retries them, counting attempts.
 */
/** `watchIdleMs`: a pod watch silent this long (no event, no bookmark) is re-read and re-made. */
export function createKubePort(kc: KubeConfig, net: Network = createNetwork(), options: { watchIdleMs?: number } = {}): KubePort {
  /** One attempt, under the timeout and the deadline of `n`. */
  const attemptUnder = async <T>(n: Network, operation: string, fn: (options: ConfigurationOptions) => Promise<T>, extra?: ConfigurationOptions): Promise<T> => {
    try {
      n.deadline.check(operation);
    } catch (err) {
      throw toKubeApiError(operation, err);
    }
    const attempt = requestSignal(n.timeoutMs, n.deadline);
    try {
      return await fn(withSignal(attempt.signal, extra));
    } catch (err) {
      throw toKubeApiError(operation, attempt.explain(err, operation));
    } finally {
      attempt.done();
    }
  };
  /** Retried by the policy under `n`: reads (a 500 or a timeout on one GET must not fail the run) and deletes. */
  const retriedUnder = async <T>(n: Network, operation: string, fn: (options: ConfigurationOptions) => Promise<T>): Promise<T> => {
    const result = await withRetry(
      () => attemptUnder(n, operation, fn),
      (err) => {
        const error = toKubeApiError(operation, err);
        return { error, failure: kubeFailure(error) };
      },
      kubeRetry(n, n.read, operation),
    );
    if ('error' in result) throw result.error;
    return result.value;
  };
  const call = <T>(operation: string, fn: (options: ConfigurationOptions) => Promise<T>, extra?: ConfigurationOptions): Promise<T> => attemptUnder(net, operation, fn, extra);
  const read = <T>(operation: string, fn: (options: ConfigurationOptions) => Promise<T>): Promise<T> => retriedUnder(net, operation, fn);
  // Deleting verification pods goes on past the run's deadline, for a short grace (net/network.ts).
  const graceNet = withGrace(net);
  const undo = <T>(operation: string, fn: (options: ConfigurationOptions) => Promise<T>): Promise<T> => retriedUnder(graceNet, operation, fn);

  const api: Api = {
    core: kc.makeApiClient(CoreV1Api),
    authz: kc.makeApiClient(AuthorizationV1Api),
    admission: kc.makeApiClient(AdmissionregistrationV1Api),
    wellKnown: kc.makeApiClient(WellKnownApi),
  };
  // Without an explicit Content-Type client-node sends a patch as JSON-patch, which the
  // API server rejects for an object body.
  const mergePatch = setHeaderOptions('Content-Type', PatchStrategy.MergePatch);

  return {
    server: kc.getCurrentCluster()?.server ?? '',
    ...podOperations(kc, { once: call, retried: read, undo }, options.watchIdleMs),

    async readServiceAccount(namespace, name) {
      try {
        const sa = await read(`read ServiceAccount ${namespace}/${name}`, (o) => api.core.readNamespacedServiceAccount({ name, namespace }, o));
        return saState(sa, namespace, name);
      } catch (err) {
        const e = toKubeApiError(`read ServiceAccount ${namespace}/${name}`, err);
        if (e.status === 404) return undefined;
        throw e;
      }
    },

    async createServiceAccount(sa) {
      const op = `create ServiceAccount ${sa.namespace}/${sa.name}`;
      const created = await call(op, (o) =>
        api.core.createNamespacedServiceAccount({
          namespace: sa.namespace,
          fieldManager: FIELD_MANAGER,
          body: {
            apiVersion: 'v1',
            kind: 'ServiceAccount',
            metadata: { name: sa.name, namespace: sa.namespace, labels: { ...sa.labels }, annotations: { ...sa.annotations } },
          },
        }, o),
      );
      return saState(created, sa.namespace, sa.name);
    },

    async patchServiceAccountAnnotations(namespace, name, annotations) {
      const op = `patch ServiceAccount ${namespace}/${name}`;
      // JSON merge patch (RFC 7386): a null value deletes that annotation; nothing else is touched.
      const metadata = { annotations: { ...annotations } };
      const patched = await call(op, (o) => api.core.patchNamespacedServiceAccount({ name, namespace, body: { metadata }, fieldManager: FIELD_MANAGER }, o), mergePatch);
      return saState(patched, namespace, name);
    },

    listObjects: createObjectLister(kc, read),

    async readNamespace(name) {
      try {
        const ns = await read(`read namespace ${name}`, (o) => api.core.readNamespace({ name }, o));
        return { name, phase: ns.status?.phase ?? 'Active', labels: strings(ns.metadata?.labels) };
      } catch (err) {
        const e = toKubeApiError(`read namespace ${name}`, err);
        if (e.status === 404) return undefined;
        throw e;
      }
    },

    async selfSubjectAccessReview(q) {
      const what = `${q.verb} ${q.resource}${q.subresource ? `/${q.subresource}` : ''}${q.namespace ? ` in ${q.namespace}` : ''}`;
      const review = await read(`check access (${what})`, (o) =>
        api.authz.createSelfSubjectAccessReview({
          body: {
            apiVersion: 'authorization.k8s.io/v1',
            kind: 'SelfSubjectAccessReview',
            spec: {
              resourceAttributes: {
                verb: q.verb,
                resource: q.resource,
                group: q.group ?? '',
                subresource: q.subresource,
                namespace: q.namespace,
              },
            },
          },
        }, o),
      );
      return { allowed: review.status?.allowed === true && review.status?.denied !== true, reason: review.status?.reason || undefined };
    },

    async listMutatingWebhookConfigurations() {
      const out: WebhookRegistration[] = [];
      let cont: string | undefined;
      do {
        const page: V1MutatingWebhookConfigurationList = await read('list mutatingwebhookconfigurations', (o) =>
          api.admission.listMutatingWebhookConfiguration({ limit: 500, _continue: cont }, o),
        );
        for (const c of page.items) {
          const configuration = c.metadata?.name ?? '';
          const labels = strings(c.metadata?.labels);
          const hooks = c.webhooks ?? [];
          if (!hooks.length) out.push({ configuration, webhook: '', labels });
          for (const w of hooks) {
            out.push({
              configuration,
              webhook: w.name,
              serviceNamespace: w.clientConfig?.service?.namespace,
              serviceName: w.clientConfig?.service?.name,
              failurePolicy: w.failurePolicy,
              labels,
            });
          }
        }
        cont = page.metadata?._continue || undefined;
      } while (cont);
      return out;
    },

    listAny: listAnyObjects(kc, read),

    async getOpenIdConfiguration() {
      const raw: unknown = await read('get /.well-known/openid-configuration', (o) => api.wellKnown.getServiceAccountIssuerOpenIDConfiguration(o));
      // Typed as string by the generator, but client-node parses the JSON body first.
      let doc: unknown = raw;
      if (typeof raw === 'string') {
        try {
          doc = JSON.parse(raw);
        } catch (err) {
          throw new KubeApiError('get /.well-known/openid-configuration', `the API server's issuer discovery document is not JSON: ${raw.slice(0, 200)}`, 200, 'Invalid', err);
        }
      }
      const d = (doc ?? {}) as { issuer?: unknown; jwks_uri?: unknown };
      if (typeof d.issuer !== 'string') {
        throw new KubeApiError('get /.well-known/openid-configuration', "the API server's issuer discovery document has no issuer", 200, 'Invalid');
      }
      return { issuer: d.issuer, jwks_uri: typeof d.jwks_uri === 'string' ? d.jwks_uri : undefined };
    },

    async dryRunCreatePod(pod) {
      const body: V1Pod = {
        apiVersion: 'v1',
        kind: 'Pod',
        metadata: { name: pod.name, namespace: pod.namespace, labels: { ...pod.labels }, annotations: { ...pod.annotations } },
        spec: {
          serviceAccountName: pod.serviceAccountName,
          automountServiceAccountToken: false,
          restartPolicy: 'Never',
          nodeSelector: { 'kubernetes.io/os': 'linux' },
          securityContext: { runAsNonRoot: true, runAsUser: 65532, seccompProfile: { type: 'RuntimeDefault' } },
          containers: [
            {
              name: 'probe',
              image: pod.image,
              command: ['node', '-e', '0'],
              resources: { requests: { cpu: '10m', memory: '32Mi' }, limits: { cpu: '100m', memory: '64Mi' } },
              securityContext: {
                allowPrivilegeEscalation: false,
                readOnlyRootFilesystem: true,
                runAsNonRoot: true,
                capabilities: { drop: ['ALL'] },
              },
            },
          ],
        },
      };
      // A dry run changes nothing: retried like a read.
      const created = await read(`dry-run create pod in ${pod.namespace}`, (o) =>
        api.core.createNamespacedPod({ namespace: pod.namespace, body, dryRun: 'All', fieldManager: FIELD_MANAGER }, o),
      );
      return {
        containers: (created.spec?.containers ?? []).map((c) => ({
          name: c.name,
          env: (c.env ?? []).map((e) => ({ name: e.name, value: e.value })),
          volumeMounts: (c.volumeMounts ?? []).map((m) => ({ name: m.name, mountPath: m.mountPath })),
        })),
        volumes: (created.spec?.volumes ?? []).map((v) => ({
          name: v.name,
          projectedTokens: (v.projected?.sources ?? [])
            .filter((s) => s.serviceAccountToken)
            .map((s) => ({
              audience: s.serviceAccountToken!.audience,
              path: s.serviceAccountToken!.path,
              expirationSeconds: s.serviceAccountToken!.expirationSeconds,
            })),
        })),
      };
    },
  };
}
