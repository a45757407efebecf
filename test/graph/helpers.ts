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
  /** The code hash the success ran (codeAware); none unless given. */
  code?: string;
}

/** Freshness from a table of successes; a null work ID asks for the latest on any. */
export function freshness(rows: SuccessRow[]): FreshnessView {
  // Indexed without building strings per call: the performance test asks millions of times.
  const index = new Map<string, Map<string, { any: number; byId: Map<WorkId, number>; anyCode?: string; codes: Map<WorkId, string> }>>();
  for (const row of rows) {
    const byKey = index.get(row.job) ?? index.set(row.job, new Map()).get(row.job)!;
    const key = row.key ?? "{}";
    const entry = byKey.get(key) ?? byKey.set(key, { any: row.at, byId: new Map(), codes: new Map() }).get(key)!;
    if (row.at >= entry.any) entry.anyCode = row.code;
    entry.any = Math.max(entry.any, row.at);
    if (row.workId !== null) {
      if (row.code !== undefined && row.at >= (entry.byId.get(row.workId) ?? 0)) entry.codes.set(row.workId, row.code);
      entry.byId.set(row.workId, Math.max(entry.byId.get(row.workId) ?? row.at, row.at));
    }
  }
  return {
    lastSuccess(jobName, kwargsKey, workId) {
      const entry = index.get(jobName)?.get(kwargsKey);
      return workId === null ? entry?.any : entry?.byId.get(workId);
    },
    codeHash: (jobName, kwargsKey, workId) => {
      const entry = index.get(jobName)?.get(kwargsKey);
      return workId === null ? entry?.anyCode : entry?.codes.get(workId);
    },
    kwargsKeys: (jobName) => [...(index.get(jobName)?.keys() ?? [])],
  };
}
