// Advice that never misleads, through dist/index.js on the sandbox: a kubeconfig for another
// cluster is named as such before any Kubernetes call.
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { beforeEach, describe, expect, it } from 'vitest';
import { ROOT, useDemoSandbox } from './demo-sandbox.ts';
import { runAction, workspaceWith as workspace } from './run-action.ts';

const EXAMPLE = readFileSync(resolve(ROOT, 'examples/workload-identity.yaml'), 'utf8');

const demo = useDemoSandbox();
beforeEach(() => {
  demo.sb.faults.clear();
  demo.sb.log.reset();
});

const run = (inputs: Record<string, string>, ws = workspace(EXAMPLE)) =>
  runAction({ workspace: ws, env: { ...demo.sb.env }, inputs: { mode: 'plan', environment: 'staging', verify: 'false', ...inputs } });

/** A kubeconfig for another AKS cluster (production's context while planning staging); its host need not resolve. */
const OTHER_HOST = 'aks-prod-dns-1a2b3c4d.hcp.westeurope.azmk8s.io';
const otherClusterKubeconfig = [
  'apiVersion: v1',
  'kind: Config',
  'clusters:',
  `- name: aks-prod`,
  `  cluster: { server: 'https://${OTHER_HOST}:443' }`,
  'users:',
  '- name: clusterUser_rg-aks-prod_aks-prod',
  '  user: { token: not-a-real-token }',
  'contexts:',
  '- name: aks-prod',
  '  context: { cluster: aks-prod, user: clusterUser_rg-aks-prod_aks-prod }',
  'current-context: aks-prod',
  '',
].join('\n');

describe('a kubeconfig for another cluster (dist/index.js on the sandbox)', () => {
  it('blocks apply before any Kubernetes call, naming both clusters and aks-set-context', async () => {
    const apply = await run({ mode: 'apply', kubeconfig: otherClusterKubeconfig });
    expect(apply.code).toBe(1);
    const result = JSON.parse(apply.outputs.result!);
    const check = result.preflight.find((c: { name: string }) => c.name === 'cluster');
    expect(check).toMatchObject({ ok: false, severity: 'error' });
    expect(check.detail).toContain(`The kubeconfig's API server is ${OTHER_HOST}, but environment staging names cluster aks-staging (aks-staging-dns-sandbox.hcp.westeurope.azmk8s.io`);
    expect(check.fix).toContain('azure/aks-set-context');
    expect(result.applied ?? []).toEqual([]);
    expect(demo.sb.log.writes('arm')).toEqual([]);
    expect(demo.sb.log.calls.filter((c) => c.service === 'kube')).toEqual([]);
    // Never the fix "set issuer: <the other cluster's issuer>".
    expect(apply.stdout).not.toMatch(/set `?issuer: /);
    // An annotation at the environment's mapping line, with the reason, not only a count.
    const annotation = apply.annotations.find((a) => a.level === 'error' && a.props.title === 'Workload Identity preflight: cluster');
    expect(annotation).toMatchObject({ props: { file: '.github/workload-identity.yaml', line: String(check.at.line) } });
    expect(EXAMPLE.split('\n')[check.at.line - 1]).toMatch(/staging/);
    expect(annotation!.message).toContain(`The kubeconfig's API server is ${OTHER_HOST}`);
  });

  it('warns in plan, and the warning stays in the summary when the server then cannot be reached', async () => {
    const plan = await run({ kubeconfig: otherClusterKubeconfig });
    const result = JSON.parse(plan.outputs.result!);
    expect(result.preflight.find((c: { name: string }) => c.name === 'cluster')).toMatchObject({ ok: false, severity: 'warning' });
    expect(plan.summary).toContain(`The kubeconfig's API server is ${OTHER_HOST}`);
    expect(result.preflight.find((c: { name: string }) => c.name === 'api')).toMatchObject({ ok: false });
    // The warning is an annotation too, at the environment's line; the unreachable server an error there.
    expect(plan.annotations.find((a) => a.props.title === 'Workload Identity preflight: cluster')).toMatchObject({ level: 'warning', props: { file: '.github/workload-identity.yaml' } });
    expect(plan.annotations.find((a) => a.props.title === 'Workload Identity preflight: api')).toMatchObject({ level: 'error', props: { file: '.github/workload-identity.yaml' } });
  });
});

const planned = (result: string) => JSON.parse(result).plan.map((p: { action: string; target: string }) => `${p.action} ${p.target}`).sort();

describe('credentials that work are never advised away (dist/index.js on the sandbox)', () => {
  it("an issuer differing from the cluster's by the trailing slash: no advice to delete the credentials that match the cluster", async () => {
    const slashless = demo.sb.issuerUrl.replace(/\/$/, '');
    const mapping = EXAMPLE.replace('    cluster: { resourceGroup: rg-aks-staging, name: aks-staging }\n', `    issuer: "${slashless}"\n`);
    expect(mapping).toContain(slashless);
    const plan = await run({}, workspace(mapping));
    expect(plan.code).toBe(1); // the issuer check blocks: the mapping's issuer is not the cluster's
    const result = JSON.parse(plan.outputs.result!);
    const issuer = result.preflight.find((c: { name: string; ok: boolean }) => c.name === 'issuer' && !c.ok);
    expect(issuer.detail).toContain("the cluster's issuer ends with one trailing '/', the mapping's with no trailing slash");
    // orders-by-hand has the cluster's issuer: it is the one that works.
    const slash = result.preflight.find((c: { name: string; detail: string }) => c.name === 'federated-credential-issuer-slash' && c.detail.includes("'orders-by-hand'"));
    expect(slash.detail).toContain("'orders-by-hand'");
    expect(slash.fix).toContain("Keep 'orders-by-hand'");
    expect(plan.stdout).not.toMatch(/federated-credential delete/);
    expect(plan.summary).not.toMatch(/federated-credential delete/);
    expect(demo.sb.log.writes('arm')).toEqual([]);
  });

  it('a credential of this cluster holding our name for another subject is left alone, even by prune, and ours gets the second name', async () => {
    const identity = demo.sb.state.identityByName('id-payments')!;
    const saved = [...identity.fics];
    demo.sb.state.addFic(identity, { name: 'staging_payments_payments-api', issuer: demo.sb.issuerUrl, subject: 'system:serviceaccount:payments:legacy-api' });
    try {
      const plan = await run({ prune: 'true' });
      expect(plan.code, plan.stdout).toBe(0);
      const targets = planned(plan.outputs.result!).filter((t: string) => t.includes('id-payments'));
      expect(targets).toHaveLength(1);
      expect(targets[0]).toMatch(/^create id-payments\/staging_payments_payments-api_[0-9a-f]{10}$/);
      const warning = JSON.parse(plan.outputs.result!).preflight.find((c: { name: string }) => c.name === 'federated-credential-name');
      expect(warning).toMatchObject({ ok: false, severity: 'warning' });
      expect(warning.detail).toContain('subject system:serviceaccount:payments:legacy-api, not system:serviceaccount:payments:payments-api');
    } finally {
      identity.fics = saved;
    }
  });
});

/** The example with one more binding at its end; returns the mapping and the binding's line. */
function withBinding(lines: string[]): { mapping: string; line: number } {
  const base = EXAMPLE.endsWith('\n') ? EXAMPLE : `${EXAMPLE}\n`;
  return { mapping: base + lines.join('\n') + '\n', line: base.split('\n').length };
}

describe('proving injection, shown at the binding (dist/index.js on the sandbox)', () => {
  it('a binding in kube-system, which AKS keeps the webhook out of: plan fails with an error annotation at its line, from the dry run there', async () => {
    const { mapping, line } = withBinding(['  - namespace: kube-system', '    serviceAccount: node-agent', '    identity: id-payments', '    environments: [staging]']);
    const plan = await run({}, workspace(mapping));
    expect(plan.code, plan.stdout).toBe(1);
    const dryRuns = demo.sb.log.calls.filter((c) => c.service === 'kube' && c.method === 'POST' && c.path.includes('dryRun=All')).map((c) => c.path.split('/')[4]);
    expect(dryRuns).toContain('kube-system');
    expect(dryRuns).toContain('payments');
    const annotation = plan.annotations.find((a) => a.level === 'error' && a.props.title === 'Workload Identity preflight: webhook-dry-run');
    expect(annotation).toMatchObject({ props: { file: '.github/workload-identity.yaml', line: String(line) } });
    expect(mapping.split('\n')[line - 1]).toBe('  - namespace: kube-system');
    expect(annotation!.message).toContain('did not mutate a labelled dry-run pod in kube-system');
    expect(annotation!.message).toContain('Fix: Move the workload and its binding to a namespace of its own.');
    expect(plan.stdout).toMatch(/1 preflight check\(s\) failed, each annotated at its mapping line: webhook-dry-run/);
  });

  it("an environment whose audience the webhook does not project: plan fails at each binding's line, naming AADSTS700212", async () => {
    const cluster = '    cluster: { resourceGroup: rg-aks-staging, name: aks-staging }\n';
    const mapping = EXAMPLE.replace(cluster, `${cluster}    defaults: { audience: "api://contoso-audit" }\n`);
    expect(mapping).toContain('api://contoso-audit');
    const plan = await run({}, workspace(mapping));
    expect(plan.code, plan.stdout).toBe(1);
    const line = mapping.split('\n').indexOf('  - namespace: payments') + 1;
    const annotation = plan.annotations.find((a) => a.level === 'error' && a.props.title === 'Workload Identity preflight: webhook-dry-run' && a.props.line === String(line));
    expect(annotation, plan.stdout).toMatchObject({ props: { file: '.github/workload-identity.yaml' } });
    expect(annotation!.message).toContain("the binding of payments/payments-api federates audience 'api://contoso-audit'");
    expect(annotation!.message).toContain('AADSTS700212');
    expect(annotation!.message).toContain('Fix: Use the audience the webhook projects (api://AzureADTokenExchange)');
    // One failure per binding, each at its line; the failure line counts them under one name.
    const failed = plan.annotations.filter((a) => a.props.title === 'Workload Identity preflight: webhook-dry-run');
    expect(failed.length).toBeGreaterThan(1);
    expect(new Set(failed.map((a) => a.props.line)).size).toBe(failed.length);
    expect(plan.stdout).toContain(`${failed.length} preflight check(s) failed, each annotated at its mapping line: webhook-dry-run (${failed.length})`);
  });
});
