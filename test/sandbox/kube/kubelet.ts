// The scheduler and one node's kubelet, driven by the store's change feed as the real ones
// are driven by watches:
//  - scheduling over the Node objects (binding to the first node that is not cordoned and
//    matches the nodeSelector, event Scheduled; otherwise PodScheduled=False/Unschedulable +
//    FailedScheduling "0/3 nodes are available: 3 node(s) were unschedulable. preemption: …",
//    wording from kube-scheduler's FitError; retried when a Node changes);
//  - image pulls from a configured set (a missing image: events Failed ErrImagePull, BackOff,
//    container waiting ErrImagePull → ImagePullBackOff, pod stays Pending; wording from
//    pkg/kubelet/images/image_manager.go);
//  - projected volumes written to files (ServiceAccount tokens signed by the cluster issuer,
//    configMap, secret, downwardAPI items);
//  - containers whose command is `node …` really run: the current Node binary with the
//    container's args, env (fieldRef resolved, mount paths mapped to the files above,
//    NODE_EXTRA_CA_CERTS = the sandbox CA), stdout+stderr → the pod log, exit code → state;
//    other containers "run" without a process (a workload's sleep);
//  - phases per restartPolicy (https://kubernetes.io/docs/concepts/workloads/pods/pod-lifecycle/),
//    activeDeadlineSeconds (Failed/DeadlineExceeded), graceful deletion (SIGTERM, then SIGKILL,
//    then the object goes).
import { spawn, type ChildProcess } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { mkdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import type { ClusterIssuer } from '../cluster-issuer.ts';
import { expand, fieldRefValue, isNodeCommand, qualifiedImage, writeFile } from './container.ts';
import { timestamp, type EventRecorder } from './events.ts';
import { egressDenied, writeBlackHole } from './network-policy.ts';
import type { PodLogs } from './logs.ts';
import type { Change, KubeStore } from './store.ts';
import { signServiceAccountToken } from './tokens.ts';
import type { Container, ContainerStatus, Pod, PodCondition, PodStatus, ServiceAccount, Volume } from './types.ts';

export const NODE_NAMES = ['aks-nodepool1-0', 'aks-nodepool1-1', 'aks-nodepool1-2'];
const hostIPOf = (node: string | undefined) => `10.224.0.${4 + Math.max(0, NODE_NAMES.indexOf(node ?? ''))}`;
const kubeletOf = (p: Pod) => ({ component: 'kubelet', host: p.spec.nodeName ?? NODE_NAMES[0]! });
const SCHEDULER = { component: 'default-scheduler' };

/** Milliseconds the emulated steps take; small so tests stay fast. */
export const TIMINGS = { schedule: 5, pull: 10, backOff: 40, fakeRun: 250, killGrace: 1000, terminate: 10 };

export interface KubeletOptions {
  store: KubeStore;
  events: EventRecorder;
  logs: PodLogs;
  issuer: ClusterIssuer;
  workDir: string;
  caFile: string;
  images: () => Set<string>;
  apiServer: () => { host: string; port: string } | undefined;
  defaultAudience: () => string;
  /** Given to every container before its own env (the sandbox proxy). */
  podEnv?: Record<string, string>;
  /** Unix seconds on the API server's clock: projected tokens come from its TokenRequest. */
  tokenClock?: () => number;
}

interface PodRun {
  uid: string;
  namespace: string;
  name: string;
  dir: string;
  timers: Set<NodeJS.Timeout>;
  procs: Map<string, ChildProcess>;
  finished: boolean;
  deleting: boolean;
  started: boolean;
}

const isTerminal = (phase: string | undefined) => phase === 'Succeeded' || phase === 'Failed';

function condition(type: string, status: boolean, reason?: string, message?: string): PodCondition {
  return { type, status: status ? 'True' : 'False', lastProbeTime: null, lastTransitionTime: timestamp(), ...(reason ? { reason } : {}), ...(message ? { message } : {}) };
}

function setCondition(status: PodStatus, c: PodCondition): void {
  const list = (status.conditions ??= []);
  const i = list.findIndex((x) => x.type === c.type);
  if (i < 0) list.push(c);
  else if (list[i]!.status !== c.status || list[i]!.reason !== c.reason || list[i]!.message !== c.message) {
    list[i] = { ...c, lastTransitionTime: list[i]!.status === c.status ? list[i]!.lastTransitionTime : c.lastTransitionTime };
  }
}

const containerId = () => `containerd://${randomUUID().replaceAll('-', '')}${randomUUID().replaceAll('-', '').slice(0, 32)}`;

export class Kubelet {
  private readonly o: KubeletOptions;
  private readonly runs = new Map<string, PodRun>();
  private readonly pending = new Set<string>(); // "ns/name" waiting for a node
  private unsubscribe: (() => void) | undefined;
  private stopped = false;

  /** The preload that drops a pod's egress (network-policy.ts). */
  private readonly blackHole: string;

  constructor(options: KubeletOptions) {
    this.o = options;
    mkdirSync(this.o.workDir, { recursive: true });
    this.blackHole = writeBlackHole(this.o.workDir);
    this.unsubscribe = this.o.store.subscribe((c) => this.onChange(c));
  }

  private onChange(c: Change): void {
    if (this.stopped) return;
    if (c.resource.kind === 'Node') {
      // The scheduler retries unschedulable pods when nodes change (e.g. uncordon).
      if (this.pending.size) setImmediate(() => this.retryPending());
      return;
    }
    if (c.resource.kind !== 'Pod') return;
    // Later, not inside the store's write: watchers must see this change before our reaction.
    setImmediate(() => {
      if (!this.stopped) this.react(c);
    });
  }

  private react(c: Change): void {
    const pod = c.object as Pod;
    const uid = pod.metadata.uid!;
    if (c.type === 'ADDED') {
      // Pods seeded as running (or finished) are left as they are.
      const fresh = (pod.status?.phase ?? 'Pending') === 'Pending' && !pod.status?.containerStatuses;
      if (fresh && !this.runs.has(uid)) this.admit(pod);
    } else if (c.type === 'MODIFIED') {
      if (pod.metadata.deletionTimestamp && !this.runs.get(uid)?.deleting) this.beginDelete(pod);
    } else if (c.type === 'DELETED') {
      this.pending.delete(`${pod.metadata.namespace}/${pod.metadata.name}`);
      const run = this.runs.get(uid);
      if (run) this.teardown(run, true);
    }
  }

  private later(run: PodRun, ms: number, fn: () => void | Promise<void>): void {
    const t = setTimeout(() => {
      run.timers.delete(t);
      if (this.stopped || run.finished) return;
      void Promise.resolve()
        .then(fn)
        .catch(() => undefined);
    }, ms);
    run.timers.add(t);
  }

  private admit(pod: Pod): void {
    const run: PodRun = {
      uid: pod.metadata.uid!,
      namespace: pod.metadata.namespace!,
      name: pod.metadata.name!,
      dir: join(this.o.workDir, 'pods', pod.metadata.uid!),
      timers: new Set(),
      procs: new Map(),
      finished: false,
      deleting: false,
      started: false,
    };
    this.runs.set(run.uid, run);
    if (pod.spec.nodeName) this.later(run, TIMINGS.schedule, () => this.startPod(run));
    else this.later(run, TIMINGS.schedule, () => this.schedule(run));
  }

  private current(run: PodRun): Pod | undefined {
    const p = this.o.store.get<Pod>('pods', run.namespace, run.name);
    return p && p.metadata.uid === run.uid ? p : undefined;
  }

  /** Read-modify-write of the pod (as the kubelet's status manager does); false if it is gone. */
  private update(run: PodRun, fn: (p: Pod) => void): Pod | undefined {
    const p = this.current(run);
    if (!p) return undefined;
    p.status ??= {};
    fn(p);
    return this.o.store.update('pods', p);
  }

  /** Retries pods left Pending, as the scheduler does when the cluster changes. */
  retryPending(): void {
    for (const key of [...this.pending]) {
      const [ns, name] = key.split('/') as [string, string];
      const pod = this.o.store.get<Pod>('pods', ns, name);
      const run = pod && this.runs.get(pod.metadata.uid!);
      if (run) this.later(run, TIMINGS.schedule, () => this.schedule(run));
    }
  }

  /**
   * The scheduler's filter over the Node objects: cordoned nodes (spec.unschedulable, as
   * `kubectl cordon` or setUnschedulable leave them) and nodeSelector mismatches. Returns the
   * chosen node, or the FitError reasons ("3 node(s) were unschedulable").
   */
  private fit(pod: Pod): { node: string } | { why: string } {
    const nodes = this.o.store.list('nodes');
    let cordoned = 0;
    let mismatched = 0;
    const sel = pod.spec.nodeSelector ?? {};
    for (const n of nodes) {
      if ((n['spec'] as { unschedulable?: boolean } | undefined)?.unschedulable) {
        cordoned++;
        continue;
      }
      const labels = n.metadata.labels ?? {};
      if (Object.entries(sel).some(([k, v]) => labels[k] !== v)) {
        mismatched++;
        continue;
      }
      return { node: n.metadata.name! };
    }
    const parts: string[] = [];
    if (mismatched) parts.push(`${mismatched} node(s) didn't match Pod's node affinity/selector`);
    if (cordoned) parts.push(`${cordoned} node(s) were unschedulable`);
    return { why: `0/${nodes.length} nodes are available: ${parts.join(', ') || 'no nodes available to schedule pods'}. preemption: 0/${nodes.length} nodes are available: ${nodes.length} Preemption is not helpful for scheduling.` };
  }

  private schedule(run: PodRun): void {
    const pod = this.current(run);
    if (!pod || pod.spec.nodeName || pod.metadata.deletionTimestamp) return;
    const key = `${run.namespace}/${run.name}`;
    const fit = this.fit(pod);
    if ('why' in fit) {
      this.pending.add(key);
      const message = fit.why;
      const updated = this.update(run, (p) => setCondition(p.status!, condition('PodScheduled', false, 'Unschedulable', message)));
      if (updated) this.o.events.record(updated, 'Warning', 'FailedScheduling', message, SCHEDULER);
      return;
    }
    this.pending.delete(key);
    const bound = this.update(run, (p) => {
      p.spec.nodeName = fit.node;
      setCondition(p.status!, condition('PodScheduled', true));
    });
    if (!bound) return;
    this.o.events.record(bound, 'Normal', 'Scheduled', `Successfully assigned ${run.namespace}/${run.name} to ${fit.node}`, SCHEDULER);
    this.later(run, TIMINGS.pull, () => this.startPod(run));
  }

  private allContainers(pod: Pod): Container[] {
    return [...(pod.spec.initContainers ?? []), ...pod.spec.containers];
  }

  private waitingStatus(c: Container, reason: string, message?: string): ContainerStatus {
    return {
      name: c.name,
      image: c.image ?? '',
      imageID: '',
      ready: false,
      restartCount: 0,
      started: false,
      state: { waiting: { reason, ...(message ? { message } : {}) } },
      lastState: {},
    };
  }

  private async startPod(run: PodRun): Promise<void> {
    const pod = this.current(run);
    if (!pod || pod.metadata.deletionTimestamp || run.started) return;
    run.started = true;
    const started = this.update(run, (p) => {
      const s = p.status!;
      s.phase = 'Pending';
      const hostIP = hostIPOf(p.spec.nodeName);
      s.hostIP = hostIP;
      s.hostIPs = [{ ip: hostIP }];
      const podIP = `10.244.0.${10 + (parseInt(run.uid.slice(0, 2), 16) % 240)}`;
      s.podIP = podIP;
      s.podIPs = [{ ip: podIP }];
      s.startTime = timestamp();
      setCondition(s, condition('PodReadyToStartContainers', true));
      setCondition(s, condition('Initialized', !(p.spec.initContainers ?? []).length, (p.spec.initContainers ?? []).length ? 'ContainersNotInitialized' : undefined));
      const names = p.spec.containers.map((c) => c.name).join(' ');
      setCondition(s, condition('Ready', false, 'ContainersNotReady', `containers with unready status: [${names}]`));
      setCondition(s, condition('ContainersReady', false, 'ContainersNotReady', `containers with unready status: [${names}]`));
      if (p.spec.initContainers?.length) s.initContainerStatuses = p.spec.initContainers.map((c) => this.waitingStatus(c, 'PodInitializing'));
      s.containerStatuses = p.spec.containers.map((c) => this.waitingStatus(c, p.spec.initContainers?.length ? 'PodInitializing' : 'ContainerCreating'));
    });
    if (!started) return;
    if (started.spec.activeDeadlineSeconds) this.later(run, started.spec.activeDeadlineSeconds * 1000, () => this.deadlineExceeded(run));

    // Image pulls, in container order.
    const images = this.o.images();
    for (const c of this.allContainers(started)) {
      const field = `spec.${(started.spec.initContainers ?? []).includes(c) ? 'initContainers' : 'containers'}{${c.name}}`;
      const image = c.image ?? '';
      if (!images.has(image)) {
        this.o.events.record(started, 'Normal', 'Pulling', `Pulling image "${image}"`, kubeletOf(started), field);
        const why = `failed to pull and unpack image "${qualifiedImage(image)}": failed to resolve reference "${qualifiedImage(image)}": ${qualifiedImage(image)}: not found`;
        this.o.events.record(started, 'Warning', 'Failed', `Failed to pull image "${image}": rpc error: code = NotFound desc = ${why}`, kubeletOf(started), field);
        this.o.events.record(started, 'Warning', 'Failed', 'Error: ErrImagePull', kubeletOf(started), field);
        this.setContainer(run, c.name, (cs) => {
          cs.state = { waiting: { reason: 'ErrImagePull', message: `rpc error: code = NotFound desc = ${why}` } };
        });
        this.later(run, TIMINGS.backOff, () => {
          const p = this.current(run);
          if (!p) return;
          this.o.events.record(p, 'Normal', 'BackOff', `Back-off pulling image "${image}"`, kubeletOf(p), field);
          this.o.events.record(p, 'Warning', 'Failed', 'Error: ImagePullBackOff', kubeletOf(p), field);
          this.setContainer(run, c.name, (cs) => {
            cs.state = { waiting: { reason: 'ImagePullBackOff', message: `Back-off pulling image "${image}"` } };
          });
        });
        return;
      }
      if (c.imagePullPolicy === 'Always') {
        this.o.events.record(started, 'Normal', 'Pulling', `Pulling image "${image}"`, kubeletOf(started), field);
        this.o.events.record(started, 'Normal', 'Pulled', `Successfully pulled image "${image}" in 212ms (212ms including waiting). Image size: 79251395 bytes.`, kubeletOf(started), field);
      } else {
        this.o.events.record(started, 'Normal', 'Pulled', `Container image "${image}" already present on machine`, kubeletOf(started), field);
      }
    }

    try {
      await this.writeVolumes(run, started);
    } catch (err) {
      this.o.events.record(started, 'Warning', 'FailedMount', `MountVolume.SetUp failed: ${(err as Error).message}`, kubeletOf(started));
      return;
    }

    for (const c of started.spec.initContainers ?? []) {
      const code = await this.runContainer(run, c, true);
      if (run.finished || !this.current(run)) return;
      if (code !== 0) {
        this.update(run, (p) => {
          p.status!.phase = 'Failed';
          setCondition(p.status!, condition('Initialized', false, 'PodFailed'));
        });
        return;
      }
    }
    if ((started.spec.initContainers ?? []).length) this.update(run, (p) => setCondition(p.status!, condition('Initialized', true)));
    await Promise.all(started.spec.containers.map((c) => this.runContainer(run, c, false)));
  }

  private setContainer(run: PodRun, name: string, fn: (cs: ContainerStatus) => void): Pod | undefined {
    return this.update(run, (p) => {
      for (const list of [p.status!.initContainerStatuses, p.status!.containerStatuses]) {
        const cs = list?.find((x) => x.name === name);
        if (cs) fn(cs);
      }
    });
  }

  private volumeDir(run: PodRun, volume: string): string {
    return join(run.dir, 'volumes', volume);
  }

  /** Writes what the pod's volumes hold: projected tokens, configMaps, secrets, downwardAPI. */
  private async writeVolumes(run: PodRun, pod: Pod): Promise<void> {
    const sa = this.o.store.get<ServiceAccount>('serviceaccounts', run.namespace, pod.spec.serviceAccountName || 'default');
    for (const v of pod.spec.volumes ?? []) {
      const dir = this.volumeDir(run, v.name);
      mkdirSync(dir, { recursive: true });
      for (const src of v.projected?.sources ?? []) {
        if (src.serviceAccountToken) {
          const t = src.serviceAccountToken;
          const token = await signServiceAccountToken(this.o.issuer, {
            namespace: run.namespace,
            serviceAccount: { name: pod.spec.serviceAccountName || 'default', uid: sa?.metadata.uid ?? '' },
            audiences: [t.audience || this.o.defaultAudience()],
            expirationSeconds: t.expirationSeconds ?? 3600,
            pod: { name: run.name, uid: run.uid },
            node: { name: pod.spec.nodeName ?? '', uid: nodeUid(this.o.store, pod.spec.nodeName ?? '') },
          }, this.o.tokenClock?.());
          writeFile(join(dir, t.path), token);
        }
        if (src.configMap) this.writeConfigMap(run, dir, src.configMap.name, src.configMap.items);
        if (src.secret) {
          const s = src.secret as { name: string; items?: { key: string; path: string }[] };
          this.writeSecret(run, dir, s.name, s.items);
        }
        for (const item of src.downwardAPI?.items ?? []) {
          if (item.fieldRef) writeFile(join(dir, item.path), fieldRefValue(pod, item.fieldRef.fieldPath));
        }
      }
      const cm = v['configMap'] as { name: string; items?: { key: string; path: string }[] } | undefined;
      if (cm) this.writeConfigMap(run, dir, cm.name, cm.items);
      const secret = v['secret'] as { secretName: string; items?: { key: string; path: string }[] } | undefined;
      if (secret) this.writeSecret(run, dir, secret.secretName, secret.items);
    }
  }

  private writeConfigMap(run: PodRun, dir: string, name: string, items?: { key: string; path: string }[]): void {
    const cm = this.o.store.get('configmaps', run.namespace, name);
    const data = (cm?.['data'] as Record<string, string> | undefined) ?? {};
    for (const { key, path } of items ?? Object.keys(data).map((k) => ({ key: k, path: k }))) if (data[key] !== undefined) writeFile(join(dir, path), data[key]);
  }

  private writeSecret(run: PodRun, dir: string, name: string, items?: { key: string; path: string }[]): void {
    const s = this.o.store.get('secrets', run.namespace, name);
    const data = (s?.['data'] as Record<string, string> | undefined) ?? {};
    for (const { key, path } of items ?? Object.keys(data).map((k) => ({ key: k, path: k }))) {
      if (data[key] !== undefined) writeFile(join(dir, path), Buffer.from(data[key], 'base64'));
    }
  }

  /** The container's environment: the image's, the cluster's service variables, then its own. */
  private environment(run: PodRun, pod: Pod, c: Container): Record<string, string> {
    const api = this.o.apiServer();
    const env: Record<string, string> = {
      PATH: process.env['PATH'] ?? '/usr/local/bin:/usr/bin:/bin',
      HOSTNAME: run.name,
      HOME: join(run.dir, 'home'),
      NODE_EXTRA_CA_CERTS: this.o.caFile,
      ...this.o.podEnv,
    };
    if (api) {
      Object.assign(env, {
        KUBERNETES_SERVICE_HOST: api.host,
        KUBERNETES_SERVICE_PORT: api.port,
        KUBERNETES_SERVICE_PORT_HTTPS: api.port,
        KUBERNETES_PORT: `tcp://${api.host}:${api.port}`,
        KUBERNETES_PORT_443_TCP: `tcp://${api.host}:${api.port}`,
        KUBERNETES_PORT_443_TCP_PROTO: 'tcp',
        KUBERNETES_PORT_443_TCP_ADDR: api.host,
        KUBERNETES_PORT_443_TCP_PORT: api.port,
      });
    }
    for (const e of c.env ?? []) {
      let value = e.value !== undefined ? expand(e.value, env) : '';
      const from = e.valueFrom;
      if (from?.fieldRef) value = fieldRefValue(pod, from.fieldRef.fieldPath);
      if (from?.configMapKeyRef) {
        const cm = this.o.store.get('configmaps', run.namespace, from.configMapKeyRef.name);
        value = ((cm?.['data'] as Record<string, string> | undefined) ?? {})[from.configMapKeyRef.key] ?? '';
      }
      if (from?.secretKeyRef) {
        const s = this.o.store.get('secrets', run.namespace, from.secretKeyRef.name);
        const raw = ((s?.['data'] as Record<string, string> | undefined) ?? {})[from.secretKeyRef.key];
        value = raw ? Buffer.from(raw, 'base64').toString('utf8') : '';
      }
      env[e.name] = value;
    }
    return env;
  }

  /** In-container paths under a volume mount → the files the kubelet wrote for that volume. */
  private pathMapper(run: PodRun, pod: Pod, c: Container): (s: string) => string {
    const mounts = (c.volumeMounts ?? [])
      .filter((m) => (pod.spec.volumes ?? []).some((v: Volume) => v.name === m.name))
      .map((m) => ({ from: m.mountPath.replace(/\/+$/, ''), to: join(this.volumeDir(run, m.name), m.subPath ?? '') }))
      .sort((a, b) => b.from.length - a.from.length);
    return (s: string) => {
      for (const m of mounts) {
        if (s === m.from) return m.to;
        if (s.startsWith(`${m.from}/`)) return join(m.to, s.slice(m.from.length + 1));
      }
      return s;
    };
  }

  /** Runs one container to its end; resolves its exit code (undefined if it never ends by itself). */
  private async runContainer(run: PodRun, c: Container, init: boolean): Promise<number | undefined> {
    const pod = this.current(run);
    if (!pod || run.finished) return undefined;
    const field = `spec.${init ? 'initContainers' : 'containers'}{${c.name}}`;
    const env = this.environment(run, pod, c);
    const map = this.pathMapper(run, pod, c);
    const argv = (c.command?.length ? [...c.command, ...(c.args ?? [])] : [...(c.args ?? [])]).map((a) => expand(a, env));
    const id = containerId();
    this.o.events.record(pod, 'Normal', 'Created', `Created container: ${c.name}`, kubeletOf(pod), field);
    this.o.logs.open(run.uid, c.name);
    const startedAt = timestamp();
    this.o.events.record(pod, 'Normal', 'Started', `Started container ${c.name}`, kubeletOf(pod), field);
    this.update(run, (p) => {
      const cs = (init ? p.status!.initContainerStatuses : p.status!.containerStatuses)?.find((x) => x.name === c.name);
      if (cs) {
        cs.state = { running: { startedAt } };
        cs.started = true;
        cs.ready = !init;
        cs.containerID = id;
        cs.imageID = `${qualifiedImage(c.image ?? '')}@sha256:${'0'.repeat(64)}`;
      }
      if (!init) {
        p.status!.phase = 'Running';
        const all = p.status!.containerStatuses ?? [];
        if (all.every((x) => x.state.running)) {
          setCondition(p.status!, condition('ContainersReady', true));
          setCondition(p.status!, condition('Ready', true));
        }
      }
    });

    let exitCode: number | undefined;
    if (isNodeCommand(argv)) {
      exitCode = await this.spawnNode(run, c, argv.slice(1).map(map), env, map);
    } else {
      // No process: a workload's sleep. Never/OnFailure pods complete after a moment.
      if (!init && pod.spec.restartPolicy === 'Always') return undefined;
      exitCode = await new Promise<number | undefined>((resolve) => {
        const t = setTimeout(() => {
          run.timers.delete(t);
          resolve(run.finished ? undefined : 0);
        }, TIMINGS.fakeRun);
        run.timers.add(t);
      });
      this.o.logs.finish(run.uid, c.name);
    }
    if (exitCode === undefined || run.finished || run.deleting) return exitCode;
    this.containerExited(run, c, init, exitCode, id, startedAt);
    return exitCode;
  }

  private spawnNode(run: PodRun, c: Container, args: string[], env: Record<string, string>, map: (s: string) => string): Promise<number | undefined> {
    const mappedEnv: Record<string, string> = {};
    for (const [k, v] of Object.entries(env)) mappedEnv[k] = map(v);
    const pod = this.current(run);
    if (pod && egressDenied(this.o.store, pod)) mappedEnv['NODE_OPTIONS'] = `${mappedEnv['NODE_OPTIONS'] ?? ''} --require ${this.blackHole}`.trim();
    const cwd = join(run.dir, 'rootfs', c.workingDir ?? '');
    mkdirSync(cwd, { recursive: true });
    mkdirSync(mappedEnv['HOME']!, { recursive: true });
    return new Promise((resolve) => {
      let child: ChildProcess;
      try {
        child = spawn(process.execPath, args, { cwd, env: mappedEnv, stdio: ['ignore', 'pipe', 'pipe'] });
      } catch (err) {
        this.o.logs.append(run.uid, c.name, `exec failed: ${(err as Error).message}\n`);
        this.o.logs.finish(run.uid, c.name);
        resolve(128);
        return;
      }
      run.procs.set(c.name, child);
      child.stdout?.setEncoding('utf8').on('data', (d: string) => this.o.logs.append(run.uid, c.name, d));
      child.stderr?.setEncoding('utf8').on('data', (d: string) => this.o.logs.append(run.uid, c.name, d));
      child.on('error', (err) => this.o.logs.append(run.uid, c.name, `${err.message}\n`));
      child.on('close', (code, signal) => {
        run.procs.delete(c.name);
        this.o.logs.finish(run.uid, c.name);
        resolve(code ?? (signal === 'SIGKILL' ? 137 : signal === 'SIGTERM' ? 143 : 1));
      });
    });
  }

  private containerExited(run: PodRun, c: Container, init: boolean, exitCode: number, id: string, startedAt: string): void {
    const finishedAt = timestamp();
    this.update(run, (p) => {
      const s = p.status!;
      const cs = (init ? s.initContainerStatuses : s.containerStatuses)?.find((x) => x.name === c.name);
      if (!cs) return;
      const terminated = { exitCode, reason: exitCode === 0 ? 'Completed' : 'Error', startedAt, finishedAt, containerID: id };
      const restart = !init && (p.spec.restartPolicy === 'Always' || (p.spec.restartPolicy === 'OnFailure' && exitCode !== 0));
      cs.ready = false;
      cs.started = false;
      if (restart) {
        // The kubelet would restart it with back-off; the emulator stops at the back-off.
        cs.lastState = { terminated };
        cs.restartCount += 1;
        cs.state = { waiting: { reason: 'CrashLoopBackOff', message: `back-off 10s restarting failed container=${c.name} pod=${p.metadata.name}_${p.metadata.namespace}(${p.metadata.uid})` } };
      } else cs.state = { terminated };
      if (init) return;
      const names = (s.containerStatuses ?? []).filter((x) => !x.ready).map((x) => x.name).join(' ');
      setCondition(s, condition('ContainersReady', false, 'ContainersNotReady', `containers with unready status: [${names}]`));
      setCondition(s, condition('Ready', false, 'ContainersNotReady', `containers with unready status: [${names}]`));
      const all = s.containerStatuses ?? [];
      if (all.every((x) => x.state.terminated)) {
        s.phase = all.some((x) => x.state.terminated!.exitCode !== 0) ? 'Failed' : 'Succeeded';
        setCondition(s, condition('ContainersReady', false, 'PodCompleted'));
        setCondition(s, condition('Ready', false, 'PodCompleted'));
        setCondition(s, condition('PodReadyToStartContainers', false));
      }
    });
    if (restartedBackOff(this.current(run), c.name)) {
      const p = this.current(run)!;
      this.o.events.record(p, 'Warning', 'BackOff', `Back-off restarting failed container ${c.name} in pod ${p.metadata.name}_${p.metadata.namespace}(${p.metadata.uid})`, kubeletOf(p), `spec.containers{${c.name}}`);
    }
    const after = this.current(run);
    if (after && isTerminal(after.status?.phase)) this.finish(run);
  }

  private deadlineExceeded(run: PodRun): void {
    const pod = this.current(run);
    if (!pod || isTerminal(pod.status?.phase)) return;
    const message = 'Pod was active on the node longer than the specified deadline';
    this.o.events.record(pod, 'Normal', 'DeadlineExceeded', message, kubeletOf(pod));
    for (const p of run.procs.values()) p.kill('SIGKILL');
    const finishedAt = timestamp();
    this.update(run, (p) => {
      const s = p.status!;
      s.phase = 'Failed';
      s.reason = 'DeadlineExceeded';
      s.message = message;
      for (const cs of [...(s.initContainerStatuses ?? []), ...(s.containerStatuses ?? [])]) {
        cs.ready = false;
        cs.started = false;
        if (cs.state.running) cs.state = { terminated: { exitCode: 137, reason: 'Error', startedAt: cs.state.running.startedAt, finishedAt, containerID: cs.containerID } };
      }
      setCondition(s, condition('ContainersReady', false, 'PodFailed'));
      setCondition(s, condition('Ready', false, 'PodFailed'));
    });
    this.finish(run);
  }

  /** Graceful deletion: SIGTERM, SIGKILL after the (shortened) grace period, then the object goes. */
  private beginDelete(pod: Pod): void {
    const run = this.runs.get(pod.metadata.uid!);
    if (!run) {
      this.o.store.remove('pods', pod.metadata.namespace, pod.metadata.name!);
      return;
    }
    run.deleting = true;
    for (const t of run.timers) clearTimeout(t);
    run.timers.clear();
    const procs = [...run.procs.entries()];
    for (const [name] of procs) this.o.events.record(pod, 'Normal', 'Killing', `Stopping container ${name}`, kubeletOf(pod), `spec.containers{${name}}`);
    for (const [, p] of procs) p.kill('SIGTERM');
    const grace = Math.min((pod.metadata.deletionGracePeriodSeconds ?? 30) * 1000, TIMINGS.killGrace);
    const kill = setTimeout(() => {
      for (const p of run.procs.values()) p.kill('SIGKILL');
    }, grace);
    const waitAll = Promise.all(procs.map(([, p]) => (p.exitCode !== null || p.signalCode !== null ? Promise.resolve() : new Promise((r) => p.once('close', r)))));
    void waitAll.then(() => {
      clearTimeout(kill);
      setTimeout(() => {
        const cur = this.o.store.get<Pod>('pods', run.namespace, run.name);
        if (cur && cur.metadata.uid === run.uid) this.o.store.remove('pods', run.namespace, run.name);
      }, TIMINGS.terminate);
    });
  }

  private finish(run: PodRun): void {
    run.finished = true;
    for (const t of run.timers) clearTimeout(t);
    run.timers.clear();
  }

  private teardown(run: PodRun, removeFiles: boolean): void {
    this.finish(run);
    for (const p of run.procs.values()) p.kill('SIGKILL');
    this.o.logs.drop(run.uid);
    this.runs.delete(run.uid);
    if (removeFiles) rmSync(run.dir, { recursive: true, force: true });
  }

  /** Kills every process and forgets every pod run. */
  stop(): Promise<void> {
    this.stopped = true;
    this.unsubscribe?.();
    this.unsubscribe = undefined;
    const waits: Promise<unknown>[] = [];
    for (const run of [...this.runs.values()]) {
      for (const p of run.procs.values()) {
        if (p.exitCode === null && p.signalCode === null) waits.push(new Promise((r) => p.once('close', r)));
        p.kill('SIGKILL');
      }
      this.teardown(run, false);
    }
    return Promise.race([Promise.all(waits), new Promise((r) => setTimeout(r, 2000))]).then(() => undefined);
  }
}

function restartedBackOff(pod: Pod | undefined, name: string): boolean {
  const cs = pod?.status?.containerStatuses?.find((x) => x.name === name);
  return cs?.state.waiting?.reason === 'CrashLoopBackOff';
}

function nodeUid(store: KubeStore, node: string): string {
  return store.get('nodes', undefined, node)?.metadata.uid ?? '';
}

