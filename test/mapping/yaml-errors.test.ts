// YAML syntax mistakes: one plain sentence per mistake, at the line the user has to change,
// instead of the parser's "Nested mappings are not allowed in compact mappings" one line early.
import { describe, expect, it } from 'vitest';
import { load } from './fixtures.ts';

async function problemsOf(lines: string[]): Promise<string[]> {
  const { problems, path } = await load(lines);
  expect(problems.every((p) => p.file === path)).toBe(true);
  return problems.map((p) => `${p.line}:${p.column} ${p.message}`);
}

describe('YAML syntax mistakes', () => {
  it('a key indented deeper than its siblings in a list item is reported once, at its own line', async () => {
    const { problems, path } = await load([
      'version: 1',
      'bindings:',
      '  - namespace: payments',
      '      serviceAccount: payments-api', // 4: two spaces too deep
      '    identity: id-payments',
    ]);
    expect(problems).toEqual([
      { file: path, line: 4, column: 7, message: 'line 4 is indented deeper than the key above it: keys of the same mapping must line up' },
    ]);
  });

  it('the next non-empty line is the one blamed, past blank lines and comments', async () => {
    expect(await problemsOf(['version: 1', 'defaults:', '  tenantId: 00000000-0000-0000-0000-000000000000', '', '  # the identities', '    resourceGroup: rg', 'bindings: []'])).toEqual([
      '6:5 line 6 is indented deeper than the key above it: keys of the same mapping must line up',
    ]);
  });

  it('a block indented too deep is one mistake, two blocks two', async () => {
    expect(
      await problemsOf([
        'version: 1',
        'bindings:',
        '  - namespace: a',
        '      serviceAccount: x', // 4
        '      identity: id-a', // 5: lines up with line 4, same mistake
        '  - namespace: b',
        '      serviceAccount: y', // 7
        '    identity: id-b',
      ]),
    ).toEqual([
      '4:7 line 4 is indented deeper than the key above it: keys of the same mapping must line up',
      '7:7 line 7 is indented deeper than the key above it: keys of the same mapping must line up',
    ]);
  });

  it('too deep after a quoted value or a top-level key says the same', async () => {
    expect(await problemsOf(['version: 1', 'bindings:', '  - namespace: "payments"', '      serviceAccount: x'])).toEqual([
      '4:7 line 4 is indented deeper than the key above it: keys of the same mapping must line up',
    ]);
    expect(await problemsOf(['version: 1', '  bindings: []'])).toEqual([
      '2:3 line 2 is indented deeper than the key above it: keys of the same mapping must line up',
    ]);
  });

  it('a key indented less than its siblings', async () => {
    expect(await problemsOf(['version: 1', 'bindings:', '  - namespace: a', '    identity:', '      name: id-a', '     resourceGroup: rg'])).toEqual([
      '6:6 line 6 does not line up with the keys above it: keys of the same mapping must start at the same column',
    ]);
    expect(await problemsOf(['version: 1', 'bindings:', '  - namespace: a', '   serviceAccount: x', '    identity: id-a'])).toEqual([
      "4:4 line 4 does not line up with the keys above it: keys of the same mapping must start at the same column (or, for a new list item, start it with '- ')",
    ]);
  });

  it("a value containing ': ' is told to be quoted", async () => {
    expect(await problemsOf(['version: 1', 'bindings:', '  - namespace: a: b'])).toEqual([
      "3:16 the value a: b on line 3 contains ': ', which YAML reads as another key; put the value in quotes: 'a: b'",
    ]);
  });

  it("a missing space after ':' or '-', and a missing ':'", async () => {
    expect(await problemsOf(['version: 1', 'bindings:', '  - namespace:payments', '    serviceAccount: x'])).toEqual([
      "3:5 line 3 needs a space after ':' (namespace: payments); without it, YAML reads 'namespace:payments' as one word, not a key and its value",
    ]);
    expect(await problemsOf(['version: 1', 'bindings:', '  -namespace: payments', '    serviceAccount: x'])).toEqual([
      "3:3 line 3 needs a space after '-' to start a list item ('- namespace: payments'); without it, YAML reads '-namespace' as a key",
    ]);
    expect(await problemsOf(['version: 1', 'bindings:', '  - namespace: a', '    serviceAccount x', '    identity: id-a'])).toEqual([
      "4:5 line 4 ('serviceAccount x') has no ':'; write it as key: value",
    ]);
  });

  it('an unclosed quote, brace or bracket is reported where it opens', async () => {
    expect(await problemsOf(['version: 1', 'bindings:', '  - namespace: "payments', '    serviceAccount: x'])).toEqual([
      '3:16 the " opened on line 3 is never closed; add the closing " at the end of the value',
    ]);
    expect(await problemsOf(['version: 1', 'bindings:', '  - { namespace: a, serviceAccount: x', '  - { namespace: b }'])).toEqual([
      "3:5 the '{' on line 3 is not closed; end it with '}', and indent any line inside it deeper than the line it starts on",
    ]);
    expect(await problemsOf(['version: 1', 'bindings:', '  - namespace: a', '    environments: [staging, production', '    identity: id-a'])).toEqual([
      "4:19 the '[' on line 4 is not closed; end it with ']', and indent any line inside it deeper than the line it starts on",
    ]);
  });

  it('a stray closing brace, text after a quote, a reserved first character', async () => {
    expect(await problemsOf(['version: 1', 'bindings:', '  - { namespace: a }}'])).toEqual([
      "3:21 the '}' on line 3 closes nothing; remove it, or add the '{' it should close",
    ]);
    expect(await problemsOf(['version: 1', 'bindings:', '  - namespace: "a" b'])).toEqual([
      '3:20 text after the closing quote on line 3; put the whole value inside the quotes',
    ]);
    expect(await problemsOf(['version: 1', 'bindings:', '  - namespace: @team'])).toEqual([
      "3:16 a value cannot start with '@' unless it is quoted: write '@team'",
    ]);
  });

  it('an error it does not recognise keeps the parser message', async () => {
    expect(await problemsOf(['version: 1', 'defaults: *', 'bindings: []'])).toEqual(['2:11 invalid YAML: Alias cannot be an empty string']);
  });
});
