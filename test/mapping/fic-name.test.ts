// FIC names: deterministic, Azure-valid, and distinct for distinct bindings — a clash would
// make one binding's PUT overwrite another's credential.
import { describe, expect, it } from 'vitest';
import { withHashSuffix } from '../../src/mapping/fic-name.ts';
import { federatedCredentialName, FIC_NAME_PATTERN } from '../../src/mapping/index.ts';

const name = federatedCredentialName;
const distinctIgnoringCase = (a: string, b: string) => expect(a.toLowerCase()).not.toBe(b.toLowerCase());

describe('federated credential names', () => {
  it('a plain binding gets a readable name without hash', () => {
    expect(name('production', 'payments', 'payments-api')).toBe('production_payments_payments-api');
  });

  it('is deterministic', () => {
    expect(name('staging', 'ns', 'sa.with.dots')).toBe(name('staging', 'ns', 'sa.with.dots'));
  });

  it("keeps env 'a-b'/ns 'c' apart from env 'a'/ns 'b-c' (the separator cannot occur in the parts)", () => {
    distinctIgnoringCase(name('a-b', 'c', 'sa'), name('a', 'b-c', 'sa'));
    distinctIgnoringCase(name('e', 'a-b', 'c'), name('e', 'a', 'b-c'));
  });

  it("keeps ServiceAccount 'x.y' apart from 'x-y' although '.' becomes '-'", () => {
    const dotted = name('e', 'ns', 'x.y');
    expect(dotted).toMatch(/^e_ns_x-y_[0-9a-f]{10}$/);
    expect(name('e', 'ns', 'x-y')).toBe('e_ns_x-y');
    distinctIgnoringCase(dotted, name('e', 'ns', 'x-y'));
    distinctIgnoringCase(dotted, name('e', 'ns', 'x_y'));
  });

  it("keeps environments 'Prod' and 'prod' apart, since Azure compares names case-insensitively", () => {
    distinctIgnoringCase(name('Prod', 'ns', 'sa'), name('prod', 'ns', 'sa'));
  });

  it('shortens very long names to 120 characters and keeps them distinct', () => {
    const longNs = 'n'.repeat(63);
    const longSa = `${'s'.repeat(200)}.${'t'.repeat(50)}`;
    const a = name('production-environment-with-a-long-name', longNs, `${longSa}a`);
    const b = name('production-environment-with-a-long-name', longNs, `${longSa}b`);
    expect(a.length).toBeLessThanOrEqual(120);
    expect(b.length).toBeLessThanOrEqual(120);
    expect(a).toMatch(FIC_NAME_PATTERN);
    distinctIgnoringCase(a, b);
    // A name of exactly 120 characters needs no shortening and keeps its plain form.
    const exact = name('e', 'n'.repeat(63), 's'.repeat(120 - 'e_'.length - 63 - '_'.length));
    expect(exact).toHaveLength(120);
    expect(exact).not.toMatch(/_[0-9a-f]{10}$/);
    const oneMore = name('e', 'n'.repeat(63), 's'.repeat(121 - 'e_'.length - 63 - '_'.length));
    expect(oneMore).toHaveLength(120);
    expect(oneMore).toMatch(/_[0-9a-f]{10}$/);
  });

  it('always matches the Azure pattern, including awkward first characters', () => {
    const awkward = ['', '-', '_', '.', 'é', 'Ü-env', '-lead', '0', 'a b', 'cluster_with_underscore'];
    const names = new Set<string>();
    for (const scope of awkward)
      for (const ns of ['', 'a', '-x', 'ns'])
        for (const sa of ['', 'b', 'x.y', 'x-y']) {
          const n = name(scope, ns, sa);
          expect(n, JSON.stringify([scope, ns, sa])).toMatch(FIC_NAME_PATTERN);
          names.add(n.toLowerCase());
        }
    expect(names.size).toBe(awkward.length * 4 * 4);
  });

  it('a cluster name with underscores (the scope of a mapping without environments) stays unambiguous', () => {
    distinctIgnoringCase(name('aks_one', 'ns', 'sa'), name('aks-one', 'ns', 'sa'));
    expect(name('aks_one', 'ns', 'sa')).toMatch(FIC_NAME_PATTERN);
  });

  it("a second name (when a credential's own is taken) uses the same '_'-hash suffix, so it is never some ServiceAccount's plain name", () => {
    const second = withHashSuffix('production_payments_api', ['https://issuer.example/', 'system:serviceaccount:payments:api']);
    expect(second).toMatch(/^production_payments_api_[0-9a-f]{10}$/);
    expect(second).toMatch(FIC_NAME_PATTERN);
    // Plain names have exactly two '_'; this one has three.
    expect(second.split('_')).toHaveLength(4);
    expect(withHashSuffix('production_payments_api', ['https://other.example/', 'system:serviceaccount:payments:api'])).not.toBe(second);
    expect(withHashSuffix('p'.repeat(120), ['i', 's'])).toHaveLength(120);
  });
});
