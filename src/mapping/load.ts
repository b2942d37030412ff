// Load the mapping file (DESIGN §4): read, parse YAML with positions, validate against
// schema/mapping.schema.json, build the typed Mapping, run the semantic checks. Every
// problem comes back at once, each with file:line:column, and nothing here throws: a user
// with a broken mapping gets sentences, never a stack trace.
import { readFile } from 'node:fs/promises';
import { Ajv } from 'ajv';
import { isScalar, LineCounter, parseDocument, visit } from 'yaml';
import type { Document, Node, YAMLError } from 'yaml';
// A static import, not a runtime read: ncc bundles it into dist/index.js.
import schema from '../../schema/mapping.schema.json' with { type: 'json' };
import { checkMapping } from './checks.ts';
import { parseIdentityResourceId } from './identity.ts';
import { createLocator } from './locate.ts';
import type { Locator } from './locate.ts';
import { schemaProblems } from './messages.ts';
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

let validator: ReturnType<Ajv['compile']> | undefined;
function validateSchema(): ReturnType<Ajv['compile']> {
  if (!validator) {
    // verbose: the messages need the failing value and its schema (patternErrorMessage).
    const ajv = new Ajv({ allErrors: true, verbose: true, strict: true });
    ajv.addVocabulary(['patternErrorMessage']); // an editor hint (yaml-language-server), no validation
    validator = ajv.compile(schema);
  }
  return validator;
}

/**
 * Reads and validates the mapping at `path`. `label` is how positions and messages name the
 * file (workspace-relative, as GitHub annotations and a reader expect); default `path`.
 */
export async function loadMapping(path: string, label = path): Promise<LoadResult> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (error) {
    return { problems: [{ file: label, line: 1, column: 1, message: readFailure(label, error) }] };
  }
  return parseMapping(text, label);
}

function readFailure(path: string, error: unknown): string {
  const code = (error as { code?: string }).code;
  if (code === 'ENOENT')
    return `mapping file ${path} not found (set the mapping-file input, or run mode: discover to write a first one)`;
  if (code === 'EISDIR') return `mapping file ${path} is a directory, not a file`;
  if (code === 'EACCES') return `cannot read mapping file ${path}: permission denied`;
  return `cannot read mapping file ${path}: ${code ?? (error as Error).message}`;
}

/** Validate mapping text as if it had been read from `file` (also used for discover's output). */
export function parseMapping(text: string, file: string): LoadResult {
  const lineCounter = new LineCounter();
  const doc = parseDocument(text, { lineCounter, prettyErrors: true, uniqueKeys: true });
  const locate = createLocator(file, doc, lineCounter);
  const fail = (problems: MappingProblem[]): LoadResult => ({ problems: sortProblems(problems) });
  const top = { file, line: 1, column: 1 };

  if (doc.errors.length > 0) return fail(doc.errors.map((e) => yamlProblem(e, doc, text, locate)));
  if (doc.contents === null)
    return fail([{ ...top, message: `mapping file ${file} is empty; it should start with 'version: 1' (see examples/workload-identity.yaml)` }]);

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

  if (raw === null || raw === undefined)
    return fail([{ ...top, message: `mapping file ${file} is empty; it should start with 'version: 1' (see examples/workload-identity.yaml)` }]);
  if (typeof raw !== 'object' || Array.isArray(raw))
    return fail([{ ...locate.at([]), message: `mapping file ${file} must be a YAML mapping (key: value) starting with 'version: 1', not ${Array.isArray(raw) ? 'a list' : `a single value`}` }]);

  const record = raw as Record<string, unknown>;
  const problems: MappingProblem[] = [];
  // The version decides how to read the rest: a wrong version is the only thing worth saying.
  const version = record.version;
  if (version === undefined) problems.push({ ...locate.at([]), message: `mapping file ${file} has no version; add 'version: 1' at the top` });
  else if (version !== 1) {
    const shown = typeof version === 'string' ? `'${version}'` : JSON.stringify(version);
    const hint = version === '1' ? ' (a number: write it without quotes)' : '';
    return fail([{ ...locate.at(['version']), message: `version ${shown} is not supported by this action; expected version: 1${hint}` }]);
  }

  const validate = validateSchema();
  if (!validate(raw)) {
    const errors = (validate.errors ?? []).filter((e) => !(e.keyword === 'required' && e.params.missingProperty === 'version'));
    problems.push(...schemaProblems(errors, locate));
  }
  // Semantic checks assume the shape the schema guarantees, so they wait for a clean schema.
  if (problems.length > 0) return fail(problems);

  const mapping = toMapping(record as unknown as RawMapping, file, locate);
  const checked = checkMapping(mapping);
  return checked.length > 0 ? fail(checked) : { mapping, problems: [] };
}

function sortProblems(problems: MappingProblem[]): MappingProblem[] {
  return [...problems].sort((a, b) => a.line - b.line || a.column - b.column || a.message.localeCompare(b.message));
}

function yamlProblem(error: YAMLError, doc: Document, text: string, locate: Locator): MappingProblem {
  const at = locate.offset(error.pos[0]);
  // prettyErrors appends " at line L, column C:" and a source excerpt; we report the position apart.
  const what = error.message.split(/ at line \d+, column \d+/)[0] ?? error.message;
  switch (error.code) {
    case 'DUPLICATE_KEY': {
      const { key, first } = duplicateKey(doc, error.pos[0]);
      const earlier = first === undefined ? '' : ` (first set at line ${locate.offset(first).line})`;
      return { ...at, message: `duplicate key '${key ?? text.slice(error.pos[0], error.pos[1])}'${earlier}; YAML keeps only one of them, so remove or merge them` };
    }
    case 'MULTIPLE_DOCS':
      return { ...at, message: `the mapping file holds more than one YAML document (a second '---'); keep a single document` };
    case 'TAB_AS_INDENT':
      return { ...at, message: `invalid YAML: ${what} (indent with spaces)` };
    case 'BLOCK_AS_IMPLICIT_KEY':
      return { ...at, message: `invalid YAML: ${what} (quote a value that contains ': ')` };
    default:
      return { ...at, message: `invalid YAML: ${what}` };
  }
}

/** The duplicated key's text and the offset of its first occurrence in the same mapping. */
function duplicateKey(doc: Document, offset: number): { key?: string; first?: number } {
  let found: { key?: string; first?: number } = {};
  visit(doc, {
    Map(_, map) {
      const dup = map.items.find((p) => isScalar(p.key) && p.key.range?.[0] === offset);
      if (!dup || !isScalar(dup.key)) return undefined;
      const key = String(dup.key.value);
      const first = map.items.find((p) => isScalar(p.key) && String(p.key.value) === key);
      found = { key, first: (first?.key as Node | undefined)?.range?.[0] };
      return visit.BREAK;
    },
  });
  return found;
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

// The shape the schema guarantees.
interface RawIdentity {
  name: string;
  resourceGroup?: string;
  subscriptionId?: string;
}
interface RawBinding {
  namespace: string;
  serviceAccount: string;
  identity: string | RawIdentity;
  environments?: string[];
  createServiceAccount?: boolean;
  tokenExpiration?: number;
  annotations?: Record<string, string>;
  verify?: { enabled?: boolean; scope?: string };
}
interface RawEnvironment {
  cluster?: ClusterRef;
  issuer?: string;
  defaults?: Defaults;
}
interface RawMapping {
  version: 1;
  defaults?: Defaults;
  environments?: Record<string, RawEnvironment>;
  cluster?: ClusterRef;
  issuer?: string;
  bindings: RawBinding[];
}

function toIdentity(raw: string | RawIdentity): IdentityRef {
  if (typeof raw !== 'string') return { ...raw };
  if (!raw.startsWith('/')) return { name: raw };
  // A malformed ID keeps its last segment as the name; the checks report the ID itself.
  const parts = parseIdentityResourceId(raw);
  return { name: parts?.name ?? raw.split('/').pop() ?? raw, resourceGroup: parts?.resourceGroup, subscriptionId: parts?.subscriptionId, resourceId: raw };
}

function toMapping(raw: RawMapping, file: string, locate: Locator): Mapping {
  const environments: EnvironmentSpec[] = Object.entries(raw.environments ?? {}).map(([name, env]) => ({
    name,
    cluster: env.cluster,
    issuer: env.issuer,
    defaults: env.defaults ?? {},
    at: locate.keyAt(['environments', name]),
    issuerAt: env.issuer === undefined ? undefined : locate.at(['environments', name, 'issuer']),
  }));
  const bindings: BindingSpec[] = raw.bindings.map((b, i) => ({
    namespace: b.namespace,
    serviceAccount: b.serviceAccount,
    identity: toIdentity(b.identity),
    environments: b.environments,
    createServiceAccount: b.createServiceAccount ?? true,
    tokenExpiration: b.tokenExpiration,
    annotations: b.annotations ?? {},
    verify: { enabled: b.verify?.enabled ?? true, scope: b.verify?.scope },
    at: locate.at(['bindings', i]),
    identityAt: locate.at(['bindings', i, 'identity']),
    environmentsAt: b.environments?.map((_, j) => locate.at(['bindings', i, 'environments', j])),
    annotationsAt: Object.fromEntries(Object.keys(b.annotations ?? {}).map((k) => [k, locate.keyAt(['bindings', i, 'annotations', k])])),
  }));
  return {
    file,
    version: 1,
    defaults: raw.defaults ?? {},
    environments,
    cluster: raw.cluster,
    issuer: raw.issuer,
    clusterAt: raw.cluster === undefined ? undefined : locate.keyAt(['cluster']),
    issuerAt: raw.issuer === undefined ? undefined : locate.at(['issuer']),
    bindings,
  };
}
