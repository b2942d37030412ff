// Pods through client-node: the workload identity webhook's mutation, ServiceAccount
// admission, and the emulated scheduler/kubelet (a real `node` probe whose log and phase
// come back, image pull failures, unschedulable nodes, activeDeadlineSeconds, deletion).
import { Writable } from 'node:stream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AdmissionregistrationV1Api, ApiException, CoreV1Api, Log, type CoreV1Event, type V1Pod } from '@kubernetes/client-node';
import { decodeJwt } from 'jose';
import { startKube, waitFor, type KubeHarness } from './harness.ts';

let h: KubeHarness;
let core: CoreV1Api;
const NS = 'payments';
const CLIENT_ID = '11111111-2222-3333-4444-555555555555';
const IMAGE = 'mcr.microsoft.com/azurelinux/base/nodejs:24';

beforeAll(async () => {
  h = await startKube();
  core = h.kc.makeApiClient(CoreV1Api);
  await core.createNamespace({ body: { metadata: { name: NS, labels: { 'pod-security.kubernetes.io/enforce': 'restricted' } } } });
  await core.createNamespacedServiceAccount({ namespace: NS, body: { metadata: { name: 'payments-api', annotations: { 'azure.workload.identity/client-id': CLIENT_ID } } } });
});
afterAll(async () => {
  await h?.close();
});

async function failure(p: Promise<unknown>): Promise<{ code: number; message: string; reason?: string }> {
  try {
    await p;
  } catch (err) {
    expect(err).toBeInstanceOf(ApiException);
    const e = err as ApiException<string>;
    const body = JSON.parse(e.body) as { message: string; reason?: string };
    return { code: e.code, message: body.message, reason: body.reason };
  }
  throw new Error('expected the call to fail');
}

/** The verification pod's shape (DESIGN §6) running `node -e script`. */
function probePod(name: string, script: string, opts: { labels?: Record<string, string>; annotations?: Record<string, string>; sa?: string; image?: string; deadline?: number; env?: { name: string; value?: string; valueFrom?: object }[] } = {}): V1Pod {
  return {
    metadata: { name, labels: opts.labels ?? { 'azure.workload.identity/use': 'true' }, annotations: opts.annotations },
    spec: {
      serviceAccountName: opts.sa ?? 'payments-api',
      restartPolicy: 'Never',
      automountServiceAccountToken: false,
      activeDeadlineSeconds: opts.deadline,
      securityContext: { runAsNonRoot: true, runAsUser: 65532, seccompProfile: { type: 'RuntimeDefault' } },
      containers: [
        {
          name: 'probe',
          image: opts.image ?? IMAGE,
          command: ['node', '-e', script],
          env: opts.env,
          securityContext: { allowPrivilegeEscalation: false, readOnlyRootFilesystem: true, capabilities: { drop: ['ALL'] } },
        },
      ],
    },
  };
}

const phase = (name: string, want: string[]) => async () => {
  const p = await core.readNamespacedPod({ name, namespace: NS });
  return want.includes(p.status?.phase ?? '') ? p : undefined;
};

const eventsOf = async (name: string): Promise<CoreV1Event[]> =>
  (await core.listNamespacedEvent({ namespace: NS, fieldSelector: `involvedObject.name=${name},involvedObject.namespace=${NS}` })).items;

describe('workload identity webhook', () => {
  it('mutates a labelled pod: env, projected token volume and read-only mount', async () => {
    const pod = await core.createNamespacedPod({ namespace: NS, body: probePod('mutated', '0'), dryRun: 'All' });
    const c = pod.spec!.containers[0]!;
    expect(c.env).toEqual([
      { name: 'AZURE_CLIENT_ID', value: CLIENT_ID },
      { name: 'AZURE_TENANT_ID', value: '72f988bf-86f1-41af-91ab-2d7cd011db47' },
      { name: 'AZURE_FEDERATED_TOKEN_FILE', value: '/var/run/secrets/azure/tokens/azure-identity-token' },
      { name: 'AZURE_AUTHORITY_HOST', value: `${h.ctx.urls.entra}/` },
    ]);
    expect(c.volumeMounts).toEqual([{ name: 'azure-identity-token', mountPath: '/var/run/secrets/azure/tokens', readOnly: true }]);
    expect(pod.spec!.volumes).toEqual([
      {
        name: 'azure-identity-token',
        projected: { defaultMode: 420, sources: [{ serviceAccountToken: { audience: 'api://AzureADTokenExchange', expirationSeconds: 3600, path: 'azure-identity-token' } }] },
      },
    ]);
    // dry-run stored nothing
    expect((await failure(core.readNamespacedPod({ name: 'mutated', namespace: NS }))).code).toBe(404);
  });

  it('leaves unlabelled pods and skipped containers alone, takes tenant and expiry from the ServiceAccount', async () => {
    const plain = await core.createNamespacedPod({ namespace: NS, body: probePod('plain', '0', { labels: {} }), dryRun: 'All' });
    expect(plain.spec!.containers[0]!.env).toBeUndefined();
    expect(plain.spec!.volumes).toBeUndefined();

    await core.createNamespacedServiceAccount({
      namespace: NS,
      body: { metadata: { name: 'custom', annotations: { 'azure.workload.identity/tenant-id': 'tenant-b', 'azure.workload.identity/service-account-token-expiration': '86400' } } },
    });
    const pod = await core.createNamespacedPod({ namespace: NS, body: probePod('custom', '0', { sa: 'custom' }), dryRun: 'All' });
    const env = Object.fromEntries(pod.spec!.containers[0]!.env!.map((e) => [e.name, e.value]));
    expect(env['AZURE_TENANT_ID']).toBe('tenant-b');
    expect(env['AZURE_CLIENT_ID']).toBeUndefined(); // no client-id annotation: the webhook adds no empty value
    expect(pod.spec!.volumes![0]!.projected!.sources![0]!.serviceAccountToken!.expirationSeconds).toBe(86400);

    const skipped = await core.createNamespacedPod({ namespace: NS, body: probePod('skipped', '0', { annotations: { 'azure.workload.identity/skip-containers': 'probe' } }), dryRun: 'All' });
    expect(skipped.spec!.containers[0]!.env).toBeUndefined();
    expect(skipped.spec!.volumes).toHaveLength(1);
  });

  it('rejects a token expiration outside 3600..86400 with the webhook message', async () => {
    await core.createNamespacedServiceAccount({ namespace: NS, body: { metadata: { name: 'short', annotations: { 'azure.workload.identity/service-account-token-expiration': '600' } } } });
    const r = await failure(core.createNamespacedPod({ namespace: NS, body: probePod('short', '0', { sa: 'short' }) }));
    expect(r.code).toBe(400);
    expect(r.message).toBe('admission webhook "mutation.azure-workload-identity.io" denied the request: token expiration 600 not valid. Expected value to be between 3600 and 86400');
  });

  it('a missing ServiceAccount is refused by ServiceAccount admission before the webhook', async () => {
    const r = await failure(core.createNamespacedPod({ namespace: NS, body: probePod('nosa', '0', { sa: 'ghost' }) }));
    expect(r.code).toBe(403);
    expect(r.message).toBe(`pods "nosa" is forbidden: error looking up service account ${NS}/ghost: serviceaccount "ghost" not found`);
  });

  it('absent: no MutatingWebhookConfiguration and no mutation; unreachable: failurePolicy Fail', async () => {
    const admission = h.kc.makeApiClient(AdmissionregistrationV1Api);
    const names = async () => (await admission.listMutatingWebhookConfiguration()).items.map((m) => m.metadata?.name);
    expect(await names()).toEqual(['azure-wi-webhook-mutating-webhook-configuration']);
    h.kube.setWebhook(false);
    try {
      expect(await names()).toEqual([]);
      const pod = await core.createNamespacedPod({ namespace: NS, body: probePod('nohook', '0'), dryRun: 'All' });
      expect(pod.spec!.containers[0]!.env).toBeUndefined();
      h.kube.setWebhook('unreachable');
      const r = await failure(core.createNamespacedPod({ namespace: NS, body: probePod('down', '0') }));
      expect(r.code).toBe(500);
      expect(r.message).toMatch(/^Internal error occurred: failed calling webhook "mutation.azure-workload-identity.io": failed to call webhook: Post "https:\/\/azure-wi-webhook-webhook-service.kube-system.svc:443\/mutate-v1-pod\?timeout=10s": no endpoints available/);
    } finally {
      h.kube.setWebhook(true);
    }
  });
});

describe('kubelet', () => {
  it('runs a node probe with the injected env and projected token; log and phase come back', async () => {
    const script = `const t = require('fs').readFileSync(process.env.AZURE_FEDERATED_TOKEN_FILE, 'utf8');
console.log('client=' + process.env.AZURE_CLIENT_ID);
console.log('pod=' + process.env.POD_NAME);
console.log('token=' + t);`;
    await core.createNamespacedPod({ namespace: NS, body: probePod('probe', script, { env: [{ name: 'POD_NAME', valueFrom: { fieldRef: { fieldPath: 'metadata.name' } } }] }) });
    const done = await waitFor(phase('probe', ['Succeeded', 'Failed']), 15_000, 'probe to finish');
    const log = await core.readNamespacedPodLog({ name: 'probe', namespace: NS });
    expect(done.status?.phase).toBe('Succeeded');
    expect(done.spec?.nodeName).toBe('aks-nodepool1-0');
    expect(done.status?.containerStatuses?.[0]?.state?.terminated).toMatchObject({ exitCode: 0, reason: 'Completed' });
    expect(log).toContain(`client=${CLIENT_ID}\n`);
    expect(log).toContain('pod=probe\n');
    const token = /token=(\S+)/.exec(log)![1]!;
    const claims = decodeJwt(token);
    expect(claims.iss).toBe(h.issuer.url);
    expect(claims.aud).toEqual(['api://AzureADTokenExchange']);
    expect(claims.sub).toBe(`system:serviceaccount:${NS}:payments-api`);
    expect((claims['kubernetes.io'] as { pod: { name: string; uid: string } }).pod).toEqual({ name: 'probe', uid: done.metadata?.uid });
    const reasons = (await eventsOf('probe')).map((e) => e.reason);
    expect(reasons).toEqual(expect.arrayContaining(['Scheduled', 'Pulled', 'Created', 'Started']));
  });

  it('a failing probe ends Failed with its exit code; logs stream with follow', async () => {
    await core.createNamespacedPod({ namespace: NS, body: probePod('fails', `console.log('one'); setTimeout(() => { console.error('two'); process.exit(3); }, 300);`) });
    await waitFor(phase('fails', ['Running', 'Succeeded', 'Failed']), 10_000, 'running');
    let text = '';
    const sink = new Writable({
      write(chunk: Buffer, _enc, cb) {
        text += chunk.toString();
        cb();
      },
    });
    const ended = new Promise<void>((resolve) => sink.on('finish', () => resolve()));
    await new Log(h.kc).log(NS, 'fails', 'probe', sink, { follow: true });
    await ended;
    expect(text).toBe('one\ntwo\n');
    const done = await waitFor(phase('fails', ['Failed']), 10_000, 'Failed');
    expect(done.status?.containerStatuses?.[0]?.state?.terminated).toMatchObject({ exitCode: 3, reason: 'Error' });
  });

  it('a missing image: ErrImagePull then ImagePullBackOff, pod stays Pending', async () => {
    await core.createNamespacedPod({ namespace: NS, body: probePod('noimage', '0', { image: 'mcr.microsoft.com/does-not/exist:1' }) });
    const pod = await waitFor(async () => {
      const p = await core.readNamespacedPod({ name: 'noimage', namespace: NS });
      return p.status?.containerStatuses?.[0]?.state?.waiting?.reason === 'ImagePullBackOff' ? p : undefined;
    }, 10_000, 'ImagePullBackOff');
    expect(pod.status?.phase).toBe('Pending');
    const events = await eventsOf('noimage');
    const lines = events.map((e) => `${e.type} ${e.reason} ${e.message}`);
    expect(lines).toEqual(
      expect.arrayContaining([
        'Normal Pulling Pulling image "mcr.microsoft.com/does-not/exist:1"',
        expect.stringMatching(/^Warning Failed Failed to pull image "mcr.microsoft.com\/does-not\/exist:1": rpc error: code = NotFound/),
        'Warning Failed Error: ErrImagePull',
        'Normal BackOff Back-off pulling image "mcr.microsoft.com/does-not/exist:1"',
        'Warning Failed Error: ImagePullBackOff',
      ]),
    );
    const r = await failure(core.readNamespacedPodLog({ name: 'noimage', namespace: NS }));
    expect(r.code).toBe(400);
    expect(r.message).toBe('container "probe" in pod "noimage" is waiting to start: trying and failing to pull image');
  });

  it('unschedulable: FailedScheduling and Pending until nodes come back', async () => {
    h.kube.setUnschedulable(true);
    try {
      await core.createNamespacedPod({ namespace: NS, body: probePod('stuck', `console.log('ran')`) });
      const events = await waitFor(async () => {
        const e = await eventsOf('stuck');
        return e.some((x) => x.reason === 'FailedScheduling') ? e : undefined;
      }, 5000, 'FailedScheduling');
      const failed = events.find((x) => x.reason === 'FailedScheduling')!;
      expect(failed.type).toBe('Warning');
      expect(failed.message).toBe('0/3 nodes are available: 3 node(s) were unschedulable. preemption: 0/3 nodes are available: 3 Preemption is not helpful for scheduling.');
      const pod = await core.readNamespacedPod({ name: 'stuck', namespace: NS });
      expect(pod.status?.phase).toBe('Pending');
      expect(pod.status?.conditions?.find((c) => c.type === 'PodScheduled')).toMatchObject({ status: 'False', reason: 'Unschedulable' });
    } finally {
      h.kube.setUnschedulable(false);
    }
    await waitFor(phase('stuck', ['Succeeded']), 10_000, 'scheduled after uncordon');
  });

  it('activeDeadlineSeconds kills the container: Failed / DeadlineExceeded', async () => {
    await core.createNamespacedPod({ namespace: NS, body: probePod('slow', 'setTimeout(() => {}, 60000)', { deadline: 1 }) });
    const pod = await waitFor(phase('slow', ['Failed']), 10_000, 'deadline');
    expect(pod.status?.reason).toBe('DeadlineExceeded');
    expect(pod.status?.message).toBe('Pod was active on the node longer than the specified deadline');
  });

  it('deleting a running pod stops it and the object goes', async () => {
    await core.createNamespacedPod({ namespace: NS, body: probePod('endless', 'setInterval(() => console.log("tick"), 100)') });
    await waitFor(phase('endless', ['Running']), 10_000, 'running');
    const deleted = await core.deleteNamespacedPod({ name: 'endless', namespace: NS });
    expect(deleted.metadata?.deletionTimestamp).toBeTruthy();
    await waitFor(async () => (await failure(core.readNamespacedPod({ name: 'endless', namespace: NS }))).code === 404, 5000, 'pod gone');
  });

  it('mounts the kube-api-access token when automount is on', async () => {
    const body = probePod('automount', `console.log(require('fs').readFileSync(process.env.TOKEN, 'utf8').split('.').length, require('fs').readFileSync(process.env.NS_FILE, 'utf8'))`, {
      labels: {},
      env: [
        { name: 'TOKEN', value: '/var/run/secrets/kubernetes.io/serviceaccount/token' },
        { name: 'NS_FILE', value: '/var/run/secrets/kubernetes.io/serviceaccount/namespace' },
      ],
    });
    body.spec!.automountServiceAccountToken = true;
    const created = await core.createNamespacedPod({ namespace: NS, body });
    expect(created.spec?.volumes?.[0]?.name).toMatch(/^kube-api-access-[a-z0-9]{5}$/);
    await waitFor(phase('automount', ['Succeeded']), 10_000, 'automount probe');
    expect(await core.readNamespacedPodLog({ name: 'automount', namespace: NS })).toBe(`3 ${NS}\n`);
  });
});
