// mode: discover — read the cluster's Pod Identity estate and write a first mapping file.
// It writes nothing to Azure or the cluster; the only write is the mapping file, inside the
// workspace (write.ts). The draft is checked by the same validator `mode: validate` runs,
// so a discovered mapping that would not load is a bug here, caught before it is written.
import { parseMapping } from '../mapping/index.ts';
import type { ClusterRef, MappingProblem } from '../mapping/types.ts';
import { discoverEstate, type Finding } from './estate.ts';
import { readPodIdentityEstate, type DiscoverSource } from './read.ts';
import { renderMapping } from './render.ts';
import { writeInsideWorkspace } from './write.ts';

export interface DiscoverInput {
  workspace: string;
  /** The discover-output input, relative to the workspace. */
  output: string;
  /** The environment input, or 'default'. */
  environment: string;
  /** From the existing mapping file, when it names the cluster of this environment. */
  cluster?: ClusterRef;
  /** The API server's issuer discovery, used when no cluster is known. */
  issuer: () => Promise<string>;
  /** The API server, for the file's header. */
  server: string;
  source: DiscoverSource;
}

export interface DiscoverResult {
  /** Absolute path written. */
  file: string;
  bindings: number;
  /** Commented out: a ServiceAccount behind two identities. */
  held: number;
  namespaces: string[];
  findings: Finding[];
  unseen: string[];
}

export class DiscoverError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'DiscoverError';
  }
}

export async function discover(input: DiscoverInput): Promise<DiscoverResult> {
  const reading = await readPodIdentityEstate(input.source);
  const estate = discoverEstate(reading.input);
  const environment = input.cluster ? { name: input.environment, cluster: input.cluster } : { name: input.environment, issuer: await input.issuer() };
  const text = renderMapping(estate, environment, input.server);
  const check = parseMapping(text, input.output);
  if (!check.mapping || check.problems.length) {
    const first = check.problems[0] as MappingProblem | undefined;
    throw new DiscoverError(`the discovered mapping does not pass validation (please report it): ${first ? `line ${first.line}: ${first.message}` : 'it did not load'}`);
  }
  const file = writeInsideWorkspace(input.workspace, input.output, text);
  return {
    file,
    bindings: check.mapping.bindings.length,
    held: estate.bindings.filter((b) => b.conflict).length,
    namespaces: reading.namespaces,
    findings: estate.findings,
    unseen: reading.unseen,
  };
}
