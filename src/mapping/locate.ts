// From a path in the parsed data (ajv's instancePath, or our own) back to file:line:column,
// so every problem can become a GitHub annotation on the right line.
import { isAlias, isMap, isNode, isScalar, isSeq } from 'yaml';
import type { Document, LineCounter } from 'yaml';
import type { SourcePosition } from './types.ts';

export type PathSegment = string | number;

export interface Locator {
  /** Start of the node at path (the value), or of the nearest ancestor that exists. */
  at(path: readonly PathSegment[]): SourcePosition;
  /** Start of the key of the last segment (for unknown or invalid keys), else like at(). */
  keyAt(path: readonly PathSegment[]): SourcePosition;
  offset(offset: number): SourcePosition;
}

function keyText(key: unknown): string {
  return isScalar(key) ? String(key.value) : String(key);
}

function start(node: unknown): number | undefined {
  return isNode(node) ? node.range?.[0] : undefined;
}

export function createLocator(file: string, doc: Document, lineCounter: LineCounter): Locator {
  const offset = (at: number): SourcePosition => {
    const { line, col } = lineCounter.linePos(at);
    return { file, line, column: col };
  };

  /** Offsets of the deepest value and key reached along path. */
  function walk(path: readonly PathSegment[]): { value?: number; key?: number } {
    let node: unknown = doc.contents;
    let found: { value?: number; key?: number } = { value: start(node) ?? 0 };
    for (const segment of path) {
      // Follow anchors (`*name`) so a problem inside an aliased block still gets a line.
      if (isAlias(node)) node = node.resolve(doc);
      if (isMap(node)) {
        const pair = node.items.find((p) => keyText(p.key) === String(segment));
        if (!pair) break;
        const keyStart = start(pair.key);
        // `key:` with no value: point at the key.
        found = { key: keyStart, value: start(pair.value) ?? keyStart };
        node = pair.value;
      } else if (isSeq(node)) {
        const item: unknown = node.items[Number(segment)];
        if (item === undefined) break;
        found = { value: start(item) ?? found.value };
        node = item;
      } else break;
    }
    return found;
  }

  return {
    offset,
    at: (path) => offset(walk(path).value ?? 0),
    keyAt: (path) => {
      const found = walk(path);
      return offset(found.key ?? found.value ?? 0);
    },
  };
}
