import { parseDuration, formatDuration } from "../../config/duration.js";
import { UsageError } from "../../errors.js";
import { dateTime } from "../../ui/format.js";
import { openActor } from "../actor.js";
import { printJson } from "../output.js";
import type { RuntimeFlags } from "../runtime.js";

export interface PruneFlags extends RuntimeFlags {
  olderThan: string;
  dryRun?: boolean;
  json?: boolean;
}

interface Pruned {
  readonly runs: number;
  readonly chunks: number;
  readonly logs: number;
  readonly before: string;
  readonly dryRun: boolean;
}

/**
 * `stau prune --older-than D`: removes runs that finished more than D ago, with their
 * chunks and log files, from either store — never an active run, never freshness (what
 * decides whether work is fresh). Done by the instance that orchestrates, or by one of
 * this process when none runs.
 */
export async function pruneCommand(flags: PruneFlags): Promise<number> {
  const olderThanMs = parseDuration(flags.olderThan);
  if (olderThanMs === undefined) throw new UsageError(`--older-than expects a duration, received ${JSON.stringify(flags.olderThan)}`, "for example --older-than 90d");
  const actor = await openActor(flags, "prune");
  try {
    const pruned = await actor.order<Pruned>({ cmd: "prune", olderThanMs, dryRun: flags.dryRun === true });
    if (flags.json) printJson(pruned);
    else {
      const what = `${pruned.runs} run(s) (${pruned.chunks} chunks) and ${pruned.logs} log file(s)`;
      const when = `finished more than ${formatDuration(olderThanMs)} ago (before ${dateTime(Date.parse(pruned.before))})`;
      process.stdout.write(pruned.dryRun ? `would prune ${what} ${when}; nothing removed (--dry-run)\n` : `pruned ${what} ${when}, ${actor.where}\n`);
    }
    return 0;
  } finally {
    await actor.close();
  }
}
