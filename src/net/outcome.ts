// The words for a write the run's deadline cut off in flight: the request left, no answer
// came, so whether it was applied is not known. Nothing here guesses: the next plan reads
// Azure and the cluster again and shows what is there.
export const OUTCOME_UNKNOWN = 'outcome unknown — the next plan will show it';

export function outcomeOf(what: string): string {
  return `${what}: cut off in flight by the run's deadline: ${OUTCOME_UNKNOWN}`;
}
