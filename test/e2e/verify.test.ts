// Verification through the built dist/index.js on the demo scenario (staging of
// examples/workload-identity.yaml): apply verifies every binding with a real pod and a real
// exchange; mode verify checks what is there and explains what is not; every pod goes.
import { describe, expect, it, beforeAll } from 'vitest';
import type { ChildProcess } from 'node:child_process';
import { ROOT, useDemoSandbox } from './demo-sandbox.ts';
import { runAction, verificationsOf as verifications, workspaceWith, type ActionRun } from './run-action.ts';

const demo = useDemoSandbox();
const MANAGED = 'app.kubernetes.io/managed-by';
const JWT = /eyJ[\w-]{10,}\.[\w-]{10,}\.[\w-]{10,}/;

const run = (mode: string, extra: Record<string, string> = {}, env: Record<string, string> = {}, onSpawn?: (c: ChildProcess) => void): Promise<ActionRun> =>
  runAction({ workspace: ROOT, env: { ...demo.sb.env, ...env }, inputs: { mode, environment: 'staging', 'mapping-file': 'examples/workload-identity.yaml', ...extra }, onSpawn });

const ourPods = () => demo.sb.kube.store.list('pods').filter((p) => p.metadata.labels?.[MANAGED] === 'workload-identity-action');
const until = async (fn: () => boolean, ms = 15_000) => {
  const end = Date.now() + ms;
  while (!fn()) {
    if (Date.now() > end) throw new Error('timed out');
    await new Promise((r) => setTimeout(r, 25));
  }
};
const gone = () => until(() => ourPods().length === 0, 5_000);

beforeAll(async () => {
  const apply = await run('apply', { verify: 'false' });
  expect(apply.code, apply.stdout).toBe(0);
});

describe('verification through dist/ on the sandbox', () => {
  it('apply verifies every binding with a real exchange: tid and oid of each identity, no token anywhere, no pod left', async () => {
    const apply = await run('apply');
    expect(apply.code, apply.stdout).toBe(0);
    expect(apply.outputs.verified).toBe('true');
    const v = verifications(apply);
    expect(v.map((x) => `${x.namespace}/${x.serviceAccount} ${x.ok}`)).toEqual(['payments/payments-api true', 'orders/orders-worker true', 'reporting/report-generator true']);
    // payments enforces Pod Security "restricted": the pod was admitted there and ran.
    expect(demo.sb.kube.store.get('namespaces', undefined, 'payments')!.metadata.labels?.['pod-security.kubernetes.io/enforce']).toBe('restricted');
    const ids = { 'payments-api': 'id-payments', 'orders-worker': 'id-orders', 'report-generator': 'id-reporting' } as Record<string, string>;
    for (const x of v) {
      expect(x.claims?.access).toMatchObject({ tid: demo.sb.tenantId, oid: demo.sb.state.identityByName(ids[x.serviceAccount]!)!.principalId });
    }
    expect(apply.stdout).toMatch(/verified {2}payments\/payments-api → id-payments: token exchanged/);
    // Three exchanges reached Entra, one per pod.
    for (const text of [apply.stdout.split('\n').filter((l) => !l.startsWith('::add-mask::')).join('\n'), apply.stderr, apply.summary, apply.outputs.result!]) expect(text).not.toMatch(JWT);
    await gone();
  });

  it('mode verify writes nothing to Azure or the ServiceAccounts, only the pods', async () => {
    demo.sb.log.reset();
    const verify = await run('verify');
    expect(verify.code, verify.stdout).toBe(0);
    expect(verify.outputs.verified).toBe('true');
    // The sticky comment (github) is the report, not a change.
    const writes = demo.sb.log.writes().filter((c) => c.service !== 'entra' && c.service !== 'github' && !c.path.includes('selfsubjectaccessreviews') && !c.path.includes('dryRun=All'));
    expect(writes.every((c) => c.service === 'kube' && /\/pods(\/|\?|$)/.test(c.path)), JSON.stringify(writes)).toBe(true);
    expect(writes.filter((c) => c.method === 'POST')).toHaveLength(3);
  });

  it('without the webhook the pod gets no token, and the cause says so', async () => {
    demo.sb.kube.setWebhook(false);
    try {
      const verify = await run('verify');
      expect(verify.code).toBe(1);
      expect(verify.outputs.verified).toBe('false');
      const v = verifications(verify)[0]!;
      expect(v.checks[0]).toMatchObject({ name: 'env', ok: false });
      expect(v.cause).toMatch(/webhook did not mutate the pod/);
    } finally {
      demo.sb.kube.setWebhook(true);
    }
    await gone();
  });

  it('a binding not applied is reported, no pod is made for it, and the run fails', async () => {
    const id = demo.sb.state.identityByName('id-reporting')!;
    const saved = [...id.fics];
    id.fics = [];
    try {
      demo.sb.log.reset();
      const verify = await run('verify');
      expect(verify.code).toBe(1);
      const v = verifications(verify).find((x) => x.serviceAccount === 'report-generator')!;
      expect(v).toMatchObject({ ok: false, notApplied: true });
      expect(v.cause).toMatch(/^Not applied: federated credential 'staging_reporting_report-generator' on 'id-reporting' \(create\)/);
      const created = demo.sb.log.calls.filter((c) => c.service === 'kube' && c.method === 'POST' && c.path.startsWith('/api/v1/namespaces/reporting/pods') && !c.path.includes('dryRun=All')); // a dry run makes no pod
      expect(created).toEqual([]);
      expect(verifications(verify).filter((x) => x.ok)).toHaveLength(2);
    } finally {
      id.fics = saved;
    }
  });

  it('propagation that heals inside verify-timeout is waited for inside the pod', async () => {
    const fic = demo.sb.state.identityByName('id-payments')!.fics[0]!;
    // Not propagated until Entra has refused the pod once (AADSTS70021); then it is: a retry heals.
    fic.propagatesAt = Date.now() + 120_000;
    demo.sb.log.reset();
    const refused = () => demo.sb.log.calls.some((c) => c.service === 'entra' && c.method === 'POST' && c.status === 400);
    void until(refused, 60_000).then(() => (fic.propagatesAt = 0));
    const verify = await run('verify');
    fic.propagatesAt = 0;
    expect(verify.code, verify.stdout).toBe(0);
    const v = verifications(verify).find((x) => x.serviceAccount === 'payments-api')!;
    expect(v.ok).toBe(true);
    expect(v.attempts).toBeGreaterThan(1);
  });

  it('propagation that does not heal in time ends as AADSTS70021 with that explanation', async () => {
    const fic = demo.sb.state.identityByName('id-payments')!.fics[0]!;
    fic.propagatesAt = Date.now() + 120_000;
    try {
      const verify = await run('verify', { 'verify-timeout': '10' });
      expect(verify.code).toBe(1);
      const v = verifications(verify).find((x) => x.serviceAccount === 'payments-api')!;
      expect(v.aadsts).toBe(70021);
      expect(v.attempts).toBeGreaterThan(1);
      expect(v.cause).toMatch(/had not propagated within verify-timeout/);
    } finally {
      fic.propagatesAt = 0;
    }
  });

  it('a default-deny egress NetworkPolicy: "authority unreachable", which the real workload would meet too', async () => {
    demo.sb.kube.seed([{ apiVersion: 'networking.k8s.io/v1', kind: 'NetworkPolicy', metadata: { name: 'default-deny-egress', namespace: 'reporting' }, spec: { podSelector: {}, policyTypes: ['Egress'] } }]);
    try {
      const verify = await run('verify', { 'verify-timeout': '12' });
      expect(verify.code).toBe(1);
      const v = verifications(verify);
      expect(v.filter((x) => x.ok).map((x) => x.serviceAccount)).toEqual(['payments-api', 'orders-worker']);
      const reporting = v.find((x) => x.serviceAccount === 'report-generator')!;
      expect(reporting.checks.find((c) => c.name === 'exchange')?.detail).toMatch(/no answer within 3000 ms$/);
      expect(reporting.cause).toMatch(/NetworkPolicy denying egress in namespace 'reporting' — which breaks the real workload's token requests too/);
    } finally {
      demo.sb.kube.store.remove('networkpolicies', 'reporting', 'default-deny-egress');
    }
    await gone();
  });

  it('a mapping issuer without the trailing slash, applied by hand: verify runs the pod anyway and names the slash', async () => {
    const noSlash = demo.sb.issuerUrl.replace(/\/$/, '');
    const id = demo.sb.state.identityByName('id-payments')!;
    const saved = [...id.fics];
    // What `az identity federated-credential create --issuer <no slash>` left: the only credential.
    id.fics = [];
    demo.sb.state.addFic(id, { name: 'by-hand', issuer: noSlash, subject: 'system:serviceaccount:payments:payments-api' });
    const ws = workspaceWith(
      ['version: 1', 'defaults:', `  tenantId: ${demo.sb.tenantId}`, `  subscriptionId: ${demo.sb.subscriptionId}`, '  resourceGroup: rg-identities', 'environments:', '  staging:', `    issuer: ${noSlash}`, 'bindings:', '  - namespace: payments', '    serviceAccount: payments-api', '    identity: id-payments', ''].join('\n'),
    );
    try {
      const verify = await runAction({ workspace: ws, env: demo.sb.env, inputs: { mode: 'verify', environment: 'staging' } });
      expect(verify.code).toBe(1);
      const v = verifications(verify)[0]!;
      expect(v.aadsts).toBe(700211);
      expect(v.cause).toContain(`the credential's issuer is '${noSlash}' but the token says '${demo.sb.issuerUrl}' — they differ only by the trailing slash`);
    } finally {
      id.fics = saved;
    }
    await gone();
  });

  it('an image the nodes cannot pull is reported with the kubelet message, without waiting for the timeout', async () => {
    const started = Date.now();
    const verify = await run('verify', { 'verify-image': 'contoso.azurecr.io/no-such-image:1' });
    expect(verify.code).toBe(1);
    expect(Date.now() - started).toBeLessThan(20_000);
    const v = verifications(verify)[0]!;
    expect(v.cause).toMatch(/could not pull the verification image \((ErrImagePull|ImagePullBackOff)\): .*contoso\.azurecr\.io\/no-such-image:1.*not found/);
    await gone();
  });

  it('an unschedulable pod is reported with its FailedScheduling event at verify-timeout', async () => {
    demo.sb.kube.setUnschedulable(true);
    try {
      const verify = await run('verify', { 'verify-timeout': '10' });
      expect(verify.code).toBe(1);
      const v = verifications(verify)[0]!;
      expect(v.cause).toMatch(/never scheduled within verify-timeout \(10 s\): 0\/3 nodes are available: 3 node\(s\) were unschedulable/);
    } finally {
      demo.sb.kube.setUnschedulable(false);
    }
    await gone();
  });

  // The run's deadline (`timeout`) bounds verify-timeout and the propagation wait inside the
  // pod: when it passes, the run itself deletes its pods (no post step here), writes the
  // summary, outputs and PR comment, and fails — whether the pods wait for a node or for Entra.
  it.each([
    {
      stuck: 'a pod that stays Pending',
      setUp: () => {
        demo.sb.kube.setUnschedulable(true);
        return () => demo.sb.kube.setUnschedulable(false);
      },
      waiting: ['payments-api', 'orders-worker', 'report-generator'],
    },
    {
      stuck: 'a probe waiting for propagation',
      setUp: () => {
        const fic = demo.sb.state.identityByName('id-payments')!.fics[0]!;
        fic.propagatesAt = Date.now() + 600_000;
        return () => (fic.propagatesAt = 0);
      },
      waiting: ['payments-api'],
    },
  ])('the run deadline passes during verification ($stuck): its pods deleted by the run, summary, outputs and comment written, the run fails', async ({ setUp, waiting }) => {
    const restore = setUp();
    try {
      const started = Date.now();
      const verify = await run('verify', { timeout: '10', 'verify-timeout': '120' });
      expect(verify.code, verify.stdout).toBe(1);
      expect(Date.now() - started).toBeLessThan(10_000 + 8_000); // the deadline, plus start-up and reporting
      // Deleted by the run before it ended: none is left without a deletion under way.
      expect(ourPods().filter((p) => !p.metadata.deletionTimestamp)).toEqual([]);
      expect(verify.stdout).not.toMatch(/Could not delete verification pod/);
      const stopped = verifications(verify).filter((v) => !v.ok);
      expect(stopped.map((v) => v.serviceAccount).sort()).toEqual([...waiting].sort());
      // Their pods were made and still at work when the deadline came (not "Not started").
      for (const v of stopped) expect(v.cause).toMatch(/^Stopped before the probe finished \(the run was cancelled or reached its timeout\)/);
      expect(verify.summary).toContain("the run's deadline passed (timeout: 10 s)");
      expect(verify.stdout).toMatch(/::error::.*the run's deadline passed \(timeout: 10 s\)/);
      // The PR comment reports it too (posted in the grace after the deadline).
      expect(verify.stdout).not.toMatch(/The PR comment was not posted/);
      expect(verify.outputs['comment-url']).toMatch(/\/pull\/17#issuecomment-\d+$/);
      await gone();
    } finally {
      restore();
    }
  });

  it('SIGTERM mid-verification leaves no pod; the post step deletes what a SIGKILL left', async () => {
    demo.sb.kube.setUnschedulable(true);
    try {
      const term = await run('verify', { 'verify-timeout': '60' }, {}, (child) => {
        void until(() => ourPods().length === 3).then(() => child.kill('SIGTERM'));
      });
      expect(term.code).toBe(143);
      await gone();

      const killed = await run('verify', { 'verify-timeout': '60' }, {}, (child) => {
        void until(() => ourPods().length === 3).then(() => child.kill('SIGKILL'));
      });
      expect(killed.code).toBe(137);
      expect(ourPods()).toHaveLength(3);
      const state = Object.fromEntries(Object.entries(killed.state).map(([k, v]) => [`STATE_${k}`, v]));
      const post = await runAction({ workspace: ROOT, env: { ...demo.sb.env, ...state }, inputs: {}, entry: 'post.js' });
      expect(post.code, post.stdout + post.stderr).toBe(0);
      expect(post.stdout).toMatch(/Deleted leftover verification pod payments\/wi-verify-payments-api-/);
      await gone();
    } finally {
      demo.sb.kube.setUnschedulable(false);
    }
  });

  it("two invocations in parallel never delete each other's pods", async () => {
    demo.sb.kube.setUnschedulable(true);
    try {
      // A: killed, its pods left; B: running. A's post step must leave B's pods alone.
      const a = await run('verify', { 'verify-timeout': '60' }, { GITHUB_JOB: 'staging-a' }, (child) => {
        void until(() => ourPods().length === 3).then(() => child.kill('SIGKILL'));
      });
      const aPods = ourPods().map((p) => p.metadata.name);
      let bChild: ChildProcess | undefined;
      const b = run('verify', { 'verify-timeout': '60' }, { GITHUB_JOB: 'staging-b' }, (child) => (bChild = child));
      await until(() => ourPods().length === 6);
      const state = Object.fromEntries(Object.entries(a.state).map(([k, v]) => [`STATE_${k}`, v]));
      const post = await runAction({ workspace: ROOT, env: { ...demo.sb.env, ...state }, inputs: {}, entry: 'post.js' });
      expect(post.code).toBe(0);
      await until(() => ourPods().every((p) => !aPods.includes(p.metadata.name)));
      expect(ourPods().filter((p) => !p.metadata.deletionTimestamp)).toHaveLength(3);
      bChild!.kill('SIGTERM');
      expect((await b).code).toBe(143);
      await gone();
    } finally {
      demo.sb.kube.setUnschedulable(false);
    }
  });
});
