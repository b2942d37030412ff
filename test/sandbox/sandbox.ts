// The sandbox without a fixed Kubernetes emulator: TLS, call log, faults, one https server
// per service (handlers bound lazily, so every URL is known before any emulator is built),
// the cluster issuers, the Azure and GitHub emulators, the scenario seeding, the files the
// action needs (kubeconfig, CA, GitHub event) and the environment to run it with.
// index.ts plugs the real Kubernetes emulator in; tests of the Azure side can run without it.

import { mkdtempSync, rmSync, writeFileSync, mkdirSync } from 'node:fs';
import { createServer, type Server } from 'node:https';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { aksKubeconfig } from './aks-credentials.ts';
import { createArm, type ArmEmulator, type ArmOptions } from './arm.ts';
import { createClusterIssuer, issuerWithKey, type ClusterIssuer } from './cluster-issuer.ts';
import type { KubeOptions } from './kube/index.ts';
import type { SandboxContext, SandboxUrls } from './context.ts';
import { createEntra, createEntraSigner, type EntraEmulator, type MismatchStyle } from './entra.ts';
import { createGithub, GITHUB_SERVER_URL, type GithubEmulator } from './github.ts';
import { CallLog, close, dispatch, Faults, listen, type RunningServer, type Service, type ServiceName } from './http.ts';
import { createIssuer, type IssuerEmulator } from './issuer.ts';
import { startProxy, type SandboxProxy } from './proxy.ts';
import {
  DEFAULT_SCENARIO,
  DEFAULT_SUBSCRIPTION,
  DEFAULT_TENANT,
  expandTemplates,
  kubeObjects,
  loadScenario,
  type Scenario,
  type TemplateContext,
} from './scenario.ts';
import { clusterFqdn, identityResourceId, SandboxState, type LoginApp } from './state.ts';
import { createSandboxTls, type SandboxTls } from './tls.ts';
import { ieq, shaFrom, uuidFrom, type Uuid } from './util.ts';

/** What a process behind the sandbox proxy gets: HTTPS_PROXY, with the local services direct. */
function proxyEnv(proxyUrl: string): Record<string, string> {
  return { HTTPS_PROXY: proxyUrl, NO_PROXY: '127.0.0.1,localhost' };
}

/**
 * A pod's way out. A real pod reaches login.microsoftonline.com directly; here the proxy is
 * the only route to the emulators, so the node adds it — with NODE_USE_ENV_PROXY, without
 * which Node's own fetch (the probe's) ignores HTTPS_PROXY (Node 24.5+).
 */
function podNetworkEnv(proxyUrl: string): Record<string, string> {
  return { ...proxyEnv(proxyUrl), NODE_USE_ENV_PROXY: '1' };
}

/** What the sandbox needs from the Kubernetes emulator (test/sandbox/kube/index.ts). */
export interface KubeLike {
  service: Service;
  seed(objects: object[]): void;
  kubeconfig(server: string, user?: string): string;
  /** The bearer token the emulator accepts for `user` (default its admin, masterclient). */
  token(user?: string): string;
  setWebhook(on: boolean): void;
  setUnschedulable(on: boolean): void;
  denyRbac(rule: { verb: string; resource: string; namespace?: string }): void;
  clearRbac(): void;
  stop(): Promise<void>;
}

/** What the sandbox hands a Kubernetes emulator: the real one's options (type only, no import at run time). */
export type KubeOptionsLike = KubeOptions;

export type KubeFactory<K extends KubeLike> = (ctx: SandboxContext, options: KubeOptionsLike) => K | Promise<K>;

export interface SandboxOptions {
  /** A scenario object, or the path of a scenario YAML file. Default: one cluster, no identities. */
  scenario?: Scenario | string;
  /** Origin of the cluster issuer URLs (default: the issuer server, https://127.0.0.1:port). */
  issuerOrigin?: string;
  arm?: ArmOptions;
  /** Keep the work directory on stop (default false). */
  keepWorkDir?: boolean;
  /**
   * Serve unmodified clients on their public endpoints through an https CONNECT proxy
   * (`env.HTTPS_PROXY`): the env drops the endpoint inputs, issuers live on
   * `https://<region>.oic.prod-aks.azure.com`, KUBECONFIG is the one listClusterUserCredential
   * returns (server = the cluster's fqdn, `proxy-url` = the proxy), and pods get the proxy env.
   */
  proxy?: boolean;
}

export interface SandboxUrlsWithFront extends SandboxUrls {
  /** One https server routing by Host to every emulator (real host names, *.sandbox.local). */
  front: string;
  /** `http://127.0.0.1:<port>`, the CONNECT proxy in front of `front` ('' without `proxy: true`). */
  proxy: string;
}

export interface SandboxCore<K extends KubeLike | undefined> {
  urls: SandboxUrlsWithFront;
  tenantId: string;
  subscriptionId: string;
  /** The issuer of the cluster the Kubernetes emulator plays (byte-exact, trailing slash). */
  issuerUrl: string;
  clusterIssuer: ClusterIssuer;
  /** Every cluster issuer by cluster name. */
  issuers: Record<string, ClusterIssuer>;
  loginApp: LoginApp;
  workDir: string;
  caPath: string;
  kubeconfigPath: string; // '' without a Kubernetes emulator
  eventPath: string;
  /** Environment for the action (and real clients) pointed at the sandbox. */
  env: Record<string, string>;
  tls: SandboxTls;
  state: SandboxState;
  log: CallLog;
  faults: Faults;
  kube: K;
  arm: ArmEmulator;
  entra: EntraEmulator;
  issuer: IssuerEmulator;
  github: GithubEmulator;
  /** The CONNECT proxy (with `proxy: true`): `connects` lists every tunnel asked for. */
  proxy: SandboxProxy | undefined;
  scenario: Scenario;
  setFicPropagationDelay(ms: number): void;
  setIssuerUnreachable(on: boolean, issuer?: string): void;
  /** The issuer serves a JWKS that does not parse (all issuers, or one URL) → AADSTS900612. */
  setIssuerJwksMalformed(on: boolean, issuer?: string): void;
  /** How Entra reports a FIC mismatch: 'specific' 700211/700212/700213 (default) or 'generic' 70021. */
  setMismatchStyle(style: MismatchStyle): void;
  setGithubReadOnly(on: boolean): void;
  setArmPageSize(n: number): void;
  /** An ARM access token for the login app, as Entra would issue it. */
  armToken(): Promise<string>;
  /** A GitHub Actions OIDC token for the configured workflow context. */
  githubIdToken(audience?: string): Promise<string>;
  stop(): Promise<void>;
}

const SERVICES: ServiceName[] = ['kube', 'arm', 'entra', 'issuer', 'github'];

/** The `iss` of ServiceAccount tokens on an AKS cluster without the OIDC issuer (DESIGN §5). */
export const IN_CLUSTER_ISSUER = 'https://kubernetes.default.svc.cluster.local';

/**
 * A signing key whose issuer nobody can discover: a cluster without the OIDC issuer signs
 * its ServiceAccount tokens with it, and Entra cannot fetch its keys (700211, or 90061
 * when a FIC names it).
 */
function unpublishedIssuer(url: string): Promise<ClusterIssuer> {
  return issuerWithKey(url);
}

/** Host header → service, for the front server and the CONNECT proxy; `extra` adds exact host names (the cluster's fqdn). */
export function serviceForHost(host: string, extra?: ReadonlyMap<string, ServiceName>): ServiceName | undefined {
  const name = host.replace(/:\d+$/, '').toLowerCase();
  const exact = extra?.get(name);
  if (exact) return exact;
  if (name === 'login.microsoftonline.com') return 'entra';
  if (name === 'management.azure.com') return 'arm';
  if (name === 'api.github.com') return 'github';
  if (name.endsWith('.oic.prod-aks.azure.com')) return 'issuer';
  const m = /^([a-z]+)\.sandbox\.local$/.exec(name);
  if (m && (SERVICES as string[]).includes(m[1]!)) return m[1] as ServiceName;
  return undefined;
}

export async function startSandboxCore<K extends KubeLike | undefined>(
  options: SandboxOptions = {},
  kubeFactory?: KubeFactory<NonNullable<K>>,
): Promise<SandboxCore<K>> {
  const scenario: Scenario =
    typeof options.scenario === 'string' ? loadScenario(options.scenario) : (options.scenario ?? DEFAULT_SCENARIO);
  // The cluster the Kubernetes emulator plays, and every cluster's API server name for the certificate.
  const kubeClusterName = scenario.kube?.cluster ?? scenario.clusters?.[0]?.name;
  const kubeClusterSpec = scenario.clusters?.find((c) => c.name === kubeClusterName);
  const fqdnOf = (c: { name: string; location?: string }) => clusterFqdn({ name: c.name, location: c.location ?? 'westeurope' });
  const tls = createSandboxTls((scenario.clusters ?? []).map(fqdnOf));
  const hostRoutes = new Map<string, ServiceName>();
  if (kubeFactory && kubeClusterSpec) hostRoutes.set(fqdnOf(kubeClusterSpec), 'kube');
  const log = new CallLog();
  const faults = new Faults();
  const workDir = mkdtempSync(join(tmpdir(), 'wi-sandbox-'));

  // Servers first, with handlers bound later.
  const impl: Partial<Record<ServiceName, Service>> = {};
  const lazy = (name: ServiceName): Service => ({
    name,
    handle(req, res) {
      const s = impl[name];
      if (!s) return { status: 503, body: { error: { code: 'ServiceUnavailable', message: `sandbox service '${name}' is not running` } } };
      return s.handle(req, res);
    },
  });
  const running: RunningServer[] = [];
  for (const name of SERVICES) running.push(await listen(lazy(name), tls, log, faults));
  const urlOf = (name: ServiceName) => running.find((r) => r.service === name)!.url;
  const front = createServer({ key: tls.keyPem, cert: tls.certPem }, (req, res) => {
    const name = serviceForHost(req.headers.host ?? '', hostRoutes);
    if (!name) {
      res.writeHead(421, { 'content-type': 'text/plain' });
      res.end(`Misdirected request: the sandbox does not serve host '${req.headers.host ?? ''}'\n`);
      return;
    }
    void dispatch(lazy(name), req, res, log, faults);
  });
  await new Promise<void>((resolve) => front.listen(0, '127.0.0.1', resolve));
  const urls: SandboxUrlsWithFront = {
    kube: urlOf('kube'),
    arm: urlOf('arm'),
    entra: urlOf('entra'),
    issuer: urlOf('issuer'),
    github: urlOf('github'),
    front: `https://127.0.0.1:${(front.address() as AddressInfo).port}`,
    proxy: '',
  };
  let proxy: SandboxProxy | undefined;
  if (options.proxy) {
    proxy = await startProxy({
      frontPort: (front.address() as AddressInfo).port,
      refusal(host) {
        if (serviceForHost(host, hostRoutes)) return undefined;
        if (host.endsWith('.azmk8s.io')) {
          return kubeClusterSpec && kubeFactory ? `the Kubernetes emulator plays cluster '${kubeClusterSpec.name}' at ${fqdnOf(kubeClusterSpec)}` : 'no Kubernetes emulator runs';
        }
        return 'not one of its hosts: login.microsoftonline.com, management.azure.com, api.github.com, <region>.oic.prod-aks.azure.com, the cluster fqdn';
      },
    });
    urls.proxy = proxy.url;
  }
  const ctx: SandboxContext = { urls, tls, log, faults, workDir };

  try {
    // World state.
    const state = new SandboxState();
    const tenantId = scenario.tenantId ?? DEFAULT_TENANT;
    state.addTenant(tenantId);
    const subs = scenario.subscriptions?.length ? scenario.subscriptions : [{ id: DEFAULT_SUBSCRIPTION, name: 'Sandbox' }];
    for (const s of subs) state.addSubscription(s.id, tenantId, s.name);
    const subscriptionId = subs[0]!.id;
    for (const rg of scenario.resourceGroups ?? []) {
      const spec = typeof rg === 'string' ? { name: rg } : rg;
      state.addResourceGroup(spec.subscriptionId ?? subscriptionId, spec.name, spec.location);
    }

    // Cluster issuers: behind the proxy on AKS's own origin for the cluster's region.
    const issuerOriginFor = (location = 'westeurope') => options.issuerOrigin ?? (proxy ? `https://${location}.oic.prod-aks.azure.com` : urls.issuer);
    const issuerOrigin = issuerOriginFor(kubeClusterSpec?.location);
    const issuers: Record<string, ClusterIssuer> = {};
    const issuerUrls = new Map<string, string>();
    for (const c of scenario.clusters ?? []) {
      if (c.oidcIssuer === false) continue;
      const issuer = await createClusterIssuer(issuerOriginFor(c.location), tenantId, (c.issuerId as Uuid | undefined) ?? uuidFrom(`issuer:${c.subscriptionId ?? subscriptionId}/${c.resourceGroup}/${c.name}`.toLowerCase()));
      issuers[c.name] = issuer;
      issuerUrls.set(c.name.toLowerCase(), issuer.url);
      state.issuers.set(issuer.url, issuer);
    }

    // Emulators.
    const signer = await createEntraSigner();
    const entra = createEntra(ctx, state, signer);
    const arm = createArm(ctx, state, signer, {
      pageSize: options.arm?.pageSize ?? scenario.faults?.armPageSize,
      writeHoldMs: options.arm?.writeHoldMs ?? scenario.faults?.armWriteHoldMs,
    });
    const github = await createGithub(ctx, state);
    impl.entra = entra.service;
    impl.arm = arm.service;
    const issuerEmulator = createIssuer(state);
    impl.issuer = issuerEmulator.service;
    impl.github = github.service;

    // Identities, then everything that may refer to them through templates.
    const defaultRg = (() => {
      const first = scenario.resourceGroups?.[0];
      return first === undefined ? 'rg-identities' : typeof first === 'string' ? first : first.name;
    })();
    for (const id of scenario.identities ?? []) {
      state.addIdentity({
        subscriptionId: id.subscriptionId ?? subscriptionId,
        resourceGroup: id.resourceGroup ?? defaultRg,
        name: id.name,
        tenantId,
        location: id.location,
        clientId: id.clientId,
        principalId: id.principalId,
        tags: id.tags,
      });
    }
    const tctx: TemplateContext = {
      tenantId,
      subscriptionId,
      issuers: issuerUrls,
      githubIssuer: github.issuer,
      urls: { ...urls },
      identity(name) {
        const i = state.identityByName(name);
        return i && { clientId: i.clientId, principalId: i.principalId, resourceId: identityResourceId(i) };
      },
    };
    const expanded = expandTemplates(
      { identities: scenario.identities ?? [], clusters: scenario.clusters ?? [], kube: scenario.kube, github: scenario.github, login: scenario.login },
      tctx,
    );
    for (const id of expanded.identities) {
      const identity = state.findIdentity(id.subscriptionId ?? subscriptionId, id.resourceGroup ?? defaultRg, id.name)!;
      for (const f of id.federatedCredentials ?? []) {
        state.addFic(identity, {
          name: f.name,
          issuer: f.issuer,
          subject: f.subject,
          audiences: f.audiences,
          propagatesAt: f.propagated === false ? Date.now() + (scenario.faults?.ficPropagationDelayMs ?? 60_000) : 0,
        });
      }
    }
    for (const c of expanded.clusters) {
      const sub = c.subscriptionId ?? subscriptionId;
      state.addCluster({
        subscriptionId: sub,
        tenantId,
        resourceGroup: c.resourceGroup,
        name: c.name,
        location: c.location,
        kubernetesVersion: c.kubernetesVersion,
        issuer: issuers[c.name],
        oidcIssuerEnabled: c.oidcIssuer !== false,
        workloadIdentityEnabled: c.workloadIdentity,
        podIdentityProfile: c.podIdentity && {
          enabled: c.podIdentity.enabled ?? true,
          userAssignedIdentities: c.podIdentity.identities.map((p) => {
            const i = state.identityByName(p.identity);
            if (!i) throw new Error(`clusters.${c.name}.podIdentity: no identity '${p.identity}'`);
            return {
              name: p.name,
              namespace: p.namespace,
              bindingSelector: p.bindingSelector,
              identity: { resourceId: identityResourceId(i), clientId: i.clientId, objectId: i.principalId },
            };
          }),
        },
      });
    }

    // listClusterUserCredential: the emulated cluster's kubeconfig carries a token its API
    // server accepts; another cluster's names its fqdn, which the proxy refuses.
    let kube: KubeLike | undefined;
    const clusterKubeconfig = (c: { name: string; resourceGroup: string; location: string }, role: 'clusterUser' | 'clusterAdmin'): string =>
      aksKubeconfig({
        cluster: c,
        role,
        caPem: tls.caPem,
        token: kube && kubeClusterSpec && ieq(c.name, kubeClusterSpec.name) ? kube.token() : 'no-kubernetes-emulator-for-this-cluster',
        proxyUrl: proxy?.url,
      });
    arm.setKubeconfigSource(clusterKubeconfig);

    // GitHub repository and workflow context.
    const g = expanded.github ?? {};
    const gh = state.github;
    gh.owner = g.owner ?? gh.owner;
    gh.repo = g.repo ?? gh.repo;
    gh.environment = g.environment;
    gh.eventName = g.event ?? (g.pullRequest ? 'pull_request' : 'push');
    const pr = g.pullRequest;
    const headSha = pr?.headSha ?? shaFrom(`head:${gh.owner}/${gh.repo}#${pr?.number ?? 0}`);
    if (pr) {
      state.addPull({
        number: pr.number,
        title: pr.title,
        headSha,
        headRef: pr.headRef,
        baseRef: pr.baseRef,
        mergeCommitSha: pr.mergeCommitSha,
        merged: pr.merged,
        state: pr.state,
      });
      for (const c of g.comments ?? []) {
        const bot = c.bot ?? (!c.user || c.user === 'github-actions[bot]');
        const user = bot ? undefined : { login: c.user ?? 'octocat', id: 583231, type: 'User' as const };
        state.addComment(pr.number, c.body, user, c.createdAt ? new Date(c.createdAt) : undefined);
      }
    }
    if (gh.eventName === 'pull_request' && pr) {
      gh.ref = `refs/pull/${pr.number}/merge`;
      gh.sha = g.sha ?? headSha;
    } else {
      gh.ref = g.ref ?? 'refs/heads/main';
      gh.sha = g.sha ?? pr?.mergeCommitSha ?? headSha;
    }
    if (g.readOnly || scenario.faults?.githubReadOnly) github.setReadOnly(true);

    // The action's own login: an app registration with FICs for GitHub's OIDC issuer.
    const l = expanded.login ?? {};
    const loginApp = state.addLoginApp({ tenantId, clientId: l.clientId, principalId: l.principalId, displayName: l.displayName });
    const repo = `${gh.owner}/${gh.repo}`;
    const subjects = l.subjects ?? [
      ...(gh.environment ? [`repo:${repo}:environment:${gh.environment}`] : []),
      `repo:${repo}:pull_request`,
      `repo:${repo}:ref:refs/heads/main`,
    ];
    subjects.forEach((subject, i) => state.addFic(loginApp, { name: `github-${i + 1}`, issuer: github.issuer, subject }));

    // Kubernetes.
    const kubeSpec = expanded.kube ?? {};
    const kubeCluster = kubeClusterSpec;
    let clusterIssuer: ClusterIssuer;
    if (kubeClusterName && issuers[kubeClusterName]) clusterIssuer = issuers[kubeClusterName];
    else if (kubeCluster?.oidcIssuer === false) clusterIssuer = await unpublishedIssuer(IN_CLUSTER_ISSUER);
    else {
      clusterIssuer = Object.values(issuers)[0] ?? (await createClusterIssuer(issuerOrigin, tenantId));
      state.issuers.set(clusterIssuer.url, clusterIssuer);
    }
    let kubeconfigPath = '';
    if (kubeFactory) {
      kube = await kubeFactory(ctx, {
        clusterIssuer,
        webhook: kubeSpec.webhook ?? true,
        images: kubeSpec.images,
        unschedulable: kubeSpec.unschedulable,
        webhookNamespace: kubeSpec.webhookNamespace,
        // Behind the proxy the webhook injects the public cloud's authority (as the AKS add-on
        // does) and the node gives pods the proxy: their only way out, as egress is on AKS.
        // With its trailing slash, as the webhook injects the cloud's authority (DESIGN §5).
        authorityHost: proxy ? 'https://login.microsoftonline.com/' : `${urls.entra}/`,
        webhookVersion: kubeSpec.webhookVersion,
        podEnv: proxy ? podNetworkEnv(proxy.url) : undefined,
        tenantId,
      });
      impl.kube = kube.service;
      const objects = kubeObjects(kubeSpec);
      if (objects.length) kube.seed(objects);
      kubeconfigPath = join(workDir, 'kubeconfig');
      // Behind the proxy: what azure/aks-set-context writes (listClusterUserCredential).
      const kubeconfig = proxy && kubeCluster ? clusterKubeconfig(state.clusterByName(kubeCluster.name)!, 'clusterUser') : kube.kubeconfig(urls.kube);
      writeFileSync(kubeconfigPath, kubeconfig, { mode: 0o600 });
    }

    // Faults.
    const f = scenario.faults ?? {};
    if (f.ficPropagationDelayMs) state.ficPropagationDelayMs = f.ficPropagationDelayMs;
    if (f.issuerUnreachable) entra.setIssuerUnreachable(true);
    if (f.entraMismatchStyle) entra.setMismatchStyle(f.entraMismatchStyle);
    if (f.entraTokenLifetimeSeconds) entra.setTokenLifetime(f.entraTokenLifetimeSeconds);
    if (f.latency) faults.latency = { ...f.latency };
    for (const inj of f.inject ?? []) faults.inject(inj);

    // Files and environment.
    const caPath = join(workDir, 'ca.pem');
    writeFileSync(caPath, tls.caPem);
    const eventPath = join(workDir, 'event.json');
    const pull = gh.pulls.find((p) => p.number === pr?.number);
    const repository = { id: gh.repoId, name: gh.repo, full_name: repo, owner: { login: gh.owner }, default_branch: 'main', private: true };
    const event =
      gh.eventName === 'pull_request' && pull
        ? {
            action: 'synchronize',
            number: pull.number,
            pull_request: {
              number: pull.number,
              title: pull.title,
              state: pull.state,
              html_url: `${GITHUB_SERVER_URL}/${repo}/pull/${pull.number}`,
              head: { ref: pull.headRef, sha: pull.headSha, repo: repository },
              base: { ref: pull.baseRef, repo: repository },
            },
            repository,
            sender: { login: 'octocat', type: 'User' },
          }
        : { ref: gh.ref, after: gh.sha, head_commit: { id: gh.sha }, repository, sender: { login: 'octocat', type: 'User' } };
    writeFileSync(eventPath, JSON.stringify(event, null, 2));
    const runnerTemp = join(workDir, 'runner-temp');
    mkdirSync(runnerTemp, { recursive: true });
    for (const file of ['github-output', 'github-step-summary', 'github-state', 'github-env', 'github-path']) writeFileSync(join(workDir, file), '');
    const env: Record<string, string> = {
      NODE_EXTRA_CA_CERTS: caPath,
      'INPUT_ARM-ENDPOINT': urls.arm,
      'INPUT_AUTHORITY-HOST': urls.entra,
      'INPUT_AZURE-SUBSCRIPTION-ID': subscriptionId,
      'INPUT_AZURE-TENANT-ID': tenantId,
      'INPUT_AZURE-CLIENT-ID': loginApp.clientId,
      'INPUT_GITHUB-TOKEN': github.token,
      GITHUB_ACTIONS: 'true',
      GITHUB_API_URL: urls.github,
      GITHUB_GRAPHQL_URL: `${urls.github}/graphql`,
      GITHUB_SERVER_URL,
      GITHUB_REPOSITORY: repo,
      GITHUB_REPOSITORY_OWNER: gh.owner,
      GITHUB_EVENT_NAME: gh.eventName,
      GITHUB_EVENT_PATH: eventPath,
      GITHUB_SHA: gh.sha,
      GITHUB_REF: gh.ref,
      GITHUB_HEAD_REF: gh.eventName === 'pull_request' ? (pull?.headRef ?? '') : '',
      GITHUB_BASE_REF: gh.eventName === 'pull_request' ? (pull?.baseRef ?? '') : '',
      GITHUB_RUN_ID: '1000000001',
      GITHUB_RUN_NUMBER: '1',
      GITHUB_RUN_ATTEMPT: '1',
      GITHUB_JOB: 'workload-identity',
      GITHUB_WORKFLOW: 'workload-identity',
      GITHUB_ACTION: 'workload-identity',
      GITHUB_ACTOR: 'octocat',
      GITHUB_WORKSPACE: workDir,
      GITHUB_OUTPUT: join(workDir, 'github-output'),
      GITHUB_STEP_SUMMARY: join(workDir, 'github-step-summary'),
      GITHUB_STATE: join(workDir, 'github-state'),
      GITHUB_ENV: join(workDir, 'github-env'),
      GITHUB_PATH: join(workDir, 'github-path'),
      RUNNER_TEMP: runnerTemp,
      ACTIONS_ID_TOKEN_REQUEST_URL: `${urls.github}${github.idTokenPath}`,
      ACTIONS_ID_TOKEN_REQUEST_TOKEN: gh.idTokenRequestToken,
    };
    if (kubeconfigPath) env.KUBECONFIG = kubeconfigPath;
    if (proxy) {
      // A runner behind a proxy: no endpoint inputs (azure-cloud AzureCloud defaults), the
      // Actions OIDC URL and the GitHub API direct, Python clients (az) trusting the sandbox CA.
      delete env['INPUT_ARM-ENDPOINT'];
      delete env['INPUT_AUTHORITY-HOST'];
      Object.assign(env, proxyEnv(proxy.url), { REQUESTS_CA_BUNDLE: caPath, AKS_OIDC_ISSUER: clusterIssuer.url });
    }

    const servers: Server[] = [...running.map((r) => r.server), front];
    let stopped = false;
    const core: SandboxCore<KubeLike | undefined> = {
      urls,
      tenantId,
      subscriptionId,
      issuerUrl: clusterIssuer.url,
      clusterIssuer,
      issuers,
      loginApp,
      workDir,
      caPath,
      kubeconfigPath,
      eventPath,
      env,
      tls,
      state,
      log,
      faults,
      kube,
      arm,
      entra,
      issuer: issuerEmulator,
      github,
      proxy,
      scenario,
      setFicPropagationDelay(ms) {
        state.ficPropagationDelayMs = Math.max(0, ms);
      },
      setIssuerUnreachable(on, issuer) {
        entra.setIssuerUnreachable(on, issuer);
      },
      setIssuerJwksMalformed(on, issuer) {
        issuerEmulator.setJwksMalformed(on, issuer);
      },
      setMismatchStyle(style) {
        entra.setMismatchStyle(style);
      },
      setGithubReadOnly(on) {
        github.setReadOnly(on);
      },
      setArmPageSize(n) {
        arm.setPageSize(n);
      },
      armToken() {
        return entra.issueAccessToken({ tenantId, clientId: loginApp.clientId, principalId: loginApp.principalId, resource: 'https://management.azure.com/' });
      },
      githubIdToken(audience) {
        return github.idToken(audience);
      },
      async stop() {
        if (stopped) return;
        stopped = true;
        await kube?.stop();
        await proxy?.close();
        await Promise.all(servers.map((s) => close(s)));
        if (!options.keepWorkDir) rmSync(workDir, { recursive: true, force: true });
      },
    };
    return core as SandboxCore<K>;
  } catch (err) {
    await proxy?.close();
    await Promise.all([...running.map((r) => close(r.server)), close(front)]);
    rmSync(workDir, { recursive: true, force: true });
    throw err;
  }
}
