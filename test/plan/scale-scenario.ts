// A mapping of many bindings over many namespaces and identities, the sandbox world it
// plans against, and the action's ports to that sandbox: shared by the call-count test
// (environment-reads.test.ts) and the plan-scale benchmark (scripts/bench-plan-scale.ts).
// Every other ServiceAccount exists, unannotated, with one running pod — workloads still on
// Pod Identity — so every existing one changes identity and the plan needs its pods.
import { createAzureCredential } from '../../src/azure/credential.ts';
import { createArmPort } from '../../src/azure/port.ts';
import { createKubePort, loadKubeConfig } from '../../src/kube/client.ts';
import type { Ports } from '../../src/plan/environment.ts';
import { azureSettings, trustCa } from '../azure/sandbox-helpers.ts';
import type { Sandbox, Scenario } from '../sandbox/index.ts';

export interface ScaleShape {
  namespaces: number;
  /** ServiceAccounts bound per namespace, each to another identity. */
  perNamespace: number;
  identities: number;
}

const pad = (n: number): string => String(n).padStart(2, '0');
export const namespaceName = (i: number): string => `team-${pad(i)}`;

export function scaleScenario(shape: ScaleShape): Scenario {
  const objects: object[] = [];
  for (let n = 0; n < shape.namespaces; n++) {
    const namespace = namespaceName(n);
    for (let j = 0; j < shape.perNamespace; j += 2) {
      const name = `app-${pad(j)}`;
      objects.push(
        { apiVersion: 'v1', kind: 'ServiceAccount', metadata: { name, namespace } },
        {
          apiVersion: 'v1',
          kind: 'Pod',
          metadata: {
            name: `${name}-7c9d-x${pad(j)}`,
            namespace,
            labels: { app: name, aadpodidbinding: name },
            ownerReferences: [{ apiVersion: 'apps/v1', kind: 'ReplicaSet', name: `${name}-7c9d`, uid: `rs-${namespace}-${name}`, controller: true }],
          },
          spec: { serviceAccountName: name, containers: [{ name: 'app', image: 'mcr.microsoft.com/azurelinux/base/core:3.0' }] },
          status: { phase: 'Running' },
        },
      );
    }
  }
  return {
    name: 'plan-scale',
    resourceGroups: ['rg-identities'],
    identities: Array.from({ length: shape.identities }, (_, i) => ({ name: `id-${pad(i)}` })),
    clusters: [{ name: 'aks-scale', resourceGroup: 'rg-aks' }],
    kube: { namespaces: Array.from({ length: shape.namespaces }, (_, i) => namespaceName(i)), objects },
    github: { event: 'deployment', environment: 'scale' },
  };
}

/** The mapping, environment `scale`; `bound` limits the ServiceAccounts bound per namespace (default all). */
export function scaleMapping(sb: Sandbox, shape: ScaleShape, bound = shape.perNamespace): string {
  const lines = [
    'version: 1',
    'defaults:',
    `  tenantId: ${sb.tenantId}`,
    `  subscriptionId: ${sb.subscriptionId}`,
    '  resourceGroup: rg-identities',
    'environments:',
    '  scale:',
    '    cluster: { resourceGroup: rg-aks, name: aks-scale }',
    'bindings:',
  ];
  for (let n = 0; n < shape.namespaces; n++) {
    for (let j = 0; j < bound; j++) {
      lines.push(`  - namespace: ${namespaceName(n)}`, `    serviceAccount: app-${pad(j)}`, `    identity: id-${pad((n + j) % shape.identities)}`);
    }
  }
  return lines.join('\n');
}

/** The ARM and Kubernetes ports as main.ts builds them, pointed at the sandbox (its CA trusted in-process). */
export function sandboxPorts(sb: Sandbox): Ports {
  trustCa(sb.tls.caPem);
  const credential = createAzureCredential(azureSettings(sb), (audience) => sb.githubIdToken(audience));
  const kube = loadKubeConfig({ kubeconfig: '' }, { env: { KUBECONFIG: sb.kubeconfigPath } });
  return { azure: createArmPort(credential, { armEndpoint: sb.urls.arm }), kube: createKubePort(kube.kc) };
}
