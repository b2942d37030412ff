// mode: discover through dist/index.js on a sandbox cluster still on AAD Pod Identity
// (test/sandbox/scenarios/pod-identity.yaml): the draft it writes is a valid mapping that
// `validate` accepts and `apply` applies, and discovering wrote nothing anywhere else.
import { existsSync, lstatSync, readFileSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { useDemoSandbox } from './demo-sandbox.ts';
import { runAction, workspaceWith } from './run-action.ts';

const estate = useDemoSandbox('pod-identity.yaml');

const EXISTING = `version: 1
environments:
  staging:
    cluster: { resourceGroup: rg-aks-staging, name: aks-staging }
bindings: []
`;

const discover = (ws: string, inputs: Record<string, string> = {}) =>
  runAction({ workspace: ws, env: estate.sb.env, inputs: { mode: 'discover', environment: 'staging', 'discover-output': '.github/workload-identity.yaml.discovered', ...inputs } });

describe('mode: discover (dist/index.js on a Pod Identity estate)', () => {
  it('writes a valid first mapping, one binding per (namespace, ServiceAccount, identity), and writes nothing to Azure or the cluster', async () => {
    const ws = workspaceWith(EXISTING);
    estate.sb.log.reset();
    const run = await discover(ws);
    expect(run.code, run.stdout + run.stderr).toBe(0);
    expect(run.outputs['mapping-file']).toBe('.github/workload-identity.yaml.discovered');
    const text = readFileSync(join(ws, run.outputs['mapping-file']!), 'utf8');
    // The environment carries the cluster of the existing mapping.
    expect(text).toMatch(/staging:\n\s+cluster:\n\s+resourceGroup: rg-aks-staging\n\s+name: aks-staging/);
    // payments-api from the CRDs (and the AKS add-on's view of the same binding), one identity
    // under two selectors; the orders workloads run as `default`, so each gets a ServiceAccount
    // of its own. The ServiceAccount two identities share is held back, commented out.
    const active = text.split('\n').filter((l) => !l.trimStart().startsWith('#')).join('\n');
    const entries = [...active.matchAll(/- namespace: (\S+)\n\s+serviceAccount: (\S+)\n\s+identity: \S+\/(id-[a-z]+)/g)].map((m) => `${m[1]}/${m[2]} → ${m[3]}`);
    expect(entries).toEqual([
      'orders/orders-reconcile → id-orders',
      'orders/orders-worker → id-orders',
      'payments/payments-api → id-payments',
      'payments/payments-batch → id-payments',
    ]);
    expect(text).toMatch(/# CONFLICT — ServiceAccount orders\/orders-shared/);
    expect(run.summary).toContain('service-account-conflict');
    expect(run.summary).toContain('service-principal');
    expect(text).toContain("set serviceAccountName: orders-worker");
    expect(text).toMatch(/# KEDA: TriggerAuthentication orders\/servicebus-auth/);
    expect(estate.sb.log.writes('kube')).toEqual([]);
    expect(estate.sb.log.writes('arm')).toEqual([]);
    expect(run.summary).toContain('default-service-account');
    expect(run.summary).toContain('keda-provider');
    expect(run.summary).toContain('exception');

    // The draft is what validate accepts and apply applies.
    writeFileSync(join(ws, '.github/workload-identity.yaml'), text);
    const validate = await runAction({ workspace: ws, env: estate.sb.env, inputs: { mode: 'validate' } });
    expect(validate.code, validate.stdout).toBe(0);
    const apply = await runAction({ workspace: ws, env: estate.sb.env, inputs: { mode: 'apply', environment: 'staging' } });
    expect(apply.code, apply.stdout).toBe(0);
    // …and verification on it passes: a pod per binding really exchanged its token.
    const result = JSON.parse(apply.outputs.result!);
    expect(result.verifications.map((v: { serviceAccount: string; ok: boolean }) => `${v.serviceAccount}:${v.ok}`).sort()).toEqual([
      'orders-reconcile:true',
      'orders-worker:true',
      'payments-api:true',
      'payments-batch:true',
    ]);
    // Once they verify, the clean-up plan says what Pod Identity still serves: no label may go
    // yet, since no pod template asks the webhook for injection — the readiness findings say so.
    const cleanup = result.podIdentityCleanup;
    expect(cleanup.labelsToRemove).toEqual([]);
    expect(cleanup.stillInUse).toEqual(
      expect.arrayContaining(['Deployment payments/payments-api (add the label azure.workload.identity/use: "true" to its pod template first)', 'Deployment orders/orders-api']),
    );
    expect(cleanup.removal).toEqual([]);
    expect(apply.summary).toContain('Pod Identity clean-up');
    const applied = JSON.parse(apply.outputs.result!).applied as { target: string; ok: boolean }[];
    expect(applied.filter((a) => !a.ok)).toEqual([]);
    expect(applied.map((a) => a.target)).toEqual(expect.arrayContaining(['orders/orders-reconcile', 'orders/orders-worker', 'payments/payments-api', 'payments/payments-batch']));
  });

  it('with no mapping file the environment names the issuer from the API server, under the default name', async () => {
    const ws = workspaceWith(EXISTING);
    const run = await discover(ws, { environment: '', 'mapping-file': 'none.yaml' });
    expect(run.code, run.stdout).toBe(0);
    const text = readFileSync(join(ws, '.github/workload-identity.yaml.discovered'), 'utf8');
    expect(text).toMatch(/environments:\n\s+default:\n\s+issuer: https:\/\/\S+\/\n/);
  });

  it('never writes through a symlink or outside the workspace', async () => {
    const ws = workspaceWith(EXISTING);
    const victim = join(ws, '..', `victim-${Date.now()}.txt`);
    writeFileSync(victim, 'keep me');
    symlinkSync(victim, join(ws, 'out.yaml'));
    const linked = await discover(ws, { 'discover-output': 'out.yaml' });
    expect(linked.code).toBe(1);
    expect(linked.stdout).toMatch(/::error::discover-output 'out.yaml' is a symbolic link/);
    expect(readFileSync(victim, 'utf8')).toBe('keep me');
    expect(lstatSync(join(ws, 'out.yaml')).isSymbolicLink()).toBe(true);

    const outside = await discover(ws, { 'discover-output': '../escaped.yaml' });
    expect(outside.code).toBe(1);
    expect(outside.stdout).toMatch(/outside the workspace/);
    expect(existsSync(join(ws, '..', 'escaped.yaml'))).toBe(false);
  });
});
