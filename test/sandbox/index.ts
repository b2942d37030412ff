// The sandbox: every emulator of DESIGN §7 behind https on 127.0.0.1 — Kubernetes, the AKS
// OIDC issuer, Entra ID, ARM and GitHub — seeded from a scenario, with fault controls,
// inspection (state, call log) and the environment that points the action at it.
//
//   const sb = await startSandbox({ scenario: 'test/sandbox/scenarios/demo.yaml' });
//   spawn('node', ['dist/index.js'], { env: { ...process.env, ...sb.env, INPUT_MODE: 'plan' } });
//   …
//   await sb.stop();
import { createKube, type KubeEmulator } from './kube/index.ts';
import { startSandboxCore, type SandboxCore, type SandboxOptions } from './sandbox.ts';

export type { SandboxOptions, SandboxUrlsWithFront, KubeLike, KubeOptionsLike } from './sandbox.ts';
export { serviceForHost } from './sandbox.ts';
export type { Scenario } from './scenario.ts';
export { loadScenario, parseScenario } from './scenario.ts';
export type { SandboxState } from './state.ts';

export type Sandbox = SandboxCore<KubeEmulator>;

/** Starts every emulator, including Kubernetes, and seeds the scenario. */
export function startSandbox(options: SandboxOptions = {}): Promise<Sandbox> {
  return startSandboxCore<KubeEmulator>(options, (ctx, kubeOptions) => createKube(ctx, kubeOptions));
}
