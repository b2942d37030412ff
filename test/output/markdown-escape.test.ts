// Values from the mapping, the cluster or Azure end up in the job summary and the PR
// comment. Whatever they hold, a reader sees the value itself: no link, image, HTML,
// emphasis, broken table or @mention. Checked by parsing the Markdown as GFM.
import { describe, expect, it } from 'vitest';
import { mdCode, mdCodeBlock, mdLines, mdTableRow, mdText } from '../../src/output/markdown-escape.ts';
import { showControls } from '../../src/output/sink.ts';
import { allNodes, formatted, injected, mentions, parseGfm, visibleText } from './gfm.ts';

const HOSTILE = [
  '[click](https://evil.example/login)',
  '![pixel](https://evil.example/p.png)',
  '<img src=x onerror=alert(1)>',
  '<script>alert(1)</script>',
  '<https://evil.example>',
  'see https://evil.example/path now',
  'www.evil.example',
  'mailto:admin@evil.example',
  'admin@evil.example',
  '@octocat please approve',
  '@contoso/platform-team',
  'fixes #123',
  '**bold** __strong__ *em* _em_ ~~gone~~',
  '`code` and ``` fence',
  'a | b | c',
  'a \\| b',
  'trailing backslash \\',
  '&amp; &#64; &lt;b&gt;',
  '$x^2$ and $$y$$',
  'note[^1]\n\n[^1]: https://evil.example',
  '[ref]\n\n[ref]: https://evil.example',
  '# heading',
  '- item',
  '+ item',
  '1. item',
  '2) item',
  '> quote',
  '    indented code',
  '===',
  '---',
  'line one\nline two',
  'crlf\r\n<b>bold</b>',
  '\n\n<details open>',
  'bidi \u202egnp.exe',
  'x\n::warning::owned',
];

function only<T>(xs: T[]): T {
  expect(xs).toHaveLength(1);
  return xs[0]!;
}

describe('a value from data in Markdown reads as the value', () => {
  it.each(HOSTILE)('in a sentence: %j', (value) => {
    const root = parseGfm(`Reason: ${mdText(value)} (from the mapping)`);
    expect(injected(root)).toEqual([]);
    expect(formatted(root)).toEqual([]);
    expect(mentions(root)).toEqual([]);
    const paragraph = only(root.children);
    expect(paragraph.type).toBe('paragraph');
    expect(visibleText(paragraph)).toBe(`Reason: ${showControls(value)} (from the mapping)`);
  });

  it.each(HOSTILE)('first on a line, in a list item and as code: %j', (value) => {
    for (const md of [mdText(value), `- ${mdText(value)}`, `- ${mdCode(value)}`]) {
      const root = parseGfm(md);
      expect(injected(root)).toEqual([]);
      expect(formatted(root)).toEqual([]);
    expect(formatted(root)).toEqual([]);
      expect(mentions(root)).toEqual([]);
      const block = only(root.children);
      expect(block.type).toBe(md.startsWith('- ') ? 'list' : 'paragraph');
      expect(allNodes(block).filter((n) => n.type === 'heading' || n.type === 'code' || n.type === 'blockquote' || n.type === 'thematicBreak')).toEqual([]);
      expect(visibleText(block)).toBe(showControls(value));
    }
  });

  it.each(HOSTILE)('in a table cell, as text and as code: %j', (value) => {
    const md = [mdTableRow(['name', 'why']), mdTableRow(['---', '---']), mdTableRow([mdCode(value), mdText(value)])].join('\n');
    const root = parseGfm(md);
    expect(injected(root)).toEqual([]);
    expect(formatted(root)).toEqual([]);
    expect(mentions(root)).toEqual([]);
    const table = only(root.children);
    expect(table.type).toBe('table');
    if (table.type !== 'table') return;
    const row = table.children[1]!;
    expect(row.children.map(visibleText)).toEqual([showControls(value), showControls(value)]);
  });

  it('several lines stay in one table cell, each shown', () => {
    const md = ['| why |', '|---|', `| ${mdLines('first [a](b)\nsecond @octocat')} |`].join('\n');
    const root = parseGfm(md);
    expect(injected(root)).toEqual([]);
    expect(formatted(root)).toEqual([]);
    expect(mentions(root)).toEqual([]);
    const table = only(root.children);
    if (table.type !== 'table') throw new Error('not a table');
    expect(table.children).toHaveLength(2);
    expect(visibleText(table.children[1]!)).toBe('first [a](b)second @octocat');
  });

  it('a fix command with backticks stays one code block, whatever fence it holds', () => {
    const fix = 'kubectl annotate sa x \\\n  a=b\n```\n[click](https://evil.example)\n````';
    const root = parseGfm(['- check', '', ...mdCodeBlock(fix, '  ')].join('\n'));
    expect(injected(root)).toEqual([]);
    expect(formatted(root)).toEqual([]);
    const code = allNodes(root).filter((n) => n.type === 'code');
    expect(code).toHaveLength(1);
    expect(visibleText(code[0]!)).toBe(fix);
  });
});
