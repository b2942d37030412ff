// The emulated API server through the real, unmodified @kubernetes/client-node 2.x: CRUD,
// each Status the action meets, patches, server-side apply, dry-run, watch, RBAC, Pod
// Security, TokenRequest and issuer discovery.
import { request as httpsRequest } from 'node:https';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  ApiException,
  AppsV1Api,
  AuthorizationV1Api,
  CoreV1Api,
  CustomObjectsApi,
  KubeConfig,
  OpenidApi,
  PatchStrategy,
  Watch,
  WellKnownApi,
  setHeaderOptions,
  type V1Pod,
} from '@kubernetes/client-node';
import { createLocalJWKSet, jwtVerify } from 'jose';
import { startKube, waitFor, type KubeHarness } from './harness.ts';

let h: KubeHarness;
let core: CoreV1Api;

beforeAll(async () => {
  h = await startKube();
  core = h.kc.makeApiClient(CoreV1Api);
});
afterAll(async () => {
  await h?.close();
});

interface StatusBody {
  kind: string;
  apiVersion: string;
  status: string;
  message: string;
  reason?: string;
  details?: { name?: string; group?: string; kind?: string; causes?: { reason?: string; message: string; field?: string }[]; retryAfterSeconds?: number };
  code: number;
}

/** The ApiException a call fails with: HTTP code, the Status body (raw JSON text in client-node 2.x) and the headers. */
async function failure(p: Promise<unknown>): Promise<{ code: number; status: StatusBody; headers: Record<string, string> }> {
  try {
    await p;
  } catch (err) {
    expect(err).toBeInstanceOf(ApiException);
    const e = err as ApiException<string>;
    return { code: e.code, status: JSON.parse(e.body) as StatusBody, headers: e.headers };
  }
  throw new Error('expected the call to fail');
}

const mergePatch = setHeaderOptions('Content-Type', PatchStrategy.MergePatch);
const applyPatch = setHeaderOptions('Content-Type', PatchStrategy.ServerSideApply);
const jsonPatch = setHeaderOptions('Content-Type', PatchStrategy.JsonPatch);

async function namespace(name: string, labels: Record<string, string> = {}): Promise<void> {
  await core.createNamespace({ body: { metadata: { name, labels } } });
}

const restrictedPod = (name: string, extra: Partial<V1Pod['spec']> = {}): V1Pod => ({
  metadata: { name },
  spec: {
    restartPolicy: 'Never',
    automountServiceAccountToken: false,
    securityContext: { runAsNonRoot: true, runAsUser: 65532, seccompProfile: { type: 'RuntimeDefault' } },
    containers: [
      {
        name: 'main',
        image: 'mcr.microsoft.com/azurelinux/base/nodejs:24',
        command: ['sleep', '1'],
        securityContext: { allowPrivilegeEscalation: false, capabilities: { drop: ['ALL'] } },
      },
    ],
    ...extra,
  },
});

describe('ServiceAccounts: CRUD and Status bodies', () => {
  it('creates, reads, lists, replaces and deletes with server-set metadata', async () => {
    await namespace('crud');
    const created = await core.createNamespacedServiceAccount({ namespace: 'crud', body: { metadata: { name: 'app', labels: { tier: 'web' } } } });
    expect(created.metadata?.uid).toMatch(/^[0-9a-f-]{36}$/);
    expect(created.metadata?.creationTimestamp).toBeInstanceOf(Date);
    const rv1 = Number(created.metadata?.resourceVersion);

    const read = await core.readNamespacedServiceAccount({ name: 'app', namespace: 'crud' });
    expect(read.metadata?.labels).toEqual({ tier: 'web' });

    const list = await core.listNamespacedServiceAccount({ namespace: 'crud' });
    expect(list.items.map((s) => s.metadata?.name).sort()).toEqual(['app', 'default']);
    expect(Number(list.metadata?.resourceVersion)).toBeGreaterThanOrEqual(rv1);

    read.metadata!.annotations = { a: '1' };
    const replaced = await core.replaceNamespacedServiceAccount({ name: 'app', namespace: 'crud', body: read });
    expect(Number(replaced.metadata?.resourceVersion)).toBeGreaterThan(rv1);
    expect(replaced.metadata?.uid).toBe(created.metadata?.uid);

    const deleted = await core.deleteNamespacedServiceAccount({ name: 'app', namespace: 'crud' });
    expect(deleted.metadata?.name).toBe('app');
    const gone = await failure(core.readNamespacedServiceAccount({ name: 'app', namespace: 'crud' }));
    expect(gone.code).toBe(404);
    expect(gone.status).toEqual({
      kind: 'Status',
      apiVersion: 'v1',
      metadata: {},
      status: 'Failure',
      message: 'serviceaccounts "app" not found',
      reason: 'NotFound',
      details: { name: 'app', kind: 'serviceaccounts' },
      code: 404,
    });
  });

  it('answers 409 AlreadyExists for a second create and 409 Conflict for a stale resourceVersion', async () => {
    await namespace('conflicts');
    const sa = await core.createNamespacedServiceAccount({ namespace: 'conflicts', body: { metadata: { name: 'foo' } } });
    const dup = await failure(core.createNamespacedServiceAccount({ namespace: 'conflicts', body: { metadata: { name: 'foo' } } }));
    expect(dup.code).toBe(409);
    expect(dup.status.reason).toBe('AlreadyExists');
    expect(dup.status.message).toBe('serviceaccounts "foo" already exists');

    await core.patchNamespacedServiceAccount({ name: 'foo', namespace: 'conflicts', body: { metadata: { labels: { x: 'y' } } } }, mergePatch);
    const stale = await failure(core.replaceNamespacedServiceAccount({ name: 'foo', namespace: 'conflicts', body: sa }));
    expect(stale.code).toBe(409);
    expect(stale.status.reason).toBe('Conflict');
    expect(stale.status.message).toBe('Operation cannot be fulfilled on serviceaccounts "foo": the object has been modified; please apply your changes to the latest version and try again');
  });

  it('answers 404 namespaces "x" not found when creating in a missing namespace', async () => {
    const r = await failure(core.createNamespacedServiceAccount({ namespace: 'nowhere', body: { metadata: { name: 'foo' } } }));
    expect(r.code).toBe(404);
    expect(r.status.message).toBe('namespaces "nowhere" not found');
    expect(r.status.details).toEqual({ name: 'nowhere', kind: 'namespaces' });
  });

  it('answers 422 Invalid with causes for a bad name', async () => {
    const r = await failure(core.createNamespacedServiceAccount({ namespace: 'default', body: { metadata: { name: 'Bad_Name' } } }));
    expect(r.code).toBe(422);
    expect(r.status.reason).toBe('Invalid');
    expect(r.status.message).toMatch(/^ServiceAccount "Bad_Name" is invalid: metadata.name: Invalid value: "Bad_Name": a lowercase RFC 1123 subdomain must consist of/);
    expect(r.status.details?.causes?.[0]).toMatchObject({ reason: 'FieldValueInvalid', field: 'metadata.name' });
  });

  it('generates names from generateName', async () => {
    const sa = await core.createNamespacedServiceAccount({ namespace: 'default', body: { metadata: { generateName: 'gen-' } } });
    expect(sa.metadata?.name).toMatch(/^gen-[a-z0-9]{5}$/);
  });
});

// One story: the JSON patch and server-side apply work on what the merge patch made.
describe('patches', { shuffle: false }, () => {
  it('a merge patch changes the named fields and keeps the others', async () => {
    await namespace('patches');
    await core.createNamespacedServiceAccount({
      namespace: 'patches',
      body: { metadata: { name: 'sa', labels: { keep: 'me' }, annotations: { old: 'v' } }, imagePullSecrets: [{ name: 'pull' }] },
    });
    const patched = await core.patchNamespacedServiceAccount(
      { name: 'sa', namespace: 'patches', body: { metadata: { annotations: { 'azure.workload.identity/client-id': 'abc', old: null } } } },
      mergePatch,
    );
    expect(patched.metadata?.annotations).toEqual({ 'azure.workload.identity/client-id': 'abc' });
    expect(patched.metadata?.labels).toEqual({ keep: 'me' });
    expect(patched.imagePullSecrets).toEqual([{ name: 'pull' }]);
  });

  it('a JSON patch applies operations in order', async () => {
    const patched = await core.patchNamespacedServiceAccount(
      { name: 'sa', namespace: 'patches', body: [{ op: 'add', path: '/metadata/labels/extra', value: '1' }, { op: 'remove', path: '/metadata/labels/keep' }] },
      jsonPatch,
    );
    expect(patched.metadata?.labels).toEqual({ extra: '1' });
  });

  it('server-side apply creates, merges, records the field manager, and reports conflicts unless forced', async () => {
    const body = { apiVersion: 'v1', kind: 'ServiceAccount', metadata: { name: 'applied', namespace: 'patches', annotations: { a: '1' } } };
    const created = await core.patchNamespacedServiceAccount({ name: 'applied', namespace: 'patches', body, fieldManager: 'workload-identity-action' }, applyPatch);
    expect(created.metadata?.annotations).toEqual({ a: '1' });
    expect(created.metadata?.managedFields?.[0]).toMatchObject({ manager: 'workload-identity-action', operation: 'Apply' });

    // Someone else changes the annotation with an ordinary patch: applying the old value conflicts.
    await core.patchNamespacedServiceAccount({ name: 'applied', namespace: 'patches', body: { metadata: { annotations: { a: '2', b: 'x' } } }, fieldManager: 'kubectl-edit' }, mergePatch);
    const c = await failure(core.patchNamespacedServiceAccount({ name: 'applied', namespace: 'patches', body, fieldManager: 'workload-identity-action' }, applyPatch));
    expect(c.code).toBe(409);
    expect(c.status.reason).toBe('Conflict');
    expect(c.status.message).toBe('Apply failed with 1 conflict: conflict with "kubectl-edit" using v1: .metadata.annotations.a');

    const forced = await core.patchNamespacedServiceAccount({ name: 'applied', namespace: 'patches', body, fieldManager: 'workload-identity-action', force: true }, applyPatch);
    expect(forced.metadata?.annotations).toEqual({ a: '1', b: 'x' });
    const managers = forced.metadata?.managedFields?.map((m) => `${m.manager}/${m.operation}`).sort();
    expect(managers).toEqual(['kubectl-edit/Update', 'workload-identity-action/Apply']);

    // A field the manager stops applying goes away.
    const shrunk = await core.patchNamespacedServiceAccount(
      { name: 'applied', namespace: 'patches', body: { ...body, metadata: { ...body.metadata, annotations: { c: '3' } } }, fieldManager: 'workload-identity-action' },
      applyPatch,
    );
    expect(shrunk.metadata?.annotations).toEqual({ b: 'x', c: '3' });
  });
});

// One story: the second watch reads the namespace the first one made.
describe('watch', { shuffle: false }, () => {
  it('sees ADDED, MODIFIED and DELETED, starting from a resourceVersion', async () => {
    await namespace('watched');
    const list = await core.listNamespacedServiceAccount({ namespace: 'watched' });
    const seen: string[] = [];
    const watch = new Watch(h.kc);
    const controller = await watch.watch(
      '/api/v1/namespaces/watched/serviceaccounts',
      { resourceVersion: list.metadata?.resourceVersion },
      (type, obj: { metadata: { name: string } }) => seen.push(`${type} ${obj.metadata.name}`),
      () => undefined,
    );
    await core.createNamespacedServiceAccount({ namespace: 'watched', body: { metadata: { name: 'w' } } });
    await core.patchNamespacedServiceAccount({ name: 'w', namespace: 'watched', body: { metadata: { labels: { a: 'b' } } } }, mergePatch);
    await core.deleteNamespacedServiceAccount({ name: 'w', namespace: 'watched' });
    await waitFor(() => seen.length >= 3, 5000, 'three watch events');
    controller.abort();
    expect(seen).toEqual(['ADDED w', 'MODIFIED w', 'DELETED w']);
  });

  it('without a resourceVersion starts with ADDED for what exists, and honours label selectors', async () => {
    await core.createNamespacedServiceAccount({ namespace: 'watched', body: { metadata: { name: 'x', labels: { app: 'x' } } } });
    const seen: string[] = [];
    const controller = await new Watch(h.kc).watch(
      '/api/v1/namespaces/watched/serviceaccounts',
      { labelSelector: 'app=x' },
      (type, obj: { metadata: { name: string } }) => seen.push(`${type} ${obj.metadata.name}`),
      () => undefined,
    );
    await core.patchNamespacedServiceAccount({ name: 'x', namespace: 'watched', body: { metadata: { labels: { app: 'other' } } } }, mergePatch);
    await waitFor(() => seen.length >= 2, 5000, 'two watch events');
    controller.abort();
    expect(seen).toEqual(['ADDED x', 'DELETED x']);
  });
});

describe('selectors and paging', () => {
  it('lists by label selector forms, field selector and pages with limit/continue', async () => {
    await namespace('select');
    for (const [name, labels] of [
      ['a', { env: 'prod', tier: 'web' }],
      ['b', { env: 'dev', tier: 'web' }],
      ['c', { env: 'prod' }],
    ] as const) {
      await core.createNamespacedServiceAccount({ namespace: 'select', body: { metadata: { name, labels } } });
    }
    const names = async (labelSelector?: string, fieldSelector?: string) =>
      (await core.listNamespacedServiceAccount({ namespace: 'select', labelSelector, fieldSelector })).items.map((s) => s.metadata?.name).sort();
    expect(await names('env=prod,tier!=web')).toEqual(['c']);
    expect(await names('env in (prod, dev),tier')).toEqual(['a', 'b']);
    expect(await names('!tier')).toEqual(['c', 'default']);
    expect(await names(undefined, 'metadata.name=b')).toEqual(['b']);
    const bad = await failure(core.listNamespacedServiceAccount({ namespace: 'select', fieldSelector: 'spec.foo=1' }));
    expect(bad.code).toBe(400);
    expect(bad.status.message).toBe('field label not supported: spec.foo');

    const page1 = await core.listNamespacedServiceAccount({ namespace: 'select', limit: 2 });
    expect(page1.items).toHaveLength(2);
    expect(page1.metadata?._continue).toBeTruthy();
    const page2 = await core.listNamespacedServiceAccount({ namespace: 'select', limit: 2, _continue: page1.metadata?._continue });
    expect([...page1.items, ...page2.items].map((s) => s.metadata?.name)).toEqual(['a', 'b', 'c', 'default']);
    expect(page2.metadata?._continue).toBeFalsy();

    const all = await core.listServiceAccountForAllNamespaces({ fieldSelector: 'metadata.namespace=select' });
    expect(all.items).toHaveLength(4);
  });
});

describe('RBAC denial', () => {
  it('answers 403 with the RBAC wording and SelfSubjectAccessReview allowed:false', async () => {
    await namespace('locked');
    const authz = h.kc.makeApiClient(AuthorizationV1Api);
    const review = (verb: string, resource: string, namespace?: string) =>
      authz.createSelfSubjectAccessReview({ body: { spec: { resourceAttributes: { verb, resource, namespace, group: '' } } } });
    expect((await review('create', 'pods', 'locked')).status?.allowed).toBe(true);

    h.kube.denyRbac({ verb: 'create', resource: 'pods', namespace: 'locked' });
    try {
      const r = await failure(core.createNamespacedPod({ namespace: 'locked', body: restrictedPod('p') }));
      expect(r.code).toBe(403);
      expect(r.status.reason).toBe('Forbidden');
      expect(r.status.message).toBe('pods is forbidden: User "masterclient" cannot create resource "pods" in API group "" in the namespace "locked"');
      const denied = await review('create', 'pods', 'locked');
      expect(denied.status?.allowed).toBe(false);
      expect((await review('create', 'pods', 'default')).status?.allowed).toBe(true);
      // Other verbs still work.
      await core.listNamespacedPod({ namespace: 'locked' });
    } finally {
      h.kube.clearRbac();
    }
  });
});

describe('Pod Security Admission', () => {
  it('rejects a pod that violates the restricted level with every reason', async () => {
    await namespace('psa', { 'pod-security.kubernetes.io/enforce': 'restricted' });
    const r = await failure(
      core.createNamespacedPod({ namespace: 'psa', body: { metadata: { name: 'x' }, spec: { containers: [{ name: 'c', image: 'mcr.microsoft.com/azurelinux/base/nodejs:24' }] } } }),
    );
    expect(r.code).toBe(403);
    expect(r.status.message).toBe(
      'pods "x" is forbidden: violates PodSecurity "restricted:latest": allowPrivilegeEscalation != false (container "c" must set securityContext.allowPrivilegeEscalation=false), ' +
        'unrestricted capabilities (container "c" must set securityContext.capabilities.drop=["ALL"]), runAsNonRoot != true (pod or container "c" must set securityContext.runAsNonRoot=true), ' +
        'seccompProfile (pod or container "c" must set securityContext.seccompProfile.type to "RuntimeDefault" or "Localhost")',
    );
    // The verification pod's shape passes.
    await core.createNamespacedPod({ namespace: 'psa', body: restrictedPod('ok'), dryRun: 'All' });
  });

  it('baseline rejects host namespaces and hostPath but allows what restricted would not', async () => {
    await namespace('psa-baseline', { 'pod-security.kubernetes.io/enforce': 'baseline' });
    const r = await failure(
      core.createNamespacedPod({
        namespace: 'psa-baseline',
        body: {
          metadata: { name: 'h' },
          spec: { hostNetwork: true, volumes: [{ name: 'root', hostPath: { path: '/' } }], containers: [{ name: 'c', image: 'img:1' }] },
        },
      }),
    );
    expect(r.status.message).toBe('pods "h" is forbidden: violates PodSecurity "baseline:latest": host namespaces (hostNetwork=true), hostPath volumes (volume "root")');
    await core.createNamespacedPod({ namespace: 'psa-baseline', body: { metadata: { name: 'fine' }, spec: { containers: [{ name: 'c', image: 'img:1' }] } }, dryRun: 'All' });
  });
});

describe('dry-run', () => {
  it('creates nothing but answers the admitted (defaulted) object', async () => {
    await namespace('dry');
    const pod = await core.createNamespacedPod({ namespace: 'dry', body: restrictedPod('d'), dryRun: 'All' });
    expect(pod.metadata?.uid).toBeTruthy();
    expect(pod.status?.phase).toBe('Pending');
    expect(pod.spec?.serviceAccountName).toBe('default');
    expect((await core.listNamespacedPod({ namespace: 'dry' })).items).toHaveLength(0);
  });
});

describe('other kinds', () => {
  it('serves Deployments, Pod Identity CRs and KEDA TriggerAuthentications', async () => {
    await namespace('kinds');
    const apps = h.kc.makeApiClient(AppsV1Api);
    const d = await apps.createNamespacedDeployment({
      namespace: 'kinds',
      body: {
        metadata: { name: 'web' },
        spec: { selector: { matchLabels: { app: 'web' } }, template: { metadata: { labels: { app: 'web', aadpodidbinding: 'web' } }, spec: { containers: [{ name: 'c', image: 'img:1' }] } } },
      },
    });
    expect(d.metadata?.generation).toBe(1);
    const webhook = await apps.readNamespacedDeployment({ name: 'azure-wi-webhook-controller-manager', namespace: 'kube-system' });
    expect(webhook.status?.readyReplicas).toBe(2);

    const custom = h.kc.makeApiClient(CustomObjectsApi);
    const body = { apiVersion: 'aadpodidentity.k8s.io/v1', kind: 'AzureIdentity', metadata: { name: 'id' }, spec: { type: 0, resourceID: '/subscriptions/x/resourcegroups/rg/providers/Microsoft.ManagedIdentity/userAssignedIdentities/id', clientID: 'abc' } };
    await custom.createNamespacedCustomObject({ group: 'aadpodidentity.k8s.io', version: 'v1', namespace: 'kinds', plural: 'azureidentities', body });
    const list = (await custom.listNamespacedCustomObject({ group: 'aadpodidentity.k8s.io', version: 'v1', namespace: 'kinds', plural: 'azureidentities' })) as { items: { kind: string; spec: { clientID: string } }[] };
    expect(list.items).toEqual([expect.objectContaining({ kind: 'AzureIdentity', spec: expect.objectContaining({ clientID: 'abc' }) })]);
    const missing = await failure(custom.getNamespacedCustomObject({ group: 'aadpodidentity.k8s.io', version: 'v1', namespace: 'kinds', plural: 'azureidentitybindings', name: 'nope' }));
    expect(missing.status.message).toBe('azureidentitybindings.aadpodidentity.k8s.io "nope" not found');
    expect(missing.status.details).toEqual({ name: 'nope', group: 'aadpodidentity.k8s.io', kind: 'azureidentitybindings' });

    await custom.createNamespacedCustomObject({
      group: 'keda.sh',
      version: 'v1alpha1',
      namespace: 'kinds',
      plural: 'triggerauthentications',
      body: { apiVersion: 'keda.sh/v1alpha1', kind: 'TriggerAuthentication', metadata: { name: 'ta' }, spec: { podIdentity: { provider: 'azure' } } },
    });
    const patched = (await custom.patchNamespacedCustomObject(
      { group: 'keda.sh', version: 'v1alpha1', namespace: 'kinds', plural: 'triggerauthentications', name: 'ta', body: { spec: { podIdentity: { provider: 'azure-workload' } } } },
      mergePatch,
    )) as { spec: { podIdentity: { provider: string } } };
    expect(patched.spec.podIdentity.provider).toBe('azure-workload');
  });

  it('deleting a namespace removes what it holds', async () => {
    await namespace('doomed');
    await core.createNamespacedServiceAccount({ namespace: 'doomed', body: { metadata: { name: 'x' } } });
    const ns = await core.deleteNamespace({ name: 'doomed' });
    expect(ns).toBeTruthy();
    await waitFor(async () => (await failure(core.readNamespace({ name: 'doomed' }))).code === 404, 5000, 'namespace gone');
    expect((await core.listNamespacedServiceAccount({ namespace: 'doomed' })).items).toHaveLength(0);
  });
});

describe('error Status bodies', () => {
  it('401 Unauthorized for a token the server does not know', async () => {
    const bad = new KubeConfig();
    const cluster = h.kc.getCurrentCluster()!;
    bad.loadFromOptions({
      clusters: [cluster],
      users: [{ name: 'stranger', token: 'not-a-token-this-cluster-issued' }],
      contexts: [{ name: 'stranger', cluster: cluster.name, user: 'stranger' }],
      currentContext: 'stranger',
    });
    // client-node's generated code drops the body of a 401 (a declared response): the code is what it reports
    const err = await bad.makeApiClient(CoreV1Api).listNamespace().then(
      () => undefined,
      (e: unknown) => e as ApiException<unknown>,
    );
    expect(err).toBeInstanceOf(ApiException);
    expect(err!.code).toBe(401);
    // the body on the wire is the Status the API server writes
    const raw = await new Promise<{ status: number; body: string }>((resolve, reject) => {
      const req = httpsRequest(`${h.server.url}/api/v1/namespaces`, { ca: h.ctx.tls.caPem, headers: { authorization: 'Bearer not-a-token-this-cluster-issued' } }, (res) => {
        let body = '';
        res.on('data', (c: Buffer) => (body += c.toString()));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
      });
      req.on('error', reject);
      req.end();
    });
    expect(raw.status).toBe(401);
    expect(JSON.parse(raw.body)).toEqual({ kind: 'Status', apiVersion: 'v1', metadata: {}, status: 'Failure', message: 'Unauthorized', reason: 'Unauthorized', code: 401 });
  });

  it('415 UnsupportedMediaType for a patch in a content type the server does not take', async () => {
    await core.createNamespacedServiceAccount({ namespace: 'default', body: { metadata: { name: 'patched-as-text' } } });
    try {
      const err = await failure(
        core.patchNamespacedServiceAccount({ name: 'patched-as-text', namespace: 'default', body: { metadata: { labels: { a: 'b' } } } }, setHeaderOptions('Content-Type', 'text/plain')),
      );
      expect(err.code).toBe(415);
      expect(err.status).toEqual({
        kind: 'Status',
        apiVersion: 'v1',
        metadata: {},
        status: 'Failure',
        message: 'the body of the request was in an unknown format - accepted media types include: application/json-patch+json, application/merge-patch+json, application/strategic-merge-patch+json, application/apply-patch+yaml',
        reason: 'UnsupportedMediaType',
        code: 415,
      });
    } finally {
      await core.deleteNamespacedServiceAccount({ name: 'patched-as-text', namespace: 'default' });
    }
  });

  it('403 Forbidden (NamespaceTerminating) when creating in a namespace being deleted', async () => {
    // A finalizer of another controller keeps the namespace Terminating after its content is gone.
    await core.createNamespace({ body: { metadata: { name: 'held', finalizers: ['example.com/hold'] } } });
    try {
      await core.deleteNamespace({ name: 'held' });
      await waitFor(async () => (await core.readNamespace({ name: 'held' })).spec?.finalizers?.length === 0, 5000, 'the namespace controller done');
      expect((await core.readNamespace({ name: 'held' })).status?.phase).toBe('Terminating');
      const err = await failure(core.createNamespacedServiceAccount({ namespace: 'held', body: { metadata: { name: 'late' } } }));
      expect(err.code).toBe(403);
      const message = 'unable to create new content in namespace held because it is being terminated';
      expect(err.status).toMatchObject({
        reason: 'Forbidden',
        message: `serviceaccounts "late" is forbidden: ${message}`,
        details: { name: 'late', kind: 'serviceaccounts', causes: [{ reason: 'NamespaceTerminating', message, field: 'metadata.namespace' }] },
      });
    } finally {
      // removing the last finalizer lets the namespace go
      await core.patchNamespace({ name: 'held', body: { metadata: { finalizers: null } } }, mergePatch).catch(() => undefined);
    }
    await waitFor(async () => (await failure(core.readNamespace({ name: 'held' }))).code === 404, 5000, 'namespace gone');
  });

  it('410 Expired (an ERROR event) for a watch from a resourceVersion older than the kept history', async () => {
    const small = await startKube({ watchHistory: 5 });
    try {
      const api = small.kc.makeApiClient(CoreV1Api);
      await api.createNamespace({ body: { metadata: { name: 'churn' } } });
      const before = (await api.listNamespacedConfigMap({ namespace: 'churn' })).metadata!.resourceVersion!;
      for (let i = 0; i < 8; i++) await api.createNamespacedConfigMap({ namespace: 'churn', body: { metadata: { name: `c${i}` } } });
      const events: { type: string; object: StatusBody }[] = [];
      const controller = await new Watch(small.kc).watch(
        '/api/v1/namespaces/churn/configmaps',
        { resourceVersion: before },
        (type, object: StatusBody) => events.push({ type, object }),
        () => undefined,
      );
      await waitFor(() => events.length >= 1, 5000, 'the ERROR event');
      controller.abort();
      expect(events[0]!.type).toBe('ERROR');
      expect(events[0]!.object).toMatchObject({ kind: 'Status', status: 'Failure', reason: 'Expired', code: 410 });
      expect(events[0]!.object.message).toMatch(new RegExp(`^too old resource version: ${before} \\(\\d+\\)$`));
      // a current resourceVersion still works
      const now = (await api.listNamespacedConfigMap({ namespace: 'churn' })).metadata!.resourceVersion!;
      const seen: string[] = [];
      const live = await new Watch(small.kc).watch('/api/v1/namespaces/churn/configmaps', { resourceVersion: now }, (type, o: { metadata: { name: string } }) => seen.push(`${type} ${o.metadata.name}`), () => undefined);
      await api.createNamespacedConfigMap({ namespace: 'churn', body: { metadata: { name: 'fresh' } } });
      await waitFor(() => seen.length >= 1, 5000, 'a live event');
      live.abort();
      expect(seen).toEqual(['ADDED fresh']);
    } finally {
      await small.close();
    }
  });

  it('injected faults answer a Status: 429 TooManyRequests with Retry-After, 503 ServiceUnavailable, 500 InternalError', async () => {
    const faults = h.ctx.faults;
    const path = '/api/v1/namespaces/default/serviceaccounts';
    try {
      faults.inject({ service: 'kube', method: 'GET', pathIncludes: path, status: 429, retryAfterSeconds: 2, times: 1 });
      const throttled = await failure(core.listNamespacedServiceAccount({ namespace: 'default' }));
      expect(throttled.code).toBe(429);
      expect(throttled.headers['retry-after']).toBe('2');
      expect(throttled.status).toEqual({
        kind: 'Status',
        apiVersion: 'v1',
        metadata: {},
        status: 'Failure',
        message: 'Too many requests, please try again later.',
        reason: 'TooManyRequests',
        details: { retryAfterSeconds: 2 },
        code: 429,
      });
      faults.inject({ service: 'kube', method: 'GET', pathIncludes: path, status: 503, times: 1 });
      const unavailable = await failure(core.listNamespacedServiceAccount({ namespace: 'default' }));
      expect(unavailable.code).toBe(503);
      expect(unavailable.status).toMatchObject({ kind: 'Status', reason: 'ServiceUnavailable', code: 503 });
      faults.inject({ service: 'kube', method: 'GET', pathIncludes: path, status: 500, times: 1 });
      const internal = await failure(core.listNamespacedServiceAccount({ namespace: 'default' }));
      expect(internal.status).toMatchObject({ kind: 'Status', reason: 'InternalError', code: 500, message: expect.stringMatching(/^Internal error occurred: /) });
    } finally {
      faults.clear();
    }
  });
});

describe('seed', () => {
  it('stores manifests as they are, creating their namespace; running pods list by spec.serviceAccountName', async () => {
    h.kube.seed([
      { apiVersion: 'aadpodidentity.k8s.io/v1', kind: 'AzureIdentityBinding', metadata: { name: 'b', namespace: 'seeded' }, spec: { AzureIdentity: 'id', Selector: 'web' } },
      { apiVersion: 'v1', kind: 'ServiceAccount', metadata: { name: 'web', namespace: 'seeded' } },
      {
        apiVersion: 'v1',
        kind: 'Pod',
        metadata: { name: 'web-0', namespace: 'seeded', labels: { aadpodidbinding: 'web' } },
        spec: { serviceAccountName: 'web', containers: [{ name: 'app', image: 'contoso/web:1' }] },
        status: { phase: 'Running' },
      },
    ]);
    expect((await core.readNamespace({ name: 'seeded' })).status?.phase).toBe('Active');
    const pods = await core.listNamespacedPod({ namespace: 'seeded', fieldSelector: 'spec.serviceAccountName=web', limit: 500 });
    expect(pods.items.map((p) => `${p.metadata?.name} ${p.status?.phase} ${p.spec?.nodeName}`)).toEqual(['web-0 Running aks-nodepool1-0']);
    expect(await core.readNamespacedPodLog({ name: 'web-0', namespace: 'seeded' })).toBe('');
    const legacy = h.kube.store.list('azureidentitybindings.aadpodidentity.k8s.io', 'seeded');
    expect(legacy.map((o) => o['spec'])).toEqual([{ AzureIdentity: 'id', Selector: 'web' }]);
  });
});

describe('TokenRequest and issuer discovery', () => {
  it('issues a token that verifies against /openid/v1/jwks with the Kubernetes claims', async () => {
    await namespace('tokens');
    const sa = await core.createNamespacedServiceAccount({ namespace: 'tokens', body: { metadata: { name: 'api' } } });
    const tr = await core.createNamespacedServiceAccountToken({ name: 'api', namespace: 'tokens', body: { spec: { audiences: ['api://AzureADTokenExchange'], expirationSeconds: 3600 } } });
    const token = tr.status?.token ?? '';

    const discovery = (await h.kc.makeApiClient(WellKnownApi).getServiceAccountIssuerOpenIDConfiguration()) as unknown as Record<string, unknown>;
    expect(discovery).toEqual({
      issuer: h.issuer.url,
      jwks_uri: `${h.issuer.url}openid/v1/jwks`,
      response_types_supported: ['id_token'],
      subject_types_supported: ['public'],
      id_token_signing_alg_values_supported: ['RS256'],
    });
    const keys = (await h.kc.makeApiClient(OpenidApi).getServiceAccountIssuerOpenIDKeyset()) as unknown;
    const jwks = typeof keys === 'string' ? JSON.parse(keys) : keys;
    const { payload } = await jwtVerify(token, createLocalJWKSet(jwks), { issuer: h.issuer.url, audience: 'api://AzureADTokenExchange' });
    expect(payload.sub).toBe('system:serviceaccount:tokens:api');
    expect(payload['kubernetes.io']).toEqual({ namespace: 'tokens', serviceaccount: { name: 'api', uid: sa.metadata?.uid } });
    expect(payload.exp! - payload.iat!).toBe(3600);

    // Default audience: the issuer (the API server's audiences on AKS).
    const def = await core.createNamespacedServiceAccountToken({ name: 'api', namespace: 'tokens', body: { spec: { audiences: [] } } });
    await jwtVerify(def.status?.token ?? '', createLocalJWKSet(jwks), { audience: h.issuer.url });

    const short = await failure(core.createNamespacedServiceAccountToken({ name: 'api', namespace: 'tokens', body: { spec: { audiences: [], expirationSeconds: 60 } } }));
    expect(short.code).toBe(422);
    const nosa = await failure(core.createNamespacedServiceAccountToken({ name: 'nope', namespace: 'tokens', body: { spec: { audiences: [] } } }));
    expect(nosa.status.message).toBe('serviceaccounts "nope" not found');
  });

  it("stamps iat/nbf/exp from the API server's clock: setClockSkew moves them, expirationTimestamp too", async () => {
    await namespace('skewed');
    await core.createNamespacedServiceAccount({ namespace: 'skewed', body: { metadata: { name: 'api' } } });
    h.kube.setClockSkew(-7200);
    try {
      const tr = await core.createNamespacedServiceAccountToken({ name: 'api', namespace: 'skewed', body: { spec: { audiences: ['api://AzureADTokenExchange'], expirationSeconds: 3600 } } });
      const claims = JSON.parse(Buffer.from((tr.status?.token ?? '').split('.')[1]!, 'base64url').toString()) as { iat: number; nbf: number; exp: number };
      const now = Date.now() / 1000;
      expect(Math.abs(claims.iat - (now - 7200))).toBeLessThan(5);
      expect(claims.nbf).toBe(claims.iat);
      expect(claims.exp - claims.iat).toBe(3600);
      expect(Math.abs(new Date(tr.status!.expirationTimestamp!).getTime() / 1000 - (now - 3600))).toBeLessThan(5);
    } finally {
      h.kube.setClockSkew(0);
    }
  });
});
