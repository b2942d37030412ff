// The real kubectl (/usr/bin/kubectl, 1.32) against the emulator with a kubeconfig that
// carries the sandbox CA: discovery, get (server-side tables), -o yaml, describe,
// apply --server-side, logs, auth can-i, delete, create token, get -w.
import { spawn } from 'node:child_process';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createLocalJWKSet, jwtVerify } from 'jose';
import { parse as parseYaml } from 'yaml';
import { hasKubectl, KUBECTL, startKube, waitFor, type KubeHarness } from './harness.ts';

let h: KubeHarness;

const NAMESPACE = `apiVersion: v1
kind: Namespace
metadata:
  name: shop
  labels:
    pod-security.kubernetes.io/enforce: restricted
`;
const SERVICE_ACCOUNT = `apiVersion: v1
kind: ServiceAccount
metadata:
  name: cart
  namespace: shop
  annotations:
    azure.workload.identity/client-id: 99999999-0000-0000-0000-000000000001
`;
const POD = `apiVersion: v1
kind: Pod
metadata:
  name: probe
  namespace: shop
  labels:
    azure.workload.identity/use: "true"
spec:
  serviceAccountName: cart
  restartPolicy: Never
  automountServiceAccountToken: false
  securityContext: {runAsNonRoot: true, runAsUser: 65532, seccompProfile: {type: RuntimeDefault}}
  containers:
  - name: probe
    image: mcr.microsoft.com/azurelinux/base/nodejs:24
    command: [node, -e, "console.log('WI-VERIFY-RESULT ' + JSON.stringify({clientId: process.env.AZURE_CLIENT_ID}))"]
    securityContext: {allowPrivilegeEscalation: false, capabilities: {drop: [ALL]}}
`;

// One story: each step uses what the one before made (namespace, ServiceAccount, pod), so
// the steps keep their order even when the suite runs shuffled.
describe.skipIf(!hasKubectl)('kubectl', { shuffle: false }, () => {
  beforeAll(async () => {
    h = await startKube();
  });
  afterAll(async () => {
    await h?.close();
  });

  it('create sa then get -o yaml shows what a real API server shows: no generateName "", no generation 0', async () => {
    const created = await h.kubectl(['create', 'sa', 'plain-yaml-check', '-n', 'default']);
    expect(created.code, created.stderr).toBe(0);
    const r = await h.kubectl(['get', 'sa', 'plain-yaml-check', '-n', 'default', '-o', 'yaml']);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).not.toContain('generateName');
    expect(r.stdout).not.toContain('generation');
    expect(Object.keys((parseYaml(r.stdout) as { metadata: object }).metadata).sort()).toEqual(['creationTimestamp', 'name', 'namespace', 'resourceVersion', 'uid']);
  });

  it('get ns prints the server-side table', async () => {
    const r = await h.kubectl(['get', 'ns']);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    const lines = r.stdout.trim().split('\n');
    expect(lines[0]).toMatch(/^NAME\s+STATUS\s+AGE$/);
    expect(lines.slice(1).map((l) => l.split(/\s+/).slice(0, 2).join(' '))).toEqual(['default Active', 'kube-node-lease Active', 'kube-public Active', 'kube-system Active']);
  });

  it('apply --server-side creates namespace, ServiceAccount and pod; get -o yaml shows them', async () => {
    for (const doc of [NAMESPACE, SERVICE_ACCOUNT]) {
      const r = await h.kubectl(['apply', '--server-side', '-f', '-'], doc);
      expect(r.stderr).toBe('');
      expect(r.stdout).toMatch(/(namespace\/shop|serviceaccount\/cart) serverside-applied/);
    }
    const again = await h.kubectl(['apply', '--server-side', '-f', '-'], SERVICE_ACCOUNT);
    expect(again.stdout.trim()).toBe('serviceaccount/cart serverside-applied');

    const yaml = await h.kubectl(['get', 'sa', 'cart', '-n', 'shop', '-o', 'yaml']);
    expect(yaml.code).toBe(0);
    const sa = parseYaml(yaml.stdout) as { kind: string; metadata: { annotations: Record<string, string>; uid: string } };
    expect(sa.kind).toBe('ServiceAccount');
    expect(sa.metadata.annotations['azure.workload.identity/client-id']).toBe('99999999-0000-0000-0000-000000000001');
    expect(sa.metadata.uid).toBeTruthy();

    const pod = await h.kubectl(['apply', '--server-side', '-f', '-'], POD);
    expect(pod.stderr).toBe('');
    expect(pod.stdout.trim()).toBe('pod/probe serverside-applied');
  });

  it('get pods, logs and describe show the finished probe', async () => {
    await waitFor(async () => (await h.kubectl(['get', 'pod', 'probe', '-n', 'shop', '-o', 'jsonpath={.status.phase}'])).stdout === 'Succeeded', 15_000, 'probe Succeeded');
    const get = await h.kubectl(['get', 'pods', '-n', 'shop']);
    expect(get.stdout).toMatch(/^NAME\s+READY\s+STATUS\s+RESTARTS\s+AGE\nprobe\s+0\/1\s+Completed\s+0\s+\S+\n$/);

    const logs = await h.kubectl(['logs', 'probe', '-n', 'shop']);
    expect(logs.stdout).toBe('WI-VERIFY-RESULT {"clientId":"99999999-0000-0000-0000-000000000001"}\n');

    const describe = await h.kubectl(['describe', 'pod', 'probe', '-n', 'shop']);
    expect(describe.code).toBe(0);
    expect(describe.stdout).toMatch(/Status:\s+Succeeded/);
    expect(describe.stdout).toMatch(/AZURE_FEDERATED_TOKEN_FILE:\s+\/var\/run\/secrets\/azure\/tokens\/azure-identity-token/);
    expect(describe.stdout).toMatch(/\/var\/run\/secrets\/azure\/tokens from azure-identity-token \(ro\)/);
    expect(describe.stdout).toMatch(/Normal\s+Scheduled\s+\S+\s+default-scheduler\s+Successfully assigned shop\/probe to aks-nodepool1-0/);
    expect(describe.stdout).toMatch(/Normal\s+Started\s+\S+\s+kubelet\s+Started container probe/);
  });

  it('a pod that violates Pod Security is refused with the server message', async () => {
    const r = await h.kubectl(['run', 'bad', '-n', 'shop', '--image=nginx:1.27']);
    expect(r.code).toBe(1);
    expect(r.stderr.trim()).toMatch(/^Error from server \(Forbidden\): pods "bad" is forbidden: violates PodSecurity "restricted:latest": allowPrivilegeEscalation != false/);
  });

  it('auth can-i answers yes, then no under an RBAC denial', async () => {
    const yes = await h.kubectl(['auth', 'can-i', 'create', 'pods', '-n', 'shop']);
    expect(yes.stdout.trim()).toBe('yes');
    expect(yes.code).toBe(0);
    h.kube.denyRbac({ verb: 'create', resource: 'pods', namespace: 'shop' });
    try {
      const no = await h.kubectl(['auth', 'can-i', 'create', 'pods', '-n', 'shop']);
      expect(no.stdout.trim()).toBe('no');
      expect(no.code).toBe(1);
      const denied = await h.kubectl(['run', 'probe2', '-n', 'shop', '--image=mcr.microsoft.com/azurelinux/base/nodejs:24']);
      expect(denied.stderr.trim()).toBe('Error from server (Forbidden): pods is forbidden: User "masterclient" cannot create resource "pods" in API group "" in the namespace "shop"');
    } finally {
      h.kube.clearRbac();
    }
  });

  it('create token prints a token that verifies against the served JWKS', async () => {
    const r = await h.kubectl(['create', 'token', 'cart', '-n', 'shop', '--audience', 'api://AzureADTokenExchange']);
    expect(r.code).toBe(0);
    const jwks = JSON.parse((await h.kubectl(['get', '--raw', '/openid/v1/jwks'])).stdout) as { keys: object[] };
    const { payload } = await jwtVerify(r.stdout.trim(), createLocalJWKSet(jwks as never), { issuer: h.issuer.url, audience: 'api://AzureADTokenExchange' });
    expect(payload.sub).toBe('system:serviceaccount:shop:cart');
  });

  it('get -w streams changes', async () => {
    const child = spawn(KUBECTL, ['--kubeconfig', h.kubeconfigPath, 'get', 'sa', '-n', 'shop', '-w', '--request-timeout=20s'], { env: { PATH: process.env['PATH'] ?? '', HOME: h.ctx.workDir } });
    let out = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    try {
      await waitFor(() => out.includes('cart'), 10_000, 'initial list');
      await h.kubectl(['create', 'sa', 'watched', '-n', 'shop']);
      await waitFor(() => out.includes('watched'), 10_000, 'watch event');
      expect(out).toMatch(/^NAME\s+SECRETS\s+AGE\n/);
    } finally {
      child.kill();
    }
  });

  it('delete removes the pod and waits for it to go', async () => {
    const r = await h.kubectl(['delete', 'pod', 'probe', '-n', 'shop']);
    expect(r.stdout.trim()).toBe('pod "probe" deleted');
    const gone = await h.kubectl(['get', 'pod', 'probe', '-n', 'shop']);
    expect(gone.code).toBe(1);
    expect(gone.stderr.trim()).toBe('Error from server (NotFound): pods "probe" not found');
  });

  it('reads Pod Identity resources', async () => {
    await h.kubectl(
      ['apply', '--server-side', '-f', '-'],
      `apiVersion: aadpodidentity.k8s.io/v1
kind: AzureIdentityBinding
metadata:
  name: cart-binding
  namespace: shop
spec:
  azureIdentity: cart-identity
  selector: cart
`,
    );
    const r = await h.kubectl(['get', 'azureidentitybindings', '-A']);
    expect(r.stdout).toMatch(/^NAMESPACE\s+NAME\s+AGE\nshop\s+cart-binding\s+\S+\n$/);
  });
});
