// The keys a scenario file may hold, section by section, so that a misspelt or misplaced key
// (`faults.latncy`, `clusters[0].podidentity`) is refused with its line instead of silently
// starting a sandbox without the behaviour the test relies on. `true`: any value (free-form
// maps such as labels, Kubernetes objects, injected faults); a nested shape applies to a map,
// or to each map item of a list.
import { isMap, isScalar, isSeq, LineCounter, parseDocument, type Node } from 'yaml';

interface Shape {
  [key: string]: Shape | true;
}

const keys = (...names: string[]): Shape => Object.fromEntries(names.map((n) => [n, true]));

export const SCENARIO_SHAPE: Shape = {
  ...keys('name', 'description', 'tenantId'),
  subscriptions: keys('id', 'name'),
  resourceGroups: keys('name', 'subscriptionId', 'location'),
  identities: {
    ...keys('name', 'resourceGroup', 'subscriptionId', 'location', 'clientId', 'principalId', 'tags'),
    federatedCredentials: keys('name', 'issuer', 'subject', 'audiences', 'propagated'),
  },
  clusters: {
    ...keys('name', 'resourceGroup', 'subscriptionId', 'location', 'kubernetesVersion', 'oidcIssuer', 'issuerId', 'workloadIdentity'),
    podIdentity: { enabled: true, identities: keys('name', 'namespace', 'identity', 'bindingSelector') },
  },
  kube: {
    ...keys('cluster', 'webhook', 'webhookNamespace', 'webhookVersion', 'images', 'unschedulable', 'objects'),
    namespaces: keys('name', 'labels', 'annotations'),
    serviceAccounts: keys('namespace', 'name', 'annotations', 'labels'),
  },
  github: {
    ...keys('owner', 'repo', 'event', 'environment', 'ref', 'sha', 'readOnly'),
    pullRequest: keys('number', 'title', 'headSha', 'headRef', 'baseRef', 'mergeCommitSha', 'merged', 'state'),
    comments: keys('body', 'user', 'bot', 'createdAt'),
  },
  login: keys('clientId', 'principalId', 'displayName', 'subjects'),
  faults: keys('ficPropagationDelayMs', 'issuerUnreachable', 'githubReadOnly', 'armPageSize', 'armWriteHoldMs', 'entraMismatchStyle', 'entraTokenLifetimeSeconds', 'latency', 'inject'),
};

/** Every key the shape does not know, as "line N: unknown key 'x' in kube.namespaces[0]; expected …". */
export function unknownScenarioKeys(text: string, shape: Shape = SCENARIO_SHAPE): string[] {
  const lines = new LineCounter();
  const doc = parseDocument(text, { lineCounter: lines });
  const out: string[] = [];
  const walk = (node: unknown, allowed: Shape, path: string): void => {
    if (isSeq(node)) {
      node.items.forEach((item, i) => walk(item, allowed, `${path}[${i}]`));
      return;
    }
    if (!isMap(node)) return;
    for (const pair of node.items) {
      const key = isScalar(pair.key) ? String(pair.key.value) : String(pair.key);
      const sub = allowed[key];
      const where = path ? `${path}.${key}` : key;
      if (sub === undefined) {
        const line = (pair.key as Node | null)?.range ? lines.linePos((pair.key as Node).range![0]).line : 0;
        out.push(`line ${line}: unknown key '${key}'${path ? ` in ${path}` : ''}; expected ${Object.keys(allowed).join(', ')}`);
      } else if (sub !== true) walk(pair.value, sub, where);
    }
  };
  walk(doc.contents, shape, '');
  return out;
}
