// `npm run demo -- --out DIR` leaves the PR comment beside the run: DIR/comment.md, whose
// first line is the verdict a reviewer sees on the pull request; and what issue 17 promised
// the demo shows: every binding verified, with the tid and oid its pod's exchange returned,
// in the printed table and in DIR/result.json and DIR/summary.md.
import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { expect, it } from 'vitest';
import type { ResultJson } from '../../src/result.ts';
import { ROOT } from './demo-sandbox.ts';

const TENANT = '0b1e6c2a-7d3f-4e59-a1c8-5f2e9b4d7a10'; // examples/workload-identity.yaml
const GUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

it('npm run demo -- --out DIR shows every binding verified with tid and oid, and writes comment.md (verdict first), result.json and summary.md', async () => {
  const out = mkdtempSync(join(tmpdir(), 'wi-demo-out-'));
  try {
    const { stdout } = await promisify(execFile)(process.execPath, ['scripts/demo.ts', '--out', out], { cwd: ROOT, timeout: 240_000 });
    const comment = readFileSync(join(out, 'comment.md'), 'utf8');
    expect(comment.split('\n')[0]).toMatch(/^### ✅ staging: 3 bindings /);
    expect(comment.trimEnd().split('\n').at(-1)).toBe('<!-- workload-identity-action environment=staging -->');
    const result = JSON.parse(readFileSync(join(out, 'result.json'), 'utf8')) as ResultJson;
    expect(result.verifications.map((v) => `${v.namespace}/${v.serviceAccount} ${v.ok}`).sort()).toEqual(['orders/orders-worker true', 'payments/payments-api true', 'reporting/report-generator true']);
    for (const v of result.verifications) {
      expect(v.claims?.access?.tid).toBe(TENANT);
      expect(v.claims?.access?.oid).toMatch(GUID);
      // The table the demo prints: one row per binding with its tid and oid.
      expect(stdout).toMatch(new RegExp(`^  ${v.namespace}/${v.serviceAccount} +${v.identity} +✔ \\d+/\\d+ +${TENANT} +${v.claims!.access!.oid}`, 'm'));
    }
    expect(stdout).toContain('Verification (3 of 3 verified):');
    expect(readFileSync(join(out, 'summary.md'), 'utf8')).toContain('3 bindings verified');
  } finally {
    rmSync(out, { recursive: true, force: true });
  }
}, 300_000);
