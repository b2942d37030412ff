// A PR comment body within GitHub's limit: the report, shortened at a line when it is too
// long, with a pointer to the job summary that holds all of it; the marker last, so the
// first line a reader sees is the verdict.

/** GitHub's limit on a comment body (DESIGN §5); counted in UTF-16 code units, an emoji is two. */
export const COMMENT_LIMIT = 65_536;

/** Closes what a cut left open (a code fence, <summary>, <details>), so the rest still renders. */
function closeOpenBlocks(lines: string[]): string[] {
  const closing: string[] = [];
  const count = (re: RegExp) => lines.reduce((n, l) => n + (l.match(re)?.length ?? 0), 0);
  if (lines.filter((l) => /^\s*```/.test(l)).length % 2) closing.push('```');
  if (count(/<summary>/g) > count(/<\/summary>/g)) closing.push('', '</summary>');
  for (let i = count(/<\/details>/g); i < count(/<details>/g); i++) closing.push('', '</details>');
  return closing;
}

export function commentBody(report: string, marker: string, summaryUrl: string, limit = COMMENT_LIMIT): { body: string; shortened: boolean } {
  const tail = `\n\n${marker}`;
  if (report.length + tail.length <= limit) return { body: report + tail, shortened: false };
  const where = summaryUrl ? `the [job summary](${summaryUrl})` : 'the job summary';
  const pointer = `\n\n> ✂️ Shortened to fit GitHub's limit of ${limit.toLocaleString('en-US')} characters for a comment: ${where} has the whole report.`;
  const lines = report.split('\n');
  // Reserve room for what closes open blocks; ~40 units is more than any closing adds.
  const budget = limit - tail.length - pointer.length - 40;
  let kept = 0;
  let size = 0;
  while (kept < lines.length && size + lines[kept]!.length + 1 <= budget) size += lines[kept++]!.length + 1;
  const head = lines.slice(0, Math.max(1, kept));
  if (head[0]!.length > budget) head[0] = head[0]!.slice(0, budget).replace(/[\uD800-\uDBFF]$/, ''); // never half an emoji
  const body = [...head, ...closeOpenBlocks(head)].join('\n') + pointer + tail;
  return { body, shortened: true };
}
