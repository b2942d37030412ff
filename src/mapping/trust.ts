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

function startsWith(path: readonly string[], prefix: readonly string[]): boolean {
  return prefix.length <= path.length && prefix.every((segment, i) => path[i] === segment);
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
  const text = (path: readonly PathSegment[]): string[] => path.map(String);
  return {
    clean: (path) => !refused.some((r) => startsWith(text(path), r) || startsWith(r, text(path))),
    intact: (path) => !refused.some((r) => startsWith(text(path), r)),
  };
}
