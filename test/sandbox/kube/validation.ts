// Validation that answers 422 Invalid, with the server's wording (k8s.io/apimachinery
// pkg/util/validation/validation.go messages; pkg/apis/core/validation/validation.go for pods).
// Only what the action and its tests can trip over: names, labels, a pod's containers,
// volumes and mounts, restartPolicy, activeDeadlineSeconds, and pod immutability.
import type { ResourceDef } from './resources.ts';
import { invalid, type FieldError } from './status.ts';
import type { Container, KObject, Pod } from './types.ts';

const DNS1123_LABEL = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;
const DNS1123_SUBDOMAIN = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;
const LABEL_VALUE = /^(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?$/;
const QUALIFIED_NAME = /^([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]$/;

const LABEL_MSG =
  "a lowercase RFC 1123 label must consist of lower case alphanumeric characters or '-', and must start and end with an alphanumeric character (e.g. 'my-name',  or '123-abc', regex used for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?')";
const SUBDOMAIN_MSG =
  "a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' or '.', and must start and end with an alphanumeric character (e.g. 'example.com', regex used for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*')";
const LABEL_VALUE_MSG =
  "a valid label must be an empty string or consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character (e.g. 'MyValue',  or 'my_value',  or '12345', regex used for validation is '(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?')";
const QUALIFIED_NAME_MSG =
  "name part must consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character (e.g. 'MyName',  or 'my.name',  or '123-abc', regex used for validation is '([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]')";

export function nameErrors(name: string, rule: 'label' | 'subdomain', field = 'metadata.name'): FieldError[] {
  const errs: FieldError[] = [];
  const max = rule === 'label' ? 63 : 253;
  if (name.length > max) errs.push({ type: 'Invalid', field, value: name, detail: `must be no more than ${max} characters` });
  if (!(rule === 'label' ? DNS1123_LABEL : DNS1123_SUBDOMAIN).test(name)) {
    errs.push({ type: 'Invalid', field, value: name, detail: rule === 'label' ? LABEL_MSG : SUBDOMAIN_MSG });
  }
  return errs;
}

function labelErrors(labels: Record<string, string> | undefined): FieldError[] {
  const errs: FieldError[] = [];
  for (const [k, v] of Object.entries(labels ?? {})) {
    const name = k.includes('/') ? k.slice(k.indexOf('/') + 1) : k;
    if (!QUALIFIED_NAME.test(name) || name.length > 63) errs.push({ type: 'Invalid', field: 'metadata.labels', value: k, detail: QUALIFIED_NAME_MSG });
    if (typeof v !== 'string') errs.push({ type: 'Invalid', field: `metadata.labels`, value: v, detail: 'label values must be strings' });
    else if (v.length > 63) errs.push({ type: 'Invalid', field: 'metadata.labels', value: v, detail: 'must be no more than 63 characters' });
    else if (!LABEL_VALUE.test(v)) errs.push({ type: 'Invalid', field: 'metadata.labels', value: v, detail: LABEL_VALUE_MSG });
  }
  return errs;
}

function containerErrors(list: Container[] | undefined, field: string, volumeNames: Set<string>, seen: Set<string>): FieldError[] {
  const errs: FieldError[] = [];
  (list ?? []).forEach((c, i) => {
    const f = `${field}[${i}]`;
    if (!c.name) errs.push({ type: 'Required', field: `${f}.name` });
    else {
      errs.push(...nameErrors(c.name, 'label', `${f}.name`));
      if (seen.has(c.name)) errs.push({ type: 'Duplicate', field: `${f}.name`, value: c.name });
      seen.add(c.name);
    }
    if (!c.image) errs.push({ type: 'Required', field: `${f}.image` });
    (c.env ?? []).forEach((e, j) => {
      if (!e.name) errs.push({ type: 'Required', field: `${f}.env[${j}].name` });
    });
    const mountPaths = new Set<string>();
    (c.volumeMounts ?? []).forEach((m, j) => {
      if (!m.name) errs.push({ type: 'Required', field: `${f}.volumeMounts[${j}].name` });
      else if (!volumeNames.has(m.name)) errs.push({ type: 'NotFound', field: `${f}.volumeMounts[${j}].name`, value: m.name });
      if (!m.mountPath) errs.push({ type: 'Required', field: `${f}.volumeMounts[${j}].mountPath` });
      else if (mountPaths.has(m.mountPath)) errs.push({ type: 'Invalid', field: `${f}.volumeMounts[${j}].mountPath`, value: m.mountPath, detail: 'must be unique' });
      mountPaths.add(m.mountPath);
    });
  });
  return errs;
}

export function podSpecErrors(pod: Pod): FieldError[] {
  const spec = pod.spec;
  const errs: FieldError[] = [];
  if (!spec) return [{ type: 'Required', field: 'spec' }];
  const volumeNames = new Set<string>();
  (spec.volumes ?? []).forEach((v, i) => {
    if (!v.name) errs.push({ type: 'Required', field: `spec.volumes[${i}].name` });
    else if (volumeNames.has(v.name)) errs.push({ type: 'Duplicate', field: `spec.volumes[${i}].name`, value: v.name });
    volumeNames.add(v.name);
  });
  if (!spec.containers?.length) errs.push({ type: 'Required', field: 'spec.containers' });
  const seen = new Set<string>();
  errs.push(...containerErrors(spec.containers, 'spec.containers', volumeNames, seen));
  errs.push(...containerErrors(spec.initContainers, 'spec.initContainers', volumeNames, seen));
  if (spec.restartPolicy && !['Always', 'OnFailure', 'Never'].includes(spec.restartPolicy)) {
    errs.push({ type: 'NotSupported', field: 'spec.restartPolicy', value: spec.restartPolicy, detail: 'supported values: "Always", "OnFailure", "Never"' });
  }
  if (spec.activeDeadlineSeconds !== undefined && !(spec.activeDeadlineSeconds >= 1 && spec.activeDeadlineSeconds <= 2147483647)) {
    errs.push({ type: 'Invalid', field: 'spec.activeDeadlineSeconds', value: spec.activeDeadlineSeconds, detail: 'must be between 1 and 2147483647, inclusive' });
  }
  return errs;
}

/** Create-time validation; throws 422. */
export function validateCreate(r: ResourceDef, obj: KObject): void {
  const name = obj.metadata.name ?? '';
  const errs: FieldError[] = [];
  if (!name) errs.push({ type: 'Required', field: 'metadata.name', detail: 'name or generateName is required' });
  else errs.push(...nameErrors(name, r.nameRule ?? 'subdomain'));
  errs.push(...labelErrors(obj.metadata.labels));
  if (r.kind === 'Pod') errs.push(...podSpecErrors(obj as Pod));
  if (errs.length) throw invalid(r, name, errs);
}

const MUTABLE_POD_SPEC = '`spec.containers[*].image`,`spec.initContainers[*].image`,`spec.activeDeadlineSeconds`,`spec.tolerations` (only additions to existing tolerations),`spec.terminationGracePeriodSeconds` (allow it to be set to 1 if it was previously negative)';

/** Update-time validation; pods may change little of their spec once created. */
export function validateUpdate(r: ResourceDef, previous: KObject, next: KObject): void {
  const name = next.metadata.name ?? '';
  const errs: FieldError[] = [...labelErrors(next.metadata.labels)];
  if (r.kind === 'Pod') {
    const a = (previous as Pod).spec;
    const b = (next as Pod).spec;
    const strip = (s: Pod['spec']) => {
      const c = structuredClone(s) as Pod['spec'];
      for (const list of [c.containers, c.initContainers ?? []]) for (const ct of list ?? []) delete ct.image;
      delete c.activeDeadlineSeconds;
      delete c.tolerations;
      delete c.terminationGracePeriodSeconds;
      return JSON.stringify(c);
    };
    if (b && a && strip(a) !== strip(b)) errs.push({ type: 'Forbidden', field: 'spec', detail: `pod updates may not change fields other than ${MUTABLE_POD_SPEC}` });
  }
  if (errs.length) throw invalid(r, name, errs);
}
