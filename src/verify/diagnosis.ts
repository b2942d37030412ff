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
  /** This run created or changed that FIC (Entra may still hold what was there before). */
  ficWritten?: boolean;
}

const q = (s: string | undefined) => `'${s ?? ''}'`;

/** `<issuer>/<path>` whether or not the issuer ends with its slash (AKS issuers do). */
const underIssuer = (iss: string, path: string) => `${iss.replace(/\/+$/, '')}/${path}`;

/** The times inside AADSTS700024's description: Entra's clock, and the assertion's window. */
function assertionWindow(error: string | undefined): { now?: number; from?: number; to?: number } {
  const m = /Current time: (\S+?),? assertion valid from (\S+?),? expiry time of assertion (\S+?)\.?(\s|$)/.exec(error ?? '');
  const at = (s: string | undefined) => (s && !Number.isNaN(Date.parse(s)) ? Date.parse(s) / 1000 : undefined);
  return { now: at(m?.[1]), from: at(m?.[2]), to: at(m?.[3]) };
}

const iso = (unix: number) => new Date(unix * 1000).toISOString().replace(/\.\d{3}Z$/, 'Z');

function outsideTimeRange(r: ProbeResult): Diagnosis {
  const w = assertionWindow(r.error);
  const exp = w.to ?? r.token?.exp;
  const now = w.now;
  const fix = (then: string) => `Synchronise the cluster's clocks (NTP on the control plane and the nodes)${then} Nothing in Azure needs to change: the federated credential is not what Entra refused.`;
  if (now !== undefined && w.from !== undefined && w.from > now) {
    return {
      cause: `Entra refused the token as not valid yet (AADSTS700024): it is valid from ${iso(w.from)}, ${Math.round(w.from - now)} s after Entra's time ${iso(now)} — the clock of the API server that issued it runs ahead (Entra allows a few minutes of skew).`,
      fix: fix("; on AKS the control plane's clock is Azure's: open a support request if it is the one ahead."),
    };
  }
  const expired = now !== undefined && exp !== undefined ? exp < now : r.checks.some((k) => k.name === 'expiry' && !k.ok);
  if (!expired) return { cause: `Entra found the token outside its valid time range (AADSTS700024): ${r.error ?? ''}`, fix: fix('.') };
  const late = now !== undefined && exp !== undefined ? `, ${Math.round(now - exp)} s before Entra's time ${iso(now)}` : '';
  return {
    cause: `Entra refused the token as expired (AADSTS700024): it expired at ${exp !== undefined ? iso(exp) : 'an unknown time'}${late}. The pod's token was issued moments before, so the clock of the API server that issued it runs behind by more than the token's lifetime (a workload that caches the token file past its expiry meets the same error).`,
    fix: fix(', then verify again; workloads must re-read $AZURE_FEDERATED_TOKEN_FILE before each exchange (current Azure SDKs do).'),
  };
}

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
    `or add one by hand under a name no credential of the identity has yet (create replaces a credential of the same name): az identity federated-credential create --identity-name ${c.identity} --resource-group <rg> --name <new-name> --issuer ${t.iss ?? c.issuer} --subject ${t.sub ?? c.subject} --audiences ${aud || c.audience}`;
  // ARM holds a credential with exactly the token's values, yet Entra compared the token with
  // something else: Entra still holds what the credential was before a change. Advising to
  // change that credential would repoint one that is right.
  const tokenIsExpected = t.iss === c.issuer && t.sub === c.subject && aud === c.audience;
  const fic = c.ficName ? `federated credential ${q(c.ficName)}` : 'a federated credential';
  const again = 'Run verify again in a few minutes (mode: verify)';
  const waitLonger = `${again}, or raise verify-timeout so that the wait after apply covers the propagation.`;
  if (c.ficInArm && tokenIsExpected && [700211, 700212, 700213, 7002138].includes(code)) {
    return {
      cause:
        `Entra compared the token with other values than ARM holds (AADSTS${code}: ${r.error ?? ''}): ARM holds ${fic} on ${where} with exactly the token's issuer ${q(t.iss)}, subject ${q(t.sub)} and audience ${q(aud)}, ` +
        `so Entra still held its previous version — ${c.ficWritten ? 'this run changed it' : 'it was changed recently'} and the change had not propagated (Azure documents minutes).`,
      fix: `Nothing to change: ${fic} is right. ${again}.`,
    };
  }
  // The mapping's audience against what the webhook projects: the binding's own credential
  // (issuer+subject are unique per identity) is the one to change.
  const audienceFix =
    `Set \`audience: ${aud}\` in the mapping's defaults (or drop \`audience\`: its default is what the webhook projects) and apply: it changes the audience of ${c.ficName ? `credential ${q(c.ficName)}` : "this binding's credential"}, which only this ServiceAccount's tokens match. ` +
    `Keep ${q(c.audience)} only if this ServiceAccount's workloads project their own token for it (a serviceAccountToken volume) — then this check does not apply to them.`;
  switch (code) {
    case 70025:
      return {
        cause: `${where} has no federated identity credential at all (AADSTS70025) — the usual state of an identity that only Pod Identity used so far${c.ficInArm ? '; ARM lists one, so it may not have propagated yet and did not within verify-timeout' : ''}.`,
        // ARM already holds the right one: another by hand would only duplicate it.
        fix:
          c.ficInArm && tokenIsExpected
            ? `Nothing to change: ${fic} is right. ${waitLonger}`
            : ficFix(`Federate it with issuer ${q(t.iss ?? c.issuer)}, subject ${q(t.sub ?? c.subject)}, audience ${q(aud || c.audience)}.`),
      };
    case 70021: {
      if (c.ficInArm && t.iss === c.issuer && t.sub === c.subject && aud === c.audience) {
        return {
          cause: `Entra found no federated credential matching the token (AADSTS70021) although ARM holds ${c.ficName ? q(c.ficName) : 'one'} with exactly its issuer, subject and audience: it had not propagated within verify-timeout (Azure documents minutes).`,
          fix: waitLonger,
        };
      }
      const diffs: string[] = [];
      if (t.iss !== c.issuer) diffs.push(`the credential's issuer is ${q(c.issuer)} but the token says ${q(t.iss)}${issuerDifference(c.issuer, t.iss ?? '')}`);
      if (t.sub !== c.subject) diffs.push(`the credential's subject is ${q(c.subject)} but the token says ${q(t.sub)}`);
      if (aud !== c.audience) diffs.push(`the credential's audience is ${q(c.audience)} but the token says ${q(aud)}`);
      return {
        cause: `No federated credential of ${where} matches the token (AADSTS70021)${diffs.length ? `: ${diffs.join('; ')}` : c.ficInArm ? '' : ": ARM holds none with the token's issuer, subject and audience"}.`,
        fix:
          c.ficInArm && t.iss === c.issuer && t.sub === c.subject
            ? audienceFix
            : ficFix(`The credential must carry the token's values exactly: issuer ${q(t.iss)}, subject ${q(t.sub)}, audience ${q(aud)}.`),
      };
    }
    case 700211: {
      const cause = `No federated credential of ${where} has the token's issuer (AADSTS700211): the credential's issuer is ${q(c.issuer)} but the token says ${q(t.iss)}${issuerDifference(c.issuer, t.iss ?? '')}.`;
      const setIssuer = `set \`issuer: ${t.iss ?? ''}\` for this environment in the mapping (or give \`cluster:\` and let the action read it), then apply`;
      // Same URL but for a slash or letter case: no cluster issues tokens for the credential's
      // form, so rewriting it breaks nothing.
      if ((t.iss ?? '').replace(/\/+$/, '').toLowerCase() === c.issuer.replace(/\/+$/, '').toLowerCase()) return { cause, fix: `Use the cluster's issuer byte for byte: ${setIssuer}.` };
      // Another cluster: its credentials may be what that cluster's workloads use.
      return {
        cause,
        fix:
          `First check which cluster the job talks to (its kubeconfig server against az aks show --query fqdn): if it is the wrong one, fix the kubeconfig and leave the credentials alone — they serve the cluster whose issuer is ${q(c.issuer)}. ` +
          `Only if this environment's cluster was recreated (a new cluster has a new issuer): ${setIssuer}.`,
      };
    }
    case 700212:
      return {
        cause: `The webhook projects tokens for audience ${q(aud)}, but the federated credential of ${where} for ${q(t.sub)} expects ${q(c.audience)} (AADSTS700212): the mapping's audience is not what the webhook projects.`,
        fix: audienceFix,
      };
    case 700213:
      return {
        cause: `No federated credential of ${where} with the token's issuer names its subject ${q(t.sub)} (AADSTS700213)${t.sub !== c.subject ? `; the binding expects ${q(c.subject)}` : ''}: they name other ServiceAccounts or namespaces.`,
        fix: ficFix(`The subject is system:serviceaccount:<namespace>:<ServiceAccount> of the pod, here ${q(t.sub)}.`),
      };
    case 7002138:
      // Entra does not say which credential; ours (c.subject) is the token's own subject.
      return {
        cause: `A federated credential of ${where} names the token's subject ${q(t.sub)} in other letter case (AADSTS7002138): Entra compares subjects case-sensitively since August 2024, so it no longer matches.`,
        fix:
          `List the identity's credentials (az identity federated-credential list --identity-name ${c.identity} --resource-group <rg> -o table) and write the subject of the one that differs only in case exactly as ${q(t.sub)}: ` +
          'Kubernetes names and the system:serviceaccount: prefix are lower case, so no token matches the other spelling and correcting it breaks nothing.',
      };
    case 700024:
      return outsideTimeRange(r);
    case 90061:
    case 50166: {
      const discovery = underIssuer(t.iss ?? c.issuer, '.well-known/openid-configuration');
      return {
        cause: `Entra could not fetch the cluster issuer's discovery document or keys (AADSTS${code}: Request to External OIDC endpoint failed): ${discovery} and the jwks_uri it names must answer on the public internet. Every workload of this cluster gets the same error until they do.`,
        fix:
          `Open ${discovery} from outside your network: it must answer 200 with "issuer": "${t.iss ?? c.issuer}". ` +
          'On AKS Azure serves it: reconcile the cluster (az aks update -g <resource-group> -n <cluster> with no other option) and open a support request if it stays broken; a self-hosted issuer (a storage account) must allow anonymous reads from every network. The federated credentials are not the problem: leave them as they are.',
      };
    }
    case 900612:
      return {
        cause: `The issuer ${q(t.iss)} serves a JSON Web Key Set that Entra cannot parse (AADSTS900612): the jwks_uri of ${underIssuer(t.iss ?? c.issuer, '.well-known/openid-configuration')} does not hold a {"keys":[…]} document. Every workload of this cluster gets the same error.`,
        fix: 'Open that jwks_uri and check it is complete JSON with a keys list; on AKS Azure serves it, so open a support request if it stays broken. The federated credentials are not the problem: leave them as they are.',
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
