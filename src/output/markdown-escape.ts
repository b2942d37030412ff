// Markdown made from data (names, annotation values, messages from Azure or the cluster):
// the job summary and the PR comment render it, so a value must read as the text it is.
// No link, image, raw HTML, emphasis, table break or @mention may come from data; the
// renderers' own markup (headings, tables, <br>, <details>) is theirs alone. One helper,
// used by every renderer (job summary now, the PR comment next), so they cannot drift.
import { showControls } from './sink.ts';

// Characters that start an inline construct anywhere in a line: code, emphasis,
// strikethrough, links, images, footnotes, raw HTML, autolinks (<…>), entities, math ($),
// table cells (|). Backslash escapes are CommonMark's, so every renderer undoes them.
const INLINE = /[\\`*_[\]<>!|~&$]/g;
// Characters that start a block only at the beginning of a line (heading, list, quote,
// setext underline, thematic break); escaped there in case a renderer puts a value first.
const BLOCK_START = /^([#+\-=>]|\d{1,9}[.)])/;
const ZWSP = '\u200b';

/**
 * GitHub links some plain text after rendering, where escapes no longer show: URLs
 * (`https://`, `www.`), e-mail addresses, @mentions and #123 references. A zero-width
 * space breaks the pattern without changing what a reader sees.
 */
function breakAutolinks(s: string): string {
  return s
    .replaceAll('@', `@${ZWSP}`)
    .replace(/:\/\//g, `:${ZWSP}//`)
    .replace(/\b(www)\./gi, `$1${ZWSP}.`)
    .replace(/#(?=\d)/g, `#${ZWSP}`);
}

/** A value from data as inline Markdown text: it renders as exactly its characters, on one line. */
export function mdText(value: unknown): string {
  let s = breakAutolinks(showControls(value)).replace(INLINE, (c) => `\\${c}`);
  s = s.replace(BLOCK_START, (m) => (m.length === 1 ? `\\${m}` : `${m.slice(0, -1)}\\${m.slice(-1)}`));
  // Four leading spaces would start an indented code block at the start of a line.
  return s.replace(/^ /, '&#32;');
}

/**
 * A value from data shown as code. Not a backtick code span: inside a table a `|` must be
 * escaped, and in a code span the escape would show outside tables, so the value is
 * escaped text inside <code>, which renders the same in both places.
 */
export function mdCode(value: unknown): string {
  return `<code>${mdText(value)}</code>`;
}

/** Text that may hold several lines (a failure, an Azure message): one line of Markdown, breaks as <br>. */
export function mdLines(value: unknown): string {
  return String(value).split(/\r\n|\r|\n/).map(mdText).join('<br>');
}

/** Lines from data (a fix command) as a fenced code block no line can close early. */
export function mdCodeBlock(text: string, indent = ''): string[] {
  const lines = text.split(/\r\n|\r|\n/).map(showControls);
  const longestRun = Math.max(0, ...lines.map((l) => Math.max(0, ...(l.match(/`+/g) ?? []).map((r) => r.length))));
  const fence = '`'.repeat(Math.max(3, longestRun + 1));
  return [fence, ...lines, fence].map((l) => indent + l);
}

/** One table row of cells that are already Markdown (from mdText/mdCode or the renderer's own). */
export function mdTableRow(cells: string[]): string {
  return `| ${cells.join(' | ')} |`;
}
