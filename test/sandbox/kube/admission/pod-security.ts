// Pod Security Admission (https://kubernetes.io/docs/concepts/security/pod-security-standards/,
// https://kubernetes.io/docs/concepts/security/pod-security-admission/). Checks and their
// wording follow k8s.io/pod-security-admission/policy/check_*.go; the order of the reasons
// in the message is the order the server evaluates them: baseline checks (file order), then
// restricted ones, where a restricted check replaces the baseline check it overrides
// (capabilities, seccompProfile, volumes).
import type { Container, KObject, Namespace, PodSpec } from '../types.ts';

export type Level = 'privileged' | 'baseline' | 'restricted';

interface CheckResult {
  reason: string;
  detail: string;
}

type Check = (meta: KObject['metadata'], spec: PodSpec) => CheckResult | undefined;

const pluralize = (one: string, many: string, n: number) => (n === 1 ? one : many);
const joinQuote = (xs: string[]) => xs.map((x) => JSON.stringify(x)).join(', ');

/** visitor.go: init containers, then containers, then ephemeral containers. */
function containersOf(spec: PodSpec): Container[] {
  return [...(spec.initContainers ?? []), ...(spec.containers ?? []), ...(spec.ephemeralContainers ?? [])];
}

const BASELINE_CAPABILITIES = new Set(['AUDIT_WRITE', 'CHOWN', 'DAC_OVERRIDE', 'FOWNER', 'FSETID', 'KILL', 'MKNOD', 'NET_BIND_SERVICE', 'SETFCAP', 'SETGID', 'SETPCAP', 'SETUID', 'SYS_CHROOT']);

const appArmor: Check = (meta, spec) => {
  const bad: string[] = [];
  for (const [k, v] of Object.entries(meta.annotations ?? {})) {
    if (k.startsWith('container.apparmor.security.beta.kubernetes.io/') && v !== 'runtime/default' && !v.startsWith('localhost/')) bad.push(`${k}=${JSON.stringify(v)}`);
  }
  if (spec.securityContext?.appArmorProfile?.type === 'Unconfined') bad.push('pod must not set securityContext.appArmorProfile.type to "Unconfined"');
  for (const c of containersOf(spec)) {
    if (c.securityContext?.appArmorProfile?.type === 'Unconfined') bad.push(`container "${c.name}" must not set securityContext.appArmorProfile.type to "Unconfined"`);
  }
  return bad.length ? { reason: 'forbidden AppArmor profile', detail: bad.sort().join(', ') } : undefined;
};

const capabilitiesBaseline: Check = (_m, spec) => {
  const names: string[] = [];
  const caps = new Set<string>();
  for (const c of containersOf(spec)) {
    const bad = (c.securityContext?.capabilities?.add ?? []).filter((x) => !BASELINE_CAPABILITIES.has(x));
    if (bad.length) {
      names.push(c.name);
      bad.forEach((b) => caps.add(b));
    }
  }
  if (!names.length) return undefined;
  return {
    reason: 'non-default capabilities',
    detail: `${pluralize('container', 'containers', names.length)} ${joinQuote(names)} must not include ${joinQuote([...caps].sort())} in securityContext.capabilities.add`,
  };
};

const hostNamespaces: Check = (_m, spec) => {
  const set: string[] = [];
  if (spec.hostIPC) set.push('hostIPC=true');
  if (spec.hostNetwork) set.push('hostNetwork=true');
  if (spec.hostPID) set.push('hostPID=true');
  return set.length ? { reason: 'host namespaces', detail: set.join(', ') } : undefined;
};

const hostPathVolumes: Check = (_m, spec) => {
  const vols = (spec.volumes ?? []).filter((v) => v.hostPath).map((v) => v.name);
  return vols.length ? { reason: 'hostPath volumes', detail: `${pluralize('volume', 'volumes', vols.length)} ${joinQuote(vols)}` } : undefined;
};

const hostPorts: Check = (_m, spec) => {
  const names: string[] = [];
  const ports: number[] = [];
  for (const c of containersOf(spec)) {
    const hp = (c.ports ?? []).map((p) => p.hostPort ?? 0).filter((p) => p !== 0);
    if (hp.length) {
      names.push(c.name);
      for (const p of hp) if (!ports.includes(p)) ports.push(p);
    }
  }
  if (!names.length) return undefined;
  return {
    reason: 'hostPort',
    detail: `${pluralize('container', 'containers', names.length)} ${joinQuote(names)} ${pluralize('uses', 'use', names.length)} ${pluralize('hostPort', 'hostPorts', ports.length)} ${ports.sort((a, b) => a - b).join(', ')}`,
  };
};

const privileged: Check = (_m, spec) => {
  const names = containersOf(spec).filter((c) => c.securityContext?.privileged === true).map((c) => c.name);
  return names.length ? { reason: 'privileged', detail: `${pluralize('container', 'containers', names.length)} ${joinQuote(names)} must not set securityContext.privileged=true` } : undefined;
};

const seccompBaseline: Check = (_m, spec) => {
  const setters: string[] = [];
  if (spec.securityContext?.seccompProfile?.type === 'Unconfined') setters.push('pod');
  const names = containersOf(spec).filter((c) => c.securityContext?.seccompProfile?.type === 'Unconfined').map((c) => c.name);
  if (names.length) setters.push(`${pluralize('container', 'containers', names.length)} ${joinQuote(names)}`);
  return setters.length ? { reason: 'seccompProfile', detail: `${setters.join(' and ')} must not set securityContext.seccompProfile.type to "Unconfined"` } : undefined;
};

const allowPrivilegeEscalation: Check = (_m, spec) => {
  const names = containersOf(spec).filter((c) => c.securityContext?.allowPrivilegeEscalation !== false).map((c) => c.name);
  return names.length
    ? { reason: 'allowPrivilegeEscalation != false', detail: `${pluralize('container', 'containers', names.length)} ${joinQuote(names)} must set securityContext.allowPrivilegeEscalation=false` }
    : undefined;
};

const capabilitiesRestricted: Check = (_m, spec) => {
  const missingDrop: string[] = [];
  const adding: string[] = [];
  const caps = new Set<string>();
  for (const c of containersOf(spec)) {
    const capsOf = c.securityContext?.capabilities;
    if (!capsOf) {
      missingDrop.push(c.name);
      continue;
    }
    if (!(capsOf.drop ?? []).includes('ALL')) missingDrop.push(c.name);
    const bad = (capsOf.add ?? []).filter((x) => x !== 'NET_BIND_SERVICE');
    if (bad.length) {
      adding.push(c.name);
      bad.forEach((b) => caps.add(b));
    }
  }
  const details: string[] = [];
  if (missingDrop.length) details.push(`${pluralize('container', 'containers', missingDrop.length)} ${joinQuote(missingDrop)} must set securityContext.capabilities.drop=["ALL"]`);
  if (adding.length) details.push(`${pluralize('container', 'containers', adding.length)} ${joinQuote(adding)} must not include ${joinQuote([...caps].sort())} in securityContext.capabilities.add`);
  return details.length ? { reason: 'unrestricted capabilities', detail: details.join('; ') } : undefined;
};

const ALLOWED_VOLUME_SOURCES = new Set(['configMap', 'csi', 'downwardAPI', 'emptyDir', 'ephemeral', 'persistentVolumeClaim', 'projected', 'secret']);

const restrictedVolumes: Check = (_m, spec) => {
  const names: string[] = [];
  const types = new Set<string>();
  for (const v of spec.volumes ?? []) {
    const source = Object.keys(v).find((k) => k !== 'name');
    if (source && !ALLOWED_VOLUME_SOURCES.has(source)) {
      names.push(v.name);
      types.add(source);
    }
  }
  if (!names.length) return undefined;
  return {
    reason: 'restricted volume types',
    detail: `${pluralize('volume', 'volumes', names.length)} ${joinQuote(names)} ${pluralize('uses', 'use', names.length)} ${pluralize('restricted volume type', 'restricted volume types', types.size)} ${joinQuote([...types].sort())}`,
  };
};

const runAsNonRoot: Check = (_m, spec) => {
  const badSetters: string[] = [];
  let podNonRoot = false;
  const podValue = spec.securityContext?.runAsNonRoot;
  if (podValue !== undefined) {
    if (!podValue) badSetters.push('pod');
    else podNonRoot = true;
  }
  const explicit: string[] = [];
  const implicit: string[] = [];
  for (const c of containersOf(spec)) {
    const v = c.securityContext?.runAsNonRoot;
    if (v !== undefined) {
      if (!v) explicit.push(c.name);
    } else if (!podNonRoot) implicit.push(c.name);
  }
  if (explicit.length) badSetters.push(`${pluralize('container', 'containers', explicit.length)} ${joinQuote(explicit)}`);
  if (badSetters.length) return { reason: 'runAsNonRoot != true', detail: `${badSetters.join(' and ')} must not set securityContext.runAsNonRoot=false` };
  if (implicit.length) {
    return { reason: 'runAsNonRoot != true', detail: `pod or ${pluralize('container', 'containers', implicit.length)} ${joinQuote(implicit)} must set securityContext.runAsNonRoot=true` };
  }
  return undefined;
};

const runAsUser: Check = (_m, spec) => {
  const setters: string[] = [];
  if (spec.securityContext?.runAsUser === 0) setters.push('pod');
  const names = containersOf(spec).filter((c) => c.securityContext?.runAsUser === 0).map((c) => c.name);
  if (names.length) setters.push(`${pluralize('container', 'containers', names.length)} ${joinQuote(names)}`);
  return setters.length ? { reason: 'runAsUser=0', detail: `${setters.join(' and ')} must not set runAsUser=0` } : undefined;
};

const validSeccomp = (t: string | undefined) => t === 'RuntimeDefault' || t === 'Localhost';

const seccompRestricted: Check = (_m, spec) => {
  const badSetters: string[] = [];
  const badValues = new Set<string>();
  let podSet = false;
  const pt = spec.securityContext?.seccompProfile;
  if (pt) {
    if (!validSeccomp(pt.type)) {
      badSetters.push('pod');
      badValues.add(pt.type ?? '');
    } else podSet = true;
  }
  const explicit: string[] = [];
  const implicit: string[] = [];
  for (const c of containersOf(spec)) {
    const sp = c.securityContext?.seccompProfile;
    if (sp) {
      if (!validSeccomp(sp.type)) {
        explicit.push(c.name);
        badValues.add(sp.type ?? '');
      }
    } else if (!podSet) implicit.push(c.name);
  }
  if (explicit.length) badSetters.push(`${pluralize('container', 'containers', explicit.length)} ${joinQuote(explicit)}`);
  if (badSetters.length) return { reason: 'seccompProfile', detail: `${badSetters.join(' and ')} must not set securityContext.seccompProfile.type to ${joinQuote([...badValues].sort())}` };
  if (implicit.length) {
    return {
      reason: 'seccompProfile',
      detail: `pod or ${pluralize('container', 'containers', implicit.length)} ${joinQuote(implicit)} must set securityContext.seccompProfile.type to "RuntimeDefault" or "Localhost"`,
    };
  }
  return undefined;
};

// Overridden baseline checks are skipped at restricted level.
const BASELINE: { id: string; check: Check }[] = [
  { id: 'appArmorProfile', check: appArmor },
  { id: 'capabilities_baseline', check: capabilitiesBaseline },
  { id: 'hostNamespaces', check: hostNamespaces },
  { id: 'hostPathVolumes', check: hostPathVolumes },
  { id: 'hostPorts', check: hostPorts },
  { id: 'privileged', check: privileged },
  { id: 'seccompProfile_baseline', check: seccompBaseline },
];
const RESTRICTED: { id: string; overrides?: string; check: Check }[] = [
  { id: 'allowPrivilegeEscalation', check: allowPrivilegeEscalation },
  { id: 'capabilities_restricted', overrides: 'capabilities_baseline', check: capabilitiesRestricted },
  { id: 'restrictedVolumes', overrides: 'hostPathVolumes', check: restrictedVolumes },
  { id: 'runAsNonRoot', check: runAsNonRoot },
  { id: 'runAsUser', check: runAsUser },
  { id: 'seccompProfile_restricted', overrides: 'seccompProfile_baseline', check: seccompRestricted },
];

export function evaluate(level: Level, meta: KObject['metadata'], spec: PodSpec): CheckResult[] {
  if (level === 'privileged') return [];
  const overridden = level === 'restricted' ? new Set(RESTRICTED.map((c) => c.overrides).filter(Boolean)) : new Set<string | undefined>();
  const checks = [...BASELINE.filter((c) => !overridden.has(c.id)), ...(level === 'restricted' ? RESTRICTED : [])];
  return checks.map((c) => c.check(meta, spec)).filter((r): r is CheckResult => !!r);
}

const LEVELS: Level[] = ['privileged', 'baseline', 'restricted'];

export interface NamespacePolicy {
  level: Level;
  version: string;
}

/** The namespace's policy for `mode` (enforce, warn, audit) from its labels; none = privileged. */
export function policyOf(ns: Namespace | undefined, mode: 'enforce' | 'warn' | 'audit'): NamespacePolicy {
  const labels = ns?.metadata.labels ?? {};
  const raw = labels[`pod-security.kubernetes.io/${mode}`];
  const level = LEVELS.includes(raw as Level) ? (raw as Level) : 'privileged';
  const version = labels[`pod-security.kubernetes.io/${mode}-version`] || 'latest';
  return { level, version };
}

/** `restricted:latest`: allowPrivilegeEscalation != false (container "c" must ...), ... */
export function describeViolations(policy: NamespacePolicy, results: CheckResult[]): string {
  const list = results.map((r) => (r.detail ? `${r.reason} (${r.detail})` : r.reason)).join(', ');
  return `"${policy.level}:${policy.version}": ${list}`;
}
