// Status bodies worded as the API server words them. Source: k8s.io/apimachinery
// pkg/api/errors/errors.go (NewNotFound, NewAlreadyExists, NewConflict, NewInvalid,
// NewForbidden, NewBadRequest, NewMethodNotSupported, NewGone) and the API conventions
// doc (https://github.com/kubernetes/community/blob/master/contributors/devel/sig-architecture/api-conventions.md#response-status-kind).
import { qualifiedKind, qualifiedResource, type ResourceDef } from './resources.ts';

export interface StatusCause {
  reason?: string;
  message?: string;
  field?: string;
}

export interface StatusDetails {
  name?: string;
  group?: string;
  kind?: string;
  uid?: string;
  causes?: StatusCause[];
  retryAfterSeconds?: number;
}

export interface Status {
  kind: 'Status';
  apiVersion: 'v1';
  metadata: Record<string, never>;
  status: 'Failure' | 'Success';
  message?: string;
  reason?: string;
  details?: StatusDetails;
  code: number;
}

/** Thrown by handlers; the router answers `status` with HTTP `status.code`. */
export class KubeError extends Error {
  readonly status: Status;
  readonly headers: Record<string, string>;
  constructor(status: Status, headers: Record<string, string> = {}) {
    super(status.message ?? status.reason ?? String(status.code));
    this.status = status;
    this.headers = headers;
  }
}

export function failure(code: number, reason: string | undefined, message: string, details?: StatusDetails): Status {
  // Field order as the server marshals it: kind, apiVersion, metadata, status, message, reason, details, code.
  return { kind: 'Status', apiVersion: 'v1', metadata: {}, status: 'Failure', message, ...(reason ? { reason } : {}), ...(details ? { details } : {}), code };
}

/** details.group is omitted when empty (Go `omitempty`); details.kind is the plural resource. */
const resourceDetails = (r: ResourceDef, name: string): StatusDetails => ({ name, ...(r.group ? { group: r.group } : {}), kind: r.plural });

export const notFound = (r: ResourceDef, name: string): KubeError =>
  new KubeError(failure(404, 'NotFound', `${qualifiedResource(r)} "${name}" not found`, resourceDetails(r, name)));

export const namespaceNotFound = (ns: string): KubeError =>
  new KubeError(failure(404, 'NotFound', `namespaces "${ns}" not found`, { name: ns, kind: 'namespaces' }));

export const alreadyExists = (r: ResourceDef, name: string): KubeError =>
  new KubeError(failure(409, 'AlreadyExists', `${qualifiedResource(r)} "${name}" already exists`, resourceDetails(r, name)));

/** Optimistic concurrency failure (stale resourceVersion on update). */
export const conflict = (r: ResourceDef, name: string, why = 'the object has been modified; please apply your changes to the latest version and try again'): KubeError =>
  new KubeError(failure(409, 'Conflict', `Operation cannot be fulfilled on ${qualifiedResource(r)} "${name}": ${why}`, resourceDetails(r, name)));

export interface FieldError {
  /** field.ErrorType: Required, Invalid, Forbidden, NotFound, Duplicate, NotSupported, TooLong. */
  type: 'Required' | 'Invalid' | 'Forbidden' | 'NotFound' | 'Duplicate' | 'NotSupported' | 'TooLong';
  field: string;
  value?: unknown;
  detail?: string;
}

const ERROR_TYPE: Record<FieldError['type'], { reason: string; text: string }> = {
  Required: { reason: 'FieldValueRequired', text: 'Required value' },
  Invalid: { reason: 'FieldValueInvalid', text: 'Invalid value' },
  Forbidden: { reason: 'FieldValueForbidden', text: 'Forbidden' },
  NotFound: { reason: 'FieldValueNotFound', text: 'Not found' },
  Duplicate: { reason: 'FieldValueDuplicate', text: 'Duplicate value' },
  NotSupported: { reason: 'FieldValueNotSupported', text: 'Unsupported value' },
  TooLong: { reason: 'FieldValueTooLong', text: 'Too long' },
};

/** field.Error.ErrorBody(): `Invalid value: "x": detail`, `Required value`, `Not found: "x"`. */
function errorBody(e: FieldError): string {
  const t = ERROR_TYPE[e.type];
  let s = t.text;
  if (e.type === 'Required' || e.type === 'Forbidden' || e.type === 'TooLong') {
    if (e.detail) s += `: ${e.detail}`;
    return s;
  }
  if (e.value !== undefined) s += `: ${typeof e.value === 'string' ? JSON.stringify(e.value) : JSON.stringify(e.value)}`;
  if (e.detail) s += `: ${e.detail}`;
  return s;
}

/** 422: `Pod "x" is invalid: spec.containers[0].image: Required value` (several: `[a, b]`). */
export function invalid(r: ResourceDef, name: string, errors: FieldError[]): KubeError {
  const messages = errors.map((e) => `${e.field}: ${errorBody(e)}`);
  const aggregate = messages.length === 1 ? messages[0]! : `[${messages.join(', ')}]`;
  return new KubeError(
    failure(422, 'Invalid', `${qualifiedKind(r)} "${name}" is invalid: ${aggregate}`, {
      name,
      ...(r.group ? { group: r.group } : {}),
      kind: r.kind,
      causes: errors.map((e) => ({ reason: ERROR_TYPE[e.type].reason, message: errorBody(e), field: e.field })),
    }),
  );
}

/** 403 from admission or authorization: `pods "x" is forbidden: <why>` (no name: `pods is forbidden`). */
export function forbidden(r: ResourceDef | { plural: string; group: string }, name: string, why: string): KubeError {
  const res = r.group ? `${r.plural}.${r.group}` : r.plural;
  const subject = name ? `${res} "${name}"` : res;
  return new KubeError(failure(403, 'Forbidden', `${subject} is forbidden: ${why}`, { ...(name ? { name } : {}), ...(r.group ? { group: r.group } : {}), kind: r.plural }));
}

export const badRequest = (message: string): KubeError => new KubeError(failure(400, 'BadRequest', message));

export const methodNotAllowed = (): KubeError =>
  new KubeError(failure(405, 'MethodNotAllowed', 'the server does not allow this method on the requested resource', {}));

/** 404 for an API path that names no resource. */
export const noSuchResource = (): KubeError => new KubeError(failure(404, 'NotFound', 'the server could not find the requested resource', {}));

export const unsupportedMediaType = (contentType: string, accepted: string[]): KubeError =>
  new KubeError(
    // apiserver endpoints/handlers/negotiation errUnsupportedMediaType.Status(): no details.
    failure(415, 'UnsupportedMediaType', `the body of the request was in an unknown format - accepted media types include: ${accepted.join(', ')}`),
    { 'x-content-type': contentType },
  );

export const unauthorized = (): KubeError => new KubeError(failure(401, 'Unauthorized', 'Unauthorized'));

export const gone = (message: string): KubeError => new KubeError(failure(410, 'Expired', message));

export const internalError = (message: string): KubeError =>
  new KubeError(failure(500, 'InternalError', `Internal error occurred: ${message}`, { causes: [{ message }] }));

/** Status Success, as DELETE answers for most resources (apimachinery registry/generic/registry/store.go). */
export function success(r: ResourceDef, name: string, uid?: string): Status {
  return {
    kind: 'Status',
    apiVersion: 'v1',
    metadata: {},
    status: 'Success',
    details: { name, ...(r.group ? { group: r.group } : {}), kind: r.plural, ...(uid ? { uid } : {}) },
    code: 200,
  };
}
