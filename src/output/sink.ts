// The one place the action prints (DESIGN §5, GitHub limits). The runner obeys any stdout
// line that starts with `::`, and every value that comes from the mapping, the cluster,
// Azure or an input may carry a line break: so nothing prints with console or core.info
// directly. Each call is one line; control characters are shown, not obeyed.

/** Where an annotation points: the mapping file, workspace-relative. */
export interface Annotation {
  title?: string;
  file?: string;
  line?: number;
  column?: number;
}

export interface LogSink {
  /** One plain line of the job log. */
  info(line: string): void;
  warning(message: string, at?: Annotation): void;
  error(message: string, at?: Annotation): void;
  /** A collapsible group in the job log (`::group::`); groups do not nest on GitHub. */
  group<T>(name: string, body: () => Promise<T>): Promise<T>;
  /** Masks a value in everything printed after this call. */
  secret(value: string): void;
}

// Bidi overrides and isolates are shown too: they reorder what a reader sees (Trojan Source).
// eslint-disable-next-line no-control-regex -- matching control characters is the point
const CONTROL = /[\u0000-\u001f\u007f-\u009f\u200e\u200f\u2028-\u202e\u2066-\u2069]/g;

/**
 * Makes one line of any text: CR, LF and other control characters become visible escapes
 * (`\n`, `\r`, `\t`, `\u001b`), so no value can start a new line or hide text. The runner
 * obeys a line whose first non-blank characters are `::` (it trims leading whitespace first)
 * and the older `##[command]` form anywhere in a line (actions/runner ActionCommand.cs):
 * both are broken by a visible backslash.
 */
export function oneLine(text: unknown): string {
  return showControls(text)
    .replaceAll('##[', '#\\#[')
    .replace(/^(\s*)::/, '$1\\::');
}

/** CR, LF and other control characters as visible escapes (`\n`, `\r`, `\t`, `\u001b`). */
export function showControls(text: unknown): string {
  return String(text).replace(CONTROL, (c) => {
    if (c === '\n') return '\\n';
    if (c === '\r') return '\\r';
    if (c === '\t') return '\\t';
    return `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`;
  });
}

/** The subset of @actions/core the sink uses; injected so tests and the post step can pass their own. */
export interface CoreLike {
  info(message: string): void;
  warning(message: string, properties?: Record<string, unknown>): void;
  error(message: string, properties?: Record<string, unknown>): void;
  startGroup(name: string): void;
  endGroup(): void;
  setSecret(secret: string): void;
}

function properties(at: Annotation | undefined): Record<string, unknown> {
  if (!at) return {};
  return {
    ...(at.title ? { title: oneLine(at.title) } : {}),
    ...(at.file ? { file: oneLine(at.file) } : {}),
    ...(at.line ? { startLine: at.line } : {}),
    ...(at.column ? { startColumn: at.column } : {}),
  };
}

export function createSink(core: CoreLike): LogSink {
  let inGroup = false;
  return {
    info: (line) => core.info(oneLine(line)),
    warning: (message, at) => core.warning(oneLine(message), properties(at)),
    error: (message, at) => core.error(oneLine(message), properties(at)),
    async group(name, body) {
      // GitHub does not nest groups: an inner group just runs inside the outer one.
      if (inGroup) return body();
      inGroup = true;
      core.startGroup(oneLine(name));
      try {
        return await body();
      } finally {
        core.endGroup();
        inGroup = false;
      }
    },
    secret: (value) => {
      if (value) core.setSecret(value);
    },
  };
}

/** A sink that records lines, for unit tests of code that prints. */
export function memorySink(): LogSink & { lines: string[] } {
  const lines: string[] = [];
  return {
    lines,
    info: (line) => void lines.push(oneLine(line)),
    warning: (message) => void lines.push(`warning: ${oneLine(message)}`),
    error: (message) => void lines.push(`error: ${oneLine(message)}`),
    group: async (name, body) => {
      lines.push(`group: ${oneLine(name)}`);
      return body();
    },
    secret: () => undefined,
  };
}
