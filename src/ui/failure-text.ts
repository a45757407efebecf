import { withoutRunner } from "../stack.js";
import type { ConsoleState } from "./state.js";

/** The whole error of the selected Failures row, for the overlay Enter opens. */
export function failureText(state: ConsoleState): { title: string; lines: string[] } | null {
  const row = state.views.failures[state.selected.failures];
  if (!row) return null;
  if (row.kind === "broken") {
    return { title: `${row.job.name} is broken (${row.job.file})`, lines: row.job.problems.length > 0 ? [...row.job.problems] : [row.job.broken ?? "unknown problem"] };
  }
  if (row.kind === "run") {
    return { title: `run ${row.run.id} of ${row.run.job} failed`, lines: (row.run.error ?? "no error recorded").split("\n") };
  }
  const { chunk } = row;
  const error = chunk.error;
  const lines = [`run ${chunk.runId} · attempt ${chunk.attempts} · ${error?.kind ?? "error"} · work IDs ${chunk.workIds.length === 0 ? "none" : chunk.workIds.join(", ")}`, ""];
  const message = (error?.message ?? "no error recorded").split("\n");
  lines.push(...message);
  const stack = withoutRunner(withoutMessage(error?.stack ? error.stack.split("\n") : [], message));
  if (stack.some((l) => l.trim())) lines.push("", ...stack);
  return { title: `chunk ${chunk.id} of ${chunk.job} failed`, lines };
}

/**
 * A stack starts by repeating the message ("Error: " before its first line), every line
 * of it: those lines are dropped, so each line of a multi-line message shows once.
 */
function withoutMessage(stack: readonly string[], message: readonly string[]): readonly string[] {
  if (stack.length === 0 || !stack[0].includes(message[0])) return stack;
  let repeated = 1;
  while (repeated < message.length && repeated < stack.length && stack[repeated].trimEnd() === message[repeated].trimEnd()) repeated++;
  return stack.slice(repeated);
}
