import type { DependencySpec, JobSpec } from "../../src/config/spec.js";
import type { WorkId } from "../../src/config/types.js";
import type { FreshnessView } from "../../src/graph/types.js";

export const MINUTE = 60_000;
export const HOUR = 60 * MINUTE;

type Dep = string | (Partial<DependencySpec> & { job: string });

/** A validated job as the registry would hold it, every option defaulted. */
export function job(name: string, options: { chunkSize?: number | null; deps?: Dep[] } = {}): JobSpec {
  return {
    name,
    file: `/p/jobs/${name}.ts`,
    chunkSize: options.chunkSize ?? null,
    dependencies: (options.deps ?? []).map((d) => ({
      maxLagMs: HOUR,
      allowMissingWorkIds: false,
      kwargs: {},
      unique: false,
      ...(typeof d === "string" ? { job: d } : d),
    })),
    retries: 0,
    retryDelayMs: 5000,
    timeoutMs: null,
    allowConcurrentRuns: false,
    reads: [],
    writes: [],
    hasSelectWork: false,
  };
}

export function registry(...specs: JobSpec[]): Map<string, JobSpec> {
  return new Map(specs.map((spec) => [spec.name, spec]));
}

export interface SuccessRow {
  job: string;
  workId: WorkId | null;
  at: number;
  /** kwargsKey of the success; "{}" unless given. */
  key?: string;
}

/** Freshness from a table of successes; a null work ID asks for the latest on any. */
export function freshness(rows: SuccessRow[]): FreshnessView {
  // Indexed, so the performance test can use it with tens of thousands of rows.
  const byId = new Map<string, number>();
  const any = new Map<string, number>();
  const latest = (map: Map<string, number>, key: string, at: number) => map.set(key, Math.max(map.get(key) ?? at, at));
  for (const row of rows) {
    const node = `${row.job}\u0000${row.key ?? "{}"}`;
    latest(any, node, row.at);
    if (row.workId !== null) latest(byId, `${node}\u0000${typeof row.workId}:${row.workId}`, row.at);
  }
  return {
    lastSuccess(jobName, kwargsKey, workId) {
      const node = `${jobName}\u0000${kwargsKey}`;
      return workId === null ? any.get(node) : byId.get(`${node}\u0000${typeof workId}:${workId}`);
    },
  };
}
