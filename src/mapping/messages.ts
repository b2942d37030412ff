// ajv's errors ("must match pattern \"^(?=.{1,63}$)…\"") turned into sentences a platform
// engineer can act on, each at the line of the offending key or value. The rule texts come
// from the schema's `patternErrorMessage`, which yaml-language-server shows in the editor too,
// so the editor and the action say the same thing.
import type { ErrorObject } from 'ajv';
import type { Locator, PathSegment } from './locate.ts';
import { didYouMean } from './suggest.ts';
import type { MappingProblem } from './types.ts';

interface SchemaNode {
  properties?: Record<string, unknown>;
  patternErrorMessage?: string;
  minimum?: number;
  maximum?: number;
}

export function segments(instancePath: string): string[] {
  if (instancePath === '') return [];
  return instancePath
    .slice(1)
    .split('/')
    .map((s) => s.replace(/~1/g, '/').replace(/~0/g, '~'));
}

/** bindings[2].namespace, environments.staging.cluster, bindings[0].annotations['example.com/x'] */
function humanPath(path: readonly PathSegment[]): string {
  let out = '';
  path.forEach((segment, i) => {
    const parent = path[i - 1];
    // The schema's only lists: bindings and a binding's environments.
    if (typeof segment === 'number' || parent === 'bindings' || (parent === 'environments' && path[i - 3] === 'bindings'))
      out += `[${segment}]`;
    else if (/^[A-Za-z_][\w-]*$/.test(String(segment))) out += (out ? '.' : '') + segment;
    else out += `['${segment}']`;
  });
  return out;
}

/** "in bindings[0]", "in environment 'staging'", "at the top level", for unknown-key messages. */
function where(path: readonly string[]): string {
  const [first, second, third] = path;
  if (path.length === 0) return 'at the top level';
  if (first === 'environments' && path.length === 2) return `in environment '${second}'`;
  if (first === 'environments' && path.length === 3) return `in ${third} of environment '${second}'`;
  return `in ${humanPath(path)}`;
}

/** A value from the file in a few words; safe on anything (a cyclic alias, a huge list). */
export function show(value: unknown): string {
  if (value === null || value === undefined) return 'nothing';
  if (Array.isArray(value)) return 'a list';
  if (typeof value === 'object') return 'a mapping';
  if (typeof value === 'string') return `'${value}'`;
  return String(value);
}

const TYPE_WORDS: Record<string, string> = {
  string: 'a string',
  integer: 'a whole number',
  number: 'a number',
  boolean: 'true or false',
  object: 'a mapping (key: value)',
  array: 'a list',
};

// Abbreviations people carry over from az CLI flags and Helm values; too far for edit distance.
const SYNONYMS: Record<string, string> = {
  rg: 'resourceGroup',
  ns: 'namespace',
  sa: 'serviceAccount',
  subscription: 'subscriptionId',
  tenant: 'tenantId',
  env: 'environments',
  clusterName: 'name',
};

// Keys that are valid in the file, just not where they were written.
const BINDING_MISPLACED: Record<string, string> = {
  resourceGroup: ' — the identity\'s resource group goes in identity: { name, resourceGroup }',
  subscriptionId: ' — the identity\'s subscription goes in identity: { name, subscriptionId }',
  tenantId: " — set it under defaults or an environment's defaults",
  audience: " — set it under defaults or an environment's defaults",
};

function suggestion(key: string, allowed: string[], path: readonly string[] = []): string {
  if (key === '<<') return ' — YAML merge keys are not supported; write the keys out';
  if (path[0] === 'bindings' && path.length === 2 && BINDING_MISPLACED[key]) return BINDING_MISPLACED[key];
  const synonym = SYNONYMS[key];
  if (synonym !== undefined && allowed.includes(synonym)) return ` — did you mean '${synonym}'?`;
  return didYouMean(key, allowed);
}

function lowerFirst(s: string): string {
  return s.charAt(0).toLowerCase() + s.slice(1);
}

/** One problem, or undefined for errors that only repeat another (ajv's if/then wrappers). */
function problemFor(error: ErrorObject, locate: Locator): MappingProblem | undefined {
  const path = segments(error.instancePath);
  const parent = (error.parentSchema ?? {}) as SchemaNode;
  const name = humanPath(path);
  const last = path[path.length - 1];
  const data: unknown = error.data;
  switch (error.keyword) {
    case 'if':
    case 'propertyNames': // its inner error (carrying propertyName) says it better
      return undefined;
    case 'additionalProperties': {
      const key = String(error.params.additionalProperty);
      const hint = suggestion(key, Object.keys(parent.properties ?? {}), path);
      return { ...locate.keyAt([...path, key]), message: `unknown key '${key}' ${where(path)}${hint}` };
    }
    case 'pattern': {
      const rule = lowerFirst(parent.patternErrorMessage ?? `does not match ${String(error.params.pattern)}`);
      if (error.propertyName !== undefined) {
        const key = error.propertyName;
        let what = `${name} key '${key}'`;
        if (last === 'environments') what = `environment '${key}'`;
        // "bindings[0].annotations key 'x' is not a valid … annotation key" would say "key" twice.
        if (last === 'annotations') what = `annotation '${key}' of ${humanPath(path.slice(0, -1))}`;
        return { ...locate.keyAt([...path, key]), message: `${what} is ${rule}` };
      }
      return { ...locate.at(path), message: `${name} ${show(data)} is ${rule}` };
    }
    case 'type': {
      let expected = TYPE_WORDS[String(error.params.type)] ?? String(error.params.type);
      if (last === 'identity')
        expected = 'a managed identity name, an ARM resource ID, or { name, resourceGroup, subscriptionId } (only name is required)';
      if (last === 'tokenExpiration') expected = 'a whole number of seconds, between 3600 and 86400';
      if (path[path.length - 2] === 'annotations' && typeof data !== 'object')
        expected = `a string (quote it: "${String(data)}")`;
      // `staging:` or `bindings:` with nothing after it: "not nothing" would read as a riddle.
      if (data === null) return { ...locate.keyAt(path), message: `${name || 'the mapping'} has no value; it must be ${expected}` };
      return { ...locate.at(path), message: `${name || 'the mapping'} must be ${expected}, not ${show(data)}` };
    }
    case 'minimum':
    case 'maximum': {
      const range = `between ${parent.minimum} and ${parent.maximum}`;
      const why = last === 'tokenExpiration' ? ' seconds (the workload identity webhook rejects pods otherwise)' : '';
      return { ...locate.at(path), message: `${name} ${show(data)} is out of range: it must be ${range}${why}` };
    }
    case 'required':
      return {
        ...locate.at(path),
        message: `${name || 'the mapping'} is missing '${String(error.params.missingProperty)}'`,
      };
    case 'uniqueItems': {
      const later = Math.max(Number(error.params.i), Number(error.params.j));
      const item = Array.isArray(data) ? data[later] : undefined;
      return { ...locate.at([...path, later]), message: `${name} lists ${show(item)} twice` };
    }
    case 'minItems':
      return { ...locate.at(path), message: `${name} is empty; list at least one entry or leave it out` };
    case 'minProperties':
      return { ...locate.at(path), message: `${name} is empty; declare at least one entry or leave it out` };
    case 'minLength':
      return { ...locate.at(path), message: `${name} must not be empty` };
    case 'const':
      return { ...locate.at(path), message: `${name} must be ${show(error.params.allowedValue)}, not ${show(data)}` };
    default:
      return { ...locate.at(path), message: `${name || 'the mapping'} ${error.message ?? 'is invalid'}` };
  }
}

/** "unknown key 'namspace' — did you mean 'namespace'?" already says what "missing 'namespace'" would. */
function explainedByTypo(error: ErrorObject, errors: readonly ErrorObject[]): boolean {
  if (error.keyword !== 'required') return false;
  const missing = String(error.params.missingProperty);
  return errors.some((other) => {
    if (other.keyword !== 'additionalProperties' || other.instancePath !== error.instancePath) return false;
    const allowed = Object.keys((other.parentSchema as SchemaNode | undefined)?.properties ?? {});
    return suggestion(String(other.params.additionalProperty), allowed) === ` — did you mean '${missing}'?`;
  });
}

export function schemaProblems(errors: readonly ErrorObject[], locate: Locator): MappingProblem[] {
  const seen = new Set<string>();
  const problems: MappingProblem[] = [];
  for (const error of errors) {
    if (explainedByTypo(error, errors)) continue;
    const problem = problemFor(error, locate);
    if (!problem) continue;
    const id = `${problem.line}:${problem.column}:${problem.message}`;
    if (seen.has(id)) continue;
    seen.add(id);
    problems.push(problem);
  }
  return problems;
}
