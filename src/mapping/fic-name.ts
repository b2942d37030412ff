// Federated identity credential names (DESIGN §4). Azure allows 3-120 characters, letters,
// digits, '-' and '_', starting with a letter or digit, unique per identity and compared
// case-insensitively. The name must be a pure function of (scope, namespace, ServiceAccount)
// so that every run finds the credential it wrote before, and two bindings on one identity
// must never get the same name: Azure would make the second PUT overwrite the first.
//
// Why the name stays collision-free:
// - '_' joins the parts. Environment names, namespaces (DNS-1123 labels) and ServiceAccount
//   names (DNS-1123 subdomains) cannot contain '_', so `scope_namespace_serviceAccount` splits
//   back into exactly one tuple. With '-' as separator, env 'a-b'/ns 'c' and env 'a'/ns 'b-c'
//   would both give 'a-b-c'.
// - Anything outside [a-z0-9-] "needs care": '.' (allowed in ServiceAccount names) and any
//   other character is replaced by '-', and upper case is kept but flagged because Azure
//   compares names case-insensitively ('Prod' and 'prod' would clash). Then, or when the
//   name is longer than 120, a suffix '_' + 10 hex of sha256 over the exact tuple is added.
//   A plain name has exactly two '_', a suffixed one three (unless cut to 120), so
//   'x.y' → 'e_ns_x-y_<hash>' can never equal the plain name of ServiceAccount 'x-y'.
//   ('_' rather than '-' before the hash for exactly that reason: 'x-y-<hash>' could be
//   somebody's real ServiceAccount name.)
import { createHash } from 'node:crypto';

export const FIC_NAME_PATTERN = /^[a-zA-Z0-9][a-zA-Z0-9_-]{2,119}$/;
const MAX_LENGTH = 120;
const HASH_LENGTH = 10; // 40 bits: no accidental clash among the ≤20 names of one identity

export function federatedCredentialName(scope: string, namespace: string, serviceAccount: string): string {
  const parts = [scope, namespace, serviceAccount];
  const cleaned = parts.map((part) => part.replace(/[^a-zA-Z0-9-]/g, '-'));
  let needsCare = parts.some((part) => /[^a-z0-9-]/.test(part));
  let name = cleaned.join('_');
  if (!/^[a-zA-Z0-9]/.test(name)) {
    // Only reachable with an empty or '-'-led scope; keep the first-character rule.
    name = `fic${name}`;
    needsCare = true;
  }
  if (!needsCare && name.length <= MAX_LENGTH) return name;
  return withHashSuffix(name, parts);
}

/**
 * `name` cut to fit, then '_' + 10 hex of sha256 over `parts`: the suffix scheme above, also
 * used for a second name when a credential's own name is taken (federated-credentials.ts).
 * The '_' keeps the result apart from every plain, ServiceAccount-derived name.
 */
export function withHashSuffix(name: string, parts: readonly string[]): string {
  // JSON of the array is unambiguous (quotes and escapes), unlike a plain join.
  const hash = createHash('sha256').update(JSON.stringify(parts)).digest('hex').slice(0, HASH_LENGTH);
  return `${name.slice(0, MAX_LENGTH - HASH_LENGTH - 1)}_${hash}`;
}
