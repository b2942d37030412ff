// GitHub's limits on what a step leaves behind (DESIGN §5): a step summary holds at most
// 1 MiB (a larger one is not uploaded at all), an output 1 MB. A 1 MB mapping of bad
// bindings printed 19 MB of log and 42,000 annotations: the problem list is capped too.
// Each cap says what it left out and where the whole is.
import type { MappingProblem } from '../mapping/types.ts';
import type { ResultJson } from '../result.ts';

export const MAX_SUMMARY_BYTES = 1024 * 1024;
export const MAX_OUTPUT_BYTES = 1_000_000;
/** Enough to see the pattern; GitHub shows only 10 error annotations of a step anyway. */
export const MAX_PROBLEMS = 50;

/** The first problems to list, and how many more there were. */
export function capProblems(problems: MappingProblem[], max = MAX_PROBLEMS): { problems: MappingProblem[]; leftOut: number } {
  return { problems: problems.slice(0, max), leftOut: Math.max(0, problems.length - max) };
}

/** The line that ends a capped problem list. */
export function problemsLeftOutLine(leftOut: number): string {
  return `… and ${leftOut} more problem(s) not listed: fix the ones above and run again (one mistake often causes many)`;
}

const bytes = (s: string) => Buffer.byteLength(s, 'utf8');

/**
 * The job summary within 1 MiB: whole lines up to the limit, a fence left open closed again,
 * then a note saying how much was left out and that the job log has the whole report.
 */
export function capSummary(markdown: string, max = MAX_SUMMARY_BYTES): string {
  if (bytes(markdown) <= max) return markdown;
  const lines = markdown.split('\n');
  const note = (left: number) => `\n\n> **Summary cut here:** ${left} more line(s) did not fit GitHub's 1 MiB limit for a step summary; the job log has the whole report.\n`;
  const budget = max - bytes(note(lines.length)) - 16; // 16: a closing fence
  const kept: string[] = [];
  let used = 0;
  let fence: string | undefined;
  for (const line of lines) {
    const size = bytes(line) + 1;
    if (used + size > budget) break;
    kept.push(line);
    used += size;
    const opened = /^\s*(`{3,})/.exec(line)?.[1];
    if (opened && !fence) fence = opened;
    else if (opened && fence && opened.length >= fence.length) fence = undefined;
  }
  if (fence) kept.push(fence);
  return kept.join('\n') + note(lines.length - kept.length + (fence ? 1 : 0));
}

/**
 * The `result` output within 1 MB. Too large, it keeps what a later step decides on — the
 * counts, what failed and the problems — and says where the whole is (the job log).
 */
export function capResult(result: ResultJson, max = MAX_OUTPUT_BYTES): string {
  const whole = JSON.stringify(result);
  if (bytes(whole) <= max) return whole;
  const failedApplied = result.applied.filter((a) => !a.ok);
  const failedVerifications = result.verifications.filter((v) => !v.ok);
  const failedPreflight = result.preflight.filter((c) => !c.ok);
  const trimmed = {
    ...result,
    truncated: {
      reason: `the whole result is ${bytes(whole)} bytes, over GitHub's 1 MB limit for an output; only failures are listed, the rest counted — the job log has every line`,
      plan: result.plan.length,
      applied: result.applied.length,
      verifications: result.verifications.length,
      preflight: result.preflight.length,
    },
    plan: [],
    applied: failedApplied,
    verifications: failedVerifications,
    preflight: failedPreflight,
  };
  let text = JSON.stringify(trimmed);
  // Still too large (thousands of failures): halve the lists until it fits.
  for (let keep = Math.max(failedApplied.length, failedVerifications.length, failedPreflight.length, result.problems.length); bytes(text) > max && keep > 0; keep = Math.floor(keep / 2)) {
    text = JSON.stringify({
      ...trimmed,
      applied: failedApplied.slice(0, keep),
      verifications: failedVerifications.slice(0, keep),
      preflight: failedPreflight.slice(0, keep),
      problems: result.problems.slice(0, keep),
      truncated: { ...trimmed.truncated, failuresListed: keep },
    });
  }
  return bytes(text) <= max ? text : JSON.stringify({ version: result.version, mode: result.mode, truncated: trimmed.truncated });
}
