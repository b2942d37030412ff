// The credentials a kubeconfig input holds, found so they can be masked before anything
// can print them. In the core bundle (main.ts masks them before the connected part, with
// the Kubernetes client, is even loaded), so it parses with the core's YAML library.
import { parseDocument } from 'yaml';
import { decodeKubeconfigInput } from './kubeconfig-input.ts';

/** Names whose values are credentials (env names, auth-provider config keys, exec flags). */
const SECRET_NAME = /token|secret|password|passwd|key|credential/i;
/** …unless they name where the credential is, not the credential. */
const LOCATION_NAME = /(file|path|dir)$/i;
const looksSecret = (name: string): boolean => SECRET_NAME.test(name) && !LOCATION_NAME.test(name);
/** `token: x`, `"password": 'x'`, `{ client-key-data: x }` …, for content the YAML parser cannot read. */
const SECRET_LINE =
  /(?:^|[\s{,])["']?(token|password|client-key-data|access-token|refresh-token|id-token|client-secret)["']?\s*:[ \t]*(?:"([^"\n]*)"|'([^'\n]*)'|([^\s,}#]+))/gm;

/**
 * The credentials in a kubeconfig (the `kubeconfig` input, YAML or base64 of it), for the
 * caller to mask in the log (core.setSecret): users[].user token, password,
 * client-key-data, client-certificate-data when it holds a private key, auth-provider
 * config values and exec env values / flag arguments whose names look secret. A
 * kubeconfig the parser cannot read is scanned line by line for the usual keys.
 */
export function kubeconfigSecrets(content: string): string[] {
  const text = decodeKubeconfigInput(content);
  const found = new Set<string>();
  // Short values ('true', a user name) are no secret, and masking them would blank every
  // occurrence of that word in the job log, outputs included.
  const add = (v: unknown): void => {
    if (typeof v === 'string' && v.trim().length >= 8 && !/^[|>][-+]?\d*$/.test(v.trim())) found.add(v);
  };
  const record = (v: unknown): Record<string, unknown> | undefined =>
    v && typeof v === 'object' && !Array.isArray(v) ? (v as Record<string, unknown>) : undefined;

  let parsed: unknown;
  try {
    parsed = parseDocument(text, { uniqueKeys: false, prettyErrors: false, logLevel: 'error' }).toJS({ maxAliasCount: 1000 });
  } catch {
    parsed = undefined;
  }
  const users = record(parsed)?.['users'];
  for (const entry of Array.isArray(users) ? users : []) {
    const user = record(record(entry)?.['user']);
    if (!user) continue;
    add(user['token']);
    add(user['password']);
    add(user['client-key-data']);
    const cert = user['client-certificate-data'];
    if (typeof cert === 'string') {
      const decoded = /^[A-Za-z0-9+/=\s]+$/.test(cert) ? Buffer.from(cert, 'base64').toString('utf8') : '';
      if (/PRIVATE KEY/.test(cert) || /PRIVATE KEY/.test(decoded)) add(cert);
    }
    const config = record(record(user['auth-provider'])?.['config']);
    for (const [k, v] of Object.entries(config ?? {})) if (looksSecret(k)) add(v);
    const exec = record(user['exec']);
    const env = exec?.['env'];
    for (const e of Array.isArray(env) ? env : []) {
      const name = record(e)?.['name'];
      if (typeof name === 'string' && looksSecret(name)) add(record(e)?.['value']);
    }
    const args = exec?.['args'];
    const list = Array.isArray(args) ? args.filter((a): a is string => typeof a === 'string') : [];
    list.forEach((arg, i) => {
      const flag = /^--?([\w-]+)(?:=(.*))?$/.exec(arg);
      if (!flag || !looksSecret(flag[1]!)) return;
      if (flag[2] !== undefined) add(flag[2]);
      else if (list[i + 1] !== undefined && !list[i + 1]!.startsWith('-')) add(list[i + 1]);
    });
  }
  for (const m of text.matchAll(SECRET_LINE)) add(m[2] ?? m[3] ?? m[4]);
  return [...found];
}
