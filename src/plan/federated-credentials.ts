// The federated-credential diff: desired bindings against the FICs each identity holds now.
// Pure: no I/O, no SDK. src/azure/plan.ts gathers the inputs, src/azure/apply.ts executes the
// result in the order given here.
//
// Azure's rules it respects (DESIGN §5): issuer+subject unique per identity (a second one is
// rejected, so an existing one under another name is adopted); exactly one audience; issuer,
// subject and audience compared byte for byte; FIC names and resource IDs case-insensitive;
// at most 20 FICs per identity; a FIC of another issuer is another cluster's and is never
// written to, whatever its name.
import { MAX_FEDERATED_CREDENTIALS_PER_IDENTITY } from '../mapping/checks.ts';
import { withHashSuffix } from '../mapping/fic-name.ts';
import { identityKey } from '../mapping/identity.ts';
import { withoutTrailingSlash } from '../mapping/issuer.ts';
import type { ResolvedBinding, SourcePosition } from '../mapping/types.ts';
import { bindingKey } from './binding-key.ts';
import type { BindingKey, FederatedCredential, FicChange, ManagedIdentity, PreflightCheck } from './types.ts';

export interface FicDiffInput {
  /** The environment being planned: only its bindings produce changes. */
  environment: string;
  /** This environment's issuer, byte-exact. */
  issuer: string;
  /**
   * The environment's bindings. Bindings of other environments that federate to the SAME
   * issuer may be passed too: they produce no writes, but share a FIC with ours when they
   * bind the same ServiceAccount to the same identity (listed in its `bindings`), and
   * protect their FICs from prune.
   */
  bindings: ResolvedBinding[];
  /**
   * With prune: identities (by identityKey) no binding of this issuer names any more but
   * another environment of the mapping still does. Their FICs on this issuer are leftovers
   * (a binding moved to another identity) and are pruned like any other.
   */
  pruneOnly?: string[];
  /** Resolved identities by identityKey(resourceId); bindings whose identity is absent are skipped. */
  identities: Map<string, ManagedIdentity>;
  /** FICs observed per identity, by identityKey(resourceId). */
  observed: Map<string, FederatedCredential[]>;
  prune: boolean;
  /**
   * The issuer the cluster's API server reports (its discovery document), when it could be
   * read. Advice to delete a credential is given only for one known NOT to be the cluster's:
   * a credential with the cluster's issuer is the one that works, whatever the mapping says.
   */
  clusterIssuer?: string;
}

export interface FicDiff {
  changes: FicChange[];
  checks: PreflightCheck[];
}

const sameName = (a: string, b: string): boolean => a.toLowerCase() === b.toLowerCase();
const sameAudiences = (a: string[], b: string[]): boolean => a.length === b.length && a.every((x, i) => x === b[i]);
const where = (at: SourcePosition): string => `${at.file}:${at.line}`;

/** One FIC we want (or that another environment wants) on one identity: one per subject. */
interface Entry {
  subject: string;
  audience: string;
  /** The name to write: the ficName of this environment's first binding. */
  name: string;
  /** Whether a binding of this environment needs it (else: protect and share only). */
  own: boolean;
  bindings: BindingKey[];
  at: SourcePosition;
  identityAt: SourcePosition;
  /** Every ficName the bindings would use, lower-cased: all protected from prune. */
  names: Set<string>;
  claimed?: FederatedCredential;
}

/**
 * The deterministic second name of a credential whose own name is held by another one: the
 * name with fic-name.ts's '_'-hash suffix over (issuer, subject). The issuer is in the hash so
 * that a third cluster wanting the same name does not land on the second one's.
 */
const alternateName = (e: Entry, issuer: string): string => withHashSuffix(e.name, [issuer, e.subject]);

/**
 * Advice to delete a credential, only where it cannot delete the working one: when the
 * cluster's issuer is known and is not the credential's. Otherwise how to find out first.
 */
function safeDeleteAdvice(credentialIssuer: string, clusterIssuer: string | undefined, advice: string): string {
  if (clusterIssuer !== undefined && clusterIssuer !== credentialIssuer) return advice;
  if (clusterIssuer === credentialIssuer) return 'Keep it: its issuer is the one the cluster reports. The issuer this plan uses is the one to correct (see the issuer check).';
  return (
    "The cluster's issuer could not be read, so nothing here says which credential works: compare with `kubectl get --raw /.well-known/openid-configuration` " +
    '(or `az aks show --query oidcIssuerProfile.issuerUrl -o tsv`) and delete only a credential whose issuer is not the cluster\'s.'
  );
}

function drift(current: FederatedCredential, desired: FederatedCredential): string {
  const parts: string[] = [];
  if (current.issuer !== desired.issuer) parts.push(`issuer '${current.issuer}' → '${desired.issuer}'`);
  if (current.subject !== desired.subject) parts.push(`subject '${current.subject}' → '${desired.subject}'`);
  if (!sameAudiences(current.audiences, desired.audiences)) parts.push(`audiences [${current.audiences.join(', ')}] → [${desired.audiences.join(', ')}]`);
  return parts.join('; ');
}

function entriesFor(bindings: ResolvedBinding[], environment: string, checks: PreflightCheck[], identity: ManagedIdentity): Entry[] {
  const bySubject = new Map<string, Entry>();
  // This environment's bindings first, so that they name the shared FIC.
  const ordered = [...bindings.filter((b) => b.environment === environment), ...bindings.filter((b) => b.environment !== environment)];
  for (const b of ordered) {
    const own = b.environment === environment;
    const entry = bySubject.get(b.subject);
    if (!entry) {
      bySubject.set(b.subject, { subject: b.subject, audience: b.audience, name: b.ficName, own, bindings: [bindingKey(b)], at: b.at, identityAt: b.identityAt, names: new Set([b.ficName.toLowerCase()]) });
      continue;
    }
    if (entry.audience !== b.audience) {
      // Azure holds one FIC per issuer+subject: two audiences for one ServiceAccount cannot coexist.
      checks.push({
        name: 'federated-credential-audience',
        ok: false,
        severity: own || entry.own ? 'error' : 'warning',
        detail:
          `Bindings at ${where(entry.at)} and ${where(b.at)} federate ${b.subject} to identity '${identity.name}' through the same issuer ` +
          `with different audiences ('${entry.audience}', '${b.audience}'); Azure keeps one credential per issuer and subject.`,
        fix: 'Use the same audience for both (the default is api://AzureADTokenExchange), or bind them to different identities.',
        at: b.at,
      });
      continue;
    }
    entry.own ||= own;
    entry.bindings.push(bindingKey(b));
    entry.names.add(b.ficName.toLowerCase());
  }
  return [...bySubject.values()];
}

function diffIdentity(
  identity: ManagedIdentity,
  bindings: ResolvedBinding[],
  observed: FederatedCredential[],
  input: FicDiffInput,
  checks: PreflightCheck[],
): FicChange[] {
  const { issuer, environment } = input;
  const limit = MAX_FEDERATED_CREDENTIALS_PER_IDENTITY;
  const entries = entriesFor(bindings, environment, checks, identity);
  const claimed = new Set<FederatedCredential>();
  const kept: FicChange[] = []; // adopt / unchanged
  const updates: FicChange[] = [];
  const creates: FicChange[] = [];
  const createdFor: Entry[] = [];
  const deletes: FicChange[] = [];
  const desiredOf = (e: Entry, name: string): FederatedCredential => ({ name, issuer, subject: e.subject, audiences: [e.audience] });
  const base = (e: Entry) => ({ kind: 'federated-credential' as const, identity, bindings: e.bindings });

  // 1. Issuer+subject matches first: Azure allows one per identity, so whatever holds ours
  //    (under our name or another) is the one to keep. This also resolves a name clash: our
  //    name held by a FIC of another issuer/subject while another FIC holds ours → adopt that one.
  //    Under our second name (step 3 made it in an earlier run) it is simply ours: unchanged.
  for (const e of entries) {
    const ours = (f: FederatedCredential): boolean => sameName(f.name, e.name) || sameName(f.name, alternateName(e, issuer));
    const match =
      observed.find((f) => !claimed.has(f) && f.issuer === issuer && f.subject === e.subject && ours(f)) ??
      observed.find((f) => !claimed.has(f) && f.issuer === issuer && f.subject === e.subject);
    if (!match) continue;
    claimed.add(match);
    e.claimed = match;
    if (!e.own) continue; // another environment's credential: keep it, write nothing
    const desired = desiredOf(e, match.name);
    if (!sameAudiences(match.audiences, desired.audiences)) {
      updates.push({ ...base(e), action: 'update', name: match.name, desired, current: match, reason: `audience drift: ${drift(match, desired)}` });
    } else if (ours(match)) {
      kept.push({ ...base(e), action: 'unchanged', name: match.name, desired, current: match, reason: 'up to date' });
    } else {
      kept.push({
        ...base(e),
        action: 'adopt',
        name: match.name,
        desired,
        current: match,
        reason: `already exists as '${match.name}' with the same issuer, subject and audience (made by hand or by another environment): adopted, not duplicated`,
      });
    }
  }

  // 2. Otherwise create. When our name is held by a FIC of THIS issuer for another subject,
  //    it is not ours: our names encode namespace and ServiceAccount, so a credential under it
  //    for another subject was made or repointed by hand, and some workload may use it. It is
  //    left alone (prune too: its name is protected), a warning names it, and ours gets the
  //    second name. The same when another binding adopted it in step 1.
  // 3. When our name is held by a FIC of ANOTHER issuer, the second name too. A FIC
  //    of another issuer belongs to another cluster: names are scoped by environment (or
  //    cluster) name only, so two repositories with an environment 'production' sharing an
  //    identity want the same name, and repointing it would break the other cluster's
  //    workloads (AADSTS70021). It is left alone, and a warning names it.
  for (const e of entries) {
    if (e.claimed || !e.own) continue;
    const holder = observed.find((f) => sameName(f.name, e.name));
    if (!holder) {
      creates.push({ ...base(e), action: 'create', name: e.name, desired: desiredOf(e, e.name), reason: `no credential for ${e.subject} from this issuer` });
      createdFor.push(e);
      continue;
    }
    const name = alternateName(e, issuer);
    const taken = observed.find((f) => sameName(f.name, name));
    if (taken) {
      // Only a credential made by hand under exactly that name: writing it would overwrite it.
      checks.push({
        name: 'federated-credential-name',
        ok: false,
        severity: 'error',
        detail:
          `No free name for the credential of ${e.subject} on identity '${identity.name}': '${holder.name}' is held by a credential for ${holder.subject} ` +
          `(issuer '${holder.issuer}') and the second choice '${name}' by one for ${taken.subject} (issuer '${taken.issuer}').`,
        fix: `Delete or rename one of them if it is no longer used: az identity federated-credential delete -g ${identity.resourceGroup} --identity-name ${identity.name} --name <name>`,
        at: e.at,
      });
      continue;
    }
    const foreign = holder.issuer !== issuer;
    const deleteCommand = `az identity federated-credential delete -g ${identity.resourceGroup} --identity-name ${identity.name} --name ${holder.name}`;
    // A holder that differs from our issuer only by the slash gets its own warning in step 4.
    if (foreign && withoutTrailingSlash(holder.issuer) !== withoutTrailingSlash(issuer)) {
      checks.push({
        name: 'federated-credential-name',
        ok: false,
        severity: 'warning',
        detail:
          `Federated credential '${holder.name}' on identity '${identity.name}' has the name this binding would use, but trusts another issuer ('${holder.issuer}', subject ${holder.subject}): ` +
          `most likely another cluster or repository with an environment of the same name. It is left alone; this cluster's credential is created as '${name}'.`,
        fix: safeDeleteAdvice(
          holder.issuer,
          input.clusterIssuer,
          `Nothing to do if that issuer is another cluster in use. If it is this cluster before it was recreated, delete the stale credential: ${deleteCommand}`,
        ),
        at: e.at,
      });
    } else if (!foreign && !claimed.has(holder)) {
      checks.push({
        name: 'federated-credential-name',
        ok: false,
        severity: 'warning',
        detail:
          `Federated credential '${holder.name}' on identity '${identity.name}' has the name this binding would use and this cluster's issuer, but subject ${holder.subject}, not ${e.subject}: ` +
          `it was made or changed by hand and may be in use, so it is left alone (prune leaves it too); this binding's credential is created as '${name}'.`,
        fix: `If no workload uses ${holder.subject} with identity '${identity.name}' any more, delete it: ${deleteCommand}`,
        at: e.at,
      });
    }
    const reason = foreign
      ? `no credential for ${e.subject} from this issuer; the name '${e.name}' is held by a credential for another issuer ('${holder.issuer}'), which is left alone, so it is created as '${name}'`
      : claimed.has(holder)
        ? `no credential for ${e.subject} from this issuer; the name '${e.name}' is held by '${holder.subject}', which another binding uses, so it is created as '${name}'`
        : `no credential for ${e.subject} from this issuer; the name '${e.name}' is held by a credential for ${holder.subject}, which is not this binding's and is left alone, so it is created as '${name}'`;
    creates.push({ ...base(e), action: 'create', name, desired: desiredOf(e, name), reason });
    createdFor.push(e);
  }

  // 4. Prune: only FICs federated to THIS issuer (byte-exact) that no binding names or uses.
  //    Other issuers (other clusters, GitHub, other tenants' apps) are never touched.
  const protectedNames = new Set(entries.flatMap((e) => [...e.names]));
  for (const f of observed) {
    if (claimed.has(f)) continue;
    if (f.issuer !== issuer) {
      if (withoutTrailingSlash(f.issuer) === withoutTrailingSlash(issuer)) {
        const theClusters = input.clusterIssuer === f.issuer;
        checks.push({
          name: 'federated-credential-issuer-slash',
          ok: false,
          severity: 'warning',
          detail: theClusters
            ? `Federated credential '${f.name}' on identity '${identity.name}' has issuer '${f.issuer}', the one the cluster's API server reports; the issuer this plan uses ('${issuer}') differs from it only in the trailing slashes, so it is the plan's issuer that is wrong (see the issuer check). This credential is the one that works: keep it.`
            : `Federated credential '${f.name}' on identity '${identity.name}' has issuer '${f.issuer}', which differs from '${issuer}' only in the trailing slashes: tokens of an issuer match only a credential with it byte for byte (AADSTS700211).`,
          fix: theClusters
            ? `Keep '${f.name}'. Set the environment's issuer in the mapping to '${f.issuer}' byte for byte, or give \`cluster:\` and let the action read it from ARM.`
            : safeDeleteAdvice(f.issuer, input.clusterIssuer, `Delete it: az identity federated-credential delete -g ${identity.resourceGroup} --identity-name ${identity.name} --name ${f.name}`),
        });
      }
      continue;
    }
    if (protectedNames.has(f.name.toLowerCase()) || !input.prune) continue;
    deletes.push({
      kind: 'federated-credential',
      action: 'delete',
      identity,
      name: f.name,
      current: f,
      bindings: [],
      reason: `federated to this issuer (subject ${f.subject}) but no binding names it; prune is on`,
    });
  }

  // 5. The 20-per-identity limit, with what exists now.
  const after = observed.length + creates.length - deletes.length;
  if (after > limit) {
    // Point at the first binding that does not fit: the mapping line to change.
    const firstOver = createdFor[Math.max(0, createdFor.length - (after - limit))];
    checks.push({
      name: 'federated-credential-limit',
      ok: false,
      severity: 'error',
      detail:
        `Identity '${identity.name}' would hold ${after} federated credentials (${observed.length} now, ${creates.length} to create, ` +
        `${deletes.length} to delete); Azure allows ${limit} per identity.`,
      fix:
        'Bind some of these ServiceAccounts to another identity, or delete credentials it no longer needs ' +
        '(prune: true deletes those federated to this issuer that the mapping no longer names).',
      ...(firstOver ? { at: firstOver.identityAt } : {}),
    });
  }

  // Write order within the identity (apply keeps it). Creates before deletes when there is
  // room: a run that fails halfway then never leaves the identity with fewer credentials than
  // before. When the creates only fit after the deletes (near the 20 limit), deletes go first,
  // or the first create past 20 would be refused; that is safe because a delete here is by
  // construction a FIC that no binding of the mapping uses (prune) — deleting it is the user's
  // intent whatever happens to the creates. Updates change no count and go first.
  const tight = observed.length + creates.length > limit;
  return tight ? [...deletes, ...updates, ...creates, ...kept] : [...updates, ...creates, ...deletes, ...kept];
}

export function diffFederatedCredentials(input: FicDiffInput): FicDiff {
  const checks: PreflightCheck[] = [];
  const changes: FicChange[] = [];
  const byIdentity = new Map<string, ResolvedBinding[]>();
  for (const b of input.bindings) {
    const key = identityKey(b.identity.resourceId);
    const list = byIdentity.get(key);
    if (list) list.push(b);
    else byIdentity.set(key, [b]);
  }
  for (const [key, bindings] of byIdentity) {
    // Identities only other environments use are theirs to plan.
    if (!bindings.some((b) => b.environment === input.environment)) continue;
    const identity = input.identities.get(key);
    const observed = input.observed.get(key);
    if (!identity || !observed) continue; // reported by resolve/plan
    changes.push(...diffIdentity(identity, bindings, observed, input, checks));
  }
  for (const key of input.prune ? (input.pruneOnly ?? []) : []) {
    const identity = input.identities.get(key);
    const observed = input.observed.get(key);
    if (!identity || !observed || byIdentity.has(key)) continue;
    changes.push(...diffIdentity(identity, [], observed, input, checks));
  }
  return { changes, checks };
}
