// The job summary a reviewer reads: what changes, why, what failed and how to fix it.
import { describe, expect, it } from 'vitest';
import type { FicChange, Plan, ServiceAccountChange } from '../src/plan/types.ts';
import type { RunReport } from '../src/report/model.ts';
import { renderMarkdown } from '../src/report/markdown.ts';
import { renderText } from '../src/report/text.ts';
import { allNodes, injected, mentions, parseGfm, visibleText } from './output/gfm.ts';

const at = { file: '.github/workload-identity.yaml', line: 12, column: 7 };
const identity = { resourceId: '/subscriptions/s/resourceGroups/rg/providers/Microsoft.ManagedIdentity/userAssignedIdentities/id-payments', name: 'id-payments', resourceGroup: 'rg', subscriptionId: 's', clientId: 'c', principalId: 'p', tenantId: 't' };
const fic: FicChange = { kind: 'federated-credential', action: 'create', identity, name: 'staging_payments_api', bindings: [], reason: 'no credential for system:serviceaccount:payments:api from this issuer' };
const sa: ServiceAccountChange = {
  kind: 'service-account', action: 'annotate', namespace: 'payments', name: 'api', annotations: { 'azure.workload.identity/client-id': 'c' }, before: { 'azure.workload.identity/client-id': 'old' }, labels: {},
  podsToRestart: ['api-7d9f-1', 'api-7d9f-2'], binding: { environment: 'staging', namespace: 'payments', serviceAccount: 'api', at }, reason: 'client-id old → c',
};
const plan = (over: Partial<Plan> = {}): Plan => ({ environment: 'staging', issuer: 'https://westeurope.oic.prod-aks.azure.com/t/u/', federatedCredentials: [fic], serviceAccounts: [sa], preflight: [], ...over });
const report = (over: Partial<RunReport> = {}): RunReport => ({ mode: 'plan', mappingFile: at.file, environment: 'staging', bindings: new Map(), problems: [], failures: [], notes: [], plan: plan(), ...over });

// What a reader sees: the summary parsed as GitHub Flavored Markdown.
function rendered(r: RunReport) {
  const root = parseGfm(renderMarkdown(r));
  const tables = root.children.filter((n) => n.type === 'table').map((t) => t.children.map((row) => row.children.map(visibleText)));
  const blocks = root.children.map(visibleText);
  return { root, tables, blocks, text: blocks.join('\n') };
}

describe('job summary', () => {
  it('lists each change with its reason and the pods to restart', () => {
    const { tables, blocks } = rendered(report());
    expect(blocks[0]).toBe('✅ Workload Identity plan — staging');
    expect(blocks).toContain('Changes: 2');
    expect(tables[0]).toContainEqual(['staging_payments_api', 'id-payments', '➕ create', 'no credential for system:serviceaccount:payments:api from this issuer']);
    expect(tables[1]).toContainEqual(['payments/api', '✏️ annotate', 'client-id old → crestart: api-7d9f-1, api-7d9f-2']);
  });

  it('a failed preflight check shows its fix; passed info checks stay quiet', () => {
    const { root, blocks, text } = rendered(
      report({
        failures: ['1 preflight check(s) failed: rbac'],
        plan: plan({
          preflight: [
            { name: 'rbac', ok: false, severity: 'error', detail: 'missing create serviceaccounts in payments', fix: 'kind: Role\nrules: []' },
            { name: 'api', ok: true, severity: 'info', detail: 'reachable' },
          ],
        }),
      }),
    );
    expect(blocks[0]).toBe('❌ Workload Identity plan — staging');
    expect(text).toContain('❌ rbac: missing create serviceaccounts in payments');
    expect(allNodes(root).filter((n) => n.type === 'code').map(visibleText)).toEqual(['kind: Role\nrules: []']);
    expect(text).not.toContain('reachable');
  });

  it('a failed write names the target, the attempts and the Azure error code', () => {
    const { text } = rendered(report({ mode: 'apply', applied: [{ change: fic, ok: false, attempts: 6, error: 'ConcurrentFederatedIdentityCredentialsWritesForSingleManagedIdentity: too many writes' }, { change: sa, ok: true, attempts: 1 }] }));
    expect(text).toContain('Applied: 1 ok, 1 failed');
    expect(text).toContain('❌ id-payments/staging_payments_api (create, 6 attempt(s)): ConcurrentFederatedIdentityCredentialsWritesForSingleManagedIdentity');
  });

  it('a table cell cannot be broken by a | in a reason', () => {
    const { tables } = rendered(report({ plan: plan({ federatedCredentials: [{ ...fic, reason: 'a | b' }] }) }));
    expect(tables[0]![1]).toEqual(['staging_payments_api', 'id-payments', '➕ create', 'a | b']);
  });

  it('names, reasons, messages and fixes from data render as text: no link, image, HTML or mention', () => {
    const evil = (field: string) => `${field} [x](https://evil.example) ![i](https://evil.example/i.png) <img src=x> @octocat **b**\n# h`;
    const hostileFic: FicChange = { ...fic, name: evil('fic'), identity: { ...identity, name: evil('identity') }, reason: evil('reason') };
    const hostileSa: ServiceAccountChange = { ...sa, namespace: evil('ns'), name: evil('sa'), podsToRestart: [evil('pod')], reason: evil('sa-reason') };
    for (const r of [
      report({
        environment: evil('env'),
        failures: [evil('failure')],
        notes: [evil('note')],
        problems: [{ ...at, message: evil('problem') }],
        plan: plan({
          issuer: evil('issuer'),
          federatedCredentials: [hostileFic, { ...hostileFic, action: 'adopt' }],
          serviceAccounts: [hostileSa],
          preflight: [{ name: evil('check'), ok: false, severity: 'error', detail: evil('detail'), fix: evil('fix') + '\n```\n[y](https://evil.example)' }],
        }),
        applied: [{ change: hostileFic, ok: false, attempts: 1, error: evil('error') }],
      }),
      report({ mode: 'validate', plan: undefined, bindings: new Map([[evil('env'), [{ namespace: evil('ns'), serviceAccount: evil('sa'), identity: { ...identity, name: evil('identity'), resourceGroup: evil('rg') }, ficName: evil('fic') } as never]]]) }),
    ]) {
      const { root, text } = rendered(r);
      expect(injected(root)).toEqual([]);
      expect(mentions(root)).toEqual([]);
      expect(allNodes(root).filter((n) => n.type === 'heading').map(visibleText)).not.toContain('h');
      for (const field of r.plan ? ['env', 'failure', 'note', 'problem', 'issuer', 'fic', 'identity', 'reason', 'ns', 'pod', 'sa-reason', 'check', 'detail', 'error'] : ['env', 'ns', 'sa', 'identity', 'rg', 'fic']) {
        expect(text).toContain(`${field} [x](https://evil.example) ![i](https://evil.example/i.png) <img src=x> @octocat **b**`);
      }
    }
  });
});

describe('job log', () => {
  it('says what changes in plain lines, with the mapping line of a failed check', () => {
    const lines = renderText(report({ plan: plan({ preflight: [{ name: 'namespace', ok: false, severity: 'error', detail: "namespace 'payments' does not exist", at }] }) }));
    expect(lines).toContain(`  preflight ERROR namespace: namespace 'payments' does not exist (.github/workload-identity.yaml:12)`);
    expect(lines).toContain('    create    federated-credential id-payments/staging_payments_api: no credential for system:serviceaccount:payments:api from this issuer');
  });
});
