// The report a reviewer reads (the job summary and the PR comment are one rendering): the
// verdict first, what failed, what changes, and nothing from data becomes a link or a tag.
import { describe, expect, it } from 'vitest';
import type { ResolvedBinding } from '../src/mapping/types.ts';
import type { FicChange, Plan, ServiceAccountChange } from '../src/plan/types.ts';
import type { VerificationResult } from '../src/result.ts';
import { annotations } from '../src/report/annotations.ts';
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
const binding = (namespace: string, serviceAccount: string, line: number): ResolvedBinding => ({
  environment: 'staging', namespace, serviceAccount, identity: { name: 'id-payments', resourceGroup: 'rg', subscriptionId: 's', resourceId: '' }, audience: 'api://AzureADTokenExchange',
  createServiceAccount: true, annotations: {}, verify: { enabled: true }, ficName: `staging_${namespace}_${serviceAccount}`, subject: `system:serviceaccount:${namespace}:${serviceAccount}`, at: { ...at, line }, identityAt: { ...at, line: line + 2 },
});
const bindings = new Map([['staging', [binding('payments', 'api', 12), binding('orders', 'worker', 20)]]]);
const plan = (over: Partial<Plan> = {}): Plan => ({ environment: 'staging', issuer: 'https://westeurope.oic.prod-aks.azure.com/t/u/', federatedCredentials: [fic], serviceAccounts: [sa], preflight: [], ...over });
const report = (over: Partial<RunReport> = {}): RunReport => ({ mode: 'plan', mappingFile: at.file, environment: 'staging', bindings, problems: [], failures: [], notes: [], plan: plan(), ...over });
const unchanged = plan({ federatedCredentials: [{ ...fic, action: 'unchanged' }], serviceAccounts: [{ ...sa, action: 'unchanged', podsToRestart: [] }] });
const passed = (namespace: string, serviceAccount: string): VerificationResult => ({ namespace, serviceAccount, identity: 'id-payments', ok: true, checks: [{ name: 'exchange', ok: true, detail: 'token issued' }], durationMs: 4200 });
const failed: VerificationResult = {
  namespace: 'orders', serviceAccount: 'worker', identity: 'id-payments', ok: false, aadsts: 700213, durationMs: 3100,
  checks: [
    { name: 'env', ok: true, detail: 'AZURE_CLIENT_ID, AZURE_TENANT_ID, AZURE_FEDERATED_TOKEN_FILE, AZURE_AUTHORITY_HOST injected' },
    { name: 'exchange', ok: false, detail: "the FIC's subject is 'system:serviceaccount:orders:Worker' but the token says 'system:serviceaccount:orders:worker'" },
  ],
};
const RUN = 'https://github.com/contoso/platform/actions/runs/1000000001';
const appliedAll = [{ change: fic, ok: true, attempts: 1 }, { change: sa, ok: true, attempts: 1 }];

// What a reader sees: the report parsed as GitHub Flavored Markdown.
function rendered(r: RunReport) {
  const md = renderMarkdown(r, { runUrl: RUN });
  const root = parseGfm(md);
  const tables = root.children.filter((n) => n.type === 'table').map((t) => t.children.map((row) => row.children.map(visibleText)));
  const blocks = root.children.map(visibleText);
  return { md, root, tables, blocks, text: blocks.join('\n') };
}

describe('the verdict comes first', () => {
  it.each<[string, Partial<RunReport>, string]>([
    ['plan with changes', {}, '📝 staging: 2 changes to apply for 2 bindings'],
    ['plan with nothing to do', { plan: unchanged }, '✅ staging: 2 bindings up to date, nothing to change'],
    ['apply, verified', { mode: 'apply', applied: appliedAll, verifications: [passed('payments', 'api'), passed('orders', 'worker')] }, '✅ staging: 2 bindings applied (2 changes) and verified'],
    ['apply, nothing to do, verified', { mode: 'apply', plan: unchanged, applied: [], verifications: [passed('payments', 'api'), passed('orders', 'worker')] }, '✅ staging: 2 bindings already applied and verified'],
    ['apply without verification', { mode: 'apply', applied: appliedAll }, '✅ staging: 2 bindings applied (2 changes), not verified'],
    ['verify, one failed', { mode: 'verify', plan: unchanged, verifications: [passed('payments', 'api'), failed], failures: ['1 of 2 bindings failed verification'] }, '❌ staging: verify failed: 1 of 2 bindings failed verification'],
    ['validate', { mode: 'validate', environment: '', plan: undefined }, '✅ .github/workload-identity.yaml: valid, 2 bindings in 1 environment'],
  ])('%s', (_name, over, first) => {
    const { md, root } = rendered(report(over));
    expect(root.children[0]!.type).toBe('heading');
    expect(visibleText(root.children[0]!)).toBe(first);
    expect(md.split('\n')[0]).toMatch(/^### /);
  });

  it('all well stays under ten lines, with the link to the run', () => {
    for (const over of [{ mode: 'verify' as const }, { mode: 'apply' as const, applied: [] }]) {
      const { md, root } = rendered(report({ ...over, plan: unchanged, verifications: [passed('payments', 'api'), passed('orders', 'worker')] }));
      expect(md.split('\n').length).toBeLessThan(10);
      expect(allNodes(root).filter((n) => n.type === 'link').map((n) => (n as { url: string }).url)).toEqual([RUN]);
    }
  });
});

describe('failures first', () => {
  it('a failed verification comes before the changes, its diagnosis folded in <details>', () => {
    const { md, root, text } = rendered(report({ mode: 'apply', applied: appliedAll, verifications: [passed('payments', 'api'), failed], failures: ['1 of 2 bindings failed verification'] }));
    expect(md.indexOf('<details>')).toBeGreaterThan(0);
    expect(md.indexOf('<details>')).toBeLessThan(md.indexOf('#### Applied'));
    expect(text).toContain("❌ orders/worker as id-payments: the FIC's subject is 'system:serviceaccount:orders:Worker' but the token says 'system:serviceaccount:orders:worker' (AADSTS700213)");
    const checks = root.children.filter((n) => n.type === 'table').map((t) => t.children.map((row) => row.children.map(visibleText))).find((t) => t[0]![0] === 'check');
    expect(checks?.slice(1).map((r) => r.slice(0, 2))).toEqual([['env', '✅'], ['exchange', '❌']]);
    expect(text).toContain('✅ Verified (a pod exchanged its token): payments/api as id-payments');
  });

  it('the diagnosis is the summary line and its fix comes first inside; a binding not applied comes before the rest', () => {
    const diagnosed = { ...failed, cause: "No federated credential of identity 'id-payments' matches the token (AADSTS70021): the credential's subject is 'a' but the token says 'b'.", fix: 'Run this action in apply mode with the mapping fixed.', aadsts: 70021, claims: { token: { iss: 'https://issuer/', sub: 'b', aud: ['api://AzureADTokenExchange'] } } };
    const notApplied = { ...failed, namespace: 'payments', serviceAccount: 'api', aadsts: undefined, notApplied: true, checks: [{ name: 'applied', ok: false, detail: 'federated credential not in place' }], cause: 'Not applied: federated credential not in place. No pod was made.' };
    const { md, text } = rendered(report({ mode: 'verify', plan: unchanged, verifications: [diagnosed, notApplied] as VerificationResult[], failures: ['2 of 2 bindings failed verification'] }));
    expect(text).toContain("❌ orders/worker as id-payments: No federated credential of identity 'id-payments' matches the token (AADSTS70021): the credential's subject is 'a' but the token says 'b'.");
    expect(text).not.toContain('(AADSTS70021) (AADSTS70021)');
    expect(text).toContain('Fix: Run this action in apply mode with the mapping fixed.');
    expect(text).toContain('Token: iss https://issuer/, sub b, aud api://AzureADTokenExchange');
    expect(md.indexOf('payments/api')).toBeLessThan(md.indexOf('orders/worker'));
    expect(annotations(report({ mode: 'verify', verifications: [notApplied] as VerificationResult[] }))[0]!.message).toBe('payments/api as id-payments failed verification: Not applied: federated credential not in place. No pod was made.');
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
    expect(blocks[0]).toBe('❌ staging: plan failed: 1 preflight check(s) failed: rbac');
    expect(text).toContain('❌ rbac: missing create serviceaccounts in payments');
    expect(allNodes(root).filter((n) => n.type === 'code').map(visibleText)).toEqual(['kind: Role\nrules: []']);
    expect(text).not.toContain('reachable');
  });

  it('a failed write names the target, the attempts and the Azure error code', () => {
    const { text } = rendered(report({ mode: 'apply', failures: ['1 of 2 write(s) failed'], applied: [{ change: fic, ok: false, attempts: 6, error: 'ConcurrentFederatedIdentityCredentialsWritesForSingleManagedIdentity: too many writes' }, { change: sa, ok: true, attempts: 1 }] }));
    expect(text).toContain('Applied: 1 of 2 change(s)');
    expect(text).toContain('❌ id-payments/staging_payments_api (create, 6 attempt(s)): ConcurrentFederatedIdentityCredentialsWritesForSingleManagedIdentity');
  });

  it('annotations point at the mapping line of a failed verification', () => {
    const found = annotations(report({ mode: 'verify', verifications: [passed('payments', 'api'), failed] }));
    expect(found).toHaveLength(1);
    expect(found[0]!.at).toEqual({ ...at, line: 20 });
    expect(found[0]!.message).toBe("orders/worker as id-payments failed verification: the FIC's subject is 'system:serviceaccount:orders:Worker' but the token says 'system:serviceaccount:orders:worker' (AADSTS700213)");
  });
});

describe('changes', () => {
  it('lists each change with its reason and the pods to restart', () => {
    const { tables, blocks } = rendered(report());
    expect(blocks).toContain('Changes: 2');
    expect(tables[0]).toContainEqual(['➕ create', 'staging_payments_api', 'id-payments', 'no credential for system:serviceaccount:payments:api from this issuer']);
    expect(tables[1]).toContainEqual(['✏️ annotate', 'payments/api', 'client-id old → crestart: api-7d9f-1, api-7d9f-2']);
  });

  it('a table cell cannot be broken by a | in a reason', () => {
    const { tables } = rendered(report({ plan: plan({ federatedCredentials: [{ ...fic, reason: 'a | b' }] }) }));
    expect(tables[0]![1]).toEqual(['➕ create', 'staging_payments_api', 'id-payments', 'a | b']);
  });
});

describe('hostile values', () => {
  it('names, reasons, messages, verifications and fixes from data render as text: no link, image, HTML or mention', () => {
    const evil = (field: string) => `${field} [x](https://evil.example) ![i](https://evil.example/i.png) <img src=x> @octocat **b**\n# h`;
    const hostileFic: FicChange = { ...fic, name: evil('fic'), identity: { ...identity, name: evil('identity') }, reason: evil('reason') };
    const hostileSa: ServiceAccountChange = { ...sa, namespace: evil('ns'), name: evil('sa'), podsToRestart: [evil('pod')], reason: evil('sa-reason') };
    const hostileCheck = { name: evil('vcheck'), ok: false, detail: evil('vdetail') };
    for (const r of [
      report({
        mode: 'apply',
        environment: evil('env'),
        failures: [evil('failure')],
        notes: [evil('note')],
        problems: [{ ...at, message: evil('problem') }],
        plan: plan({
          issuer: evil('issuer'),
          federatedCredentials: [hostileFic, { ...hostileFic, action: 'adopt' }],
          serviceAccounts: [hostileSa],
          preflight: [
            { name: evil('check'), ok: false, severity: 'error', detail: evil('detail'), fix: evil('fix') + '\n```\n[y](https://evil.example)' },
            { name: evil('wcheck'), ok: false, severity: 'warning', detail: evil('wdetail') },
          ],
        }),
        applied: [{ change: hostileFic, ok: false, attempts: 1, error: evil('error') }],
        verifications: [
          { ...failed, namespace: evil('vns'), identity: evil('videntity'), checks: [hostileCheck], cause: evil('vcause'), fix: evil('vfix'), claims: { token: { iss: evil('viss'), sub: evil('vsub'), aud: [evil('vaud')] } } } as VerificationResult,
          { ...passed('x', 'y'), serviceAccount: evil('vsa') },
        ],
      }),
      report({ mode: 'validate', plan: undefined, bindings: new Map([[evil('env'), [{ namespace: evil('ns'), serviceAccount: evil('sa'), identity: { ...identity, name: evil('identity'), resourceGroup: evil('rg') }, ficName: evil('fic') } as never]]]) }),
    ]) {
      const { root, text } = rendered(r);
      expect(injected(root).filter((n) => !(n.type === 'link' && n.url === RUN))).toEqual([]);
      expect(mentions(root)).toEqual([]);
      expect(allNodes(root).filter((n) => n.type === 'heading').map(visibleText)).not.toContain('h');
      const fields = r.plan
        ? ['env', 'failure', 'note', 'problem', 'issuer', 'fic', 'identity', 'reason', 'ns', 'pod', 'sa-reason', 'check', 'detail', 'wcheck', 'wdetail', 'error', 'vns', 'videntity', 'vcheck', 'vdetail', 'vsa', 'vcause', 'vfix', 'viss', 'vsub', 'vaud']
        : ['env', 'ns', 'sa', 'identity', 'rg', 'fic'];
      for (const field of fields) expect(text).toContain(`${field} [x](https://evil.example) ![i](https://evil.example/i.png) <img src=x> @octocat **b**`);
    }
  });
});

describe('job log', () => {
  it('says what changes in plain lines, with the mapping line of a failed check', () => {
    const lines = renderText(report({ plan: plan({ preflight: [{ name: 'namespace', ok: false, severity: 'error', detail: "namespace 'payments' does not exist", at }] }) }));
    expect(lines[0]).toBe('Workload Identity plan — staging: 📝 2 changes to apply for 2 bindings');
    expect(lines).toContain(`  preflight ERROR namespace: namespace 'payments' does not exist (.github/workload-identity.yaml:12)`);
    expect(lines).toContain('    create    federated-credential id-payments/staging_payments_api: no credential for system:serviceaccount:payments:api from this issuer');
  });
});
