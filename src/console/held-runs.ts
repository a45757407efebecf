import { FINISHED_RUN_STATES } from "../engine/transitions.js";
import type { ArchivedRun, RunRecord } from "../store/records.js";
import type { Store } from "../store/store.js";

// What the console holds of finished runs, with their chunks: its Failures pane, each
// job's last run and the plan's ETA read them. The rule is one, for the snapshot read
// from the store and for the console's data as runs finish, so a snapshot brings only
// what the console keeps, and the chunks it would drop are never read.

/** Finished runs held (with their chunks) beyond the active ones, so memory stays bounded. */
export const MAX_FINISHED_RUNS = 100;
/**
 * Chunks of finished runs held past the newest finished run: a record held costs about
 * 1 KB in the console, and a hundred runs of 20,000 chunks would otherwise stay (~20 MB a run).
 */
export const MAX_FINISHED_CHUNKS = 50_000;

/**
 * Which runs the console holds, asked newest first with each run's number of chunks:
 * every active run; of the finished ones the newest always, then each while fewer than
 * MAX_FINISHED_RUNS are held and its chunks fit MAX_FINISHED_CHUNKS beside those held
 * before it. A big run past the budget goes; smaller older ones stay.
 */
export function heldRuns(): (run: RunRecord, chunks: number) => boolean {
  let runs = 0;
  let held = 0;
  return (run, chunks) => {
    if (!FINISHED_RUN_STATES.has(run.status)) return true;
    const keep = runs === 0 || (runs < MAX_FINISHED_RUNS && held + chunks <= MAX_FINISHED_CHUNKS);
    if (keep) (runs++, (held += chunks));
    return keep;
  };
}

/**
 * The finished runs the console holds, with their chunks, as the store has them now.
 * Active runs are left out: whoever needs them reads them as they are (activeRuns), and
 * their chunks, a big run's above all, are not read twice.
 */
export function readHeldRuns(store: Store): Promise<ArchivedRun[]> {
  const holds = heldRuns();
  return store.listRuns(MAX_FINISHED_RUNS, (run, chunks) => FINISHED_RUN_STATES.has(run.status) && holds(run, chunks));
}

/** The ids of the failed runs among the newest MAX_FINISHED_RUNS (the console's "retry all failed"); no chunk is read. */
export async function recentFailedRuns(store: Store): Promise<string[]> {
  return (await store.listRunSummaries(MAX_FINISHED_RUNS)).filter((r) => r.run.status === "failed").map((r) => r.run.id);
}
