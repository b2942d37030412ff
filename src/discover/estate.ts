// From a cluster's Pod Identity objects to proposed Workload Identity bindings (pure).
// aad-pod-identity links a pod to an identity through a label: the pod (template) carries
// `aadpodidbinding: <selector>`, an AzureIdentityBinding with that selector names an
// AzureIdentity, which holds the managed identity's resource ID. Workload Identity links a
// ServiceAccount instead, so every (namespace, ServiceAccount, identity) that pods really
// use becomes one binding — and what cannot be carried over mechanically (a service
// principal, the shared `default` ServiceAccount, one ServiceAccount behind two identities)
// is reported, never guessed.
import { parseIdentityResourceId } from '../mapping/identity.ts';
import { controlledBy, field, podTemplate, ref, text, type KubeObject } from './objects.ts';

/** podIdentityProfile.userAssignedIdentities[] of an AKS cluster (the managed add-on). */
export interface ArmPodIdentity {
  name: string;
  namespace: string;
  bindingSelector: string;
  identity: { resourceId: string; clientId?: string };
}

export interface EstateInput {
  azureIdentities: KubeObject[];
  azureIdentityBindings: KubeObject[];
  exceptions: KubeObject[];
  /** Deployments, StatefulSets, DaemonSets, CronJobs, Jobs and Pods. */
  workloads: KubeObject[];
  /** TriggerAuthentication and ClusterTriggerAuthentication (keda.sh). */
  kedaAuthentications: KubeObject[];
  armPodIdentities: ArmPodIdentity[];
}

export interface WorkloadRef {
  namespace: string;
  kind: string;
  name: string;
}

export interface DiscoveredBinding {
  namespace: string;
  serviceAccount: string;
  identityResourceId: string;
  clientId?: string;
  /** The pods run as `default` today: a dedicated ServiceAccount is proposed instead. */
  replacesDefault: boolean;
  workloads: WorkloadRef[];
  /** Where it came from, for the YAML comment: "AzureIdentityBinding payments/payments-binding". */
  sources: string[];
  /** The ServiceAccount also serves another identity: written commented out, never guessed. */
  conflict: boolean;
}

export type FindingCode =
  | 'service-principal'
  | 'default-service-account'
  | 'service-account-conflict'
  | 'binding-without-identity'
  | 'identity-reference'
  | 'unused-binding'
  | 'exception'
  | 'keda-provider';

export interface Finding {
  code: FindingCode;
  object: string;
  detail: string;
  fix?: string;
}

/** A KEDA operator binding to propose (commented out: KEDA's namespace and SA vary). */
export interface KedaProposal {
  object: string;
  identityResourceId?: string;
  clientId?: string;
}

export interface Estate {
  bindings: DiscoveredBinding[];
  findings: Finding[];
  keda: KedaProposal[];
}

interface IdentityInfo {
  object: string;
  namespace: string;
  name: string;
  type: number;
  resourceId?: string;
  clientId?: string;
}

interface SelectorBinding {
  object: string;
  namespace: string;
  selector: string;
  identity?: IdentityInfo;
}

function identities(input: EstateInput, findings: Finding[]): IdentityInfo[] {
  const fromCrds = input.azureIdentities.map((o): IdentityInfo => {
    const type = Number(field(o.spec, 'type') ?? 0);
    return {
      object: ref(o),
      namespace: o.metadata.namespace ?? 'default',
      name: o.metadata.name,
      type,
      resourceId: text(field(o.spec, 'resourceID')),
      clientId: text(field(o.spec, 'clientID')),
    };
  });
  const fromArm = input.armPodIdentities.map(
    (p): IdentityInfo => ({ object: `podIdentityProfile ${p.namespace}/${p.name}`, namespace: p.namespace, name: p.name, type: 0, resourceId: p.identity.resourceId, clientId: p.identity.clientId }),
  );
  for (const id of fromCrds) {
    if (id.type !== 0) {
      findings.push({
        code: 'service-principal',
        object: id.object,
        detail: `type ${id.type} is a service principal (${id.type === 1 ? 'client secret' : 'certificate'}), not a user-assigned managed identity: a managed identity's federated credential cannot replace it.`,
        fix: 'Create a user-assigned managed identity with the same role assignments and bind that, or federate the app registration itself (outside this action).',
      });
    } else if (!id.resourceId || !parseIdentityResourceId(id.resourceId)) {
      findings.push({ code: 'identity-reference', object: id.object, detail: `resourceID '${id.resourceId ?? ''}' is not a user-assigned identity's ARM resource ID.` });
    }
  }
  return [...fromCrds, ...fromArm];
}

function selectorBindings(input: EstateInput, ids: IdentityInfo[], findings: Finding[]): SelectorBinding[] {
  const fromCrds = input.azureIdentityBindings.map((o): SelectorBinding => {
    const namespace = o.metadata.namespace ?? 'default';
    const identityName = text(field(o.spec, 'azureIdentity'));
    const identity = ids.find((i) => i.namespace === namespace && i.name === identityName && !i.object.startsWith('podIdentityProfile'));
    if (!identity) {
      findings.push({ code: 'binding-without-identity', object: ref(o), detail: `names AzureIdentity '${identityName ?? ''}', which does not exist in namespace ${namespace}: it serves no pod today.` });
    }
    return { object: ref(o), namespace, selector: text(field(o.spec, 'selector')) ?? '', identity };
  });
  const fromArm = input.armPodIdentities.map((p): SelectorBinding => ({
    object: `podIdentityProfile ${p.namespace}/${p.name}`,
    namespace: p.namespace,
    selector: p.bindingSelector,
    identity: ids.find((i) => i.object === `podIdentityProfile ${p.namespace}/${p.name}`),
  }));
  return [...fromCrds, ...fromArm];
}

/**
 * The bindings a pod with this selector gets. aad-pod-identity matches bindings in the pod's
 * own namespace, and (unless run with --forceNamespaced) in any namespace: the pod's own
 * namespace is preferred, other namespaces are taken only when it has none.
 */
function matching(all: SelectorBinding[], namespace: string, selector: string): SelectorBinding[] {
  const usable = all.filter((b) => b.selector === selector && b.identity && b.identity.type === 0 && b.identity.resourceId);
  const local = usable.filter((b) => b.namespace === namespace);
  return local.length ? local : usable;
}

const workloadRef = (o: KubeObject): WorkloadRef => ({ namespace: o.metadata.namespace ?? 'default', kind: o.kind, name: o.metadata.name });
const key = (...parts: string[]) => parts.join('\u0000');

export function discoverEstate(input: EstateInput): Estate {
  const findings: Finding[] = [];
  const ids = identities(input, findings);
  const selectors = selectorBindings(input, ids, findings);
  const bindings = new Map<string, DiscoveredBinding>();
  const usedSelectors = new Set<SelectorBinding>();
  /** ServiceAccount → identities its workloads use, to find conflicts. */
  const perServiceAccount = new Map<string, Set<string>>();

  // Pods and Jobs a controller made are reported through that controller's template.
  const top = input.workloads.filter((o) => !controlledBy(o) || !['Pod', 'Job'].includes(o.kind));
  for (const w of top) {
    const template = podTemplate(w);
    const selector = template?.labels.aadpodidbinding;
    if (!template || !selector) continue;
    const namespace = w.metadata.namespace ?? 'default';
    for (const sb of matching(selectors, namespace, selector)) {
      usedSelectors.add(sb);
      const identity = sb.identity!;
      const resourceId = identity.resourceId!;
      const saKey = key(namespace, template.serviceAccountName);
      perServiceAccount.set(saKey, (perServiceAccount.get(saKey) ?? new Set()).add(resourceId.toLowerCase()));
      const replacesDefault = template.serviceAccountName === 'default';
      // `default` is shared by every pod of the namespace: binding it would hand the identity
      // to all of them. Propose one ServiceAccount per workload instead.
      const serviceAccount = replacesDefault ? w.metadata.name : template.serviceAccountName;
      const k = key(namespace, serviceAccount, resourceId.toLowerCase());
      const existing = bindings.get(k);
      const entry = existing ?? { namespace, serviceAccount, identityResourceId: resourceId, clientId: identity.clientId, replacesDefault, workloads: [], sources: [], conflict: false };
      entry.workloads.push(workloadRef(w));
      for (const s of [sb.object, identity.object]) if (!entry.sources.includes(s)) entry.sources.push(s);
      bindings.set(k, entry);
      if (replacesDefault && !existing) {
        findings.push({
          code: 'default-service-account',
          object: ref(w),
          detail: `runs as the namespace's 'default' ServiceAccount; binding 'default' would give identity ${identity.name} to every pod in ${namespace}.`,
          fix: `Set serviceAccountName: ${serviceAccount} in its pod template (the proposed binding creates that ServiceAccount).`,
        });
      }
    }
  }

  // One ServiceAccount carries one client ID: workloads that share it but use different
  // identities cannot all be migrated as they are. Flag, leave the choice to the owner.
  for (const [saKey, resourceIds] of perServiceAccount) {
    if (resourceIds.size < 2) continue;
    const [namespace, serviceAccount] = saKey.split('\u0000') as [string, string];
    if (serviceAccount === 'default') continue; // each workload got its own proposed SA
    const users = [...bindings.values()].filter((b) => b.namespace === namespace && b.serviceAccount === serviceAccount);
    findings.push({
      code: 'service-account-conflict',
      object: `ServiceAccount ${namespace}/${serviceAccount}`,
      detail: `is used by workloads bound to ${resourceIds.size} different identities (${users.map((u) => `${u.workloads.map((w) => `${w.kind} ${w.name}`).join(', ')} → ${u.identityResourceId.split('/').pop()}`).join('; ')}); a ServiceAccount carries one client ID.`,
      fix: 'Give each of these workloads its own ServiceAccount, then bind each one; the entries are written commented out until then.',
    });
    for (const u of users) u.conflict = true;
  }

  for (const sb of selectors) {
    if (sb.identity && !usedSelectors.has(sb)) {
      findings.push({ code: 'unused-binding', object: sb.object, detail: `selector '${sb.selector}' matches no pod template: nothing uses it today.`, fix: 'Nothing to migrate; it can be deleted with the rest of Pod Identity.' });
    }
  }
  for (const e of input.exceptions) {
    findings.push({
      code: 'exception',
      object: ref(e),
      detail: `pods labelled ${JSON.stringify(field(e.spec, 'podLabels') ?? {})} reach IMDS directly today (NMI lets them through).`,
      fix: 'Nothing to bind: after Pod Identity is removed they keep reaching IMDS, now without NMI in the way.',
    });
  }
  const keda = kedaProposals(input, ids, findings);
  const list = [...bindings.values()];
  return { bindings: list.sort((a, b) => a.namespace.localeCompare(b.namespace) || a.serviceAccount.localeCompare(b.serviceAccount)), findings, keda };
}

function kedaProposals(input: EstateInput, ids: IdentityInfo[], findings: Finding[]): KedaProposal[] {
  const out: KedaProposal[] = [];
  for (const o of input.kedaAuthentications) {
    const podIdentity = field(o.spec, 'podIdentity');
    if (text(field(podIdentity, 'provider')) !== 'azure') continue;
    const identityId = text(field(podIdentity, 'identityId'));
    const known = ids.find((i) => identityId && i.clientId?.toLowerCase() === identityId.toLowerCase());
    findings.push({
      code: 'keda-provider',
      object: ref(o),
      detail: `uses podIdentity.provider 'azure' (Pod Identity), which KEDA serves only while NMI runs.`,
      fix: `Set podIdentity.provider: azure-workload${identityId ? ` (keep identityId ${identityId})` : ''}, and bind KEDA's own ServiceAccount to the identity (proposed in the mapping, commented out).`,
    });
    out.push({ object: ref(o), identityResourceId: known?.resourceId, clientId: identityId });
  }
  return out;
}
