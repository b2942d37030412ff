// An in-memory KubePort for unit tests of apply and plan: ServiceAccounts, pods, faults per call.
import { KubeApiError, type KubePort, type ListRequest, type ObjectPage, type PodManifest, type PodRef, type ServiceAccountState, type SnapshotKind, type SnapshotObjects } from '../../src/kube/port.ts';

export class FakePort implements KubePort {
  readonly server = 'https://fake:443';
  sas = new Map<string, ServiceAccountState>();
  pods = new Map<string, PodRef[]>();
  calls: string[] = [];
  /** Next calls of a method throw these, in order (LISTs by `list <kind>`). */
  failures = new Map<string, KubeApiError[]>();

  private fail(method: string): void {
    this.calls.push(method);
    const queue = this.failures.get(method);
    const err = queue?.shift();
    if (err) throw err;
  }

  async readServiceAccount(namespace: string, name: string) {
    this.fail('readServiceAccount');
    const sa = this.sas.get(`${namespace}/${name}`);
    return sa ? structuredClone(sa) : undefined;
  }
  async createServiceAccount(sa: { namespace: string; name: string; labels: Record<string, string>; annotations: Record<string, string> }) {
    this.fail('createServiceAccount');
    const key = `${sa.namespace}/${sa.name}`;
    if (this.sas.has(key)) throw new KubeApiError('create', `serviceaccounts "${sa.name}" already exists`, 409, 'AlreadyExists');
    this.sas.set(key, structuredClone(sa));
    return structuredClone(sa);
  }
  async patchServiceAccountAnnotations(namespace: string, name: string, annotations: Record<string, string | null>) {
    this.fail('patchServiceAccountAnnotations');
    const sa = this.sas.get(`${namespace}/${name}`);
    if (!sa) throw new KubeApiError('patch', `serviceaccounts "${name}" not found`, 404, 'NotFound');
    // JSON merge patch: null deletes.
    for (const [k, v] of Object.entries(annotations)) {
      if (v === null) delete sa.annotations[k];
      else sa.annotations[k] = v;
    }
    return structuredClone(sa);
  }
  /** Every dry-run pod asked for, as sent. */
  dryRuns: PodManifest[] = [];
  /** One page holding everything: pods by `namespace/serviceAccount`, ServiceAccounts; other kinds empty. */
  async listObjects<K extends SnapshotKind>(kind: K, request: ListRequest): Promise<ObjectPage<SnapshotObjects[K]>> {
    this.fail(`list ${kind}`);
    const inNamespace = (key: string) => request.namespace === undefined || key.startsWith(`${request.namespace}/`);
    let items: unknown[] = [];
    if (kind === 'serviceaccounts') items = [...this.sas].filter(([k]) => inNamespace(k)).map(([, sa]) => structuredClone(sa));
    if (kind === 'pods') {
      items = [...this.pods].filter(([k]) => inNamespace(k)).flatMap(([k, pods]) => {
        const [namespace, serviceAccountName] = k.split('/') as [string, string];
        return pods.map((p) => ({ ...p, namespace, serviceAccountName, labels: {}, annotations: {}, containers: [] }));
      });
    }
    return { items: items as SnapshotObjects[K][] };
  }
  async readNamespace(name: string) {
    this.fail('readNamespace');
    return { name, phase: 'Active', labels: {} };
  }
  async selfSubjectAccessReview() {
    this.fail('selfSubjectAccessReview');
    return { allowed: true };
  }
  async listMutatingWebhookConfigurations() {
    this.fail('listMutatingWebhookConfigurations');
    return [];
  }
  async getOpenIdConfiguration() {
    this.fail('getOpenIdConfiguration');
    return { issuer: 'https://issuer.example/' };
  }
  async dryRunCreatePod(pod: PodManifest) {
    this.fail('dryRunCreatePod');
    this.dryRuns.push(structuredClone(pod));
    return { containers: [], volumes: [] };
  }

  writes(): string[] {
    return this.calls.filter((c) => c === 'createServiceAccount' || c === 'patchServiceAccountAnnotations');
  }
  // Verification pods run on the sandbox, not here.
  async createPod(): Promise<void> {
    throw new Error('FakePort: pods are not faked; verification tests use the sandbox');
  }
  async followPod(): Promise<void> {
    throw new Error('FakePort: pods are not faked');
  }
  async readPodLog(): Promise<string> {
    throw new Error('FakePort: pods are not faked');
  }
  async listPodEvents(): Promise<never[]> {
    throw new Error('FakePort: pods are not faked');
  }
  async deletePod(): Promise<void> {
    throw new Error('FakePort: pods are not faked');
  }
  async deletePodsByLabel(): Promise<string[]> {
    throw new Error('FakePort: pods are not faked');
  }
}
