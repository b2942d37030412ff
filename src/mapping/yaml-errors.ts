// The YAML parser's errors ("Nested mappings are not allowed in compact mappings") told as the
// mistake that causes them, at the line the user has to change. The parser often reports
// one mistake twice at one spot, or a second one that only follows from the first: each
// mistake gets one problem. Errors not recognised keep the parser's own words.
import { isCollection, isScalar, visit } from 'yaml';
import type { Document, Node, YAMLError } from 'yaml';
import type { Locator } from './locate.ts';
import type { MappingProblem, SourcePosition } from './types.ts';

/** The file's lines, 1-based, for looking at indentation around an error. */
class Lines {
  private readonly lines: string[];
  constructor(text: string) {
    this.lines = text.split(/\r?\n/);
  }
  text(line: number): string {
    return this.lines[line - 1] ?? '';
  }
  /** Columns of leading spaces. */
  indent(line: number): number {
    return /^ */.exec(this.text(line))?.[0].length ?? 0;
  }
  /** Column (0-based) where the line's key starts: after the indentation and any '- ' list markers. */
  keyColumn(line: number): number {
    return /^ *(?:- +)*/.exec(this.text(line))?.[0].length ?? 0;
  }
  /** Whether the line holds more than blanks or a comment. */
  meaningful(line: number): boolean {
    const trimmed = this.text(line).trim();
    return trimmed !== '' && !trimmed.startsWith('#');
  }
  /** The next line after `line` that holds more than blanks or a comment. */
  next(line: number): number | undefined {
    for (let l = line + 1; l <= this.lines.length; l++) if (this.meaningful(l)) return l;
    return undefined;
  }
  /** The last line before `line` that holds more than blanks or a comment. */
  previous(line: number): number | undefined {
    for (let l = line - 1; l >= 1; l--) if (this.meaningful(l)) return l;
    return undefined;
  }
}

/** The text from `column` (1-based) to the end of the line, without a trailing comment. */
function restOfLine(lines: Lines, at: SourcePosition): string {
  return lines
    .text(at.line)
    .slice(at.column - 1)
    .replace(/\s+#.*$/, '')
    .trimEnd();
}

/** A value written in quotes, as the fix to show. */
function quoted(value: string): string {
  return value.includes("'") ? JSON.stringify(value) : `'${value}'`;
}

function deeperThanKeyAbove(line: number): string {
  return `line ${line} is indented deeper than the key above it: keys of the same mapping must line up`;
}

/** Where the quoted scalar or flow collection that the parser found unclosed at `offset` starts. */
function openedAt(doc: Document, offset: number, kind: 'quote' | 'flow'): number | undefined {
  let found: number | undefined;
  visit(doc, (_, node) => {
    const range = (node as Node | null)?.range; // null: an empty item (`- ` with nothing after it)
    const fits =
      kind === 'quote'
        ? isScalar(node) && (node.type === 'QUOTE_DOUBLE' || node.type === 'QUOTE_SINGLE')
        : isCollection(node) && node.flow === true;
    if (fits && range && (range[1] === offset || range[2] === offset) && range[0] < offset) {
      found = range[0]; // the innermost one is visited last
    }
    return undefined;
  });
  return found;
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

/**
 * Parser errors explained one by one; past these, the rest are counted in one problem. Each
 * explanation may look through the document (where a quote opened, a key's first
 * occurrence), so a file of thousands of broken lines must not get thousands of them — and
 * after the first few, the later errors usually follow from the earlier ones anyway.
 */
export const MAX_EXPLAINED_YAML_ERRORS = 20;

export function yamlProblems(doc: Document, text: string, locate: Locator): MappingProblem[] {
  const lines = new Lines(text);
  const offsets = new Set<number>();
  /** Lines an indentation problem already points at: errors on them follow from it. */
  const blamed = new Set<number>();
  const problems: MappingProblem[] = [];

  /** A line whose indentation is wrong, reported at its first character. */
  const misindented = (file: string, line: number, message: string): MappingProblem => {
    blamed.add(line);
    return { file, line, column: lines.indent(line) + 1, message };
  };

  /** The mistake behind "nested mappings are not allowed in compact mappings" and "implicit keys need to be on a single line". */
  const implicitKey = (error: YAMLError, at: SourcePosition): MappingProblem | undefined => {
    const line = lines.text(at.line);
    const rest = restOfLine(lines, at);
    // `-namespace: a`: without the space, '-namespace' is a key and the next lines do not fit.
    const dash = /^( *)-([^\s-][^:]*)/.exec(line);
    if (dash)
      return {
        ...at,
        column: (dash[1]?.length ?? 0) + 1,
        message: `line ${at.line} needs a space after '-' to start a list item ('- ${line.trim().slice(1)}'); without it, YAML reads '-${dash[2] ?? ''}' as a key`,
      };
    if (error.code === 'BLOCK_AS_IMPLICIT_KEY' && /:(\s|$)/.test(rest))
      return { ...at, message: `the value ${rest} on line ${at.line} contains ': ', which YAML reads as another key; put the value in quotes: ${quoted(rest)}` };
    // A plain value continued by a deeper line: the parser reads both lines as one key.
    const next = lines.next(at.line);
    if (next !== undefined && lines.indent(next) > lines.keyColumn(at.line)) return misindented(at.file, next, deeperThanKeyAbove(next));
    if (error.code === 'MULTILINE_IMPLICIT_KEY') {
      const glued = /^([^\s:#]+):(\S.*)$/.exec(rest);
      if (glued)
        return { ...at, message: `line ${at.line} needs a space after ':' (${glued[1] ?? ''}: ${glued[2] ?? ''}); without it, YAML reads '${rest}' as one word, not a key and its value` };
      if (!rest.includes(':')) return { ...at, message: `line ${at.line} ('${rest}') has no ':'; write it as key: value` };
    }
    return undefined;
  };

  const explain = (error: YAMLError, at: SourcePosition): MappingProblem | undefined => {
    // prettyErrors appends " at line L, column C:" and a source excerpt; the position is reported apart.
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
      case 'MULTILINE_IMPLICIT_KEY':
        if (blamed.has(at.line)) return undefined; // this line's indentation is already reported
        return (
          implicitKey(error, at) ?? {
            ...at,
            message: `invalid YAML: ${what}${error.code === 'BLOCK_AS_IMPLICIT_KEY' ? " (quote a value that contains ': ')" : ''}`,
          }
        );
      case 'BAD_SCALAR_START': {
        const value = restOfLine(lines, at);
        return { ...at, message: `a value cannot start with '${value.charAt(0)}' unless it is quoted: write ${quoted(value)}` };
      }
      default:
        break;
    }
    if (/^All mapping items must start at the same column|^Sequence item without - indicator/.test(what)) {
      // After blank or comment lines the parser points at the first of them, not at the key.
      const line = lines.meaningful(at.line) ? at.line : (lines.next(at.line) ?? at.line);
      if (blamed.has(line)) return undefined;
      const above = lines.previous(line);
      if (above !== undefined && lines.indent(line) > lines.keyColumn(above)) return misindented(at.file, line, deeperThanKeyAbove(line));
      const item = what.startsWith('Sequence') ? " (or, for a new list item, start it with '- ')" : '';
      return misindented(at.file, line, `line ${line} does not line up with the keys above it: keys of the same mapping must start at the same column${item}`);
    }
    const quote = /^Missing closing (["'])quote/.exec(what)?.[1];
    if (quote !== undefined) {
      const open = locate.offset(openedAt(doc, error.pos[0], 'quote') ?? error.pos[0]);
      return { ...open, message: `the ${quote} opened on line ${open.line} is never closed; add the closing ${quote} at the end of the value` };
    }
    const flow = /^Flow (map|sequence) in block collection/.exec(what)?.[1];
    if (flow !== undefined) {
      const [opening, closing] = flow === 'map' ? ['{', '}'] : ['[', ']'];
      const open = locate.offset(openedAt(doc, error.pos[0], 'flow') ?? error.pos[0]);
      return {
        ...open,
        message: `the '${opening}' on line ${open.line} is not closed; end it with '${closing}', and indent any line inside it deeper than the line it starts on`,
      };
    }
    const stray = /^Unexpected flow-(map|seq)-end token/.exec(what)?.[1];
    if (stray !== undefined) {
      const [opening, closing] = stray === 'map' ? ['{', '}'] : ['[', ']'];
      return { ...at, message: `the '${closing}' on line ${at.line} closes nothing; remove it, or add the '${opening}' it should close` };
    }
    if (what.startsWith('Unexpected scalar at node end') && /["']\s*$/.test(lines.text(at.line).slice(0, at.column - 1)))
      return { ...at, message: `text after the closing quote on line ${at.line}; put the whole value inside the quotes` };
    return { ...at, message: `invalid YAML: ${what}` };
  };

  let more = 0;
  let moreAt: number | undefined;
  for (const error of doc.errors) {
    // The parser often reports one mistake twice at the same spot.
    if (offsets.has(error.pos[0])) continue;
    offsets.add(error.pos[0]);
    if (offsets.size > MAX_EXPLAINED_YAML_ERRORS) {
      more++;
      moreAt ??= error.pos[0];
      continue;
    }
    const problem = explain(error, locate.offset(error.pos[0]));
    if (problem) problems.push(problem);
  }
  if (more > 0)
    problems.push({
      ...locate.offset(moreAt ?? 0),
      message: `… and ${more} more YAML error${more === 1 ? '' : 's'} from here on; fix the ones above first (later errors often follow from them), then run again`,
    });
  return problems;
}
