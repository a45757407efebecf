import type { ArchivedRun } from "../store/records.js";
import type { Store } from "../store/store.js";
import type { HeatCell, HeatmapData } from "./contract.js";

/** The heatmap of `job`'s newest run in the store, however old (only that run's chunks are read), or null. */
export async function readHeatmap(store: Store, job: string): Promise<HeatmapData | null> {
  const latest = await store.latestRunOf(job);
  return latest && heatmapOf([latest], job);
}

/**
 * The heatmap of `job`: the newest run among `runs` (active ones included) that has
 * chunks of it — its own, or one of a job that needs it — one cell per work ID in chunk
 * order. A chunk without work IDs (a job without selectWork) is one cell named by its
 * chunk. Null when no run among them has chunks of the job.
 */
export function heatmapOf(runs: readonly ArchivedRun[], job: string): HeatmapData | null {
  const latest = runs.filter((r) => r.chunks.some((chunk) => chunk.job === job)).sort((a, b) => b.run.createdAt - a.run.createdAt)[0];
  if (!latest) return null;
  const cells: HeatCell[] = [];
  for (const chunk of latest.chunks) {
    if (chunk.job !== job) continue;
    const cell = { chunkId: chunk.id, state: chunk.state, attempts: chunk.attempts, durationMs: chunk.durationMs ?? null, finishedAt: chunk.finishedAt };
    if (chunk.workIds.length === 0) cells.push({ ...cell, id: chunk.id.slice(chunk.id.indexOf(".") + 1) });
    for (const id of chunk.workIds) cells.push({ ...cell, id });
  }
  return { job, runId: latest.run.id, runJob: latest.run.job, status: latest.run.status, cells };
}
