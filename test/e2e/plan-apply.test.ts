// plan → apply → plan through the built dist/index.js on the sandbox's demo scenario (the
// staging environment of examples/workload-identity.yaml), as a deployment job runs it.
// Azure is inspected through the emulator's state, the cluster through the real kubectl.
import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import { ROOT, useDemoSandbox } from './demo-sandbox.ts';
import { runAction, type ActionRun } from './run-action.ts';
import { parseGfm, visibleText } from '../output/gfm.ts';

const KUBECTL = '/usr/bin/kubectl';

const demo = useDemoSandbox();
const run = (mode: string, extra: Record<string, string> = {}): Promise<ActionRun> =>
  runAction({ workspace: ROOT, env: demo.sb.env, inputs: { mode, environment: 'staging', 'mapping-file': 'examples/workload-identity.yaml', verify: 'false', ...extra } });

/** Writes the action made, leaving out what only asks (access reviews, server-side dry runs). */
const realWrites = () =>
  demo.sb.log.writes().filter((c) => c.service !== 'entra' && c.service !== 'github' && !c.path.includes('selfsubjectaccessreviews') && !c.path.includes('dryRun=All'));

// One story on one sandbox: plan, then apply, then what apply left; the steps keep their
// order even when the suite runs shuffled.
describe('plan → apply → plan (dist/index.js on the sandbox)', { shuffle: false }, () => {
  it('plan shows the FIC and ServiceAccount changes and writes nothing', async () => {
    demo.sb.log.reset();
    const plan = await run('plan');
    expect(plan.stderr).toBe('');
    expect(plan.code).toBe(0);
    expect(realWrites()).toEqual([]);
    const result = JSON.parse(plan.outputs.result!);
    expect(result.issuer).toBe(demo.sb.issuerUrl);
    const targets = result.plan.map((p: { kind: string; action: string; target: string }) => `${p.kind} ${p.action} ${p.target}`);
    // The FIC made by hand for orders-worker is adopted, not duplicated: no id-orders write.
    expect(targets.sort()).toEqual([
      'federated-credential create id-payments/staging_payments_payments-api',
      'federated-credential create id-reporting/staging_reporting_report-generator',
      'service-account annotate orders/orders-worker',
      'service-account create payments/payments-api',
      'service-account create reporting/report-generator',
    ]);
    const summary = parseGfm(plan.summary).children.map(visibleText);
    expect(summary).toContain('Adopted as they are (same issuer, subject and audience under another name, e.g. made with az CLI): orders-by-hand on id-orders');
    expect(plan.outputs.changes).toBe(String(result.plan.length));
  });

  it('reads the ServiceAccounts with one LIST per namespace, while Azure is still being read', async () => {
    demo.sb.faults.latency.arm = { readMs: 300 };
    try {
      demo.sb.log.reset();
      expect((await run('plan')).code).toBe(0);
    } finally {
      demo.sb.faults.latency.arm = {};
    }
    const kube = demo.sb.log.counts('kube');
    // The staging environment binds three ServiceAccounts in three namespaces.
    expect(kube['kube list serviceaccounts']).toBe(3);
    // Never one GET per ServiceAccount (the webhook dry run may read the one it runs as).
    expect(kube['kube get serviceaccounts'] ?? 0).toBeLessThanOrEqual(1);
    const saLists = demo.sb.log.calls.filter((c) => c.service === 'kube' && c.method === 'GET' && /\/serviceaccounts$/.test(c.path.split('?')[0]!));
    const armReads = demo.sb.log.calls.filter((c) => c.service === 'arm' && c.method === 'GET');
    expect(Math.max(...saLists.map((c) => c.start))).toBeLessThan(Math.max(...armReads.map((c) => c.end)));
  });

  it('apply creates exactly the planned FICs and ServiceAccounts, keeping what Helm set', async () => {
    demo.sb.log.reset();
    const apply = await run('apply');
    expect(apply.code, apply.stdout).toBe(0);
    const writes = realWrites().map((c) => `${c.service} ${c.method}`);
    expect(writes.filter((w) => w === 'arm PUT')).toHaveLength(2);
    expect(demo.sb.state.identityByName('id-orders')!.fics.map((f) => f.name)).toEqual(['orders-by-hand']);
    expect(demo.sb.state.identityByName('id-payments')!.fics[0]).toMatchObject({
      subject: 'system:serviceaccount:payments:payments-api',
      audiences: ['api://AzureADTokenExchange'],
    });
  });

  it.skipIf(!existsSync(KUBECTL))('kubectl sees the Helm-owned ServiceAccount annotated, its Helm metadata kept', async () => {
    const { stdout } = await promisify(execFile)(KUBECTL, ['--kubeconfig', demo.sb.kubeconfigPath, 'get', 'sa', 'orders-worker', '-n', 'orders', '-o', 'json']);
    const sa = JSON.parse(stdout);
    expect(sa.metadata.annotations['azure.workload.identity/client-id']).toBe(demo.sb.state.identityByName('id-orders')!.clientId);
    expect(sa.metadata.annotations['meta.helm.sh/release-name']).toBe('orders');
    expect(sa.metadata.labels['app.kubernetes.io/managed-by']).toBe('Helm');
  });

  it('no token reaches the log: every JWT printed is only ever handed to ::add-mask::', async () => {
    const apply = await run('apply');
    const jwt = /eyJ[\w-]{10,}\.[\w-]{10,}\.[\w-]{10,}/;
    const leaks = apply.stdout.split('\n').filter((l) => jwt.test(l) && !l.startsWith('::add-mask::'));
    expect(leaks).toEqual([]);
    expect(apply.stdout).toContain(`::add-mask::${demo.sb.env['INPUT_GITHUB-TOKEN']}`);
    expect(apply.stderr).not.toMatch(jwt);
  });

  it('a second plan shows no changes and a second apply writes nothing', async () => {
    const plan = await run('plan', { 'fail-on-changes': 'true' });
    expect(plan.code, plan.stdout).toBe(0);
    expect(plan.outputs.changes).toBe('0');
    demo.sb.log.reset();
    const apply = await run('apply');
    expect(apply.code).toBe(0);
    expect(realWrites()).toEqual([]);
  });
});
