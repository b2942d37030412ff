// The connected part: everything that talks to Azure, Kubernetes or GitHub through their
// SDKs (5 MB of the 6 MB the action bundles). It is its own bundle, dist/connected.js,
// loaded at run time (load-connected.ts) only by the modes that connect and by the post
// step when it has something to delete there, so `mode: validate` starts without parsing it.
// It keeps no state of its own: the log sink, the cleanup registry and the network policy
// (deadline, timeouts) come from the core.
import { createAzureCredential, warnOnBackgroundTokenRefresh } from './azure/credential.ts';
import { oneIdTokenPerAudience, requestIdToken } from './azure/github-id-token.ts';
import { runnerFetch } from './github/client.ts';
import { createArmPort } from './azure/port.ts';
import type { CleanupRegistry } from './cleanup.ts';
import { createKubePort, KUBECONFIG_STATE_KEY, loadKubeConfig } from './kube/client.ts';
import type { Network } from './net/index.ts';
import type { LogSink } from './output/sink.ts';
import type { Ports } from './plan/environment.ts';
import type { Settings } from './settings.ts';

// The sticky PR comment goes through Octokit: only modes that connect post it.
export { publishComment } from './github/publish.ts';
// The post step's deletion of verification pods a killed main step left behind.
export { deleteLeftoverPods } from './verify/leftovers.ts';

/** What the core hands over: its one sink, registry and network, and the runner's saveState. */
export interface Handover {
  sink: LogSink;
  cleanups: CleanupRegistry;
  net: Network;
  /** core.saveState: what the post step must find if this process dies. */
  saveState: (name: string, value: string) => void;
}

/** Logs in to Azure (lazily, at the first call) and opens the cluster. */
export function connect(settings: Settings, handover: Handover): Ports {
  const { sink, cleanups, net } = handover;
  const endpoint = { url: process.env.ACTIONS_ID_TOKEN_REQUEST_URL, token: process.env.ACTIONS_ID_TOKEN_REQUEST_TOKEN };
  const idTokens = oneIdTokenPerAudience((audience) => requestIdToken(endpoint, audience, net, (secret) => sink.secret(secret), runnerFetch()));
  const credential = createAzureCredential(settings.azure, idTokens, net);
  warnOnBackgroundTokenRefresh((m) => sink.warning(m));
  // The kubeconfig input's credentials are masked already (main.ts, kubeconfigSecrets).
  const kube = loadKubeConfig(settings);
  if (kube.tempFile) {
    handover.saveState(KUBECONFIG_STATE_KEY, kube.tempFile); // the post step removes it if we die
    cleanups.add('temporary kubeconfig', () => kube.cleanup());
  }
  sink.info(`Kubernetes: ${kube.source.kind} (${kube.kc.getCurrentCluster()?.server ?? 'no server'}); Azure: ${settings.azure.armEndpoint}`);
  return { azure: createArmPort(credential, { armEndpoint: settings.azure.armEndpoint, net }), kube: createKubePort(kube.kc, net) };
}
