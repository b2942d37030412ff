// The hidden marker that makes a PR comment "ours" for one environment. One function for
// finding and for writing, so the two cannot drift apart.

const ACTION = 'workload-identity-action';

/**
 * `<!-- workload-identity-action environment=staging -->`. The name is percent-encoded:
 * `>` and line breaks never appear raw, so no environment name can close the comment
 * or look like another environment's marker.
 */
export function commentMarker(environment: string): string {
  return `<!-- ${ACTION} environment=${encodeURIComponent(environment)} -->`;
}

export function hasMarker(body: string | undefined, environment: string): boolean {
  return (body ?? '').split('\n').some((line) => line.trim() === commentMarker(environment));
}
