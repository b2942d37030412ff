// What every emulator shares: where each one listens, the CA, the call log, the faults,
// and the world state (Azure's identities and FICs, the clusters, the issuers' keys), so
// that Entra can match an assertion against the FICs ARM holds, and the kubelet can sign
// tokens with the key the issuer publishes.
import type { CallLog, Faults, ServiceName } from './http.ts';
import type { SandboxTls } from './tls.ts';

export interface SandboxUrls {
  kube: string;
  arm: string;
  entra: string; // authority host
  issuer: string; // origin serving OIDC discovery for every cluster issuer
  github: string;
}

export interface SandboxContext {
  urls: SandboxUrls;
  tls: SandboxTls;
  log: CallLog;
  faults: Faults;
  /** A temp directory owned by this sandbox (kubeconfig, projected tokens, probe runs). */
  workDir: string;
}

export type { ServiceName };
