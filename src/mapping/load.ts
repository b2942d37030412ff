// Load the mapping file (DESIGN §4): read, parse YAML with positions, validate against
// schema/mapping.schema.json, build the typed Mapping, run the semantic checks on what the
// schema accepted. Every problem comes back at once, each with file:line:column, and nothing here throws: a user
// with a broken mapping gets sentences, never a stack trace.
import type { ErrorObject } from 'ajv';
import { LineCounter, parseDocument, visit } from 'yaml';
import type { Document } from 'yaml';
// The schema compiled at build time (scripts/schema-validator.mjs): no compile at start-up.
import validateGenerated from './schema-validator.generated.ts';
import { checkMapping } from './checks.ts';
import { parseIdentityResourceId } from './identity.ts';
import { createLocator } from './locate.ts';
import type { Locator } from './locate.ts';
import { schemaProblems, show } from './messages.ts';
import { trustFromSchemaErrors } from './trust.ts';
import type { Trust } from './trust.ts';
import { yamlProblems } from './yaml-errors.ts';
import { readMappingFile } from './read.ts';
import type { BindingSpec, ClusterRef, Defaults, EnvironmentSpec, IdentityRef, Mapping, MappingProblem } from './types.ts';

export interface LoadResult {
  /** Present only when problems is empty. */
  mapping?: Mapping;
  problems: MappingProblem[];
}

/**
 * Aliases are legitimate (a shared defaults block), but each one can multiply the document:
 * nine levels of nine aliases expand to 9^9 nodes ("billion laughs"). yaml counts the
 * expansion while converting and stops past this bound, long before memory runs out.
 */
const MAX_ALIAS_COUNT = 100;

/** ajv's ValidateFunction, as generated with allErrors and verbose (the messages need the failing value and its schema). */
interface SchemaValidator {
  (data: unknown): boolean;
  errors?: ErrorObject[] | null;
}
const validate = validateGenerated as SchemaValidator;

/**
 * Reads and validates the mapping at `path`. `label` is how positions and messages name the
 * file (workspace-relative, as GitHub annotations and a reader expect); default `path`.
 * With `workspace`, a symlink that leads outside it is refused (src/mapping/read.ts).
 */
export async function loadMapping(path: string, label = path, options: { workspace?: string } = {}): Promise<LoadResult> {
  const read = await readMappingFile(path, label, options.workspace);
  if ('message' in read) return { problems: [{ file: label, line: 1, column: 1, message: read.message }] };
  return parseMapping(read.text, label);
}

/** Validate mapping text as if it had been read from `file` (also used for discover's output). */
export function parseMapping(text: string, file: string): LoadResult {
  try {
    return parseMappingText(text, file);
  } catch (error) {
    // The parser, the schema validator and the walks over the document recurse: nesting
    // deep enough overflows the stack somewhere. A problem, never a stack trace.
    if (error instanceof RangeError) return { problems: [tooDeep(file)] };
    throw error;
  }
}

function tooDeep(file: string): MappingProblem {
  return {
    file,
    line: 1,
    column: 1,
    message: `nesting too deep: ${file} nests lists or mappings deeper than the YAML parser can follow; a mapping needs only a few levels — look for a run of unclosed '[' or '{'`,
  };
}

function parseMappingText(text: string, file: string): LoadResult {
  const lineCounter = new LineCounter();
  // logLevel 'error': yaml's warnings go to process.emitWarning, i.e. stderr past the log
  // sink, quoting the document ("Keys with collection values will be stringified: …").
  const doc = parseDocument(text, { lineCounter, prettyErrors: true, uniqueKeys: true, logLevel: 'error' });
  const locate = createLocator(file, doc, lineCounter);
  const fail = (problems: MappingProblem[]): LoadResult => ({ problems: sortProblems(problems) });
  const top = { file, line: 1, column: 1 };
  const empty = { ...top, message: `mapping file ${file} is empty; start from the example under "The mapping file (version 1)" in the action's README: version: 1 and a bindings list` };

  // yaml reports its own stack overflow as an error, followed by one follow-on per level.
  if (doc.errors.some((e) => e.code === 'RESOURCE_EXHAUSTION' || /call stack/i.test(e.message))) return fail([tooDeep(file)]);
  if (doc.errors.length > 0) return fail(yamlProblems(doc, text, locate));
  if (doc.contents === null) return fail([empty]);

  const aliasProblems = unresolvedAliases(doc, locate);
  if (aliasProblems.length > 0) return fail(aliasProblems);
  let raw: unknown;
  try {
    raw = doc.toJS({ maxAliasCount: MAX_ALIAS_COUNT });
  } catch (error) {
    const message = (error as Error).message;
    if (/alias/i.test(message))
      return fail([{ ...firstAlias(doc, locate), message: `YAML aliases in ${file} expand to too many nodes (more than ${MAX_ALIAS_COUNT} alias uses); refusing it as a possible alias bomb — write the values out or use fewer aliases` }]);
    return fail([{ ...top, message: `cannot read the YAML of ${file}: ${message}` }]);
  }

  if (raw === null || raw === undefined) return fail([empty]);
  if (typeof raw !== 'object' || Array.isArray(raw))
    return fail([{ ...locate.at([]), message: `mapping file ${file} must be a YAML mapping (key: value) starting with 'version: 1', not ${Array.isArray(raw) ? 'a list' : `a single value`}` }]);

  const record = raw as Record<string, unknown>;
  const problems: MappingProblem[] = [];
  // The version decides how to read the rest: a wrong version is the only thing worth saying.
  const version = record.version;
  if (version === undefined) problems.push({ ...locate.at([]), message: `mapping file ${file} has no version; add 'version: 1' at the top` });
  else if (version !== 1) {
    // show(), never JSON.stringify: `version: &v [*v]` is a list that contains itself.
    const shown = typeof version === 'object' && version !== null ? `(${show(version)})` : typeof version === 'string' ? `'${version}'` : String(version);
    const hint = version === '1' ? ' (a number: write it without quotes)' : '';
    return fail([{ ...locate.at(['version']), message: `version ${shown} is not supported by this action; expected version: 1${hint}` }]);
  }

  const errors = validate(raw) ? [] : (validate.errors ?? []).filter((e) => !(e.keyword === 'required' && e.params.missingProperty === 'version'));
  problems.push(...schemaProblems(errors, locate));
  // The semantic checks run too, on what the schema accepted, so one run shows every problem.
  const trust = trustFromSchemaErrors(errors);
  const { mapping, bindingIndices } = toMapping(record, file, locate, trust);
  problems.push(...checkMapping(mapping, { trust, bindingIndices }));
  return problems.length > 0 ? fail(problems) : { mapping, problems: [] };
}

/** Sorted by position; a problem found twice (same place, same words) is said once. */
function sortProblems(problems: MappingProblem[]): MappingProblem[] {
  const unique = new Map(problems.map((p) => [`${p.line}:${p.column}:${p.message}`, p]));
  return [...unique.values()].sort((a, b) => a.line - b.line || a.column - b.column || a.message.localeCompare(b.message));
}

function unresolvedAliases(doc: Document, locate: Locator): MappingProblem[] {
  const problems: MappingProblem[] = [];
  visit(doc, {
    Alias(_, alias) {
      if (alias.resolve(doc) === undefined)
        problems.push({ ...locate.offset(alias.range?.[0] ?? 0), message: `alias '*${alias.source}' refers to no anchor '&${alias.source}' defined before it` });
    },
  });
  return problems;
}

function firstAlias(doc: Document, locate: Locator): { file: string; line: number; column: number } {
  let offset = 0;
  visit(doc, {
    Alias(_, alias) {
      offset = alias.range?.[0] ?? 0;
      return visit.BREAK;
    },
  });
  return locate.offset(offset);
}

// The shape the schema guarantees for the parts it accepted.
interface RawIdentity {
  name: string;
  resourceGroup?: string;
  subscriptionId?: string;
}

/** The fields the checks read: a binding takes part in them only when the schema accepted all of these. */
const CHECKED_BINDING_FIELDS = ['namespace', 'serviceAccount', 'identity', 'environments'] as const;

function record(value: unknown): Record<string, unknown> | undefined {
  return value !== null && typeof value === 'object' && !Array.isArray(value) ? (value as Record<string, unknown>) : undefined;
}

/** The string fields of a defaults block (all of them, once the schema accepted it). */
function toDefaults(value: unknown): Defaults {
  const raw = record(value) ?? {};
  const pick = (key: keyof Defaults): string | undefined => (typeof raw[key] === 'string' ? raw[key] : undefined);
  const defaults: Defaults = {};
  for (const key of ['tenantId', 'subscriptionId', 'resourceGroup', 'audience'] as const) {
    const v = pick(key);
    if (v !== undefined) defaults[key] = v;
  }
  return defaults;
}

function toIdentity(raw: string | RawIdentity): IdentityRef {
  if (typeof raw !== 'string') return { ...raw };
  if (!raw.startsWith('/')) return { name: raw };
  // A malformed ID keeps its last segment as the name; the checks report the ID itself.
  const parts = parseIdentityResourceId(raw);
  return { name: parts?.name ?? raw.split('/').pop() ?? raw, resourceGroup: parts?.resourceGroup, subscriptionId: parts?.subscriptionId, resourceId: raw };
}

function toBinding(b: Record<string, unknown>, i: number, locate: Locator, trust: Trust): BindingSpec {
  const environments = b.environments as string[] | undefined;
  // Annotations the schema refused have their own problem; the checks see the others.
  const annotations = Object.fromEntries(
    Object.entries(record(b.annotations) ?? {}).filter(
      (entry): entry is [string, string] => typeof entry[1] === 'string' && trust.clean(['bindings', i, 'annotations', entry[0]]),
    ),
  );
  const verify = record(b.verify) ?? {};
  return {
    namespace: b.namespace as string,
    serviceAccount: b.serviceAccount as string,
    identity: toIdentity(b.identity as string | RawIdentity),
    environments,
    createServiceAccount: typeof b.createServiceAccount === 'boolean' ? b.createServiceAccount : true,
    tokenExpiration: typeof b.tokenExpiration === 'number' ? b.tokenExpiration : undefined,
    annotations,
    verify: { enabled: typeof verify.enabled === 'boolean' ? verify.enabled : true, scope: typeof verify.scope === 'string' ? verify.scope : undefined },
    at: locate.at(['bindings', i]),
    identityAt: locate.at(['bindings', i, 'identity']),
    environmentsAt: environments?.map((_, j) => locate.at(['bindings', i, 'environments', j])),
    annotationsAt: Object.fromEntries(Object.keys(annotations).map((k) => [k, locate.keyAt(['bindings', i, 'annotations', k])])),
  };
}

/**
 * The typed mapping. For a schema-clean file, all of it. Otherwise what the checks can judge:
 * every environment name (bindings may name it), but a refused environment's cluster left
 * out; only the bindings whose checked fields the schema accepted (bindingIndices maps them
 * back to the file's order). Nothing here assumes a shape the schema did not confirm.
 */
function toMapping(raw: Record<string, unknown>, file: string, locate: Locator, trust: Trust): { mapping: Mapping; bindingIndices: number[] } {
  const environments: EnvironmentSpec[] = Object.entries(record(raw.environments) ?? {}).map(([name, value]) => {
    const env = record(value) ?? {};
    const issuer = typeof env.issuer === 'string' ? env.issuer : undefined;
    return {
      name,
      cluster: trust.clean(['environments', name, 'cluster']) ? (env.cluster as ClusterRef | undefined) : undefined,
      issuer,
      defaults: toDefaults(env.defaults),
      at: locate.keyAt(['environments', name]),
      issuerAt: issuer === undefined ? undefined : locate.at(['environments', name, 'issuer']),
    };
  });
  const bindings: BindingSpec[] = [];
  const bindingIndices: number[] = [];
  (Array.isArray(raw.bindings) ? (raw.bindings as unknown[]) : []).forEach((value, i) => {
    const b = record(value);
    if (!b || !CHECKED_BINDING_FIELDS.every((field) => trust.clean(['bindings', i, field]))) return;
    bindings.push(toBinding(b, i, locate, trust));
    bindingIndices.push(i);
  });
  return {
    mapping: {
      file,
      version: 1,
      defaults: toDefaults(raw.defaults),
      environments,
      cluster: trust.clean(['cluster']) ? (raw.cluster as ClusterRef | undefined) : undefined,
      issuer: typeof raw.issuer === 'string' ? raw.issuer : undefined,
      clusterAt: raw.cluster === undefined ? undefined : locate.keyAt(['cluster']),
      issuerAt: raw.issuer === undefined ? undefined : locate.at(['issuer']),
      bindings,
    },
    bindingIndices,
  };
}
