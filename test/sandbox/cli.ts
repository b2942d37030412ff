// `npm run sandbox -- --scenario FILE --write-env PATH [--keep]`: starts the sandbox
// standalone, writes the environment for the action (KEY=VALUE lines) to PATH, prints what
// it serves, and runs until SIGINT/SIGTERM. Not `--env-file`: Node scans its whole command
// line for that flag (even after the script name) and exits 9 when the file does not exist.
import { writeFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { startSandbox } from './index.ts';

const usage = `usage: npm run sandbox -- [--scenario FILE] [--write-env PATH] [--keep]

  --scenario FILE    scenario YAML (see test/sandbox/README.md); default: one cluster, no identities
  --write-env PATH   write KEY=VALUE lines (NODE_EXTRA_CA_CERTS, INPUT_*, GITHUB_*, KUBECONFIG …)
  --keep             keep the work directory (kubeconfig, CA, event) after stopping`;

async function main(): Promise<void> {
  let values: { scenario?: string; 'write-env'?: string; keep?: boolean; help?: boolean };
  try {
    ({ values } = parseArgs({
      options: {
        scenario: { type: 'string' },
        'write-env': { type: 'string' },
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
  const sb = await startSandbox({ scenario: values.scenario ? resolve(values.scenario) : undefined, keepWorkDir: values.keep });
  if (values['write-env']) {
    const lines = Object.entries(sb.env).map(([k, v]) => `${k}=${v}`);
    writeFileSync(resolve(values['write-env']), `${lines.join('\n')}\n`);
  }
  const row = (k: string, v: string) => console.log(`  ${k.padEnd(22)} ${v}`);
  console.log(`sandbox running${sb.scenario.name ? ` (scenario: ${sb.scenario.name})` : ''}`);
  row('kubernetes', sb.urls.kube);
  row('arm', sb.urls.arm);
  row('entra (authority)', sb.urls.entra);
  row('oidc issuer', sb.issuerUrl);
  row('github api', sb.urls.github);
  row('front (by Host)', sb.urls.front);
  row('tenant', sb.tenantId);
  row('subscription', sb.subscriptionId);
  row('login client id', sb.loginApp.clientId);
  row('kubeconfig', sb.kubeconfigPath);
  row('CA', sb.caPath);
  if (values['write-env']) row('environment', resolve(values['write-env']));
  for (const i of sb.state.identities) row(`identity ${i.name}`, `${i.clientId} (${i.fics.length} FICs)`);
  console.log('Ctrl-C to stop.');

  let stopping = false;
  const stop = (signal: string) => {
    if (stopping) return;
    stopping = true;
    console.log(`\n${signal}: stopping the sandbox`);
    sb.stop().then(
      () => process.exit(0),
      (err: unknown) => {
        console.error(err);
        process.exit(1);
      },
    );
  };
  process.on('SIGINT', () => stop('SIGINT'));
  process.on('SIGTERM', () => stop('SIGTERM'));
}

main().catch((err: unknown) => {
  console.error(err instanceof Error ? err.message : err);
  process.exit(1);
});
