// The job summary a reviewer reads: what changes, why, what failed and how to fix it.
import { describe, expect, it } from 'vitest';
import type { FicChange, Plan, ServiceAccountChange } from '../src/plan/types.ts';
import type { RunReport } from '../src/report/model.ts';
import { renderMarkdown } from '../src/report/markdown.ts';
import { renderText } from '../src/report/text.ts';

const at = { file: '.github/workload-identity.yaml', line: 12, column: 7 };
const identity = { resourceId: '/subscriptions/s/resourceGroups/rg/providers/Microsoft.ManagedIdentity/userAssignedIdentities/id-payments', name: 'id-payments', resourceGroup: 'rg', subscriptionId: 's', clientId: 'c', principalId: 'p', tenantId: 't' };
const fic: FicChange = { kind: 'federated-credential', action: 'create', identity, name: 'staging_payments_api', bindings: [], reason: 'no credential for system:serviceaccount:payments:api from this issuer' };
const sa: ServiceAccountChange = {
  kind: 'service-account', action: 'annotate', namespace: 'payments', name: 'api', annotations: { 'azure.workload.identity/client-id': 'c' }, before: { 'azure.workload.identity/client-id': 'old' }, labels: {},
  podsToRestart: ['api-7d9f-1', 'api-7d9f-2'], binding: { environment: 'staging', namespace: 'payments', serviceAccount: 'api', at }, reason: 'client-id old → c',
};
const plan = (over: Partial<Plan> = {}): Plan => ({ environment: 'staging', issuer: 'https://westeurope.oic.prod-aks.azure.com/t/u/', federatedCredentials: [fic], serviceAccounts: [sa], preflight: [], ...over });
const report = (over: Partial<RunReport> = {}): RunReport => ({ mode: 'plan', mappingFile: at.file, environment: 'staging', bindings: new Map(), problems: [], failures: [], notes: [], plan: plan(), ...over });

describe('job summary', () => {
  it('lists each change with its reason and the pods to restart', () => {
    const md = renderMarkdown(report());
    expect(md).toContain('### ✅ Workload Identity plan — staging');
    expect(md).toContain('#### Changes: 2');
    expect(md).toContain('| `staging_payments_api` | `id-payments` | ➕ create | no credential for system:serviceaccount:payments:api from this issuer |');
    expect(md).toContain('restart: `api-7d9f-1`, `api-7d9f-2`');
  });

  it('a failed preflight check shows its fix; passed info checks stay quiet', () => {
    const md = renderMarkdown(
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
    expect(md).toContain('### ❌ Workload Identity plan — staging');
    expect(md).toContain('- ❌ **rbac**: missing create serviceaccounts in payments');
    expect(md).toContain('  kind: Role\n  rules: []');
    expect(md).not.toContain('reachable');
  });

  it('a failed write names the target, the attempts and the Azure error code', () => {
    const md = renderMarkdown(report({ mode: 'apply', applied: [{ change: fic, ok: false, attempts: 6, error: 'ConcurrentFederatedIdentityCredentialsWritesForSingleManagedIdentity: too many writes' }, { change: sa, ok: true, attempts: 1 }] }));
    expect(md).toContain('#### Applied: 1 ok, 1 failed');
    expect(md).toContain('- ❌ `id-payments/staging_payments_api` (create, 6 attempt(s)): ConcurrentFederatedIdentityCredentialsWritesForSingleManagedIdentity');
  });

  it('a table cell cannot be broken by a | in a reason', () => {
    const md = renderMarkdown(report({ plan: plan({ federatedCredentials: [{ ...fic, reason: 'a | b' }] }) }));
    expect(md).toContain('a \\| b');
  });
});

describe('job log', () => {
  it('says what changes in plain lines, with the mapping line of a failed check', () => {
    const lines = renderText(report({ plan: plan({ preflight: [{ name: 'namespace', ok: false, severity: 'error', detail: "namespace 'payments' does not exist", at }] }) }));
    expect(lines).toContain(`  preflight ERROR namespace: namespace 'payments' does not exist (.github/workload-identity.yaml:12)`);
    expect(lines).toContain('    create    federated-credential id-payments/staging_payments_api: no credential for system:serviceaccount:payments:api from this issuer');
  });
});
