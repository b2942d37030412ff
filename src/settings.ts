// The action's inputs, parsed once into typed values (DESIGN §3). Nothing past main.ts
// reads process.env or core.getInput: stages take a Settings.
import { recognisedAcrossBundles } from './cross-bundle.ts';

export type Mode = 'validate' | 'plan' | 'apply' | 'verify' | 'discover';
export const MODES: readonly Mode[] = ['validate', 'plan', 'apply', 'verify', 'discover'];

export type Concurrency = 'auto' | number;

/** Parallel reads (identities, credential lists, the cluster) and Kubernetes writes: `concurrency` when a number, else 8. */
export const parallelism = (c: Concurrency): number => (c === 'auto' ? 8 : c);

export type AzureCloudName = 'AzureCloud' | 'AzureUSGovernment' | 'AzureChinaCloud';

export interface Settings {
  mappingFile: string;
  environment: string;
  mode: Mode;
  verify: boolean;
  verifyImage: string;
  verifyTimeoutSeconds: number;
  verifyScope: string;
  /** Verification pods at once (verify-concurrency). */
  verifyConcurrency: number;
  /** FIC writers: 'auto' (one per identity, paced; write-pacing.ts) or a number 1–64. */
  concurrency: Concurrency;
  /** The `timeout` input: deadline of the whole run, in seconds. */
  timeoutSeconds: number;
  prune: boolean;
  failOnChanges: boolean;
  azure: {
    clientId: string;
    tenantId: string;
    subscriptionId: string;
    cloud: AzureCloudName;
    armEndpoint: string; // resolved from cloud unless given
    authorityHost: string; // resolved from cloud unless given
    /** Audience of the workflow's GitHub OIDC token for the action's own login; resolved from cloud unless given. */
    audience: string;
  };
  kubeconfig: string; // content, '' when not given
  githubToken: string;
  comment: boolean;
  discoverOutput: string;
}

// `audience`: what a GitHub OIDC token must carry for Entra in that cloud, as azure/login
// documents its `audience` input (api://AzureADTokenExchange, …USGov, …China); a federated
// credential made in the portal of that cloud lists it.
export const CLOUDS: Record<AzureCloudName, { armEndpoint: string; authorityHost: string; audience: string }> = {
  AzureCloud: { armEndpoint: 'https://management.azure.com', authorityHost: 'https://login.microsoftonline.com', audience: 'api://AzureADTokenExchange' },
  AzureUSGovernment: { armEndpoint: 'https://management.usgovcloudapi.net', authorityHost: 'https://login.microsoftonline.us', audience: 'api://AzureADTokenExchangeUSGov' },
  AzureChinaCloud: { armEndpoint: 'https://management.chinacloudapi.cn', authorityHost: 'https://login.chinacloudapi.cn', audience: 'api://AzureADTokenExchangeChina' },
};

export class InputError extends Error {
  readonly input: string;
  constructor(input: string, message: string) {
    super(`Input '${input}': ${message}`);
    this.name = 'InputError';
    this.input = input;
  }
}

recognisedAcrossBundles(InputError, 'InputError');

type GetInput = (name: string) => string;

function bool(get: GetInput, name: string, fallback: boolean): boolean {
  const raw = get(name).trim();
  if (raw === '') return fallback;
  // Same set as the YAML 1.2 core schema that @actions/core's getBooleanInput accepts.
  if (['true', 'True', 'TRUE'].includes(raw)) return true;
  if (['false', 'False', 'FALSE'].includes(raw)) return false;
  throw new InputError(name, `expected true or false, got '${raw}'`);
}

function int(get: GetInput, name: string, fallback: number, min: number, max: number): number {
  const raw = get(name).trim();
  if (raw === '') return fallback;
  if (!/^\d+$/.test(raw)) throw new InputError(name, `expected a whole number, got '${raw}'`);
  const n = Number(raw);
  if (n < min || n > max) throw new InputError(name, `expected a number from ${min} to ${max}, got ${n}`);
  return n;
}

function concurrency(get: GetInput): Concurrency {
  const raw = get('concurrency').trim();
  if (raw === '' || raw === 'auto') return 'auto';
  if (!/^\d+$/.test(raw) || Number(raw) < 1 || Number(raw) > 64) throw new InputError('concurrency', `expected auto or a number from 1 to 64, got '${raw}'`);
  return Number(raw);
}

function httpsUrl(name: string, raw: string): string {
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    throw new InputError(name, `'${raw}' is not a URL`);
  }
  if (url.protocol !== 'https:') throw new InputError(name, `must be https (got '${raw}'): the Azure SDKs refuse bearer tokens over http`);
  return raw.replace(/\/+$/, '');
}

/** An audience is one token: no whitespace or control characters (Entra accepts non-URI values). */
function audience(raw: string): string {
  // eslint-disable-next-line no-control-regex -- refusing control characters is the point
  if (/[\s\u0000-\u001f\u007f]/.test(raw)) throw new InputError('audience', `must not contain whitespace or control characters, got '${raw}'`);
  return raw;
}

/** Parses every input; `get` returns '' for an input that is not set. */
export function parseSettings(get: GetInput): Settings {
  const mode = (get('mode').trim() || 'plan') as Mode;
  if (!MODES.includes(mode)) throw new InputError('mode', `unknown mode '${mode}'; expected one of ${MODES.join(', ')}`);

  const cloud = (get('azure-cloud').trim() || 'AzureCloud') as AzureCloudName;
  if (!(cloud in CLOUDS)) throw new InputError('azure-cloud', `unknown cloud '${cloud}'; expected one of ${Object.keys(CLOUDS).join(', ')}`);
  const armRaw = get('arm-endpoint').trim();
  const authorityRaw = get('authority-host').trim();

  const clientId = get('azure-client-id').trim();
  const tenantId = get('azure-tenant-id').trim();
  if (Boolean(clientId) !== Boolean(tenantId)) {
    throw new InputError(clientId ? 'azure-tenant-id' : 'azure-client-id', 'azure-client-id and azure-tenant-id go together (GitHub OIDC login); set both or neither');
  }

  return {
    mappingFile: get('mapping-file').trim() || '.github/workload-identity.yaml',
    environment: get('environment').trim(),
    mode,
    verify: bool(get, 'verify', true),
    verifyImage: get('verify-image').trim() || 'mcr.microsoft.com/azurelinux/base/nodejs:24',
    verifyTimeoutSeconds: int(get, 'verify-timeout', 180, 10, 3600),
    // ARM of the cloud: a scope every identity may ask for without a role assignment.
    verifyScope: get('verify-scope').trim() || `${CLOUDS[cloud].armEndpoint}/.default`,
    verifyConcurrency: int(get, 'verify-concurrency', 10, 1, 100),
    concurrency: concurrency(get),
    // Up to GitHub's 6 h job limit; under 10 s not even a login fits.
    timeoutSeconds: int(get, 'timeout', 900, 10, 21_600),
    prune: bool(get, 'prune', false),
    failOnChanges: bool(get, 'fail-on-changes', false),
    azure: {
      clientId,
      tenantId,
      subscriptionId: get('azure-subscription-id').trim(),
      cloud,
      armEndpoint: armRaw ? httpsUrl('arm-endpoint', armRaw) : CLOUDS[cloud].armEndpoint,
      authorityHost: authorityRaw ? httpsUrl('authority-host', authorityRaw) : CLOUDS[cloud].authorityHost,
      audience: audience(get('audience').trim()) || CLOUDS[cloud].audience,
    },
    kubeconfig: get('kubeconfig'),
    githubToken: get('github-token').trim(),
    comment: bool(get, 'comment', true),
    discoverOutput: get('discover-output').trim() || 'workload-identity.discovered.yaml',
  };
}
