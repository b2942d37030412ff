// The discovered estate as a mapping file, version 1 (DESIGN §4): a first draft for review,
// so every binding says in a comment where it came from, and what cannot be decided from the
// cluster alone (a ServiceAccount behind two identities, KEDA's operator) is written
// commented out with the reason. Values in comments go through oneLine: a CRD field can
// hold anything, and a line break there would end the comment.
import { Document, stringify } from 'yaml';
import type { ClusterRef } from '../mapping/types.ts';
import { oneLine } from '../output/sink.ts';
import type { DiscoveredBinding, Estate } from './estate.ts';

export interface DiscoveredEnvironment {
  name: string;
  /** From the existing mapping file, when it names the cluster. */
  cluster?: ClusterRef;
  /** Else the API server's issuer discovery document. */
  issuer?: string;
}

const KEDA_OPERATOR = { namespace: 'keda', serviceAccount: 'keda-operator' };

function entry(b: DiscoveredBinding): Record<string, unknown> {
  return { namespace: b.namespace, serviceAccount: b.serviceAccount, identity: b.identityResourceId };
}

function provenance(b: DiscoveredBinding): string {
  const lines = [`from ${b.sources.join(', ')}`, `used by ${b.workloads.map((w) => `${w.kind} ${w.name}`).join(', ')}`];
  if (b.replacesDefault) lines.push(`proposed ServiceAccount: these pods run as 'default' today; set serviceAccountName: ${b.serviceAccount}`);
  return lines.map((l) => ` ${oneLine(l)}`).join('\n');
}

/** A YAML block as comment lines (the comment marker is added by the yaml library). */
const commentedOut = (value: unknown): string =>
  stringify(value)
    .trimEnd()
    .split('\n')
    .map((l) => ` ${l}`)
    .join('\n');

export function renderMapping(estate: Estate, env: DiscoveredEnvironment, origin: string): string {
  const active = estate.bindings.filter((b) => !b.conflict);
  const held = estate.bindings.filter((b) => b.conflict);
  const environment: Record<string, unknown> = env.cluster
    ? { cluster: { resourceGroup: env.cluster.resourceGroup, name: env.cluster.name, ...(env.cluster.subscriptionId ? { subscriptionId: env.cluster.subscriptionId } : {}) } }
    : { issuer: env.issuer };
  const doc = new Document({ version: 1, environments: { [env.name]: environment }, bindings: active.map(entry) });
  doc.commentBefore = [
    ` Discovered by workload-identity-action (mode: discover) from ${oneLine(origin)}.`,
    ' A first draft: review each binding, then open a pull request; `mode: plan` shows what',
    ' applying it would change. Nothing was written to Azure or the cluster.',
  ].join('\n');
  const seq = doc.get('bindings', true) as { items: { commentBefore?: string }[]; comment?: string };
  active.forEach((b, i) => {
    const item = seq.items[i];
    if (item) item.commentBefore = provenance(b);
  });

  const trailing: string[] = [];
  for (const b of held) {
    trailing.push(` CONFLICT — ServiceAccount ${b.namespace}/${b.serviceAccount} is used with more than one identity; give the workloads their own ServiceAccounts first.`, provenance(b), commentedOut([entry(b)]));
  }
  for (const k of estate.keda) {
    trailing.push(
      ` KEDA: ${oneLine(k.object)} switches to podIdentity.provider azure-workload; KEDA's operator then needs this binding (check its namespace and ServiceAccount).`,
      commentedOut([{ ...KEDA_OPERATOR, identity: oneLine(k.identityResourceId ?? `<the identity whose client ID is ${k.clientId ?? 'unknown'}>`) }]),
    );
  }
  if (trailing.length) seq.comment = trailing.join('\n');
  if (!active.length) doc.comment = ' No binding could be proposed: see the comments above and the discover report.';
  return doc.toString({ lineWidth: 0 });
}
