// Error bodies in each service's own shape, for the answers the emulators give and for
// injected faults (`faults.inject` without a `body`): a client parses a 429/5xx the way it
// parses the service's other errors, so an injected fault must look like one.
//   ARM         `{"error":{"code","message"}}` (code TooManyRequests / ServiceUnavailable / InternalServerError …)
//   Kubernetes  a `Status` (reason TooManyRequests / ServiceUnavailable / InternalError …)
//   Entra       the AADSTS envelope `{error, error_description "AADSTSn: …", error_codes, …}`
//   GitHub      `{message, documentation_url, status}`
//   issuer      plain text (the AKS issuer is a static document host)
// Sources per row in FIDELITY.md ("Transport, TLS, faults").
import type { IncomingMessage, OutgoingHttpHeaders } from 'node:http';
import type { Reply, ServiceName } from './http.ts';
import { entraTimestamp, newId } from './util.ts';

/** What an error body may depend on: the URL the client used and its headers. */
export interface RequestLike {
  url: URL;
  headers: IncomingMessage['headers'];
}

export interface AadErrorSpec {
  status: number;
  error: string;
  code: number;
  message: string;
}

/** Entra's error envelope; `correlation_id` echoes the client's `client-request-id`. */
export function aadErrorReply(req: RequestLike, spec: AadErrorSpec): Reply {
  const traceId = newId();
  const correlationId = String(req.headers['client-request-id'] ?? newId());
  const timestamp = entraTimestamp();
  return {
    status: spec.status,
    headers: { 'x-ms-request-id': traceId, 'client-request-id': correlationId, 'cache-control': 'no-store, no-cache' },
    body: {
      error: spec.error,
      error_description: `AADSTS${spec.code}: ${spec.message} Trace ID: ${traceId} Correlation ID: ${correlationId} Timestamp: ${timestamp}`,
      error_codes: [spec.code],
      timestamp,
      trace_id: traceId,
      correlation_id: correlationId,
      error_uri: `${req.url.origin}/error?code=${spec.code}`,
    },
  };
}

const ARM_CODES: Record<number, string> = {
  400: 'BadRequest',
  401: 'AuthenticationFailed',
  403: 'AuthorizationFailed',
  404: 'NotFound',
  409: 'Conflict',
  429: 'TooManyRequests',
  500: 'InternalServerError',
  502: 'BadGateway',
  503: 'ServiceUnavailable',
  504: 'GatewayTimeout',
};

function armFault(req: RequestLike, status: number, retryAfter?: number): unknown {
  const code = ARM_CODES[status] ?? (status >= 500 ? 'InternalServerError' : 'BadRequest');
  const subscription = /^\/subscriptions\/([^/]+)/i.exec(req.url.pathname)?.[1] ?? '';
  const stamp = new Date().toISOString().replace(/[-:]/g, '').replace(/\.\d+Z$/, 'Z');
  const messages: Record<string, string> = {
    TooManyRequests: `The request is being throttled.${retryAfter !== undefined ? ` Please retry after ${retryAfter} seconds.` : ''}`,
    ServiceUnavailable: 'The service is currently unavailable. Please try again later.',
    // ARM's own 500 wording (diagnostic information with tracking ids).
    InternalServerError: `Encountered internal server error. Diagnostic information: timestamp '${stamp}', subscription id '${subscription}', tracking id '${newId()}', request correlation id '${String(req.headers['x-ms-client-request-id'] ?? newId())}'.`,
    GatewayTimeout: "The gateway did not receive a response from 'Microsoft.ManagedIdentity' within the specified time period.",
  };
  return { error: { code, message: messages[code] ?? `Injected fault ${status}.` } };
}

/** apimachinery `reasonForCode` plus the messages of NewTooManyRequests / NewServiceUnavailable / NewInternalError / NewTimeoutError. */
const KUBE_REASONS: Record<number, [string, string]> = {
  400: ['BadRequest', 'the server rejected our request for an unknown reason'],
  401: ['Unauthorized', 'Unauthorized'],
  403: ['Forbidden', 'forbidden'],
  404: ['NotFound', 'the server could not find the requested resource'],
  409: ['Conflict', 'the server reported a conflict'],
  429: ['TooManyRequests', 'Too many requests, please try again later.'],
  500: ['InternalError', 'Internal error occurred: injected fault'],
  503: ['ServiceUnavailable', 'the server is currently unable to handle the request'],
  504: ['Timeout', 'Timeout: request did not complete within the allotted timeout'],
};

function kubeFault(status: number, retryAfter?: number): unknown {
  const [reason, message] = KUBE_REASONS[status] ?? [status >= 500 ? 'InternalError' : 'BadRequest', `injected fault ${status}`];
  const details: Record<string, unknown> = {};
  if (status === 500) details.causes = [{ message: 'injected fault' }];
  if (retryAfter !== undefined) details.retryAfterSeconds = retryAfter;
  return { kind: 'Status', apiVersion: 'v1', metadata: {}, status: 'Failure', message, reason, ...(Object.keys(details).length ? { details } : {}), code: status };
}

function entraFault(req: RequestLike, status: number): Reply {
  if (status === 429 || status === 503 || status === 504) {
    // Real 503 body: Azure/azure-sdk-for-python#14241 (temporarily_unavailable, AADSTS90033).
    return aadErrorReply(req, { status, error: 'temporarily_unavailable', code: 90033, message: 'A transient error has occurred. Please try again.' });
  }
  if (status >= 500) {
    return aadErrorReply(req, { status, error: 'server_error', code: 50000, message: 'There was an error issuing a token or an issue with our sign-in service.' });
  }
  return aadErrorReply(req, { status, error: 'invalid_request', code: 90000, message: `Injected fault ${status}.` });
}

const GITHUB_MESSAGES: Record<number, string> = {
  403: 'Forbidden',
  404: 'Not Found',
  429: 'API rate limit exceeded',
  500: 'Server Error',
  502: 'Server Error',
  503: 'Service Unavailable',
};

/** The reply a fault injected without a `body` answers, in the shape of `service`. */
export function faultReply(service: ServiceName, req: RequestLike, status: number, retryAfterSeconds?: number): Reply {
  const headers: OutgoingHttpHeaders = {};
  if (retryAfterSeconds !== undefined) headers['retry-after'] = String(retryAfterSeconds);
  switch (service) {
    case 'arm':
      return { status, headers, body: armFault(req, status, retryAfterSeconds) };
    case 'kube':
      return { status, headers, body: kubeFault(status, retryAfterSeconds) };
    case 'entra': {
      const r = entraFault(req, status);
      return { ...r, headers: { ...r.headers, ...headers } };
    }
    case 'github': {
      const documentation_url = status === 429 ? 'https://docs.github.com/rest/using-the-rest-api/rate-limits-for-the-rest-api' : 'https://docs.github.com/rest';
      return { status, headers, body: { message: GITHUB_MESSAGES[status] ?? `Injected fault ${status}`, documentation_url, status: String(status) } };
    }
    case 'issuer':
      return { status, headers: { ...headers, 'content-type': 'text/plain' }, body: status === 503 ? 'Service Unavailable\n' : `Error ${status}\n` };
  }
}
