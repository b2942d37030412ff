// Which parts of the file the semantic checks may judge when the schema refused others. The
// checks run beside the schema problems, so one run shows every problem, but only on parts
// the schema accepted: judging a refused part would repeat its schema problem in other words
// ("no resource group" for a misspelled `resourceGroup`) or guess at what the user meant.
import type { ErrorObject } from 'ajv';
import type { PathSegment } from './locate.ts';
import { segments } from './messages.ts';
import { closest } from './suggest.ts';

export interface Trust {
  /** The schema refused nothing at path, below it, or in what encloses it (a binding, an environment). */
  clean(path: readonly PathSegment[]): boolean;
  /** The schema refused neither path itself nor what encloses it; parts below it may be refused. */
  intact(path: readonly PathSegment[]): boolean;
}

export const TRUST_ALL: Trust = { clean: () => true, intact: () => true };

/**
 * A path as one string key: each segment JSON-quoted (unambiguous whatever a key holds),
 * so prefix tests become set look-ups. Calls `each` with the key of every prefix,
 * shortest (the empty path) first, and returns the whole path's key.
 */
function prefixKeys(path: readonly PathSegment[], each?: (key: string) => void): string {
  let key = '';
  each?.(key);
  for (const segment of path) {
    key += `${JSON.stringify(String(segment))}/`;
    each?.(key);
  }
  return key;
}

/** Where an error lies: its instance path, plus the offending key for a key-name error. */
function errorPath(error: ErrorObject): string[] {
  const path = segments(error.instancePath);
  if (error.propertyName !== undefined) return [...path, error.propertyName];
  if (error.keyword === 'propertyNames') return [...path, String(error.params.propertyName)];
  return path;
}

export function trustFromSchemaErrors(errors: readonly ErrorObject[]): Trust {
  if (errors.length === 0) return TRUST_ALL;
  const refused: string[][] = [];
  for (const error of errors) {
    const path = errorPath(error);
    if (path.length > 0) {
      refused.push(path);
      continue;
    }
    // At the top level only an unknown key matters: `default:` or `enviroments:` may hold what
    // the checks would otherwise miss ("no resource group", "declares no environments").
    if (error.keyword !== 'additionalProperties') continue;
    const key = String(error.params.additionalProperty);
    if (closest(key, ['defaults']) !== undefined) refused.push(['defaults']);
    if (closest(key, ['environments']) !== undefined || key === 'env') refused.push(['environments']);
  }
  // Precomputed once, so each question costs O(depth) however many errors the schema found
  // (a file with thousands of refused bindings must not make every check scan all of them).
  const refusedKeys = new Set<string>(); // the refused paths themselves
  const aboveRefused = new Set<string>(); // every prefix of a refused path (the path included)
  for (const path of refused) refusedKeys.add(prefixKeys(path, (key) => aboveRefused.add(key)));
  /** Some refused path is path itself or encloses it. */
  const enclosedByRefused = (path: readonly PathSegment[]): boolean => {
    let hit = false;
    prefixKeys(path, (key) => {
      if (refusedKeys.has(key)) hit = true;
    });
    return hit;
  };
  return {
    clean: (path) => !aboveRefused.has(prefixKeys(path)) && !enclosedByRefused(path),
    intact: (path) => !enclosedByRefused(path),
  };
}
