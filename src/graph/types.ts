import type { JobSpec } from "../config/spec.js";
import type { Kwargs, WorkId } from "../config/types.js";

/**
 * When a job last succeeded, as the resolver needs it. Keys are the job name and the
 * canonical JSON of its effective kwargs (see `kwargsKey`), since jobs with different
 * kwargs are different nodes.
 */
export interface FreshnessView {
  /**
   * Epoch ms of the last successful execution of `job` on `workId`; with `workId`
   * null, of the last success of the job on any work IDs (or as a whole). Undefined
   * when it never succeeded.
   */
  lastSuccess(job: string, kwargsKey: string, workId: WorkId | null): number | undefined;
}

export interface ResolveInput {
  readonly jobs: ReadonlyMap<string, JobSpec>;
  /** The triggered job. */
  readonly job: string;
  readonly kwargs: Kwargs;
  /** The triggered job's work IDs; null for a run without work IDs. */
  readonly workIds: readonly WorkId[] | null;
  /** Epoch ms, passed in so the resolver stays pure. */
  readonly now: number;
  readonly freshness: FreshnessView;
}

export type JobPlanStatus = "run" | "fresh" | "skipped";

/** One node of the plan: a job with its effective kwargs. */
export interface PlannedJob {
  readonly job: string;
  readonly kwargs: Kwargs;
  readonly status: JobPlanStatus;
  /** For `fresh` nodes: the oldest last success that kept it fresh (epoch ms), if any. */
  readonly freshSince?: number;
}

export interface PlannedChunk {
  /** Unique within the plan, stable for the same input: `<job>[~<n>].<index>`. */
  readonly id: string;
  readonly job: string;
  readonly kwargs: Kwargs;
  readonly workIds: readonly WorkId[];
  /** Ids of the chunks (in this plan) that must be `done` before this one runs. */
  readonly dependsOn: readonly string[];
}

export interface Plan {
  readonly job: string;
  readonly kwargs: Kwargs;
  readonly workIds: readonly WorkId[] | null;
  /** Every node of the raw graph, root first, then in breadth-first order. */
  readonly jobs: readonly PlannedJob[];
  /** Chunks top-down: the triggered job's first, then its dependencies' level by level. */
  readonly chunks: readonly PlannedChunk[];
}
