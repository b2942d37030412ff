// Everything the report needs to say about one run, gathered by the pipeline and rendered
// once (DESIGN §2: one renderer for the PR comment and the job summary).
import type { MappingProblem, ResolvedBinding } from '../mapping/types.ts';
import type { AppliedChange, Plan } from '../plan/types.ts';
import type { VerificationResult } from '../result.ts';
import type { Mode } from '../settings.ts';
import type { DiscoverReport } from './discover.ts';
import type { CleanupPlan } from '../discover/cleanup.ts';
import type { WorkloadReadiness } from '../workloads/readiness.ts';

export interface RunReport {
  mode: Mode;
  mappingFile: string; // as the user sees it (workspace-relative)
  environment: string;
  /** Bindings per environment ('' = the mapping declares none). */
  bindings: Map<string, ResolvedBinding[]>;
  problems: MappingProblem[];
  /** Problems past the cap (src/report/limits.ts), counted but not listed. */
  problemsLeftOut?: number;
  plan?: Plan;
  applied?: AppliedChange[];
  verifications?: VerificationResult[];
  /** After verification: the Pod Identity objects that now serve nothing (listing only). */
  cleanupPlan?: CleanupPlan;
  /** mode: discover — the mapping it wrote and what it found. */
  discovered?: DiscoverReport;
  /** Workload readiness of the environment's bindings (src/workloads). */
  workloads?: WorkloadReadiness[];
  /** Plain-language reasons the run failed; empty when it succeeded. */
  failures: string[];
  notes: string[];
}
