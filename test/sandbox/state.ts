// The world the Azure and GitHub emulators share: tenants and subscriptions, user-assigned
// managed identities with their federated identity credentials (FICs), AKS managed
// clusters, the cluster OIDC issuers (keys), the action's own login app with its FICs for
// GitHub's OIDC issuer, and the GitHub repository (pull requests, issue comments).
// ARM reads and writes it; Entra matches assertions against it; tests inspect it.
//
// Shapes follow the ARM resources (Azure/azure-rest-api-specs,
// specification/msi/resource-manager/Microsoft.ManagedIdentity/stable/2024-11-30 and
// specification/containerservice/.../managedClusters) and GitHub's REST objects.
import type { ClusterIssuer } from './cluster-issuer.ts';
import { ieq, uuidFrom } from './util.ts';

export interface FederatedCredential {
  name: string;
  issuer: string;
  subject: string;
  audiences: string[];
  /** ms since epoch */
  createdAt: number;
  /** ms since epoch: before it, Entra answers AADSTS70021 for this FIC (replication delay). */
  propagatesAt: number;
  /**
   * An update not replicated yet: until propagatesAt Entra still compares tokens with these,
   * the values the FIC had before (ARM already shows the new ones). Absent for a FIC whose
   * creation has not replicated (Entra does not know it at all then).
   */
  previous?: { issuer: string; subject: string; audiences: string[] };
}

export interface UserAssignedIdentity {
  subscriptionId: string;
  resourceGroup: string;
  name: string;
  location: string;
  clientId: string;
  principalId: string;
  tenantId: string;
  tags: Record<string, string>;
  fics: FederatedCredential[];
}

/** An app registration (or any client) the action logs in as with GitHub's OIDC token. */
export interface LoginApp {
  displayName: string;
  clientId: string;
  principalId: string;
  tenantId: string;
  fics: FederatedCredential[];
}

export interface PodIdentityAssignment {
  name: string;
  namespace: string;
  bindingSelector?: string;
  identity: { resourceId: string; clientId: string; objectId: string };
}

export interface ManagedCluster {
  subscriptionId: string;
  resourceGroup: string;
  name: string;
  location: string;
  kubernetesVersion: string;
  oidcIssuerProfile: { enabled: boolean; issuerURL?: string };
  workloadIdentityEnabled: boolean;
  podIdentityProfile?: { enabled: boolean; allowNetworkPluginKubenet?: boolean; userAssignedIdentities: PodIdentityAssignment[] };
}

export interface Subscription {
  subscriptionId: string;
  tenantId: string;
  displayName: string;
}

export interface GithubUser {
  login: string;
  id: number;
  type: 'Bot' | 'User';
}

export interface GithubComment {
  id: number;
  issueNumber: number;
  body: string;
  user: GithubUser;
  createdAt: string; // ISO
  updatedAt: string;
}

export interface GithubPull {
  number: number;
  title: string;
  state: 'open' | 'closed';
  headSha: string;
  headRef: string;
  baseRef: string;
  mergeCommitSha?: string;
  merged?: boolean;
  user: GithubUser;
}

export interface GithubToken {
  readOnly: boolean;
  /** What GraphQL `viewer { login }` answers and what comments it writes are authored by. */
  login: string;
  /** An installation token (GITHUB_TOKEN, an app's) or a user's (PAT, OAuth): `GET /user` is forbidden to the first. */
  kind: 'installation' | 'user';
}

export interface GithubState {
  owner: string;
  repo: string;
  repoId: number;
  /** Actions workflow context, used for the OIDC subject and the event payload. */
  environment?: string;
  eventName: string;
  ref: string;
  sha: string;
  pulls: GithubPull[];
  /** Plain issue numbers (comments also work on every PR number). */
  issues: number[];
  comments: GithubComment[];
  nextCommentId: number;
  tokens: Map<string, GithubToken>;
  /** The Actions OIDC request token (ACTIONS_ID_TOKEN_REQUEST_TOKEN). */
  idTokenRequestToken: string;
}

export const GITHUB_ACTIONS_BOT: GithubUser = { login: 'github-actions[bot]', id: 41898282, type: 'Bot' };

export const DEFAULT_AUDIENCE = 'api://AzureADTokenExchange';
export const MAX_FICS_PER_IDENTITY = 20;

export class SandboxState {
  tenants = new Set<string>();
  subscriptions: Subscription[] = [];
  /** `${subscriptionId}/${resourceGroup}` lower-cased → location */
  resourceGroups = new Map<string, string>();
  identities: UserAssignedIdentity[] = [];
  loginApps: LoginApp[] = [];
  clusters: ManagedCluster[] = [];
  /** Cluster OIDC issuers by their byte-exact URL. */
  issuers = new Map<string, ClusterIssuer>();
  /** The GitHub Actions OIDC issuer URL (set by the GitHub emulator). */
  githubIssuer = '';
  /** Applied to every FIC written through ARM (and seeded ones when asked). */
  ficPropagationDelayMs = 0;
  github: GithubState;

  constructor() {
    this.github = {
      owner: 'contoso',
      repo: 'platform',
      repoId: 700000001,
      eventName: 'pull_request',
      ref: 'refs/heads/main',
      sha: '0000000000000000000000000000000000000000',
      pulls: [],
      issues: [],
      comments: [],
      nextCommentId: 2000000001,
      tokens: new Map(),
      idTokenRequestToken: '',
    };
  }

  addTenant(tenantId: string): void {
    this.tenants.add(tenantId);
  }

  addSubscription(subscriptionId: string, tenantId: string, displayName = `Subscription ${subscriptionId.slice(0, 8)}`): Subscription {
    this.addTenant(tenantId);
    let sub = this.subscriptions.find((s) => ieq(s.subscriptionId, subscriptionId));
    if (!sub) {
      sub = { subscriptionId, tenantId, displayName };
      this.subscriptions.push(sub);
    }
    return sub;
  }

  subscription(subscriptionId: string): Subscription | undefined {
    return this.subscriptions.find((s) => ieq(s.subscriptionId, subscriptionId));
  }

  addResourceGroup(subscriptionId: string, resourceGroup: string, location = 'westeurope'): void {
    const key = `${subscriptionId}/${resourceGroup}`.toLowerCase();
    if (!this.resourceGroups.has(key)) this.resourceGroups.set(key, location);
  }

  hasResourceGroup(subscriptionId: string, resourceGroup: string): boolean {
    return this.resourceGroups.has(`${subscriptionId}/${resourceGroup}`.toLowerCase());
  }

  addIdentity(input: {
    subscriptionId: string;
    resourceGroup: string;
    name: string;
    tenantId: string;
    location?: string;
    clientId?: string;
    principalId?: string;
    tags?: Record<string, string>;
  }): UserAssignedIdentity {
    this.addSubscription(input.subscriptionId, input.tenantId);
    this.addResourceGroup(input.subscriptionId, input.resourceGroup, input.location);
    const seed = `${input.subscriptionId}/${input.resourceGroup}/${input.name}`.toLowerCase();
    const identity: UserAssignedIdentity = {
      subscriptionId: input.subscriptionId,
      resourceGroup: input.resourceGroup,
      name: input.name,
      location: input.location ?? 'westeurope',
      clientId: input.clientId ?? uuidFrom(`client:${seed}`),
      principalId: input.principalId ?? uuidFrom(`principal:${seed}`),
      tenantId: input.tenantId,
      tags: input.tags ?? {},
      fics: [],
    };
    this.identities = this.identities.filter((i) => !sameIdentity(i, identity));
    this.identities.push(identity);
    return identity;
  }

  findIdentity(subscriptionId: string, resourceGroup: string, name: string): UserAssignedIdentity | undefined {
    return this.identities.find(
      (i) => ieq(i.subscriptionId, subscriptionId) && ieq(i.resourceGroup, resourceGroup) && ieq(i.name, name),
    );
  }

  identityByName(name: string): UserAssignedIdentity | undefined {
    return this.identities.find((i) => ieq(i.name, name));
  }

  /** Adds (or replaces by name) a FIC directly, as if it was created long ago unless told otherwise. */
  addFic(
    identity: UserAssignedIdentity | LoginApp,
    fic: { name: string; issuer: string; subject: string; audiences?: string[]; propagatesAt?: number; createdAt?: number },
  ): FederatedCredential {
    const now = Date.now();
    const created: FederatedCredential = {
      name: fic.name,
      issuer: fic.issuer,
      subject: fic.subject,
      audiences: fic.audiences ?? [DEFAULT_AUDIENCE],
      createdAt: fic.createdAt ?? now,
      propagatesAt: fic.propagatesAt ?? 0,
    };
    identity.fics = identity.fics.filter((f) => !ieq(f.name, fic.name));
    identity.fics.push(created);
    return created;
  }

  addLoginApp(input: { tenantId: string; clientId?: string; principalId?: string; displayName?: string }): LoginApp {
    this.addTenant(input.tenantId);
    const app: LoginApp = {
      displayName: input.displayName ?? 'workload-identity-action',
      clientId: input.clientId ?? uuidFrom(`login-app:${input.tenantId}:${input.displayName ?? ''}`),
      principalId: input.principalId ?? uuidFrom(`login-sp:${input.tenantId}:${input.displayName ?? ''}`),
      tenantId: input.tenantId,
      fics: [],
    };
    this.loginApps = this.loginApps.filter((a) => a.clientId !== app.clientId);
    this.loginApps.push(app);
    return app;
  }

  addCluster(input: {
    subscriptionId: string;
    tenantId: string;
    resourceGroup: string;
    name: string;
    location?: string;
    kubernetesVersion?: string;
    issuer?: ClusterIssuer;
    oidcIssuerEnabled?: boolean;
    workloadIdentityEnabled?: boolean;
    podIdentityProfile?: ManagedCluster['podIdentityProfile'];
  }): ManagedCluster {
    this.addSubscription(input.subscriptionId, input.tenantId);
    this.addResourceGroup(input.subscriptionId, input.resourceGroup, input.location);
    if (input.issuer) this.issuers.set(input.issuer.url, input.issuer);
    const enabled = input.oidcIssuerEnabled ?? Boolean(input.issuer);
    const cluster: ManagedCluster = {
      subscriptionId: input.subscriptionId,
      resourceGroup: input.resourceGroup,
      name: input.name,
      location: input.location ?? 'westeurope',
      kubernetesVersion: input.kubernetesVersion ?? '1.32.5',
      oidcIssuerProfile: enabled && input.issuer ? { enabled: true, issuerURL: input.issuer.url } : { enabled: false },
      workloadIdentityEnabled: input.workloadIdentityEnabled ?? enabled,
      podIdentityProfile: input.podIdentityProfile,
    };
    this.clusters = this.clusters.filter(
      (c) => !(ieq(c.subscriptionId, cluster.subscriptionId) && ieq(c.resourceGroup, cluster.resourceGroup) && ieq(c.name, cluster.name)),
    );
    this.clusters.push(cluster);
    return cluster;
  }

  findCluster(subscriptionId: string, resourceGroup: string, name: string): ManagedCluster | undefined {
    return this.clusters.find(
      (c) => ieq(c.subscriptionId, subscriptionId) && ieq(c.resourceGroup, resourceGroup) && ieq(c.name, name),
    );
  }

  clusterByName(name: string): ManagedCluster | undefined {
    return this.clusters.find((c) => ieq(c.name, name));
  }

  /** Every client Entra knows in a tenant: managed identities and app registrations. */
  findClient(tenantId: string, clientId: string): { kind: 'identity'; client: UserAssignedIdentity } | { kind: 'app'; client: LoginApp } | undefined {
    const identity = this.identities.find((i) => i.clientId.toLowerCase() === clientId.toLowerCase() && ieq(i.tenantId, tenantId));
    if (identity) return { kind: 'identity', client: identity };
    const app = this.loginApps.find((a) => a.clientId.toLowerCase() === clientId.toLowerCase() && ieq(a.tenantId, tenantId));
    if (app) return { kind: 'app', client: app };
    return undefined;
  }

  addPull(pull: Partial<GithubPull> & { number: number; headSha: string }): GithubPull {
    const full: GithubPull = {
      title: `Pull request #${pull.number}`,
      state: 'open',
      headRef: `feature/${pull.number}`,
      baseRef: 'main',
      user: { login: 'octocat', id: 583231, type: 'User' },
      ...pull,
    };
    this.github.pulls = this.github.pulls.filter((p) => p.number !== full.number);
    this.github.pulls.push(full);
    return full;
  }

  addComment(issueNumber: number, body: string, user: GithubUser = GITHUB_ACTIONS_BOT, at = new Date()): GithubComment {
    const comment: GithubComment = {
      id: this.github.nextCommentId++,
      issueNumber,
      body,
      user,
      createdAt: at.toISOString().replace(/\.\d+Z$/, 'Z'),
      updatedAt: at.toISOString().replace(/\.\d+Z$/, 'Z'),
    };
    this.github.comments.push(comment);
    return comment;
  }

  commentsOn(issueNumber: number): GithubComment[] {
    return this.github.comments.filter((c) => c.issueNumber === issueNumber).sort((a, b) => a.id - b.id);
  }
}

const sameIdentity = (a: UserAssignedIdentity, b: UserAssignedIdentity): boolean =>
  ieq(a.subscriptionId, b.subscriptionId) && ieq(a.resourceGroup, b.resourceGroup) && ieq(a.name, b.name);

/** ARM resource ID of an identity, cased as ARM returns it (`resourcegroups` lower-case). */
export function identityResourceId(i: UserAssignedIdentity): string {
  return `/subscriptions/${i.subscriptionId}/resourcegroups/${i.resourceGroup}/providers/Microsoft.ManagedIdentity/userAssignedIdentities/${i.name}`;
}

/** How ARM spells the identity in FIC error messages: all lower-case provider segment. */
export function identityResourceIdLower(i: UserAssignedIdentity): string {
  return `/subscriptions/${i.subscriptionId}/resourcegroups/${i.resourceGroup}/providers/microsoft.managedidentity/userassignedidentities/${i.name}`;
}

export function clusterResourceId(c: ManagedCluster): string {
  return `/subscriptions/${c.subscriptionId}/resourcegroups/${c.resourceGroup}/providers/Microsoft.ContainerService/managedClusters/${c.name}`;
}

/**
 * The API server's host name, in the form AKS gives it (`<dnsPrefix>-<hash>.hcp.<region>.azmk8s.io`;
 * the sandbox's hash is the word `sandbox`). ARM's `fqdn`, the server of the kubeconfig that
 * listClusterUserCredential returns, and a host the CONNECT proxy routes to the Kubernetes emulator.
 */
export function clusterFqdn(c: { name: string; location: string }): string {
  return `${c.name}-dns-sandbox.hcp.${c.location}.azmk8s.io`.toLowerCase();
}
