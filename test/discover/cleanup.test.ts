import { describe, expect, it } from 'vitest';
import { cleanupPlan } from '../../src/discover/cleanup.ts';
import type { EstateInput } from '../../src/discover/estate.ts';
import type { KubeObject } from '../../src/discover/objects.ts';

const rid = (n: string) => `/subscriptions/5f0c3a1e-2b4d-4c6e-8f90-1a2b3c4d5e6f/resourceGroups/rg/providers/Microsoft.ManagedIdentity/userAssignedIdentities/${n}`;
const identity = (ns: string, name: string): KubeObject => ({ kind: 'AzureIdentity', metadata: { name, namespace: ns }, spec: { type: 0, resourceID: rid(name) } });
const binding = (ns: string, name: string, identityName: string, selector: string): KubeObject => ({ kind: 'AzureIdentityBinding', metadata: { name, namespace: ns }, spec: { AzureIdentity: identityName, Selector: selector } });
const deployment = (ns: string, name: string, sa: string, selector?: string): KubeObject => ({
  kind: 'Deployment',
  metadata: { name, namespace: ns },
  spec: { template: { metadata: { labels: { 'azure.workload.identity/use': 'true', ...(selector ? { aadpodidbinding: selector } : {}) } }, spec: { serviceAccountName: sa } } },
});

function estate(workloads: KubeObject[], armPodIdentities: EstateInput['armPodIdentities'] = []): EstateInput {
  return {
    azureIdentities: [identity('payments', 'pay-id'), identity('orders', 'ord-id')],
    azureIdentityBindings: [binding('payments', 'pay-b', 'pay-id', 'payments'), binding('orders', 'ord-b', 'ord-id', 'orders')],
    exceptions: [],
    workloads,
    kedaAuthentications: [],
    armPodIdentities,
  };
}

describe('clean-up plan: what Pod Identity objects serve nothing once bindings verify', () => {
  it('a verified workload still labelled: remove the label; the other binding stays in use', () => {
    const plan = cleanupPlan(estate([deployment('payments', 'api', 'api', 'payments'), deployment('orders', 'worker', 'worker', 'orders')]), { verified: new Set(['payments/api']), unseen: [] });
    expect(plan.labelsToRemove).toEqual([{ workload: 'Deployment payments/api', selector: 'payments' }]);
    expect(plan.stillInUse).toEqual(['Deployment orders/worker']);
    expect(plan.unusedBindings).toEqual([]);
    expect(plan.removal).toEqual([]);
  });

  it('a verified workload whose template does not ask for injection keeps its label: removing it would leave it no identity', () => {
    const w = deployment('payments', 'api', 'api', 'payments');
    delete (w.spec!.template as { metadata: { labels: Record<string, string> } }).metadata.labels['azure.workload.identity/use'];
    const plan = cleanupPlan(estate([w]), { verified: new Set(['payments/api']), unseen: [] });
    expect(plan.labelsToRemove).toEqual([]);
    expect(plan.stillInUse).toEqual(['Deployment payments/api (add the label azure.workload.identity/use: "true" to its pod template first)']);
  });

  it('a binding whose selector no template carries goes, with its identity', () => {
    const plan = cleanupPlan(estate([deployment('orders', 'worker', 'worker', 'orders'), deployment('payments', 'api', 'api')]), { verified: new Set(['payments/api']), unseen: [] });
    expect(plan.unusedBindings).toEqual(['AzureIdentityBinding payments/pay-b']);
    expect(plan.unusedIdentities).toEqual(['AzureIdentity payments/pay-id']);
    expect(plan.removal).toEqual([]);
  });

  it('nothing left cluster-wide: how to remove the AKS add-on; not said when part of the cluster was hidden', () => {
    const arm = [{ name: 'pay', namespace: 'payments', bindingSelector: 'payments', identity: { resourceId: rid('pay-id') } }];
    const clean = estate([deployment('payments', 'api', 'api')], arm);
    const plan = cleanupPlan(clean, { verified: new Set(['payments/api']), unseen: [], cluster: { name: 'aks', resourceGroup: 'rg-aks' } });
    expect(plan.removal).toEqual([
      'az aks pod-identity delete --resource-group rg-aks --cluster-name aks --namespace payments --name pay',
      'az aks update --resource-group rg-aks --name aks --disable-pod-identity',
    ]);
    const hidden = cleanupPlan(clean, { verified: new Set(['payments/api']), unseen: ['Pod in all namespaces: 403'], cluster: { name: 'aks', resourceGroup: 'rg-aks' } });
    expect(hidden.removal).toEqual([]);
    expect(hidden.unseen).toEqual(['Pod in all namespaces: 403']);
  });
});
