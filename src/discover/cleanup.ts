// The clean-up plan (listing only): once bindings verify, which Pod Identity objects serve
// nothing any more. An AzureIdentityBinding serves the pod templates that carry its
// selector as `aadpodidbinding`; a label is ready to go when the workload's ServiceAccount
// verified on Workload Identity; an AzureIdentity goes with the last binding naming it.
// Pod Identity itself is removed only when nothing in the whole cluster uses it — and only
// said when the whole cluster could be seen.
import { controlledBy, field, podTemplate, ref, text } from './objects.ts';
import type { EstateInput } from './estate.ts';

export interface CleanupPlan {
  /** Bindings whose selector no pod template carries: "AzureIdentityBinding ns/name". */
  unusedBindings: string[];
  /** AzureIdentities no used binding names. */
  unusedIdentities: string[];
  /** Templates whose ServiceAccount verified but that still carry aadpodidbinding. */
  labelsToRemove: { workload: string; selector: string }[];
  /** Workloads still relying on Pod Identity (their ServiceAccount is not verified). */
  stillInUse: string[];
  /** How to remove Pod Identity itself; empty until nothing uses it (and all was seen). */
  removal: string[];
  /** What RBAC (or an unreachable ARM) hid: the plan may be incomplete there. */
  unseen: string[];
}

export interface CleanupContext {
  /** "namespace/serviceAccount" of every binding that verified in this run. */
  verified: Set<string>;
  unseen: string[];
  /** The environment's AKS cluster, for the add-on's commands. */
  cluster?: { name: string; resourceGroup: string };
}

export function cleanupPlan(input: EstateInput, ctx: CleanupContext): CleanupPlan {
  const templates = input.workloads
    .filter((o) => !controlledBy(o) || !['Pod', 'Job'].includes(o.kind))
    .flatMap((o) => {
      const t = podTemplate(o);
      const selector = t?.labels.aadpodidbinding;
      const injected = t?.labels['azure.workload.identity/use'] === 'true';
      return t && selector !== undefined ? [{ o, selector, injected, sa: `${o.metadata.namespace ?? 'default'}/${t.serviceAccountName}` }] : [];
    });
  const plan: CleanupPlan = { unusedBindings: [], unusedIdentities: [], labelsToRemove: [], stillInUse: [], removal: [], unseen: [...ctx.unseen] };
  // The label goes only when the workload will get its token the new way: its ServiceAccount
  // verified AND its template asks the webhook for injection. Removing it sooner would leave
  // the workload with no identity at all.
  for (const t of templates) {
    if (ctx.verified.has(t.sa) && t.injected) plan.labelsToRemove.push({ workload: ref(t.o), selector: t.selector });
    else if (ctx.verified.has(t.sa)) plan.stillInUse.push(`${ref(t.o)} (add the label azure.workload.identity/use: "true" to its pod template first)`);
    else plan.stillInUse.push(ref(t.o));
  }
  const carried = new Set(templates.map((t) => t.selector));
  const usedIdentities = new Set<string>();
  for (const b of input.azureIdentityBindings) {
    const selector = text(field(b.spec, 'selector')) ?? '';
    const identity = `${b.metadata.namespace ?? 'default'}/${text(field(b.spec, 'azureIdentity')) ?? ''}`;
    if (carried.has(selector)) usedIdentities.add(identity);
    else plan.unusedBindings.push(ref(b));
  }
  for (const i of input.azureIdentities) {
    if (!usedIdentities.has(`${i.metadata.namespace ?? 'default'}/${i.metadata.name}`)) plan.unusedIdentities.push(ref(i));
  }
  const nothingLeft = !templates.length && plan.unusedBindings.length === input.azureIdentityBindings.length;
  if (nothingLeft && !plan.unseen.length) {
    if (input.armPodIdentities.length && ctx.cluster) {
      const c = ctx.cluster;
      for (const p of input.armPodIdentities) plan.removal.push(`az aks pod-identity delete --resource-group ${c.resourceGroup} --cluster-name ${c.name} --namespace ${p.namespace} --name ${p.name}`);
      plan.removal.push(`az aks update --resource-group ${c.resourceGroup} --name ${c.name} --disable-pod-identity`);
    } else {
      plan.removal.push('helm uninstall <the aad-pod-identity release> --namespace <its namespace> (or kubectl delete -f the deployment manifest it was installed from), then delete the aadpodidentity.k8s.io CRDs');
    }
  }
  return plan;
}
