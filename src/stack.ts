import { sep } from "node:path";
import { fileURLToPath } from "node:url";

// How a job's error stack is shown (logs, `stau show`, the console): its frames, without
// those of stau's runner that end every stack of a job's code and say nothing of the job.

/** Where stau's own built code and its thread pool live. */
const RUNNER = [fileURLToPath(new URL("./", import.meta.url)), `${sep}node_modules${sep}tinypool${sep}`];
const inRunner = (line: string) => RUNNER.some((place) => line.includes(place));

/**
 * `lines` of a stack without the runner's frames at its end. A stack all in stau's code
 * (a failure of stau itself) is kept whole, as is anything that is not a JavaScript stack.
 */
export function withoutRunner(lines: readonly string[]): readonly string[] {
  let end = lines.length;
  while (end > 0 && inRunner(lines[end - 1]!)) end--;
  const kept = lines.slice(0, end);
  return kept.some((line) => /^\s+at /.test(line)) ? kept : lines;
}

/** The "    at …" lines of a stack (its first lines repeat the message), without the runner's. */
export function stackFrames(stack: string | null): string {
  if (!stack) return "";
  const lines = stack.split("\n");
  const first = lines.findIndex((line) => /^\s+at /.test(line));
  return first === -1 ? "" : withoutRunner(lines.slice(first)).join("\n");
}
