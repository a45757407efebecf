import { existsSync, readdirSync, unlinkSync } from "node:fs";
import { join } from "node:path";
import { parseLogFileName } from "../logs.js";
import { runIdOfChunk } from "../records.js";
import type { PruneResult } from "../store.js";
import type { History } from "./history.js";

/**
 * The embedded store's prune: finished runs older than `before` leave the history (one
 * atomic rewrite) and their attempts' log files go. Runs active again (retried after they
 * finished) stay whatever their old line says.
 */
export function pruneFileStore(history: History, dataDir: string, isActive: (runId: string) => boolean, before: number, dryRun: boolean): PruneResult {
  const old = (finishedAt: number | null) => finishedAt !== null && finishedAt < before;
  let chunks = 0;
  const keep = (archived: Parameters<Parameters<History["rewrite"]>[0]>[0]) => {
    if (isActive(archived.run.id) || !old(archived.run.finishedAt)) return true;
    chunks += archived.apart?.count ?? archived.chunks.length;
    return false;
  };
  let pruned: Set<string>;
  if (dryRun) {
    pruned = new Set();
    for (const archived of history.newestFirst()) if (!keep(archived)) pruned.add(archived.run.id);
  } else {
    pruned = new Set(history.rewrite(keep));
  }
  return { runs: pruned.size, chunks, logs: removeLogs(dataDir, pruned, dryRun) };
}

/** Log files of the pruned runs: counted, and unless dry, removed. */
function removeLogs(dataDir: string, runs: ReadonlySet<string>, dryRun: boolean): number {
  const root = join(dataDir, "logs");
  if (runs.size === 0 || !existsSync(root)) return 0;
  let count = 0;
  for (const job of readdirSync(root)) {
    const dir = join(root, job);
    for (const name of readdirSync(dir)) {
      const parsed = parseLogFileName(name);
      if (!parsed || !runs.has(runIdOfChunk(parsed.chunkId))) continue;
      count++;
      if (!dryRun) unlinkSync(join(dir, name));
    }
  }
  return count;
}
