// NetworkPolicy egress, as a CNI that enforces it (Azure NPM, Calico, Cilium) leaves a pod:
// a policy that selects the pod, lists Egress in policyTypes and allows nothing (no egress
// rules: the usual default-deny, https://kubernetes.io/docs/concepts/services-networking/network-policies/#default-deny-all-egress-traffic)
// drops its packets. Nothing answers: connections never complete, as with a real
// default-deny; the client's own timeout is what ends them. The emulator runs containers as
// local processes, so the drop is a preload (`node --require`) that leaves every TCP
// connect pending forever. Policies with egress rules are treated as allowing everything
// (peers and ports are not evaluated).
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { selectorMatches } from './admission/webhook.ts';
import type { KubeStore as KStore } from './store.ts';
import type { Pod } from './types.ts';

const BLACK_HOLE = `// Written by the sandbox kubelet: egress denied by a NetworkPolicy.
'use strict';
const net = require('node:net');
const connect = net.Socket.prototype.connect;
net.Socket.prototype.connect = function (...args) {
  const o = Array.isArray(args[0]) ? args[0][0] : args[0];
  if (o && typeof o === 'object' && o.path) return connect.apply(this, args); // local sockets are not egress
  this.connecting = true; // the SYN goes out and nothing ever comes back
  // A real pending connection is a live handle: it keeps the process waiting until closed.
  const alive = setInterval(() => {}, 1 << 30);
  this.once('close', () => clearInterval(alive));
  return this;
};
`;

/** Writes the preload once; returns its path. */
export function writeBlackHole(dir: string): string {
  const file = join(dir, 'egress-black-hole.cjs');
  writeFileSync(file, BLACK_HOLE);
  return file;
}

interface PolicySpec {
  podSelector?: { matchLabels?: Record<string, string>; matchExpressions?: { key: string; operator: string; values?: string[] }[] };
  policyTypes?: string[];
  egress?: unknown[];
}

/** A policy in the pod's namespace selects it, covers Egress and allows none. */
export function egressDenied(store: KStore, pod: Pod): boolean {
  return store.list('networkpolicies', pod.metadata.namespace).some((p) => {
    const spec = (p['spec'] ?? {}) as PolicySpec;
    const types = spec.policyTypes ?? (spec.egress ? ['Ingress', 'Egress'] : ['Ingress']);
    return types.includes('Egress') && !(spec.egress ?? []).length && selectorMatches(spec.podSelector ?? {}, pod.metadata.labels);
  });
}
