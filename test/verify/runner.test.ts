// The runner on the sandbox, for the failures the action's own plan rarely lets through
// (it writes credentials with the token's exact values): each one a real pod, a real
// exchange, and the diagnosis naming the values; plus the cluster's ways of not answering
// (a default-deny egress NetworkPolicy, a watch that goes silent).
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { KubeConfig } from '@kubernetes/client-node';
import { createCleanupRegistry } from '../../src/cleanup.ts';
import { createKubePort } from '../../src/kube/client.ts';
import type { KubePort } from '../../src/kube/port.ts';
import { createNetwork } from '../../src/net/index.ts';
import { memorySink } from '../../src/output/sink.ts';
import { newInvocation } from '../../src/verify/invocation.ts';
import { runVerifications, type VerificationTarget } from '../../src/verify/runner.ts';
import { startSandbox, type Sandbox } from '../sandbox/index.ts';
import { trustSandboxCa } from '../sandbox-azure/helpers.ts';

let sb: Sandbox;
let kube: KubePort;
const subject = (ns: string, sa: string) => `system:serviceaccount:${ns}:${sa}`;
const annotated = (namespace: string, name: string, identity: string) => ({ namespace, name, annotations: { 'azure.workload.identity/client-id': `{{identity:${identity}.clientId}}` } });

beforeAll(async () => {
  sb = await startSandbox({
    scenario: {
      resourceGroups: ['rg-identities'],
      identities: [
        { name: 'id-pay', federatedCredentials: [{ name: 'pay', issuer: '{{issuer:aks}}', subject: subject('payments', 'pay') }] },
        { name: 'id-slash' },
        { name: 'id-none' },
        { name: 'id-aud', federatedCredentials: [{ name: 'aud', issuer: '{{issuer:aks}}', subject: subject('payments', 'aud'), audiences: ['api://custom'] }] },
        { name: 'id-locked', federatedCredentials: [{ name: 'locked', issuer: '{{issuer:aks}}', subject: subject('locked', 'app') }] },
        // Typed by hand with a capital letter, which Entra accepted before August 2024.
        { name: 'id-case', federatedCredentials: [{ name: 'case-by-hand', issuer: '{{issuer:aks}}', subject: 'system:serviceaccount:Payments:case' }] },
        // Federated with another cluster (the one the environment had before, or its twin).
        { name: 'id-other', federatedCredentials: [{ name: 'other', issuer: '{{issuer:aks-blue}}', subject: subject('payments', 'other-cluster') }] },
      ],
      clusters: [
        { name: 'aks', resourceGroup: 'rg-aks' },
        { name: 'aks-blue', resourceGroup: 'rg-aks' },
      ],
      kube: {
        namespaces: [
          { name: 'payments', labels: { 'pod-security.kubernetes.io/enforce': 'restricted' } },
          { name: 'locked', labels: { 'pod-security.kubernetes.io/enforce': 'restricted' } },
        ],
        serviceAccounts: [
          annotated('payments', 'pay', 'id-pay'),
          annotated('payments', 'other', 'id-pay'),
          annotated('payments', 'slash', 'id-slash'),
          annotated('payments', 'none', 'id-none'),
          annotated('payments', 'aud', 'id-aud'),
          annotated('locked', 'app', 'id-locked'),
          annotated('payments', 'case', 'id-case'),
          // A lifetime the webhook refuses (it accepts 3600..86400).
          { namespace: 'payments', name: 'short', annotations: { 'azure.workload.identity/client-id': '{{identity:id-pay.clientId}}', 'azure.workload.identity/service-account-token-expiration': '600' } },
          annotated('payments', 'other-cluster', 'id-other'),
        ],
        objects: [
          // The usual default-deny of all egress (kubernetes.io network-policies docs).
          { apiVersion: 'networking.k8s.io/v1', kind: 'NetworkPolicy', metadata: { name: 'default-deny-egress', namespace: 'locked' }, spec: { podSelector: {}, policyTypes: ['Egress'] } },
        ],
      },
    },
  });
  // A credential written with the issuer minus its trailing slash (as an old mapping had it).
  sb.state.addFic(sb.state.identityByName('id-slash')!, { name: 'slash', issuer: sb.issuerUrl.replace(/\/$/, ''), subject: subject('payments', 'slash') });
  trustSandboxCa(sb.tls.caPem);
  const kc = new KubeConfig();
  kc.loadFromFile(sb.kubeconfigPath);
  kube = createKubePort(kc, createNetwork());
});
afterAll(async () => {
  await sb?.stop();
});

function target(namespace: string, serviceAccount: string, identity: string, over: Partial<VerificationTarget> = {}): VerificationTarget {
  return {
    environment: 'staging',
    namespace,
    serviceAccount,
    identity,
    clientId: sb.state.identityByName(identity)!.clientId,
    tenantId: sb.tenantId,
    issuer: sb.issuerUrl,
    subject: subject(namespace, serviceAccount),
    audience: 'api://AzureADTokenExchange',
    scope: 'https://management.azure.com/.default',
    ficInArm: false,
    ...over,
  };
}

async function verify(t: VerificationTarget, opts: { timeoutSeconds?: number; port?: KubePort } = {}) {
  return (await verifyAll([t], { ...opts, concurrency: 1 }))[0]!;
}

async function verifyAll(targets: VerificationTarget[], opts: { timeoutSeconds?: number; port?: KubePort; concurrency: number }) {
  const cleanups = createCleanupRegistry();
  const results = await runVerifications(targets, {
    kube: opts.port ?? kube,
    cleanups,
    sink: memorySink(),
    invocation: newInvocation({ GITHUB_RUN_ID: '9', GITHUB_JOB: 'runner-test' }),
    image: 'mcr.microsoft.com/azurelinux/base/nodejs:24',
    timeoutSeconds: opts.timeoutSeconds ?? 30,
    concurrency: opts.concurrency,
    backoffMs: 200,
  });
  // Every pod made was deleted: nothing left to clean up, nothing left in the namespace.
  await cleanups.runAll(() => undefined);
  return results;
}

/** Advice that would delete a credential, or change one that some token matches. */
const HARMFUL = /\bdelete\b|\bremove\b.*credential|federated-credential (update|delete)/i;

const leftovers = () => sb.kube.store.list('pods').filter((p) => p.metadata.labels?.['app.kubernetes.io/managed-by'] === 'workload-identity-action' && !p.metadata.deletionTimestamp);

describe('the runner on the sandbox', () => {
  it('"restricted" admits the pod, and the exchange gives the identity\'s tid and oid', async () => {
    const r = await verify(target('payments', 'pay', 'id-pay', { ficInArm: true }));
    expect(r.ok, r.cause).toBe(true);
    expect(r.claims?.access).toMatchObject({ tid: sb.tenantId, oid: sb.state.identityByName('id-pay')!.principalId });
    expect(leftovers()).toEqual([]);
  });

  it('a subject no credential names: AADSTS700213 with the token\'s subject', async () => {
    const r = await verify(target('payments', 'other', 'id-pay'));
    expect(r.aadsts).toBe(700213);
    expect(r.cause).toBe(`No federated credential of identity 'id-pay' with the token's issuer names its subject '${subject('payments', 'other')}' (AADSTS700213): they name other ServiceAccounts or namespaces.`);
    // The credential 'pay' works for payments/pay: the fix adds one beside it, under a new name.
    expect(r.fix).toContain('under a name no credential of the identity has yet (create replaces a credential of the same name)');
    expect(r.fix).toContain(`az identity federated-credential create --identity-name id-pay --resource-group <rg> --name <new-name> --issuer ${sb.issuerUrl} --subject ${subject('payments', 'other')}`);
    expect(r.fix).not.toMatch(HARMFUL);
  });

  it('a subject typed by hand in other letter case: AADSTS7002138, the token\'s subject and a correction that breaks nothing', async () => {
    const r = await verify(target('payments', 'case', 'id-case'));
    expect(r.aadsts).toBe(7002138);
    expect(r.attempts).toBe(1);
    expect(r.cause).toBe(`A federated credential of identity 'id-case' names the token's subject '${subject('payments', 'case')}' in other letter case (AADSTS7002138): Entra compares subjects case-sensitively since August 2024, so it no longer matches.`);
    expect(r.fix).toContain(`write the subject of the one that differs only in case exactly as '${subject('payments', 'case')}'`);
    expect(r.fix).not.toMatch(HARMFUL);
  });

  it("a credential of another cluster's issuer: AADSTS700211, and the fix checks the kubeconfig before touching what serves that cluster", async () => {
    const blue = sb.issuers['aks-blue']!.url;
    const r = await verify(target('payments', 'other-cluster', 'id-other', { issuer: blue, ficInArm: true }));
    expect(r.aadsts).toBe(700211);
    expect(r.cause).toContain(`the credential's issuer is '${blue}' but the token says '${sb.issuerUrl}' — the token comes from another cluster`);
    expect(r.fix).toMatch(/^First check which cluster the job talks to .*leave the credentials alone — they serve the cluster whose issuer is/);
    expect(r.fix).not.toMatch(HARMFUL);
  });

  it('a credential whose issuer lacks the trailing slash: AADSTS700211, both values and why, not retried', async () => {
    const noSlash = sb.issuerUrl.replace(/\/$/, '');
    const r = await verify(target('payments', 'slash', 'id-slash', { issuer: noSlash, ficInArm: true }));
    expect(r.aadsts).toBe(700211);
    expect(r.attempts).toBe(1);
    expect(r.checks.find((c) => c.name === 'issuer')).toMatchObject({ ok: false, detail: `the token says '${sb.issuerUrl}', the federated credential expects '${noSlash}'` });
    expect(r.cause).toContain(`the credential's issuer is '${noSlash}' but the token says '${sb.issuerUrl}' — they differ only by the trailing slash`);
    expect(r.fix).toContain(`set \`issuer: ${sb.issuerUrl}\``);
  });

  it('an identity with no credential at all: AADSTS70025, explained as an identity fresh from Pod Identity', async () => {
    const r = await verify(target('payments', 'none', 'id-none'));
    expect(r.aadsts).toBe(70025);
    expect(r.cause).toMatch(/^identity 'id-none' has no federated identity credential at all \(AADSTS70025\)/);
    expect(r.fix).toContain(`--issuer ${sb.issuerUrl} --subject ${subject('payments', 'none')} --audiences api://AzureADTokenExchange`);
  });

  it('a genuine mismatch that Entra answers with the generic 70021 is diagnosed at once, not waited on', async () => {
    sb.setMismatchStyle('generic');
    try {
      const started = Date.now();
      // ARM holds a credential for api://custom; the webhook projects api://AzureADTokenExchange.
      const r = await verify(target('payments', 'aud', 'id-aud', { audience: 'api://custom', ficInArm: true }));
      expect(r.aadsts).toBe(70021);
      expect(r.attempts).toBe(1);
      expect(Date.now() - started).toBeLessThan(10_000);
      expect(r.cause).toContain("the credential's audience is 'api://custom' but the token says 'api://AzureADTokenExchange'");
    } finally {
      sb.setMismatchStyle('specific');
    }
  });

  it('a default-deny egress NetworkPolicy: the probe\'s own timeout ends it as "authority unreachable", well inside verify-timeout', async () => {
    const started = Date.now();
    const r = await verify(target('locked', 'app', 'id-locked', { ficInArm: true }), { timeoutSeconds: 12 });
    expect(r.ok).toBe(false);
    expect(r.checks.find((c) => c.name === 'exchange')?.detail).toMatch(/^cannot reach .*: no answer within 3000 ms$/);
    expect(r.cause).toMatch(/could not reach the authority .*NetworkPolicy denying egress in namespace 'locked'/);
    expect(Date.now() - started).toBeLessThan(12_000);
    expect(leftovers()).toEqual([]);
  });

  it('the webhook refuses the pod: its message, at once, and what it means for the workload', async () => {
    const started = Date.now();
    const r = await verify(target('payments', 'short', 'id-pay'));
    expect(r.ok).toBe(false);
    expect(r.cause).toBe(
      'The workload identity webhook refused the pod: admission webhook "mutation.azure-workload-identity.io" denied the request: token expiration 600 not valid. Expected value to be between 3600 and 86400',
    );
    expect(r.fix).toMatch(/^The same happens to every workload pod of this ServiceAccount/);
    expect(Date.now() - started).toBeLessThan(5_000);
    expect(leftovers()).toEqual([]);
  });

  it('verify-concurrency bounds the pods that exist at once', async () => {
    sb.log.reset();
    const targets = [target('payments', 'pay', 'id-pay'), target('payments', 'other', 'id-pay'), target('payments', 'none', 'id-none'), target('payments', 'case', 'id-case'), target('payments', 'aud', 'id-aud')];
    const results = await verifyAll(targets, { concurrency: 2 });
    expect(results.map((r) => r.serviceAccount)).toEqual(['pay', 'other', 'none', 'case', 'aud']);
    // From the API server's log: a pod exists from its create until its delete answered.
    const calls = sb.log.calls.filter((c) => c.service === 'kube' && /\/namespaces\/payments\/pods/.test(c.path));
    const events = [
      ...calls.filter((c) => c.method === 'POST').map((c) => ({ at: c.start, d: 1 })),
      ...calls.filter((c) => c.method === 'DELETE').map((c) => ({ at: c.end, d: -1 })),
    ].sort((a, b) => a.at - b.at || a.d - b.d);
    let live = 0;
    let most = 0;
    for (const e of events) most = Math.max(most, (live += e.d));
    expect(calls.filter((c) => c.method === 'POST')).toHaveLength(5);
    expect(most).toBe(2);
    expect(leftovers()).toEqual([]);
  });

  it('a watch that goes silent is dropped after its idle timeout and the pod re-read: the result still arrives', async () => {
    const kc = new KubeConfig();
    kc.loadFromFile(sb.kubeconfigPath);
    const port = createKubePort(kc, createNetwork(), { watchIdleMs: 300 });
    sb.kube.stallWatches(true);
    try {
      sb.log.reset();
      const r = await verify(target('payments', 'pay', 'id-pay', { ficInArm: true }), { port });
      expect(r.ok, r.cause).toBe(true);
      const reads = sb.log.calls.filter((c) => c.service === 'kube' && c.method === 'GET' && /\/pods\/wi-verify-pay-[^/?]+$/.test(c.path.split('?')[0]!));
      expect(reads.length).toBeGreaterThan(1);
    } finally {
      sb.kube.stallWatches(false);
    }
  });
});
