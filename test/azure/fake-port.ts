// An in-memory AzurePort for unit tests of plan/apply: it holds identities and their FICs,
// records every call, and lets a test script failures per call.
import { AzureCallError } from '../../src/azure/errors.ts';
import { identityKey, identityResourceId } from '../../src/mapping/identity.ts';
import type { AzurePort, ClusterIssuerInfo } from '../../src/azure/port.ts';
import type { FederatedCredential, ManagedIdentity } from '../../src/plan/types.ts';

export interface FakeCall {
  op: 'getIdentity' | 'list' | 'put' | 'delete' | 'getCluster';
  identity?: string;
  name?: string;
  /** Wall clock (ms) at start and end: for reading, never for asserting a schedule (a loaded machine stretches it). */
  start: number;
  end: number;
  /**
   * Position of the call's start and end in the order of all starts and ends of this port
   * (one counter): a call ran while another did iff startSeq < other.endSeq && other.startSeq < endSeq.
   * Exact whatever the load, unlike the wall clock.
   */
  startSeq: number;
  endSeq: number;
}

type CallInfo = Omit<FakeCall, 'start' | 'end' | 'startSeq' | 'endSeq'>;

/** Two calls ran at the same time (by event order). */
export const overlap = (a: FakeCall, b: FakeCall): boolean => a.startSeq < b.endSeq && b.startSeq < a.endSeq;

/** The most calls that were running at the same time (by event order). */
export function maxConcurrent(calls: FakeCall[]): number {
  const events = calls.flatMap((c) => [{ at: c.startSeq, d: 1 }, { at: c.endSeq, d: -1 }]).sort((a, b) => a.at - b.at);
  let running = 0;
  let max = 0;
  for (const e of events) max = Math.max(max, (running += e.d));
  return max;
}

export class FakePort implements AzurePort {
  readonly identities = new Map<string, ManagedIdentity>();
  readonly fics = new Map<string, FederatedCredential[]>();
  readonly clusters = new Map<string, ClusterIssuerInfo>();
  readonly calls: FakeCall[] = [];
  writeMs = 0;
  /** Return an error to fail this call (consumed by the caller's logic), or undefined. */
  fail?: (call: CallInfo) => AzureCallError | undefined;
  private active = new Map<string, number>();
  maxParallelPerIdentity = 0;
  maxParallel = 0;
  private running = 0;
  private seq = 0;

  addIdentity(identity: ManagedIdentity, fics: FederatedCredential[] = []): void {
    this.identities.set(identityKey(identity.resourceId), identity);
    this.fics.set(identityKey(identity.resourceId), fics.map((f) => ({ ...f })));
  }

  private async call<T>(c: CallInfo, ms: number, fn: () => T): Promise<T> {
    const start = Date.now();
    const startSeq = ++this.seq;
    const key = c.identity ?? '';
    const isWrite = c.op === 'put' || c.op === 'delete';
    if (isWrite) {
      this.active.set(key, (this.active.get(key) ?? 0) + 1);
      this.maxParallelPerIdentity = Math.max(this.maxParallelPerIdentity, this.active.get(key)!);
      this.running++;
      this.maxParallel = Math.max(this.maxParallel, this.running);
    }
    try {
      if (ms) await new Promise((r) => setTimeout(r, ms));
      const err = this.fail?.(c);
      if (err) throw err;
      return fn();
    } finally {
      if (isWrite) {
        this.active.set(key, this.active.get(key)! - 1);
        this.running--;
      }
      this.calls.push({ ...c, start, end: Date.now(), startSeq, endSeq: ++this.seq });
    }
  }

  async getIdentity(ref: { subscriptionId: string; resourceGroup: string; name: string }): Promise<ManagedIdentity> {
    const key = identityKey(identityResourceId(ref));
    return this.call({ op: 'getIdentity', identity: ref.name }, 0, () => {
      const found = this.identities.get(key);
      if (!found) throw new AzureCallError(`GET identity '${ref.name}'`, 'ResourceNotFound', `The Resource '${ref.name}' was not found.`, { statusCode: 404 });
      return found;
    });
  }

  async listFederatedCredentials(identity: ManagedIdentity): Promise<FederatedCredential[]> {
    return this.call({ op: 'list', identity: identity.name }, 0, () => (this.fics.get(identityKey(identity.resourceId)) ?? []).map((f) => ({ ...f })));
  }

  async putFederatedCredential(identity: ManagedIdentity, fic: FederatedCredential): Promise<void> {
    return this.call({ op: 'put', identity: identity.name, name: fic.name }, this.writeMs, () => {
      const list = this.fics.get(identityKey(identity.resourceId))!;
      const i = list.findIndex((f) => f.name.toLowerCase() === fic.name.toLowerCase());
      if (i >= 0) list[i] = { ...fic };
      else list.push({ ...fic });
    });
  }

  async deleteFederatedCredential(identity: ManagedIdentity, name: string): Promise<void> {
    return this.call({ op: 'delete', identity: identity.name, name }, this.writeMs, () => {
      const list = this.fics.get(identityKey(identity.resourceId))!;
      const i = list.findIndex((f) => f.name.toLowerCase() === name.toLowerCase());
      if (i >= 0) list.splice(i, 1);
    });
  }

  async getClusterIssuer(cluster: { subscriptionId: string; resourceGroup: string; name: string }): Promise<ClusterIssuerInfo> {
    return this.call({ op: 'getCluster', name: cluster.name }, 0, () => {
      const found = this.clusters.get(cluster.name);
      if (!found) throw new AzureCallError(`GET cluster '${cluster.name}'`, 'ResourceNotFound', 'not found', { statusCode: 404 });
      return found;
    });
  }
}
