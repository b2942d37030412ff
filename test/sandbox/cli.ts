// `npm run sandbox -- --scenario FILE --write-env PATH [--proxy] [--keep]`: starts the sandbox
// standalone, writes the environment for the action (KEY=VALUE lines) to PATH, prints what
// it serves, and runs until SIGINT/SIGTERM — or until the process that started it goes away:
// `kill -TERM` of `npm run sandbox` ends npm and its shell but not this process (the shell
// does not pass the signal on), so a parent that disappears stops the sandbox too.
// Relative paths are the user's: npm runs scripts from the package root and keeps the
// directory it was started from in INIT_CWD. Not `--env-file`: Node scans its whole command
// line for that flag (even after the script name) and exits 9 when the file does not exist.
import { writeFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { startSandbox, type Sandbox } from './index.ts';

const usage = `usage: npm run sandbox -- [--scenario FILE] [--write-env PATH] [--proxy] [--keep]

  --scenario FILE    scenario YAML (see test/sandbox/README.md); default: one cluster, no identities
  --write-env PATH   write KEY=VALUE lines (NODE_EXTRA_CA_CERTS, INPUT_*, GITHUB_*, KUBECONFIG …)
  --proxy            serve the real host names through an https CONNECT proxy (HTTPS_PROXY in the
                     env): az CLI, kubectl and the action with no endpoint inputs run unmodified
  --keep             keep the work directory (kubeconfig, CA, event) after stopping`;

/** Where relative paths on the command line start: the user's directory, not npm's. */
const startDir = process.env['INIT_CWD'] || process.cwd();
// Read first thing, while the process that started this one is certainly alive: a test (or a
// user) may end npm the moment "Ctrl-C to stop." appears, before any later line runs here.
const parent = process.ppid;

async function main(): Promise<void> {
  let values: { scenario?: string; 'write-env'?: string; proxy?: boolean; keep?: boolean; help?: boolean };
  try {
    ({ values } = parseArgs({
      options: {
        scenario: { type: 'string' },
        'write-env': { type: 'string' },
        proxy: { type: 'boolean' },
        keep: { type: 'boolean' },
        help: { type: 'boolean', short: 'h' },
      },
      strict: true,
    }));
  } catch (err) {
    console.error(`${(err as Error).message}\n\n${usage}`);
    process.exit(2);
  }
  if (values.help) {
    console.log(usage);
    return;
  }
  // Signals and the parent watch are in place before the sandbox starts, so that nothing the
  // readiness line below prompts can come too early; a stop asked for while starting waits for it.
  const started: { sb?: Sandbox } = {};
  let stopping: string | undefined;
  const stop = (reason: string) => {
    if (stopping) return;
    stopping = reason;
    if (started.sb) shutDown(started.sb, reason);
  };
  process.on('SIGINT', () => stop('SIGINT'));
  process.on('SIGTERM', () => stop('SIGTERM'));
  process.on('SIGHUP', () => stop('SIGHUP'));
  setInterval(() => {
    if (process.ppid !== parent) stop('the process that started the sandbox has exited');
  }, 500).unref();

  const sb = (started.sb = await startSandbox({ scenario: values.scenario ? resolve(startDir, values.scenario) : undefined, keepWorkDir: values.keep, proxy: values.proxy }));
  if (stopping) return shutDown(sb, stopping);
  const envFile = values['write-env'] ? resolve(startDir, values['write-env']) : undefined;
  if (envFile) {
    const lines = Object.entries(sb.env).map(([k, v]) => `${k}=${v}`);
    writeFileSync(envFile, `${lines.join('\n')}\n`);
  }
  const row = (k: string, v: string) => console.log(`  ${k.padEnd(22)} ${v}`);
  console.log(`sandbox running${sb.scenario.name ? ` (scenario: ${sb.scenario.name})` : ''}`);
  row('kubernetes', sb.urls.kube);
  row('arm', sb.urls.arm);
  row('entra (authority)', sb.urls.entra);
  row('oidc issuer', sb.issuerUrl);
  row('github api', sb.urls.github);
  row('front (by Host)', sb.urls.front);
  if (sb.urls.proxy) row('proxy (HTTPS_PROXY)', sb.urls.proxy);
  row('tenant', sb.tenantId);
  row('subscription', sb.subscriptionId);
  row('login client id', sb.loginApp.clientId);
  row('kubeconfig', sb.kubeconfigPath);
  row('CA', sb.caPath);
  if (envFile) row('environment', envFile);
  for (const i of sb.state.identities) row(`identity ${i.name}`, `${i.clientId} (${i.fics.length} FICs)`);
  console.log('Ctrl-C to stop.');
}

function shutDown(sb: Sandbox, reason: string): void {
  console.log(`\n${reason}: stopping the sandbox`);
  sb.stop().then(
    () => process.exit(0),
    (err: unknown) => {
      console.error(err);
      process.exit(1);
    },
  );
}

main().catch((err: unknown) => {
  console.error(err instanceof Error ? err.message : err);
  process.exit(1);
});
