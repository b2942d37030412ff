// What a user sees when things go wrong, through dist/index.js on the sandbox: clear
// messages, no stack traces, nothing half-done.
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { beforeEach, describe, expect, it } from 'vitest';
import { ROOT, useDemoSandbox } from './demo-sandbox.ts';
import { runAction, workspaceWith as workspace } from './run-action.ts';

const EXAMPLE = readFileSync(resolve(ROOT, 'examples/workload-identity.yaml'), 'utf8');
const STACK = /\n\s+at .+:\d+:\d+/;

const demo = useDemoSandbox();
beforeEach(() => {
  demo.sb.faults.clear();
  demo.sb.log.reset();
});

const run = (inputs: Record<string, string>, ws = workspace(EXAMPLE), env: Record<string, string> = {}) =>
  runAction({ workspace: ws, env: { ...demo.sb.env, ...env }, inputs: { mode: 'plan', environment: 'staging', verify: 'false', ...inputs } });

describe('failures a user can act on (dist/index.js on the sandbox)', () => {
  it('the environment input matches the mapping whatever its case, as GitHub environments do', async () => {
    const plan = await run({ environment: 'Staging' });
    expect(plan.code, plan.stdout).toBe(0);
    expect(JSON.parse(plan.outputs.result!).environment).toBe('staging');
  });

  it('a ServiceAccount is not pointed at an identity whose federated credential could not be written', async () => {
    demo.sb.faults.inject({
      service: 'arm',
      method: 'PUT',
      pathIncludes: '/id-payments/federatedIdentityCredentials/',
      status: 403,
      times: 100,
      body: { error: { code: 'AuthorizationFailed', message: 'The client does not have authorization to perform action federatedIdentityCredentials/write.' } },
    });
    const apply = await run({ mode: 'apply' });
    expect(apply.code).toBe(1);
    const result = JSON.parse(apply.outputs.result!);
    const byTarget = Object.fromEntries(result.applied.map((a: { target: string; ok: boolean; error?: string }) => [a.target, a]));
    expect(byTarget['id-payments/staging_payments_payments-api']).toMatchObject({ ok: false, error: expect.stringContaining('AuthorizationFailed') });
    expect(byTarget['payments/payments-api']).toMatchObject({ ok: false, error: expect.stringContaining('not applied') });
    expect(byTarget['id-reporting/staging_reporting_report-generator'].ok).toBe(true);
    expect(byTarget['reporting/report-generator'].ok).toBe(true);
    expect(demo.sb.log.writes('kube').some((c) => c.path.includes('/namespaces/payments/serviceaccounts'))).toBe(false);
    expect(apply.stdout).toMatch(/::error::.*write\(s\) failed; the others were applied/);
    expect(apply.stdout).not.toMatch(STACK);
  });

  it('fail-on-changes fails a plan with pending changes (scheduled drift detection), writing nothing', async () => {
    const plan = await run({ 'fail-on-changes': 'true' });
    expect(plan.code).toBe(1);
    expect(plan.stdout).toMatch(/::error::\d+ change\(s\) pending and fail-on-changes is set/);
    expect(Number(plan.outputs.changes)).toBeGreaterThan(0);
    expect(demo.sb.log.writes('arm')).toEqual([]);
  });

  it('a login identity without a federated credential for this workflow says which one to add', async () => {
    const app = demo.sb.loginApp;
    const saved = app.fics;
    app.fics = [];
    try {
      const plan = await run({});
      expect(plan.code).toBe(1);
      const error = plan.stdout.split('\n').find((l) => l.startsWith('::error::'))!;
      expect(error).toMatch(/Azure login: AADSTS7002\d+/);
      expect(error).toContain('repo:contoso/platform:environment:staging');
      expect(plan.stdout).not.toMatch(STACK);
    } finally {
      app.fics = saved;
    }
  });

  it('a missing kubeconfig is explained without a stack trace', async () => {
    const plan = await run({}, workspace(EXAMPLE), { KUBECONFIG: '/nonexistent/kubeconfig' });
    expect(plan.code).toBe(1);
    expect(plan.stdout).toMatch(/::error::KUBECONFIG points at \/nonexistent\/kubeconfig/);
    expect(plan.stdout).not.toMatch(STACK);
    // The job summary and the result output say it too, not only the log.
    expect(plan.summary).toContain('KUBECONFIG points at /nonexistent/kubeconfig');
    expect(JSON.parse(plan.outputs.result!).problems).toEqual([expect.stringContaining('KUBECONFIG points at /nonexistent/kubeconfig')]);
  });

  it('an identity without a subscription is reported at its mapping line before logging in', async () => {
    const mapping = ['version: 1', 'defaults:', '  resourceGroup: rg-identities', 'cluster: { resourceGroup: rg-aks-staging, name: aks-staging }', 'bindings:', '  - namespace: payments', '    serviceAccount: payments-api', '    identity: id-payments', ''].join('\n');
    const plan = await run({ environment: '' }, workspace(mapping), { 'INPUT_AZURE-SUBSCRIPTION-ID': '' });
    expect(plan.code).toBe(1);
    const error = plan.annotations.find((a) => a.props.file === '.github/workload-identity.yaml');
    expect(error).toMatchObject({ props: { line: '8' } });
    expect(error!.message).toMatch(/identity 'id-payments' has no subscription/);
    expect(demo.sb.log.calls.filter((c) => c.service === 'arm' || c.service === 'entra')).toEqual([]);
  });

  it('two environments on one cluster cannot bind one ServiceAccount to different identities', async () => {
    const mapping = EXAMPLE.replace(
      /production:\n(\s+#.*\n)*\s+issuer: .*\n/,
      'production:\n    cluster: { resourceGroup: rg-aks-staging, name: aks-staging }\n',
    ).replace('  - namespace: payments\n    serviceAccount: payments-api\n    identity: id-payments\n', '  - namespace: payments\n    serviceAccount: payments-api\n    identity: id-payments\n    environments: [staging]\n  - namespace: payments\n    serviceAccount: payments-api\n    identity: id-orders\n    environments: [production]\n');
    expect(mapping).toContain('identity: id-orders\n    environments: [production]');
    const plan = await run({}, workspace(mapping));
    expect(plan.code).toBe(1);
    expect(plan.stdout).toMatch(/ServiceAccount payments\/payments-api is bound to identity 'id-payments' here and to 'id-orders' in environment 'production'/);
  });
});
