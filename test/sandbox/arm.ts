// Azure Resource Manager (service 'arm'): the user-assigned identities and federated
// identity credentials of Microsoft.ManagedIdentity, AKS managedClusters (GET, lists by
// subscription and resource group, listClusterUserCredential / listClusterAdminCredential),
// and the subscription/tenant listing az CLI makes after login.
//
// Every request needs a bearer token that the Entra emulator issued (signature, lifetime,
// audience, tenant of the subscription), and an api-version the addressed resource type
// publishes (API_VERSIONS: the version folders of Azure/azure-rest-api-specs, cited in
// FIDELITY.md), as real ARM serves every published version. Error bodies are ARM's
// `{"error":{"code","message"}}`; codes and messages are quoted in FIDELITY.md from
// learn.microsoft.com (workload-identity-federation-considerations "Errors" table), the
// azure-rest-api-specs msi examples and public error reports. FIC writes on one identity
// are serialised for real: a write that arrives while another write on the same identity
// is in flight gets 409 ConcurrentFederatedIdentityCredentialsWritesForSingleManagedIdentity.
import type { ServerResponse } from 'node:http';
import { errors as joseErrors, type JWTPayload } from 'jose';
import type { SandboxContext } from './context.ts';
import type { EntraSigner } from './entra.ts';
import { jsonBody, type Reply, type SandboxRequest, type Service } from './http.ts';
import type { CredentialRole } from './aks-credentials.ts';
import {
  clusterFqdn,
  clusterResourceId,
  identityResourceId,
  identityResourceIdLower,
  MAX_FICS_PER_IDENTITY,
  type FederatedCredential,
  type ManagedCluster,
  type SandboxState,
  type UserAssignedIdentity,
} from './state.ts';
import { createWriteThrottle, type WriteLimits, type WriteThrottle } from './throttle.ts';
import { ieq, newId, sleep, uuidFrom } from './util.ts';

export interface ArmOptions {
  /** FIC list page size (default 10). */
  pageSize?: number;
  /** How long a FIC write stays in flight in the handler (default DEFAULT_WRITE_HOLD_MS, 200 ms). */
  writeHoldMs?: number;
  /** Enforce write limits on FIC PUT/DELETE (throttle.ts; FIC_WRITE_LIMITS is the documented table). Off by default. */
  writeLimits?: WriteLimits;
}

/**
 * How long a FIC write holds its identity by default. Real ARM's window is not measured
 * (FIDELITY.md) but is longer than a fast local round trip; 200 ms makes a second write that
 * a client sends without waiting for the first one's answer overlap it reliably.
 */
export const DEFAULT_WRITE_HOLD_MS = 200;

/** AKS stable versions: `stable/<v>/managedClusters.json` in the containerservice specs. */
const AKS_STABLE = [
  '2017-08-31', '2018-03-31', '2019-02-01', '2019-04-01', '2019-06-01', '2019-08-01', '2019-10-01', '2019-11-01',
  '2020-01-01', '2020-02-01', '2020-03-01', '2020-04-01', '2020-06-01', '2020-07-01', '2020-09-01', '2020-11-01', '2020-12-01',
  '2021-02-01', '2021-03-01', '2021-05-01', '2021-07-01', '2021-08-01', '2021-09-01', '2021-10-01',
  '2022-01-01', '2022-02-01', '2022-03-01', '2022-04-01', '2022-06-01', '2022-07-01', '2022-09-01', '2022-11-01',
  '2023-01-01', '2023-02-01', '2023-03-01', '2023-04-01', '2023-05-01', '2023-06-01', '2023-07-01', '2023-08-01', '2023-09-01', '2023-10-01', '2023-11-01',
  '2024-01-01', '2024-02-01', '2024-05-01', '2024-07-01', '2024-08-01', '2024-09-01', '2024-10-01',
  '2025-01-01', '2025-02-01', '2025-03-01', '2025-04-01', '2025-05-01', '2025-06-01', '2025-07-01', '2025-08-01', '2025-09-01', '2025-10-01',
  '2026-01-01', '2026-02-01', '2026-03-01', '2026-04-01',
];
/** AKS previews: `preview/<v>/managedClusters.json`. */
const AKS_PREVIEW = [
  '2018-08-01-preview', '2021-11-01-preview',
  '2022-01-02-preview', '2022-02-02-preview', '2022-03-02-preview', '2022-04-02-preview', '2022-05-02-preview', '2022-06-02-preview',
  '2022-07-02-preview', '2022-08-02-preview', '2022-08-03-preview', '2022-09-02-preview', '2022-10-02-preview', '2022-11-02-preview',
  '2023-01-02-preview', '2023-02-02-preview', '2023-03-02-preview', '2023-04-02-preview', '2023-05-02-preview', '2023-06-02-preview',
  '2023-07-02-preview', '2023-08-02-preview', '2023-09-02-preview', '2023-10-02-preview', '2023-11-02-preview',
  '2024-01-02-preview', '2024-02-02-preview', '2024-03-02-preview', '2024-04-02-preview', '2024-05-02-preview', '2024-06-02-preview',
  '2024-07-02-preview', '2024-09-02-preview', '2024-10-02-preview',
  '2025-01-02-preview', '2025-02-02-preview', '2025-03-02-preview', '2025-04-02-preview', '2025-05-02-preview', '2025-06-02-preview',
  '2025-07-02-preview', '2025-08-02-preview', '2025-09-02-preview', '2025-10-02-preview',
  '2026-01-02-preview', '2026-02-02-preview', '2026-03-02-preview', '2026-04-02-preview',
];
/** Microsoft.ManagedIdentity versions that define federatedIdentityCredentials (from 2022-01-31-preview on). */
const MSI_WITH_FICS = ['2022-01-31-preview', '2023-01-31', '2023-07-31-preview', '2024-11-30', '2025-01-31-preview', '2025-05-31-preview', '2026-05-31'];

/**
 * The api-versions ARM routes, per resource type, as Azure/azure-rest-api-specs publishes
 * them (FIDELITY.md cites each folder). Anything else is answered as ARM answers an unknown
 * version: InvalidApiVersionParameter for ARM's own types, NoRegisteredProviderFound for a
 * resource provider's.
 */
export const API_VERSIONS = {
  /** Microsoft.Resources `stable/<v>/subscriptions.json` (subscriptions, tenants). az 2.45 lists subscriptions with 2019-11-01. */
  subscriptions: ['2015-11-01', '2016-06-01', '2018-06-01', '2019-06-01', '2019-11-01', '2020-01-01', '2021-01-01', '2022-12-01'],
  /** Microsoft.Resources `stable/<v>/resources.json` (resource groups). az 2.45 reads resource groups with 2022-09-01. */
  resourceGroups: [
    '2015-11-01', '2016-02-01', '2016-07-01', '2016-09-01', '2017-05-10', '2018-02-01', '2018-05-01', '2019-03-01', '2019-05-01', '2019-05-10',
    '2019-07-01', '2019-08-01', '2019-10-01', '2020-06-01', '2020-08-01', '2020-10-01', '2021-01-01', '2021-04-01', '2022-09-01',
  ],
  /** Microsoft.ManagedIdentity `stable|preview/<v>/ManagedIdentity.json`. @azure/arm-msi 2.x sends 2024-11-30, az 2.45 2022-01-31-preview. */
  userAssignedIdentities: ['2015-08-31-preview', '2018-11-30', '2021-09-30-preview', ...MSI_WITH_FICS],
  federatedIdentityCredentials: MSI_WITH_FICS,
  /** Microsoft.ContainerService managedClusters. az 2.45 sends 2022-11-01, @azure/arm-containerservice 25.x 2026-04-01. */
  managedClusters: [...AKS_STABLE, ...AKS_PREVIEW],
} as const satisfies Record<string, readonly string[]>;

export interface ArmDenial {
  /** e.g. `Microsoft.ManagedIdentity/userAssignedIdentities/federatedIdentityCredentials/write` */
  action: string;
  /** Only this principal (object id); all principals when absent. */
  principalId?: string;
}

/** The kubeconfig listClusterUserCredential (clusterUser) or listClusterAdminCredential answers for a cluster. */
export type KubeconfigSource = (cluster: ManagedCluster, role: CredentialRole) => string;

export interface ArmEmulator {
  service: Service;
  /** Where cluster credentials come from (the sandbox wires the Kubernetes emulator's token and the proxy in). */
  setKubeconfigSource(source: KubeconfigSource): void;
  setPageSize(n: number): void;
  setWriteHold(ms: number): void;
  /** Start (or, with undefined, stop) enforcing write limits on FIC writes, with fresh buckets. */
  setWriteLimits(limits: WriteLimits | undefined): void;
  /** RBAC denial: 403 AuthorizationFailed for that action. */
  deny(denial: ArmDenial): void;
  clearDenials(): void;
}

const FIC_NAME = /^[a-zA-Z0-9][a-zA-Z0-9-_]{2,119}$/;
const FIC_TYPE = 'Microsoft.ManagedIdentity/userAssignedIdentities/federatedIdentityCredentials';
const ID_TYPE = 'Microsoft.ManagedIdentity/userAssignedIdentities';
const ALLOWED_AUDIENCES = ['https://management.core.windows.net/', 'https://management.core.windows.net', 'https://management.azure.com/', 'https://management.azure.com'];

const armError = (status: number, code: string, message: string, headers?: Reply['headers']): Reply => ({
  status,
  headers,
  body: { error: { code, message } },
});

/** `11/25/2025 5:05:00 PM`, the en-US format ARM prints token times in. */
function armTime(epochSeconds: number): string {
  const d = new Date(epochSeconds * 1000);
  const h = d.getUTCHours();
  const pad = (n: number) => String(n).padStart(2, '0');
  return `${d.getUTCMonth() + 1}/${d.getUTCDate()}/${d.getUTCFullYear()} ${h % 12 || 12}:${pad(d.getUTCMinutes())}:${pad(d.getUTCSeconds())} ${h < 12 ? 'AM' : 'PM'}`;
}

const S = '/subscriptions/([^/]+)';
const RG = `${S}/resourcegroups/([^/]+)`;
const UAI = `${RG}/providers/microsoft\\.managedidentity/userassignedidentities`;
const routes = {
  subscriptions: /^\/subscriptions\/?$/i,
  tenants: /^\/tenants\/?$/i,
  subscription: new RegExp(`^${S}/?$`, 'i'),
  resourceGroup: new RegExp(`^${RG}/?$`, 'i'),
  identities: new RegExp(`^${UAI}/?$`, 'i'),
  subscriptionIdentities: new RegExp(`^${S}/providers/microsoft\\.managedidentity/userassignedidentities/?$`, 'i'),
  identity: new RegExp(`^${UAI}/([^/]+)/?$`, 'i'),
  fics: new RegExp(`^${UAI}/([^/]+)/federatedidentitycredentials/?$`, 'i'),
  fic: new RegExp(`^${UAI}/([^/]+)/federatedidentitycredentials/([^/]+)/?$`, 'i'),
  cluster: new RegExp(`^${RG}/providers/microsoft\\.containerservice/managedclusters/([^/]+)/?$`, 'i'),
  clusters: new RegExp(`^${RG}/providers/microsoft\\.containerservice/managedclusters/?$`, 'i'),
  subscriptionClusters: new RegExp(`^${S}/providers/microsoft\\.containerservice/managedclusters/?$`, 'i'),
  clusterCredential: new RegExp(`^${RG}/providers/microsoft\\.containerservice/managedclusters/([^/]+)/list(clusteruser|clusteradmin)credential/?$`, 'i'),
};

export function createArm(ctx: SandboxContext, state: SandboxState, signer: EntraSigner, options: ArmOptions = {}): ArmEmulator {
  let pageSize = options.pageSize ?? 10;
  let writeHoldMs = options.writeHoldMs ?? DEFAULT_WRITE_HOLD_MS;
  let throttle: WriteThrottle | undefined = options.writeLimits ? createWriteThrottle(options.writeLimits) : undefined;
  let denials: ArmDenial[] = [];
  /** Identity (lower-cased resource id) → ms until which a FIC write on it is in flight. */
  const busyUntil = new Map<string, number>();
  let kubeconfigSource: KubeconfigSource = () => '';

  function challenge(description: string): Reply['headers'] {
    return {
      'www-authenticate': `Bearer authorization_uri="https://login.windows.net/", error="invalid_token", error_description="${description}"`,
    };
  }

  const unauthorized = (code: string, message: string, description: string): { reply: Reply } => ({
    reply: armError(401, code, message, challenge(description)),
  });

  async function authenticate(req: SandboxRequest): Promise<{ claims: JWTPayload } | { reply: Reply }> {
    const header = req.headers.authorization;
    if (!header) {
      return unauthorized('AuthenticationFailed', "Authentication failed. The 'Authorization' header is missing.", "The authentication failed because of missing 'Authorization' header.");
    }
    const m = /^Bearer\s+(\S+)$/i.exec(header);
    if (!m) {
      return unauthorized('AuthenticationFailed', "Authentication failed. The 'Authorization' header is provided in an invalid format.", "The authentication failed because of invalid 'Authorization' header format.");
    }
    let claims: JWTPayload;
    try {
      claims = await signer.verify(m[1]!);
    } catch (err) {
      if (err instanceof joseErrors.JWTExpired) {
        const exp = Number(err.payload.exp ?? 0);
        const message = `The access token expiry UTC time '${armTime(exp)}' is earlier than current UTC time '${armTime(Date.now() / 1000)}'.`;
        return unauthorized('ExpiredAuthenticationToken', message, 'The access token has expired.');
      }
      return unauthorized('InvalidAuthenticationToken', 'The access token is invalid.', 'The access token is invalid.');
    }
    const aud = String(claims.aud ?? '');
    const allowed = [...ALLOWED_AUDIENCES, ctx.urls.arm, `${ctx.urls.arm}/`, req.url.origin, `${req.url.origin}/`];
    if (!allowed.includes(aud)) {
      const list = ALLOWED_AUDIENCES.map((a) => `'${a}'`).join(',');
      return unauthorized(
        'InvalidAuthenticationTokenAudience',
        `The access token has been obtained for wrong audience or resource '${aud}'. It should exactly match with one of the allowed audiences ${list}.`,
        'The access token has been obtained for wrong audience or resource.',
      );
    }
    return { claims };
  }

  function checkSubscription(claims: JWTPayload, subscriptionId: string): Reply | undefined {
    const sub = state.subscription(subscriptionId);
    if (!sub) return armError(404, 'SubscriptionNotFound', `The subscription '${subscriptionId}' could not be found.`);
    const tid = String(claims.tid ?? '');
    if (!ieq(tid, sub.tenantId)) {
      return armError(
        401,
        'InvalidAuthenticationTokenTenant',
        `The access token is from the wrong issuer 'https://sts.windows.net/${tid}/'. It must match the tenant 'https://sts.windows.net/${sub.tenantId}/' associated with this subscription. Please use the authority (URL) 'https://login.windows.net/${sub.tenantId}' to get the token. Note, if the subscription is transferred to another tenant there is no impact to the services, but information about new tenant could take time to propagate (up to an hour). If you just transferred your subscription and see this error message, please try back later.`,
        challenge('The access token is from the wrong issuer.'),
      );
    }
    return undefined;
  }

  function authorize(claims: JWTPayload, action: string, scope: string): Reply | undefined {
    const oid = String(claims.oid ?? '');
    const denied = denials.find((d) => ieq(d.action, action) && (!d.principalId || ieq(d.principalId, oid)));
    if (!denied) return undefined;
    return armError(
      403,
      'AuthorizationFailed',
      `The client '${oid}' with object id '${oid}' does not have authorization to perform action '${action}' over scope '${scope}' or the scope is invalid. If access was recently granted, please refresh your credentials.`,
    );
  }

  function rgScope(sub: string, rg: string): string {
    return `/subscriptions/${sub}/resourceGroups/${rg}`;
  }

  function identityJson(i: UserAssignedIdentity): unknown {
    return {
      id: identityResourceId(i),
      name: i.name,
      type: ID_TYPE,
      location: i.location,
      tags: i.tags,
      properties: { tenantId: i.tenantId, principalId: i.principalId, clientId: i.clientId, isolationScope: 'None' },
    };
  }

  function ficJson(i: UserAssignedIdentity, f: FederatedCredential): unknown {
    return {
      id: `${identityResourceId(i)}/federatedIdentityCredentials/${f.name}`,
      name: f.name,
      type: FIC_TYPE,
      properties: { issuer: f.issuer, subject: f.subject, audiences: [...f.audiences] },
    };
  }

  function clusterJson(c: ManagedCluster): unknown {
    const properties: Record<string, unknown> = {
      provisioningState: 'Succeeded',
      powerState: { code: 'Running' },
      kubernetesVersion: c.kubernetesVersion,
      currentKubernetesVersion: c.kubernetesVersion,
      dnsPrefix: `${c.name}-dns`,
      fqdn: clusterFqdn(c),
      azurePortalFQDN: clusterFqdn(c).replace('.hcp.', '.portal.hcp.'),
      agentPoolProfiles: [
        { name: 'nodepool1', count: 3, vmSize: 'Standard_D4s_v5', osType: 'Linux', osSKU: 'AzureLinux', mode: 'System', type: 'VirtualMachineScaleSets', provisioningState: 'Succeeded', powerState: { code: 'Running' }, orchestratorVersion: c.kubernetesVersion },
      ],
      // A managed-identity cluster answers clientId "msi"; az 2.45's `aks show`/`aks list` fail without the object.
      servicePrincipalProfile: { clientId: 'msi' },
      nodeResourceGroup: `MC_${c.resourceGroup}_${c.name}_${c.location}`,
      enableRBAC: true,
      networkProfile: { networkPlugin: 'azure', networkPolicy: 'none', loadBalancerSku: 'standard' },
      oidcIssuerProfile: c.oidcIssuerProfile.enabled ? { enabled: true, issuerURL: c.oidcIssuerProfile.issuerURL } : { enabled: false },
      securityProfile: { workloadIdentity: { enabled: c.workloadIdentityEnabled } },
    };
    if (c.podIdentityProfile) {
      properties.podIdentityProfile = {
        enabled: c.podIdentityProfile.enabled,
        allowNetworkPluginKubenet: c.podIdentityProfile.allowNetworkPluginKubenet ?? false,
        userAssignedIdentities: c.podIdentityProfile.userAssignedIdentities.map((u) => ({
          name: u.name,
          namespace: u.namespace,
          bindingSelector: u.bindingSelector ?? u.name,
          identity: { resourceId: u.identity.resourceId, clientId: u.identity.clientId, objectId: u.identity.objectId },
          provisioningState: 'Assigned',
        })),
        userAssignedIdentityExceptions: [],
      };
    }
    return {
      id: clusterResourceId(c),
      location: c.location,
      name: c.name,
      type: 'Microsoft.ContainerService/ManagedClusters',
      sku: { name: 'Base', tier: 'Free' },
      identity: { type: 'SystemAssigned', principalId: uuidFrom(`aks-principal:${clusterResourceId(c).toLowerCase()}`), tenantId: state.subscription(c.subscriptionId)?.tenantId },
      properties,
    };
  }

  /** ARM's 404 for a resource, `type` as `Provider/type/name[/child/name]`. */
  const resourceNotFound = (type: string, rg: string): Reply =>
    armError(404, 'ResourceNotFound', `The Resource '${type}' under resource group '${rg}' was not found. For more details please go to https://aka.ms/ARMResourceNotFoundFix`);

  const identityNotFound = (rg: string, name: string): Reply => resourceNotFound(`Microsoft.ManagedIdentity/userAssignedIdentities/${name}`, rg);

  /** A list in a subscription, or in one of its resource groups (404 when the group is missing). */
  function listIn<T extends { subscriptionId: string; resourceGroup: string }>(
    claims: JWTPayload,
    action: string,
    items: T[],
    toJson: (item: T) => unknown,
    sub: string,
    rg?: string,
  ): Reply {
    const deny = authorize(claims, action, rg ? rgScope(sub, rg) : `/subscriptions/${sub}`);
    if (deny) return deny;
    if (rg && !state.hasResourceGroup(sub, rg)) return rgNotFound(rg);
    return { status: 200, body: { value: items.filter((i) => ieq(i.subscriptionId, sub) && (!rg || ieq(i.resourceGroup, rg))).map(toJson) } };
  }

  const rgNotFound = (rg: string): Reply => armError(404, 'ResourceGroupNotFound', `Resource group '${rg}' could not be found.`);

  /** The identity a request addresses, or the 404 ARM answers. */
  function lookupIdentity(sub: string, rg: string, name: string, nested: boolean): UserAssignedIdentity | Reply {
    if (!state.hasResourceGroup(sub, rg)) return rgNotFound(rg);
    const identity = state.findIdentity(sub, rg, name);
    if (identity) return identity;
    if (nested) {
      // The MSI docs' FIC error table: 404 "The parent user-assigned identity doesn't exist."
      return armError(404, 'ParentResourceNotFound', `The parent user-assigned identity '${name}' does not exist.`);
    }
    return identityNotFound(rg, name);
  }

  function listFics(req: SandboxRequest, identity: UserAssignedIdentity): Reply {
    const q = req.url.searchParams;
    const param = (name: string): string | null => {
      for (const [k, v] of q) if (k.toLowerCase() === name.toLowerCase()) return v;
      return null;
    };
    const top = Number(param('$top') ?? '') || pageSize;
    const size = Math.max(1, Math.min(top, pageSize));
    const skip = Number(param('$skipToken') ?? '0') || 0;
    const page = identity.fics.slice(skip, skip + size);
    const body: { value: unknown[]; nextLink?: string } = { value: page.map((f) => ficJson(identity, f)) };
    if (skip + size < identity.fics.length) {
      // Literal `$` as ARM writes it (azure-rest-api-specs FederatedIdentityCredentialList.json).
      const apiVersion = encodeURIComponent(param('api-version') ?? '2024-11-30');
      const topPart = param('$top') ? `&$top=${top}` : '';
      body.nextLink = `${req.url.origin}${req.url.pathname}?api-version=${apiVersion}${topPart}&$skipToken=${skip + size}`;
    }
    return { status: 200, body };
  }

  async function putFic(req: SandboxRequest, identity: UserAssignedIdentity, name: string): Promise<Reply> {
    if (!FIC_NAME.test(name)) {
      return armError(400, 'BadRequest', `Federated Identity Credential name '${name}' is invalid.`);
    }
    let body: { properties?: { issuer?: unknown; subject?: unknown; audiences?: unknown } };
    try {
      body = jsonBody(req);
    } catch (err) {
      return armError(400, 'InvalidRequestContent', `The request content was invalid and could not be deserialized: '${(err as Error).message}'.`);
    }
    const p = body.properties ?? {};
    const issuer = typeof p.issuer === 'string' ? p.issuer : '';
    const subject = typeof p.subject === 'string' ? p.subject : '';
    const audiences = Array.isArray(p.audiences) ? p.audiences.filter((a): a is string => typeof a === 'string' && a !== '') : [];
    if (!issuer || !subject || !audiences.length) {
      return armError(400, 'BadRequest', "The request format was unexpected. Federated Identity Credential must specify 'issuer', 'subject' and 'audience'.");
    }
    if (audiences.length !== 1) {
      return armError(400, 'BadRequest', 'Federated identity credentials must have exactly one audience.');
    }
    let issuerUrl: URL | undefined;
    try {
      issuerUrl = new URL(issuer);
    } catch {
      issuerUrl = undefined;
    }
    if (!issuerUrl || issuerUrl.protocol !== 'https:') {
      return armError(400, 'BadRequest', `The request format was unexpected. Federated Identity Credential issuer '${issuer}' must be a valid URL with the 'https' scheme.`);
    }
    const existing = identity.fics.find((f) => ieq(f.name, name));
    const clash = identity.fics.find((f) => f !== existing && f.issuer === issuer && f.subject === subject);
    if (clash) {
      return armError(400, 'BadRequest', 'Issuer and subject combination already exists for this Managed Identity.');
    }
    if (!existing && identity.fics.length >= MAX_FICS_PER_IDENTITY) {
      return armError(
        400,
        'BadRequest',
        `The request format was unexpected. Too many Federated Identity Credentials: a user-assigned managed identity can have at most ${MAX_FICS_PER_IDENTITY}.`,
      );
    }
    const conflict = await holdWrite(identity);
    if (conflict) return conflict;
    const now = Date.now();
    // As real ARM answers (az 2.45 recording, FIDELITY.md): a path, `resourcegroups` lower-case, no api-version.
    const location = `${identityResourceId(identity)}/federatedIdentityCredentials/${name}`;
    const current = identity.fics.find((f) => ieq(f.name, name));
    if (current) {
      const changed = current.issuer !== issuer || current.subject !== subject || current.audiences.join('\n') !== audiences.join('\n');
      if (changed) {
        // Entra keeps the version it has until the change replicates: the values before this
        // write when they had replicated, else whatever it held already (or nothing).
        if (now >= current.propagatesAt) current.previous = { issuer: current.issuer, subject: current.subject, audiences: [...current.audiences] };
        current.issuer = issuer;
        current.subject = subject;
        current.audiences = audiences;
        current.propagatesAt = now + state.ficPropagationDelayMs;
      }
      return { status: 200, body: ficJson(identity, current) };
    }
    const fic: FederatedCredential = { name, issuer, subject, audiences, createdAt: now, propagatesAt: now + state.ficPropagationDelayMs };
    identity.fics.push(fic);
    return { status: 201, headers: { location }, body: ficJson(identity, fic) };
  }

  /**
   * Marks a FIC write on the identity in flight for the hold time and waits it out, or
   * answers 409 when another write on the same identity is still in flight. A write counts
   * from its arrival (the injected write latency is spent before the handler runs).
   */
  async function holdWrite(identity: UserAssignedIdentity): Promise<Reply | undefined> {
    const key = identityResourceId(identity).toLowerCase();
    const now = Date.now();
    const arrival = now - (ctx.faults.latency.arm?.writeMs ?? 0);
    if ((busyUntil.get(key) ?? 0) > arrival) {
      return armError(
        409,
        'ConcurrentFederatedIdentityCredentialsWritesForSingleManagedIdentity',
        `Too many Federated Identity Credentials are written concurrently for the managed identity '${identityResourceIdLower(identity)}'. Concurrent Federated Identity Credentials writes under the same managed identity are not supported.`,
      );
    }
    busyUntil.set(key, now + writeHoldMs);
    if (writeHoldMs > 0) await sleep(writeHoldMs);
    return undefined;
  }

  async function deleteFic(identity: UserAssignedIdentity, name: string): Promise<Reply> {
    if (!identity.fics.some((f) => ieq(f.name, name))) return { status: 204 };
    const conflict = await holdWrite(identity);
    if (conflict) return conflict;
    identity.fics = identity.fics.filter((f) => !ieq(f.name, name));
    return { status: 200 };
  }

  const supportedLocations = (): string =>
    [...new Set(['westeurope', ...state.resourceGroups.values()])].sort().join(', ');

  /**
   * ARM's answer to an api-version the addressed type does not support: Microsoft.Resources
   * types (ARM's own) answer 400 InvalidApiVersionParameter; resource-provider types answer
   * 400 NoRegisteredProviderFound (ARM cannot route the request to the provider).
   */
  function checkApiVersion(path: string, version: string): Reply | undefined {
    const v = version.toLowerCase();
    const rgLocation = (sub: string, rg: string) => state.resourceGroups.get(`${sub}/${rg}`.toLowerCase()) ?? 'westeurope';
    const provider = (supported: readonly string[], type: string, location: string): Reply | undefined =>
      supported.includes(v)
        ? undefined
        : armError(
            400,
            'NoRegisteredProviderFound',
            `No registered resource provider found for location '${location}' and API version '${version}' for type '${type}'. The supported api-versions are '${supported.join(', ')}'. The supported locations are '${supportedLocations()}'.`,
          );
    const own = (supported: readonly string[]): Reply | undefined =>
      supported.includes(v) ? undefined : armError(400, 'InvalidApiVersionParameter', `The api-version '${version}' is invalid. The supported versions are '${[...supported].reverse().join(',')}'.`);
    let r: RegExpExecArray | null;
    if (routes.subscriptions.test(path) || routes.tenants.test(path) || routes.subscription.test(path)) return own(API_VERSIONS.subscriptions);
    if (routes.resourceGroup.test(path)) return own(API_VERSIONS.resourceGroups);
    if ((r = routes.fics.exec(path) ?? routes.fic.exec(path))) {
      return provider(API_VERSIONS.federatedIdentityCredentials, 'userAssignedIdentities/federatedIdentityCredentials', rgLocation(r[1]!, r[2]!));
    }
    if ((r = routes.identities.exec(path) ?? routes.identity.exec(path))) {
      return provider(API_VERSIONS.userAssignedIdentities, 'userAssignedIdentities', rgLocation(r[1]!, r[2]!));
    }
    if (routes.subscriptionIdentities.test(path)) return provider(API_VERSIONS.userAssignedIdentities, 'userAssignedIdentities', 'westeurope');
    if ((r = routes.cluster.exec(path) ?? routes.clusters.exec(path) ?? routes.clusterCredential.exec(path))) {
      return provider(API_VERSIONS.managedClusters, 'managedClusters', rgLocation(r[1]!, r[2]!));
    }
    if (routes.subscriptionClusters.test(path)) return provider(API_VERSIONS.managedClusters, 'managedClusters', 'westeurope');
    return undefined;
  }

  async function route(req: SandboxRequest, claims: JWTPayload): Promise<Reply> {
    const path = decodeURIComponent(req.url.pathname);
    const m = req.method;
    let r: RegExpExecArray | null;
    const badVersion = checkApiVersion(path, req.url.searchParams.get('api-version') ?? '');
    if (badVersion) return badVersion;

    if ((r = routes.subscriptions.exec(path)) && m === 'GET') {
      const tid = String(claims.tid ?? '');
      const subs = state.subscriptions.filter((s) => ieq(s.tenantId, tid));
      return { status: 200, body: { value: subs.map(subscriptionJson), count: { type: 'Total', value: subs.length } } };
    }
    if ((r = routes.tenants.exec(path)) && m === 'GET') {
      const tid = String(claims.tid ?? '');
      return {
        status: 200,
        body: { value: [{ id: `/tenants/${tid}`, tenantId: tid, tenantCategory: 'Home', countryCode: 'US', displayName: 'Sandbox', domains: ['sandbox.onmicrosoft.com'], defaultDomain: 'sandbox.onmicrosoft.com', tenantType: 'AAD' }] },
      };
    }
    if ((r = routes.subscription.exec(path)) && m === 'GET') {
      const bad = checkSubscription(claims, r[1]!);
      if (bad) return bad;
      return { status: 200, body: subscriptionJson(state.subscription(r[1]!)!) };
    }
    // Everything below lives in a subscription.
    const subId = /^\/subscriptions\/([^/]+)/i.exec(path)?.[1];
    if (subId) {
      const bad = checkSubscription(claims, subId);
      if (bad) return bad;
    }
    if ((r = routes.resourceGroup.exec(path)) && m === 'GET') {
      const [, sub, rg] = r as unknown as [string, string, string];
      const deny = authorize(claims, 'Microsoft.Resources/subscriptions/resourceGroups/read', rgScope(sub, rg));
      if (deny) return deny;
      if (!state.hasResourceGroup(sub, rg)) return rgNotFound(rg);
      const location = state.resourceGroups.get(`${sub}/${rg}`.toLowerCase());
      return { status: 200, body: { id: rgScope(sub, rg), name: rg, type: 'Microsoft.Resources/resourceGroups', location, properties: { provisioningState: 'Succeeded' } } };
    }
    if ((r = routes.identities.exec(path) ?? routes.subscriptionIdentities.exec(path)) && m === 'GET') {
      return listIn(claims, 'Microsoft.ManagedIdentity/userAssignedIdentities/read', state.identities, identityJson, r[1]!, r[2]);
    }
    if ((r = routes.identity.exec(path)) && m === 'GET') {
      const [, sub, rg, name] = r as unknown as [string, string, string, string];
      const deny = authorize(claims, 'Microsoft.ManagedIdentity/userAssignedIdentities/read', `${rgScope(sub, rg)}/providers/Microsoft.ManagedIdentity/userAssignedIdentities/${name}`);
      if (deny) return deny;
      const identity = lookupIdentity(sub, rg, name, false);
      if ('status' in identity) return identity;
      return { status: 200, body: identityJson(identity) };
    }
    if ((r = routes.fics.exec(path)) && m === 'GET') {
      const [, sub, rg, name] = r as unknown as [string, string, string, string];
      const deny = authorize(claims, `${FIC_TYPE}/read`, `${rgScope(sub, rg)}/providers/Microsoft.ManagedIdentity/userAssignedIdentities/${name}`);
      if (deny) return deny;
      const identity = lookupIdentity(sub, rg, name, true);
      if ('status' in identity) return identity;
      return listFics(req, identity);
    }
    if ((r = routes.fic.exec(path))) {
      const [, sub, rg, name, ficName] = r as unknown as [string, string, string, string, string];
      const scope = `${rgScope(sub, rg)}/providers/Microsoft.ManagedIdentity/userAssignedIdentities/${name}/federatedIdentityCredentials/${ficName}`;
      const action = m === 'GET' ? 'read' : m === 'PUT' ? 'write' : m === 'DELETE' ? 'delete' : '';
      if (!action) return armError(405, 'HttpMethodNotAllowed', `The HTTP method '${m}' is not supported for this resource.`);
      const deny = authorize(claims, `${FIC_TYPE}/${action}`, scope);
      if (deny) return deny;
      const identity = lookupIdentity(sub, rg, name, true);
      if ('status' in identity) return identity;
      if (m === 'GET') {
        const fic = identity.fics.find((f) => ieq(f.name, ficName));
        if (!fic) return resourceNotFound(`Microsoft.ManagedIdentity/userAssignedIdentities/${name}/federatedIdentityCredentials/${ficName}`, rg);
        return { status: 200, body: ficJson(identity, fic) };
      }
      // Throttling comes first: a refused request is not looked at, and costs no token.
      const limited = throttle?.take(identity.tenantId, identity.subscriptionId, identityResourceId(identity));
      if (limited && !limited.ok) {
        return armError(429, 'TooManyRequests', 'The request was throttled: too many writes to user-assigned managed identities. Retry after the time in the Retry-After header.', {
          ...limited.headers,
          'retry-after': String(limited.retryAfterSeconds),
        });
      }
      const reply = m === 'PUT' ? await putFic(req, identity, ficName) : await deleteFic(identity, ficName);
      return limited ? { ...reply, headers: { ...reply.headers, ...limited.headers } } : reply;
    }
    if ((r = routes.clusters.exec(path) ?? routes.subscriptionClusters.exec(path)) && m === 'GET') {
      return listIn(claims, 'Microsoft.ContainerService/managedClusters/read', state.clusters, clusterJson, r[1]!, r[2]);
    }
    if ((r = routes.cluster.exec(path) ?? routes.clusterCredential.exec(path))) {
      const [, sub, rg, name, kind] = r as unknown as [string, string, string, string, string | undefined];
      const role: CredentialRole | undefined = kind ? (kind.toLowerCase() === 'clusteruser' ? 'clusterUser' : 'clusterAdmin') : undefined;
      if (m !== (role ? 'POST' : 'GET')) return armError(405, 'HttpMethodNotAllowed', `The HTTP method '${m}' is not supported for this resource.`);
      const scope = `${rgScope(sub, rg)}/providers/Microsoft.ContainerService/managedClusters/${name}`;
      const deny = authorize(claims, role ? `Microsoft.ContainerService/managedClusters/list${role[0]!.toUpperCase()}${role.slice(1)}Credential/action` : 'Microsoft.ContainerService/managedClusters/read', scope);
      if (deny) return deny;
      if (!state.hasResourceGroup(sub, rg)) return rgNotFound(rg);
      const cluster = state.findCluster(sub, rg, name);
      if (!cluster) return resourceNotFound(`Microsoft.ContainerService/managedClusters/${name}`, rg);
      if (!role) return { status: 200, body: clusterJson(cluster) };
      // CredentialResults (specs ManagedClustersListClusterCredentialResult.json): the kubeconfig base64-encoded.
      const kubeconfig = kubeconfigSource(cluster, role);
      return { status: 200, body: { kubeconfigs: [{ name: role, value: Buffer.from(kubeconfig).toString('base64') }] } };
    }
    return armError(404, 'InvalidResourceType', `The sandbox ARM does not serve '${m} ${req.url.pathname}'.`);
  }

  const service: Service = {
    name: 'arm',
    async handle(req: SandboxRequest, _res: ServerResponse): Promise<Reply> {
      const requestId = newId();
      const correlation = String(req.headers['x-ms-client-request-id'] ?? requestId);
      const common = { 'x-ms-request-id': requestId, 'x-ms-correlation-request-id': correlation, 'x-ms-routing-request-id': `SANDBOX:${requestId}` };
      const auth = await authenticate(req);
      let reply: Reply;
      if ('reply' in auth) reply = auth.reply;
      else if (!req.url.searchParams.get('api-version')) {
        reply = armError(400, 'MissingApiVersionParameter', 'The api-version query parameter (?api-version=) is required for all requests.');
      } else reply = await route(req, auth.claims);
      return { ...reply, headers: { ...common, ...reply.headers } };
    },
  };

  return {
    service,
    setKubeconfigSource(source) {
      kubeconfigSource = source;
    },
    setPageSize(n) {
      pageSize = Math.max(1, Math.floor(n));
    },
    setWriteHold(ms) {
      writeHoldMs = Math.max(0, ms);
    },
    setWriteLimits(limits) {
      throttle = limits ? createWriteThrottle(limits) : undefined;
    },
    deny(denial) {
      denials.push(denial);
    },
    clearDenials() {
      denials = [];
    },
  };
}

function subscriptionJson(s: { subscriptionId: string; tenantId: string; displayName: string }): unknown {
  return {
    id: `/subscriptions/${s.subscriptionId}`,
    authorizationSource: 'RoleBased',
    managedByTenants: [],
    subscriptionId: s.subscriptionId,
    tenantId: s.tenantId,
    displayName: s.displayName,
    state: 'Enabled',
    subscriptionPolicies: { locationPlacementId: 'Public_2014-09-01', quotaId: 'PayAsYouGo_2014-09-01', spendingLimit: 'Off' },
  };
}
