// The resources the emulated API server serves: what discovery lists (APIResourceList,
// https://kubernetes.io/docs/reference/using-api/api-concepts/#discovery-api) and what the
// router accepts. Names, short names, verbs and scope match `kubectl api-resources` on a
// 1.32 cluster; the Pod Identity and KEDA entries match their CRD manifests
// (Azure/aad-pod-identity charts/aad-pod-identity/crds, kedacore/keda config/crd).

export interface ResourceDef {
  group: string;
  version: string;
  kind: string;
  listKind: string;
  plural: string;
  singular: string;
  namespaced: boolean;
  shortNames?: string[];
  categories?: string[];
  verbs: string[];
  /** Subresources served (discovery lists them as `plural/sub`). */
  subresources?: { name: string; kind: string; group?: string; version?: string; verbs: string[] }[];
  /** Has a status subresource: writes to the main resource keep the stored status. */
  statusSubresource?: boolean;
  /** DELETE answers the object (pods, serviceaccounts) rather than Status Success. */
  returnDeletedObject?: boolean;
  /** A CustomResourceDefinition: no strategic merge patch, list items keep kind/apiVersion. */
  custom?: boolean;
  /** Bumps metadata.generation when anything outside metadata/status changes. */
  generation?: boolean;
  /** Only `create` (reviews): nothing is stored. */
  virtual?: boolean;
  /** Name validation: RFC 1123 label (namespaces) or subdomain (almost everything). */
  nameRule?: 'label' | 'subdomain';
}

const ALL = ['create', 'delete', 'deletecollection', 'get', 'list', 'patch', 'update', 'watch'];
const READ_WRITE_NO_COLLECTION = ['create', 'delete', 'get', 'list', 'patch', 'update', 'watch'];

const statusSub = (kind: string) => ({ name: 'status', kind, verbs: ['get', 'patch', 'update'] });

export const RESOURCES: ResourceDef[] = [
  // core/v1
  {
    group: '', version: 'v1', kind: 'Namespace', listKind: 'NamespaceList', plural: 'namespaces', singular: 'namespace',
    namespaced: false, shortNames: ['ns'], verbs: READ_WRITE_NO_COLLECTION, statusSubresource: true, returnDeletedObject: true,
    subresources: [statusSub('Namespace'), { name: 'finalize', kind: 'Namespace', verbs: ['update'] }], nameRule: 'label',
  },
  {
    group: '', version: 'v1', kind: 'ServiceAccount', listKind: 'ServiceAccountList', plural: 'serviceaccounts', singular: 'serviceaccount',
    namespaced: true, shortNames: ['sa'], verbs: ALL, returnDeletedObject: true,
    subresources: [{ name: 'token', kind: 'TokenRequest', group: 'authentication.k8s.io', version: 'v1', verbs: ['create'] }],
  },
  {
    group: '', version: 'v1', kind: 'Pod', listKind: 'PodList', plural: 'pods', singular: 'pod',
    namespaced: true, shortNames: ['po'], categories: ['all'], verbs: ALL, statusSubresource: true, returnDeletedObject: true,
    subresources: [statusSub('Pod'), { name: 'log', kind: 'Pod', verbs: ['get'] }],
  },
  {
    group: '', version: 'v1', kind: 'Event', listKind: 'EventList', plural: 'events', singular: 'event',
    namespaced: true, shortNames: ['ev'], verbs: ALL,
  },
  {
    group: '', version: 'v1', kind: 'ConfigMap', listKind: 'ConfigMapList', plural: 'configmaps', singular: 'configmap',
    namespaced: true, shortNames: ['cm'], verbs: ALL,
  },
  {
    group: '', version: 'v1', kind: 'Secret', listKind: 'SecretList', plural: 'secrets', singular: 'secret',
    namespaced: true, verbs: ALL,
  },
  {
    group: '', version: 'v1', kind: 'Node', listKind: 'NodeList', plural: 'nodes', singular: 'node',
    namespaced: false, shortNames: ['no'], verbs: ALL, statusSubresource: true, subresources: [statusSub('Node')],
  },
  // apps/v1
  ...(['Deployment', 'StatefulSet', 'DaemonSet', 'ReplicaSet'] as const).map(
    (kind): ResourceDef => ({
      group: 'apps', version: 'v1', kind, listKind: `${kind}List`, plural: `${kind.toLowerCase()}s`, singular: kind.toLowerCase(),
      namespaced: true, shortNames: { Deployment: ['deploy'], StatefulSet: ['sts'], DaemonSet: ['ds'], ReplicaSet: ['rs'] }[kind],
      categories: ['all'], verbs: ALL, statusSubresource: true, generation: true, subresources: [statusSub(kind)],
    }),
  ),
  // batch/v1
  {
    group: 'batch', version: 'v1', kind: 'CronJob', listKind: 'CronJobList', plural: 'cronjobs', singular: 'cronjob',
    namespaced: true, shortNames: ['cj'], categories: ['all'], verbs: ALL, statusSubresource: true, generation: true, subresources: [statusSub('CronJob')],
  },
  {
    group: 'batch', version: 'v1', kind: 'Job', listKind: 'JobList', plural: 'jobs', singular: 'job',
    namespaced: true, categories: ['all'], verbs: ALL, statusSubresource: true, generation: true, subresources: [statusSub('Job')],
  },
  // networking.k8s.io/v1: stored and served; the kubelet applies egress-deny policies (kubelet.ts)
  {
    group: 'networking.k8s.io', version: 'v1', kind: 'NetworkPolicy', listKind: 'NetworkPolicyList', plural: 'networkpolicies', singular: 'networkpolicy',
    namespaced: true, shortNames: ['netpol'], verbs: ALL, generation: true,
  },
  // admissionregistration.k8s.io/v1
  {
    group: 'admissionregistration.k8s.io', version: 'v1', kind: 'MutatingWebhookConfiguration', listKind: 'MutatingWebhookConfigurationList',
    plural: 'mutatingwebhookconfigurations', singular: 'mutatingwebhookconfiguration', namespaced: false, categories: ['api-extensions'],
    verbs: ALL, generation: true,
  },
  {
    group: 'admissionregistration.k8s.io', version: 'v1', kind: 'ValidatingWebhookConfiguration', listKind: 'ValidatingWebhookConfigurationList',
    plural: 'validatingwebhookconfigurations', singular: 'validatingwebhookconfiguration', namespaced: false, categories: ['api-extensions'],
    verbs: ALL, generation: true,
  },
  // apiextensions.k8s.io/v1
  {
    group: 'apiextensions.k8s.io', version: 'v1', kind: 'CustomResourceDefinition', listKind: 'CustomResourceDefinitionList',
    plural: 'customresourcedefinitions', singular: 'customresourcedefinition', namespaced: false, shortNames: ['crd', 'crds'],
    categories: ['api-extensions'], verbs: ALL, statusSubresource: true, generation: true, subresources: [statusSub('CustomResourceDefinition')],
  },
  // authorization.k8s.io/v1 and authentication.k8s.io/v1: create-only reviews
  {
    group: 'authorization.k8s.io', version: 'v1', kind: 'SelfSubjectAccessReview', listKind: 'SelfSubjectAccessReviewList',
    plural: 'selfsubjectaccessreviews', singular: 'selfsubjectaccessreview', namespaced: false, verbs: ['create'], virtual: true,
  },
  {
    group: 'authorization.k8s.io', version: 'v1', kind: 'SelfSubjectRulesReview', listKind: 'SelfSubjectRulesReviewList',
    plural: 'selfsubjectrulesreviews', singular: 'selfsubjectrulesreview', namespaced: false, verbs: ['create'], virtual: true,
  },
  {
    group: 'authentication.k8s.io', version: 'v1', kind: 'SelfSubjectReview', listKind: 'SelfSubjectReviewList',
    plural: 'selfsubjectreviews', singular: 'selfsubjectreview', namespaced: false, verbs: ['create'], virtual: true,
  },
  // aadpodidentity.k8s.io/v1 (CRDs, all namespaced)
  ...(['AzureIdentity', 'AzureIdentityBinding', 'AzurePodIdentityException', 'AzureAssignedIdentity'] as const).map(
    (kind): ResourceDef => ({
      group: 'aadpodidentity.k8s.io', version: 'v1', kind, listKind: `${kind}List`,
      plural: kind.endsWith('Identity') ? `${kind.toLowerCase().slice(0, -1)}ies` : `${kind.toLowerCase()}s`, singular: kind.toLowerCase(),
      namespaced: true, verbs: ALL, custom: true, generation: true,
    }),
  ),
  // keda.sh/v1alpha1
  {
    group: 'keda.sh', version: 'v1alpha1', kind: 'TriggerAuthentication', listKind: 'TriggerAuthenticationList',
    plural: 'triggerauthentications', singular: 'triggerauthentication', namespaced: true, shortNames: ['ta', 'triggerauth'],
    verbs: ALL, custom: true, generation: true, statusSubresource: true, subresources: [statusSub('TriggerAuthentication')],
  },
  {
    group: 'keda.sh', version: 'v1alpha1', kind: 'ClusterTriggerAuthentication', listKind: 'ClusterTriggerAuthenticationList',
    plural: 'clustertriggerauthentications', singular: 'clustertriggerauthentication', namespaced: false, shortNames: ['cta', 'clustertriggerauth'],
    verbs: ALL, custom: true, generation: true, statusSubresource: true, subresources: [statusSub('ClusterTriggerAuthentication')],
  },
];

export const groupVersion = (r: { group: string; version: string }): string => (r.group ? `${r.group}/${r.version}` : r.version);

/** `pods`, `deployments.apps`, `azureidentities.aadpodidentity.k8s.io`: how Status messages name a resource. */
export const qualifiedResource = (r: ResourceDef): string => (r.group ? `${r.plural}.${r.group}` : r.plural);

/** `Pod`, `Deployment.apps`: how Invalid messages name a kind. */
export const qualifiedKind = (r: ResourceDef): string => (r.group ? `${r.kind}.${r.group}` : r.kind);

/** The key objects of this resource are stored under. */
export const resourceKey = (r: ResourceDef): string => qualifiedResource(r);

export function findResource(group: string, version: string, plural: string): ResourceDef | undefined {
  return RESOURCES.find((r) => r.group === group && r.version === version && r.plural === plural);
}

export function findByKind(apiVersion: string, kind: string): ResourceDef | undefined {
  const [group, version] = apiVersion.includes('/') ? apiVersion.split('/') : ['', apiVersion];
  return RESOURCES.find((r) => r.group === group && r.version === version && r.kind === kind);
}

/** `pods`, `po`, `deployments.apps`, `Pod`, `azureidentities.aadpodidentity.k8s.io` → the resource. */
export function lookupResource(name: string): ResourceDef | undefined {
  const lower = name.toLowerCase();
  return RESOURCES.find(
    (r) =>
      qualifiedResource(r) === lower ||
      r.plural === lower ||
      r.singular === lower ||
      r.kind.toLowerCase() === lower ||
      (r.shortNames ?? []).includes(lower),
  );
}

/** API groups in discovery order (core first, then as a 1.32 server lists them). */
export function apiGroups(): { name: string; versions: string[] }[] {
  const out: { name: string; versions: string[] }[] = [];
  for (const r of RESOURCES) {
    if (!r.group) continue;
    let g = out.find((x) => x.name === r.group);
    if (!g) out.push((g = { name: r.group, versions: [] }));
    if (!g.versions.includes(r.version)) g.versions.push(r.version);
  }
  return out;
}
