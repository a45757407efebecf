import type { DependencySpec, JobSpec } from "../config/spec.js";
import type { Kwargs, WorkId } from "../config/types.js";

/**
 * When a job last succeeded, as the resolver needs it. Keys are the job name and the
 * canonical JSON of its effective kwargs (see `kwargsKey`), since jobs with different
 * kwargs are different nodes.
 */
export interface FreshnessView {
  /**
   * Epoch ms of the last successful execution of `job` on `workId`; with `workId`
   * null, of the last success of the job on any work IDs (or as a whole), so never
   * older than any ID's: the resolver takes every ID as stale without asking each when
   * that is older than a dependency's cutoff. Undefined when it never succeeded.
   */
  lastSuccess(job: string, kwargsKey: string, workId: WorkId | null): number | undefined;
  /**
   * The code hash (jobs/code-hash.ts) its last success on `workId` (null: on any IDs)
   * ran, for codeAware dependencies; undefined when none was recorded.
   */
  codeHash(job: string, kwargsKey: string, workId: WorkId | null): string | undefined;
  /** The kwargs keys `job` ever succeeded under (a job that only ran with kwargs has no `{}`). */
  kwargsKeys(job: string): string[];
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
  /** Each job's current code hash (jobs/code-hash.ts), for codeAware edges; absent: codeAware has nothing to compare with and is ignored. */
  readonly codeHashes?: ReadonlyMap<string, string>;
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
  /** Index in `Plan.jobs` of the node it is a chunk of (a job can be several nodes, one per kwargs). */
  readonly node: number;
}

/** A dependency edge between two nodes of the plan, as indexes into `Plan.jobs`. */
export interface PlannedEdge {
  readonly parent: number;
  readonly child: number;
  readonly dep: DependencySpec;
}

export interface Plan {
  readonly job: string;
  readonly kwargs: Kwargs;
  readonly workIds: readonly WorkId[] | null;
  /** Every node of the raw graph, root first, then in breadth-first order. */
  readonly jobs: readonly PlannedJob[];
  /** Chunks top-down: the triggered job's first, then its dependencies' level by level. */
  readonly chunks: readonly PlannedChunk[];
  /** Every edge between the nodes, so what a node was asked for can be explained (plan-facts.ts). */
  readonly edges: readonly PlannedEdge[];
}
