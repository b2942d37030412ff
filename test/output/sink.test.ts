// The runner obeys `::command::` at the start of a line (after blanks) and `##[command]`
// anywhere in one (actions/runner ActionCommand.cs). Whatever a value holds, the sink
// prints it as one line that is none of those.
import { describe, expect, it } from 'vitest';
import { createSink, oneLine, type CoreLike } from '../../src/output/sink.ts';

// What the runner would take for a command: the parse order of ActionCommandManager.
const isCommand = (line: string) => line.trimStart().startsWith('::') || line.includes('##[');

const HOSTILE = [
  '::warning::owned',
  '  ::add-mask::x',
  '\u00a0\u3000::stop-commands::tok',
  'x\n::set-output name=changes::0',
  'x\r::save-state name=kubeconfig-file::/etc/passwd',
  'prefix ##[add-mask]secret',
  'prefix ###[warning]x',
  'x\u2028::error::y',
  'x\u0085::error::y',
  'bidi \u202e::error::y',
];

describe('one line per call, never a workflow command', () => {
  it.each(HOSTILE)('%j', (value) => {
    const line = oneLine(value);
    expect(line.split(/\r\n|\r|\n|\u2028|\u2029|\u0085/)).toEqual([line]);
    expect(isCommand(line)).toBe(false);
  });

  it('through the sink, only the action’s own commands reach stdout', async () => {
    const out: string[] = [];
    const core: CoreLike = {
      info: (m) => out.push(m),
      warning: (m) => out.push(`::warning::${m}`),
      error: (m) => out.push(`::error::${m}`),
      startGroup: (n) => out.push(`::group::${n}`),
      endGroup: () => out.push('::endgroup::'),
      setSecret: () => undefined,
    };
    const sink = createSink(core);
    for (const value of HOSTILE) {
      sink.info(value);
      await sink.group(value, async () => sink.info(`inside ${value}`));
    }
    const own = /^::(warning|error|group|endgroup)::/;
    for (const line of out.flatMap((l) => l.split('\n'))) {
      if (own.test(line)) continue;
      expect(isCommand(line), line).toBe(false);
    }
    expect(out.filter((l) => l === '::endgroup::')).toHaveLength(HOSTILE.length);
  });
});
