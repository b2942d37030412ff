// The discover stage of the pipeline: which environment and cluster the draft names, then
// the read (read.ts), the estate (estate.ts) and the file (render.ts, write.ts).
// The environment carries the cluster from an existing mapping file when it names one for
// this environment, so that the draft fits the repository it lands in; else the issuer the
// API server announces (on AKS, the cluster's OIDC issuer).
import { existsSync } from 'node:fs';
import { resolve } from 'node:path';
import { loadMapping, selectEnvironment } from '../mapping/index.ts';
import type { ClusterRef, Mapping } from '../mapping/types.ts';
import type { Ports } from '../plan/environment.ts';
import type { LogSink } from '../output/sink.ts';
import type { Settings } from '../settings.ts';
import { discover, type DiscoverResult } from './run.ts';

export interface DiscoverStageInput {
  settings: Settings;
  workspace: string;
  sink: LogSink;
  connect: () => Promise<Ports>;
}

interface Target {
  environment: string;
  cluster?: ClusterRef;
  issuer?: string;
}

/** The existing mapping's cluster or issuer for this environment, when it has one. */
async function target(input: DiscoverStageInput): Promise<Target> {
  const environment = input.settings.environment || 'default';
  const file = resolve(input.workspace, input.settings.mappingFile);
  if (!existsSync(file)) return { environment };
  const loaded = await loadMapping(file, input.settings.mappingFile, { workspace: input.workspace });
  const mapping: Mapping | undefined = loaded.mapping;
  if (!mapping || loaded.problems.length) {
    input.sink.warning(`discover: the existing mapping ${input.settings.mappingFile} does not load (${loaded.problems.length} problem(s)); the draft names the cluster by its issuer instead`);
    return { environment };
  }
  if (!mapping.environments.length) return { environment, cluster: mapping.cluster, issuer: mapping.issuer };
  const selected = selectEnvironment(mapping, input.settings.environment);
  if (!selected.spec) return { environment };
  return { environment: selected.spec.name, cluster: selected.spec.cluster, issuer: selected.spec.issuer };
}

export async function discoverStage(input: DiscoverStageInput): Promise<DiscoverResult> {
  const t = await target(input);
  const ports = await input.connect();
  const listAny = ports.kube.listAny?.bind(ports.kube);
  if (!listAny) throw new Error('discover needs a Kubernetes client that can list any kind');
  const cluster = t.cluster;
  const subscriptionId = cluster?.subscriptionId ?? input.settings.azure.subscriptionId;
  return discover({
    workspace: input.workspace,
    output: input.settings.discoverOutput,
    environment: t.environment,
    ...(cluster ? { cluster } : {}),
    issuer: async () => t.issuer ?? (await ports.kube.getOpenIdConfiguration()).issuer,
    server: ports.kube.server,
    source: {
      listAny,
      ...(cluster && subscriptionId
        ? {
            armPodIdentities: async () =>
              (await ports.azure.getClusterIssuer({ subscriptionId, resourceGroup: cluster.resourceGroup, name: cluster.name })).podIdentities ?? [],
          }
        : {}),
    },
  });
}
