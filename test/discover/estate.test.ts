import { describe, expect, it } from 'vitest';
import { discoverEstate, type EstateInput } from '../../src/discover/estate.ts';
import type { KubeObject } from '../../src/discover/objects.ts';
import { renderMapping } from '../../src/discover/render.ts';
import { parseMapping } from '../../src/mapping/index.ts';

const SUB = '5f0c3a1e-2b4d-4c6e-8f90-1a2b3c4d5e6f';
const rid = (name: string) => `/subscriptions/${SUB}/resourceGroups/rg-identities/providers/Microsoft.ManagedIdentity/userAssignedIdentities/${name}`;

const identity = (namespace: string, name: string, spec: Record<string, unknown>): KubeObject => ({ kind: 'AzureIdentity', metadata: { name, namespace }, spec });
const binding = (namespace: string, name: string, spec: Record<string, unknown>): KubeObject => ({ kind: 'AzureIdentityBinding', metadata: { name, namespace }, spec });
const deployment = (namespace: string, name: string, labels: Record<string, string>, serviceAccountName?: string): KubeObject => ({
  kind: 'Deployment',
  metadata: { name, namespace },
  spec: { template: { metadata: { labels }, spec: { ...(serviceAccountName ? { serviceAccountName } : {}), containers: [{ name: 'c', image: 'x' }] } } },
});

function estate(extra: Partial<EstateInput> = {}): EstateInput {
  return {
    azureIdentities: [
      identity('payments', 'payments-identity', { type: 0, resourceID: rid('id-payments'), clientID: 'c-pay' }),
      // aad-pod-identity < v1.6 wrote PascalCase fields
      identity('orders', 'orders-identity', { Type: 0, ResourceID: rid('id-orders'), ClientID: 'c-ord' }),
    ],
    azureIdentityBindings: [binding('payments', 'payments-binding', { azureIdentity: 'payments-identity', selector: 'payments' }), binding('orders', 'orders-binding', { AzureIdentity: 'orders-identity', Selector: 'orders' })],
    exceptions: [],
    workloads: [deployment('payments', 'payments-api', { aadpodidbinding: 'payments' }, 'payments-api'), deployment('orders', 'orders-worker', { aadpodidbinding: 'orders' })],
    kedaAuthentications: [],
    armPodIdentities: [],
    ...extra,
  };
}

describe('discover: Pod Identity objects become bindings', () => {
  it('one binding per (namespace, ServiceAccount, identity), legacy PascalCase fields included', () => {
    const result = discoverEstate(estate());
    expect(result.bindings.map((b) => [b.namespace, b.serviceAccount, b.identityResourceId])).toEqual([
      ['orders', 'orders-worker', rid('id-orders')],
      ['payments', 'payments-api', rid('id-payments')],
    ]);
  });

  it('a workload on the default ServiceAccount gets a dedicated one proposed, with a finding', () => {
    const result = discoverEstate(estate());
    const orders = result.bindings.find((b) => b.namespace === 'orders')!;
    expect(orders.replacesDefault).toBe(true);
    expect(result.findings.filter((f) => f.code === 'default-service-account').map((f) => f.object)).toEqual(['Deployment orders/orders-worker']);
  });

  it('a service principal (type 1) is reported as not migratable and proposes nothing', () => {
    const result = discoverEstate(
      estate({
        azureIdentities: [identity('payments', 'payments-identity', { type: 1, clientID: 'sp', resourceID: '' })],
        azureIdentityBindings: [binding('payments', 'payments-binding', { azureIdentity: 'payments-identity', selector: 'payments' })],
      }),
    );
    expect(result.bindings).toEqual([]);
    expect(result.findings.map((f) => f.code)).toContain('service-principal');
  });

  it('one ServiceAccount used with two identities is flagged and written commented out, never guessed', () => {
    const input = estate();
    input.workloads = [deployment('payments', 'a', { aadpodidbinding: 'payments' }, 'shared'), deployment('payments', 'b', { aadpodidbinding: 'orders' }, 'shared')];
    const result = discoverEstate(input);
    expect(result.findings.filter((f) => f.code === 'service-account-conflict').map((f) => f.object)).toEqual(['ServiceAccount payments/shared']);
    const text = renderMapping(result, { name: 'staging', issuer: 'https://eastus.oic.prod-aks.azure.com/t/u/' }, 'https://aks');
    const parsed = parseMapping(text, 'discovered.yaml');
    expect(parsed.problems).toEqual([]);
    expect(parsed.mapping?.bindings).toEqual([]);
    expect(text).toMatch(/# CONFLICT — ServiceAccount payments\/shared/);
  });

  it('an AzureIdentityBinding whose selector no template uses is listed as unused', () => {
    const input = estate();
    input.workloads = input.workloads.slice(0, 1);
    expect(discoverEstate(input).findings.filter((f) => f.code === 'unused-binding').map((f) => f.object)).toEqual(['AzureIdentityBinding orders/orders-binding']);
  });

  it('pods a controller made are covered by their workload; a bare pod is a workload of its own', () => {
    const input = estate();
    const pod = (name: string, owner?: string): KubeObject => ({
      kind: 'Pod',
      metadata: { name, namespace: 'payments', labels: { aadpodidbinding: 'payments' }, ...(owner ? { ownerReferences: [{ kind: 'ReplicaSet', name: owner, controller: true }] } : {}) },
      spec: { serviceAccountName: owner ? 'payments-api' : 'batch', containers: [] },
    });
    input.workloads.push(pod('payments-api-7c9d-x', 'payments-api-7c9d'), pod('one-off'));
    const sas = discoverEstate(input).bindings.map((b) => `${b.namespace}/${b.serviceAccount}`);
    expect(sas).toEqual(['orders/orders-worker', 'payments/batch', 'payments/payments-api']);
  });

  it('the AKS-managed add-on (podIdentityProfile) counts like the CRDs', () => {
    const result = discoverEstate(
      estate({
        azureIdentities: [],
        azureIdentityBindings: [],
        armPodIdentities: [{ name: 'payments-identity', namespace: 'payments', bindingSelector: 'payments', identity: { resourceId: rid('id-payments'), clientId: 'c' } }],
      }),
    );
    expect(result.bindings.map((b) => b.identityResourceId)).toEqual([rid('id-payments')]);
    expect(result.bindings[0]!.sources).toEqual(['podIdentityProfile payments/payments-identity']);
  });

  it('KEDA on provider azure: a finding and a commented-out operator binding; the output is a valid mapping', () => {
    const input = estate({
      kedaAuthentications: [{ kind: 'TriggerAuthentication', metadata: { name: 'sb', namespace: 'orders' }, spec: { podIdentity: { provider: 'azure', identityId: 'c-ord' } } }],
      exceptions: [{ kind: 'AzurePodIdentityException', metadata: { name: 'probe', namespace: 'orders' }, spec: { podLabels: { app: 'x' } } }],
    });
    const result = discoverEstate(input);
    expect(result.findings.map((f) => f.code).sort()).toEqual(['default-service-account', 'exception', 'keda-provider']);
    const text = renderMapping(result, { name: 'staging', cluster: { resourceGroup: 'rg-aks', name: 'aks-staging' } }, 'https://aks');
    const parsed = parseMapping(text, 'discovered.yaml');
    expect(parsed.problems).toEqual([]);
    expect(parsed.mapping?.bindings.map((b) => `${b.namespace}/${b.serviceAccount}`)).toEqual(['orders/orders-worker', 'payments/payments-api']);
    expect(text).toContain(`#   identity: ${rid('id-orders')}`);
  });

  it('a hostile value in a CRD field cannot break out of its comment', () => {
    const input = estate();
    input.azureIdentityBindings[0] = binding('payments', 'payments-binding', { azureIdentity: 'payments-identity', selector: 'payments' });
    input.azureIdentities[0] = identity('payments', 'payments-identity', { type: 0, resourceID: rid('id-payments'), clientID: 'c' });
    input.kedaAuthentications = [{ kind: 'TriggerAuthentication', metadata: { name: 'sb', namespace: 'orders' }, spec: { podIdentity: { provider: 'azure', identityId: 'x\nversion: 2' } } }];
    const text = renderMapping(discoverEstate(input), { name: 'staging', issuer: 'https://eastus.oic.prod-aks.azure.com/t/u/' }, 'https://aks');
    expect(parseMapping(text, 'd.yaml').problems).toEqual([]);
    expect(text.split('\n').filter((l) => l.startsWith('version:'))).toEqual(['version: 1']);
  });
});
