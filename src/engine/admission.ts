import type { JobSpec } from "../config/spec.js";
import { upstreamJobs } from "../graph/raw-graph.js";
import type { ActiveRun } from "./active-run.js";

/**
 * The wait rule (README "From a trigger to chunks", step 2): a run waits while another
 * active run has unfinished chunks of a job it depends on, so it sees their results
 * instead of queueing duplicates. Returns what it waits for ("<run> (<job>)"), or
 * nothing when it may start. Its own job does not count: runs of one job may overlap.
 */
export function blockers(jobs: ReadonlyMap<string, JobSpec>, run: ActiveRun, others: Iterable<ActiveRun>): string[] {
  let upstream: Set<string>;
  try {
    upstream = upstreamJobs(jobs, run.run.job);
  } catch {
    return []; // resolution reports the problem (a cycle, an unknown job)
  }
  const blocking: string[] = [];
  for (const other of others) {
    if (other === run || other.run.status !== "running") continue;
    for (const job of other.busyJobs()) if (upstream.has(job)) blocking.push(`${other.run.id} (${job})`);
  }
  return blocking;
}
