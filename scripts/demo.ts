// `npm run demo`: the whole job on the sandbox, through the built dist/index.js, as a
// workflow runs it. The sandbox plays AKS (API server, webhook, kubelet), its OIDC issuer,
// Entra ID, ARM and GitHub; the scenario is the staging environment of
// examples/workload-identity.yaml before the migration.
// Apply verifies every binding with a real pod and a real token exchange; the verification
// table (namespace/ServiceAccount, identity, checks, tid/oid) is printed after it and after
// the scheduled `mode: verify`.
// `--out DIR` writes DIR/result.json and DIR/summary.md (the `result` output and the job
// summary of the last step) and DIR/comment.md: the sticky PR comment as the sandbox's
// GitHub stored it after the last step (its first line is the verdict).
import { mkdirSync, writeFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { startSandbox } from '../test/sandbox/index.ts';
import { runAction, type ActionRun } from '../test/e2e/run-action.ts';

const root = resolve(import.meta.dirname, '..');
const { values: args } = parseArgs({ options: { out: { type: 'string' } } });
const mapping = 'examples/workload-identity.yaml';
const sb = await startSandbox({ scenario: resolve(root, 'test/sandbox/scenarios/demo.yaml') });
const hidden = /^::(debug|add-mask)::/; // the runner hides these in a real job log

let last: ActionRun | undefined;

interface Row {
  namespace: string;
  serviceAccount: string;
  identity: string;
  ok: boolean;
  checks: { ok: boolean }[];
  aadsts?: number;
  claims?: { access?: { tid?: string; oid?: string } };
}

/** The verification table of a run's `result` output. */
function verificationTable(run: ActionRun): void {
  const rows: Row[] = run.outputs.result ? (JSON.parse(run.outputs.result) as { verifications: Row[] }).verifications : [];
  if (!rows.length) return;
  const cells = rows.map((r) => [
    `${r.namespace}/${r.serviceAccount}`,
    r.identity,
    `${r.ok ? '✔' : '✘'} ${r.checks.filter((c) => c.ok).length}/${r.checks.length}${r.aadsts ? ` AADSTS${r.aadsts}` : ''}`,
    r.claims?.access?.tid ?? '',
    r.claims?.access?.oid ?? '',
  ]);
  const head = ['namespace/ServiceAccount', 'identity', 'checks', 'tid', 'oid'];
  const width = head.map((h, i) => Math.max(h.length, ...cells.map((c) => c[i]!.length)));
  const line = (c: string[]) => `  ${c.map((x, i) => x.padEnd(width[i]!)).join('  ')}`;
  console.log(`\n  Verification (${rows.filter((r) => r.ok).length} of ${rows.length} verified):`);
  console.log(line(head));
  for (const c of cells) console.log(line(c));
}

async function step(title: string, inputs: Record<string, string>): Promise<number> {
  console.log(`\n\x1b[1m━━━ ${title} ━━━\x1b[0m`);
  sb.log.reset();
  const run = await runAction({ workspace: root, env: sb.env, inputs: { 'mapping-file': mapping, environment: 'staging', ...inputs } });
  const log = run.stdout.split('\n').filter((l) => l.trim() && !hidden.test(l));
  console.log(log.map((l) => `  │ ${l}`).join('\n'));
  const writes = sb.log.writes().filter((c) => c.service === 'arm' || (c.service === 'kube' && !c.path.includes('selfsubjectaccessreviews') && !c.path.includes('dryRun=All')));
  console.log(`  exit code ${run.code}; outputs: changes=${run.outputs.changes ?? ''}; job summary: ${run.summary.length} characters of markdown; writes to Azure and the cluster: ${writes.length}`);
  for (const w of writes) console.log(`    ${w.service} ${w.method} ${decodeURIComponent(w.path.split('?')[0]!)} → ${w.status}`);
  verificationTable(run);
  last = run;
  return run.code;
}

let failed = 0;
try {
  failed += (await step('1. validate (a pull request from a fork: no credentials)', { mode: 'validate' })) ? 1 : 0;
  failed += (await step('2. plan (the pull request: read-only)', { mode: 'plan' })) ? 1 : 0;
  failed += (await step('3. apply and verify (the staging deployment job)', { mode: 'apply' })) ? 1 : 0;
  failed += (await step('4. plan again (drift detection: nothing to do)', { mode: 'plan', 'fail-on-changes': 'true' })) ? 1 : 0;
  failed += (await step('5. verify (scheduled: every binding still gets its token)', { mode: 'verify' })) ? 1 : 0;
  const comment = sb.state.commentsOn(17).filter((c) => c.body.includes('<!-- workload-identity-action ')).at(-1);
  console.log(comment ? `\nPR #17 comment (${comment.body.length} characters): ${comment.body.split('\n')[0]}` : '\nNo PR comment was posted');
  if (args.out) {
    mkdirSync(args.out, { recursive: true });
    const files: [string, string | undefined][] = [
      ['result.json', last?.outputs.result && `${JSON.stringify(JSON.parse(last.outputs.result), null, 2)}\n`],
      ['summary.md', last?.summary],
      ['comment.md', comment?.body],
    ];
    for (const [name, text] of files) {
      if (text === undefined) continue;
      writeFileSync(resolve(args.out, name), text);
      console.log(`Wrote ${resolve(args.out, name)}`);
    }
  }
} finally {
  await sb.stop();
}
console.log(failed ? `\n${failed} step(s) failed` : '\nAll steps succeeded.');
process.exit(failed ? 1 : 0);
