import { formatDuration } from "../config/duration.js";
import type { WorkId } from "../config/types.js";
import type { EventBus } from "../engine/events.js";
import { paint } from "./output.js";

function ids(workIds: readonly WorkId[]): string {
  if (workIds.length === 0) return "";
  if (workIds.length <= 4) return ` [${workIds.join(",")}]`;
  return ` [${workIds[0]}…${workIds[workIds.length - 1]}] (${workIds.length})`;
}

/** Human progress lines of `stau run`, one per chunk outcome, on stderr. */
export function reportRun(events: EventBus, out: NodeJS.WriteStream = process.stderr): () => void {
  const offs = [
    events.on("run:waiting", ({ run, on }) => out.write(`${paint("yellow", "…", out)} run ${run.id} waits for ${on.join(", ")}\n`)),
    events.on("run:started", ({ run, chunks }) => out.write(`${paint("cyan", "▸", out)} run ${run.id} of ${run.job}: ${chunks} chunk${chunks === 1 ? "" : "s"}\n`)),
    events.on("chunk:done", ({ chunk, durationMs }) => out.write(`  ${paint("green", "✓", out)} ${chunk.id}${ids(chunk.workIds)} ${paint("dim", formatDuration(durationMs), out)}\n`)),
    events.on("chunk:failed", ({ chunk, error, willRetry }) => {
      const first = error.message.split("\n")[0];
      const next = willRetry && chunk.notBefore ? ` — retry in ${formatDuration(Math.max(0, chunk.notBefore - Date.now()))}` : "";
      const mark = willRetry ? paint("yellow", "↻", out) : paint("red", "✗", out);
      out.write(`  ${mark} ${chunk.id}${ids(chunk.workIds)} attempt ${chunk.attempts}: ${error.kind}: ${first}${next}\n`);
    }),
    events.on("warning", ({ message }) => out.write(`${paint("yellow", "warning:", out)} ${message}\n`)),
  ];
  return () => offs.forEach((off) => off());
}
