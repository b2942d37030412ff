// From what the probe and the API server said to a cause and a fix that name the values
// (DESIGN §5 AADSTS codes, §6 pod failures). Advice never makes things worse: it never
// suggests deleting or repointing a credential that matches the cluster's tokens.
import type { ProbeResult } from './probe.ts';

export interface Diagnosis {
  cause: string;
  fix: string;
}

/** What the runner knew when it made the pod. */
export interface DiagnosisContext {
  namespace: string;
  serviceAccount: string;
  identity: string;
  clientId: string;
  issuer: string;
  subject: string;
  audience: string;
  scope: string;
  /** ARM held a FIC with exactly issuer/subject/audience when the pod was made. */
  ficInArm: boolean;
  ficName?: string;
}

const q = (s: string | undefined) => `'${s ?? ''}'`;

function issuerDifference(fic: string, token: string): string {
  if (fic.replace(/\/+$/, '') === token.replace(/\/+$/, '')) return ' — they differ only by the trailing slash, and Entra compares issuers byte for byte';
  if (fic.toLowerCase() === token.toLowerCase()) return ' — they differ only in letter case, and Entra compares issuers case-sensitively';
  return ' — the token comes from another cluster (or a recreated one) than the credential names';
}

/** Cause and fix for an exchange Entra refused, by AADSTS code. */
export function diagnoseAadsts(code: number, r: ProbeResult, c: DiagnosisContext): Diagnosis {
  const t = r.token ?? {};
  const aud = (t.aud ?? []).join(',');
  const where = `identity ${q(c.identity)}`;
  const ficFix = (what: string) =>
    `${what} Run this action in apply mode with the mapping fixed (it writes the credential with the token's exact values), ` +
    `or add one by hand: az identity federated-credential create --identity-name ${c.identity} --resource-group <rg> --name <name> --issuer ${t.iss ?? c.issuer} --subject ${t.sub ?? c.subject} --audiences ${aud || c.audience}`;
  switch (code) {
    case 70025:
      return {
        cause: `${where} has no federated identity credential at all (AADSTS70025) — the usual state of an identity that only Pod Identity used so far${c.ficInArm ? '; ARM lists one, so it may not have propagated yet and did not within verify-timeout' : ''}.`,
        fix: ficFix(`Federate it with issuer ${q(t.iss ?? c.issuer)}, subject ${q(t.sub ?? c.subject)}, audience ${q(aud || c.audience)}.`),
      };
    case 70021: {
      if (c.ficInArm && t.iss === c.issuer && t.sub === c.subject && aud === c.audience) {
        return {
          cause: `Entra found no federated credential matching the token (AADSTS70021) although ARM holds ${c.ficName ? q(c.ficName) : 'one'} with exactly its issuer, subject and audience: it had not propagated within verify-timeout (Azure documents minutes).`,
          fix: 'Run verify again in a few minutes (mode: verify), or raise verify-timeout so that the wait after apply covers the propagation.',
        };
      }
      const diffs: string[] = [];
      if (t.iss !== c.issuer) diffs.push(`the credential's issuer is ${q(c.issuer)} but the token says ${q(t.iss)}${issuerDifference(c.issuer, t.iss ?? '')}`);
      if (t.sub !== c.subject) diffs.push(`the credential's subject is ${q(c.subject)} but the token says ${q(t.sub)}`);
      if (aud !== c.audience) diffs.push(`the credential's audience is ${q(c.audience)} but the token says ${q(aud)}`);
      return {
        cause: `No federated credential of ${where} matches the token (AADSTS70021)${diffs.length ? `: ${diffs.join('; ')}` : c.ficInArm ? '' : ": ARM holds none with the token's issuer, subject and audience"}.`,
        fix: ficFix(`The credential must carry the token's values exactly: issuer ${q(t.iss)}, subject ${q(t.sub)}, audience ${q(aud)}.`),
      };
    }
    case 700211:
      return {
        cause: `No federated credential of ${where} has the token's issuer (AADSTS700211): the credential's issuer is ${q(c.issuer)} but the token says ${q(t.iss)}${issuerDifference(c.issuer, t.iss ?? '')}.`,
        fix: `Use the cluster's issuer byte for byte: set \`issuer: ${t.iss ?? ''}\` for this environment in the mapping (or give \`cluster:\` and let the action read it), then apply.`,
      };
    case 700212:
      return {
        cause: `The token's audience ${q(aud)} is not the credential's ${q(c.audience)} (AADSTS700212).`,
        fix: `Set the binding's audience to what the webhook projects (${q(aud)}), or project the credential's audience; then apply.`,
      };
    case 700213:
      return {
        cause: `No federated credential of ${where} with the token's issuer names its subject ${q(t.sub)} (AADSTS700213)${t.sub !== c.subject ? `; the binding expects ${q(c.subject)}` : ''}: they name other ServiceAccounts or namespaces.`,
        fix: ficFix(`The subject is system:serviceaccount:<namespace>:<ServiceAccount> of the pod, here ${q(t.sub)}.`),
      };
    case 7002138:
      return {
        cause: `The token's subject ${q(t.sub)} and the credential's ${q(c.subject)} differ only in letter case (AADSTS7002138): Entra compares subjects case-sensitively since August 2024.`,
        fix: `Write the credential's subject exactly as ${q(t.sub)} (Kubernetes names are lower case), then apply.`,
      };
    case 700024:
      return {
        cause: `Entra found the token outside its valid time range (AADSTS700024): expiry ${t.exp ? new Date(t.exp * 1000).toISOString() : 'unknown'}.`,
        fix: "Check the node's clock (NTP) and the ServiceAccount's token-expiration annotation (3600..86400).",
      };
    case 90061:
    case 50166:
      return {
        cause: `Entra could not fetch the issuer's discovery document or keys from ${q(t.iss)} (AADSTS${code}).`,
        fix: `Check that ${t.iss ?? 'the issuer'}.well-known/openid-configuration answers publicly (az aks show --query oidcIssuerProfile) and that the cluster's OIDC issuer is enabled.`,
      };
    case 900612:
      return {
        cause: `The issuer ${q(t.iss)} serves a JSON Web Key Set that Entra cannot parse (AADSTS900612).`,
        fix: "Check the issuer's jwks_uri document; on AKS this is the cluster's OIDC issuer, so open a support request if it stays broken.",
      };
    case 700016:
      return {
        cause: `Entra does not know client id ${q(r.env.clientId)} in tenant ${q(r.env.tenantId)} (AADSTS700016).`,
        fix: `Check the ServiceAccount's azure.workload.identity/client-id (${c.clientId}) and tenant-id annotations.`,
      };
    default:
      return { cause: `Entra refused the exchange: AADSTS${code}: ${r.error ?? ''}`, fix: 'See https://learn.microsoft.com/entra/identity-platform/reference-error-codes for this code.' };
  }
}

/** Cause and fix for a probe that ran and printed its line. */
export function diagnoseProbe(r: ProbeResult, c: DiagnosisContext): Diagnosis | undefined {
  if (r.ok) return undefined;
  const failed = (name: string) => r.checks.find((k) => k.name === name && !k.ok);
  const env = failed('env');
  if (env) {
    return {
      cause: `The workload identity webhook did not mutate the pod (${env.detail}): it is not installed, not reachable, or excludes namespace ${q(c.namespace)} (AKS keeps webhooks out of kube-system).`,
      fix: 'Enable it (az aks update --enable-workload-identity, or the azure-workload-identity Helm chart) and keep the pod label azure.workload.identity/use: "true"; workloads in this namespace get no token either.',
    };
  }
  const cid = failed('client-id');
  if (cid && r.aadsts === undefined && !r.unreachable) {
    return { cause: `The pod got ${cid.detail}.`, fix: `Annotate ServiceAccount ${c.namespace}/${c.serviceAccount} with azure.workload.identity/client-id: ${c.clientId} (apply does), and remove a hard-coded AZURE_CLIENT_ID from the pod spec.` };
  }
  const token = failed('token');
  if (token) return { cause: `The projected token could not be read: ${token.detail}.`, fix: 'Check the webhook version and that no other volume is mounted over the token path.' };
  if (r.unreachable) {
    return {
      cause: `The pod could not reach the authority ${q(r.env.authorityHost)}: ${r.unreachable}. A DNS failure, or a NetworkPolicy denying egress in namespace ${q(c.namespace)} — which breaks the real workload's token requests too.`,
      fix: `Allow egress from ${c.namespace} to ${r.env.authorityHost ?? 'the authority host'} (TCP 443) and to DNS; on clusters with an egress proxy, HTTPS_PROXY must let it through.`,
    };
  }
  if (r.aadsts !== undefined) return diagnoseAadsts(r.aadsts, r, c);
  const first = r.checks.find((k) => !k.ok);
  return first ? { cause: `Check '${first.name}' failed: ${first.detail}.`, fix: 'See the checks above.' } : undefined;
}
