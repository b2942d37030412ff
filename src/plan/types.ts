// The plan is plain data: the report renders it, apply executes it, tests assert on it.
// Azure and Kubernetes stages each produce their part; nothing here touches an SDK.
import type { SourcePosition } from '../mapping/types.ts';

export interface BindingKey {
  environment: string;
  namespace: string;
  serviceAccount: string;
  at: SourcePosition;
}

/** A user-assigned managed identity as ARM reports it. */
export interface ManagedIdentity {
  resourceId: string;
  name: string;
  resourceGroup: string;
  subscriptionId: string;
  clientId: string;
  principalId: string;
  tenantId: string;
}

export interface FederatedCredential {
  name: string;
  issuer: string;
  subject: string;
  audiences: string[];
}

export type FicAction = 'create' | 'update' | 'adopt' | 'unchanged' | 'delete';

export interface FicChange {
  kind: 'federated-credential';
  action: FicAction;
  identity: ManagedIdentity;
  /** The name written (create/update/delete) or found (adopt/unchanged). */
  name: string;
  desired?: FederatedCredential; // absent for delete
  current?: FederatedCredential; // absent for create
  /** Bindings served by this credential (several environments may share one issuer). */
  bindings: BindingKey[];
  reason: string; // plain language, shown in the report
}

export type ServiceAccountAction = 'create' | 'annotate' | 'unchanged';

export interface ServiceAccountChange {
  kind: 'service-account';
  action: ServiceAccountAction;
  namespace: string;
  name: string;
  /** Annotations this action owns, as they should be. */
  annotations: Record<string, string>;
  /**
   * Current values ('' when missing), only for the keys that differ. A key here but not in
   * `annotations` is one of ours the mapping no longer asks for: apply removes it.
   */
  before: Record<string, string>;
  /** Labels set on create only; an existing ServiceAccount keeps its labels (empty here). */
  labels: Record<string, string>;
  /** Running pods that keep the old identity until restarted (the webhook mutates only new pods). */
  podsToRestart: string[];
  binding: BindingKey;
  reason: string;
}

export type Severity = 'error' | 'warning' | 'info';

export interface PreflightCheck {
  name: string; // short id, e.g. 'rbac', 'webhook', 'issuer', 'namespace'
  ok: boolean;
  severity: Severity; // what a failure means: error blocks apply/verify
  detail: string;
  fix?: string; // what to do, may be multi-line (e.g. an RBAC snippet)
  at?: SourcePosition;
}

export interface Plan {
  environment: string;
  issuer: string;
  federatedCredentials: FicChange[];
  serviceAccounts: ServiceAccountChange[];
  preflight: PreflightCheck[];
}

export const isChange = (c: { action: string }): boolean => c.action !== 'unchanged' && c.action !== 'adopt';

/** What apply did with one change. */
export interface AppliedChange {
  change: FicChange | ServiceAccountChange;
  ok: boolean;
  error?: string; // with the original code kept, e.g. 'ConcurrentFederatedIdentityCredentialsWritesForSingleManagedIdentity'
  attempts: number;
  /** The run's deadline cut the write off in flight: it may or may not have been applied. */
  outcomeUnknown?: boolean;
}
