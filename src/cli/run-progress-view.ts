import { formatDuration } from "../config/duration.js";
import { formatWorkIds } from "../config/work-ids.js";
import { planIdOfChunk } from "../store/records.js";
import { bar, clockTime, firstLine, printable, shortDuration, spinner, until } from "../ui/format.js";
import { attemptTag } from "../store/logs.js";
import { jobEta, jobFinished, type JobProgress, type ProgressEvent, type ProgressState, type RunningChunk } from "./run-progress.js";

// How `stau run`'s live display reads: the block of lines redrawn in place (one per job,
// its running chunks under it), and the lines printed above it as things happen (job
// log lines, failures, warnings). Pure: lines of styled parts, cut to a width; the
// terminal side (run-display.ts) only paints and places them. Spans of time, bars, log
// tags and the cleaning of job output are the console's (ui/format.ts), so `stau run`
// and `stau dev` write the same things the same way.

export type Tone = "dim" | "bold" | "green" | "red" | "yellow" | "cyan";
export interface Part {
  readonly text: string;
  readonly tone?: Tone;
}
export type Line = readonly Part[];

export interface BlockOptions {
  readonly now: number;
  /** Columns of the terminal; no line is longer. */
  readonly width: number;
  /** Most lines the block may take (it must fit on the screen to be redrawn in place). */
  readonly height: number;
  /** The run is over: the block stays on screen as its record, so only the jobs remain. */
  readonly final?: boolean;
}

const RUNNING_INDENT = "    ";
/** The spinner turns once per frame of the display (run-display.ts draws every 100 ms at most). */
const SPIN_MS = 100;
/** Elapsed times are shortDuration's: one unit, at most 3 characters ("59m"), as in the console's Running pane. */
const ELAPSED = 3;

/** The parts' text cut to `width` columns (an ellipsis where it was cut), each part painted by `paint`. */
export function fit(line: Line, width: number, paint: (tone: Tone, text: string) => string = (_, t) => t): string {
  let left = Math.max(0, width);
  let out = "";
  for (const part of line) {
    if (left === 0) break;
    const chars = Array.from(part.text);
    let text = part.text;
    if (chars.length > left) text = left === 1 ? "…" : chars.slice(0, left - 1).join("") + "…";
    left -= Math.min(chars.length, left);
    if (text !== "") out += part.tone ? paint(part.tone, text) : text;
  }
  return out;
}

function header(state: ProgressState, now: number): Line {
  const what =
    state.phase === "resolving" ? "resolving what to run…"
    : state.phase === "waiting" ? `waits for ${state.waitingOn.join(", ")}`
    : state.phase === "finished" ? "finishing…"
    : `${state.running.length} running`;
  return [{ text: `${spinner(now, SPIN_MS)} `, tone: "cyan" }, { text: state.job, tone: "bold" }, { text: `  ${state.runId ? `run ${state.runId} · ` : ""}${what} · ${shortDuration(now - state.since)}`, tone: "dim" }];
}

interface Columns {
  readonly name: number;
  readonly count: number;
  readonly bar: number;
}

function columns(state: ProgressState, width: number): Columns {
  const name = Math.min(Math.max(0, ...state.jobs.map((j) => j.job.length)), Math.max(8, Math.floor(width / 3)));
  const count = Math.max(0, ...state.jobs.map((j) => countText(j).length));
  // Whatever the mark, name and count leave, minus room for the ETA ("  ETA ~59m"), up to
  // 24 cells; a bar of under 6 cells says nothing, so a narrow terminal gets none.
  const room = width - (2 + name + 1 + 1 + count + 1 + 14);
  return { name, count, bar: room < 6 ? 0 : Math.min(24, room) };
}

const countText = (job: JobProgress) => (job.total === null ? `${job.done} done` : `${job.done}/${job.total}`);

function jobLine(state: ProgressState, job: JobProgress, cols: Columns, now: number, running: number, final: boolean): Line {
  const over = jobFinished(job) || (final && job.total === null);
  const mark: Part =
    over && job.failed + job.skipped === 0 ? { text: "✓ ", tone: "green" }
    : over ? { text: "✗ ", tone: "red" }
    : running > 0 ? { text: `${spinner(now, SPIN_MS)} `, tone: "cyan" }
    : { text: "· ", tone: "dim" };
  const parts: Part[] = [mark, { text: fit([{ text: job.job }], cols.name).padEnd(cols.name) + " " }];
  if (cols.bar > 0 && job.total !== null) parts.push({ text: bar(job.done, job.total, cols.bar) + " ", tone: job.failed > 0 ? "red" : over ? "green" : undefined });
  parts.push({ text: countText(job).padStart(cols.count) });
  if (over && job.firstStartedAt !== null && job.lastFinishedAt !== null) parts.push({ text: `  ${formatDuration(job.lastFinishedAt - job.firstStartedAt)}`, tone: "dim" });
  else if (!over && !final) {
    const eta = jobEta(state, job, now);
    // "~" as in the console's plan dialog: an estimate, not a promise.
    parts.push({ text: `  ETA ${eta === null ? "…" : `~${shortDuration(eta)}`}`, tone: "dim" });
  }
  if (job.failed > 0) parts.push({ text: ` · ${job.failed} failed`, tone: "red" });
  if (job.skipped > 0) parts.push({ text: ` · ${job.skipped} not run`, tone: "yellow" });
  return parts;
}

const CHUNK_BAR = 10;
const progressText = (chunk: RunningChunk) => (chunk.progress ? `${chunk.progress.done}/${chunk.progress.total}` : "");

/**
 * A running chunk in the console's Running pane's order: chunk, elapsed time, its
 * progress() bar, work IDs. A chunk without progress leaves the bar's columns blank, so
 * the work IDs line up under each other.
 */
function chunkLine(chunk: RunningChunk, labelWidth: number, countWidth: number, now: number): Line {
  const parts: Part[] = [{ text: RUNNING_INDENT }, { text: planIdOfChunk(chunk.id).padEnd(labelWidth) + " " }, { text: shortDuration(now - chunk.startedAt).padStart(ELAPSED), tone: "dim" }];
  if (countWidth > 0) parts.push({ text: ` ${chunk.progress ? bar(chunk.progress.done, chunk.progress.total, CHUNK_BAR) : " ".repeat(CHUNK_BAR)} ${progressText(chunk).padEnd(countWidth)}` });
  if (chunk.attempt > 1) parts.push({ text: ` attempt ${chunk.attempt}`, tone: "yellow" });
  const ids = formatWorkIds(chunk.workIds);
  if (ids !== "") parts.push({ text: `  ${printable(ids)}`, tone: "dim" });
  return parts;
}

/**
 * The live block: a header, then each job with its running chunks under it. When it
 * would be taller than `height`, running chunks beyond the room left are counted on one
 * line, and then finished jobs fold into one line, so it always fits.
 */
export function renderBlock(state: ProgressState, options: BlockOptions): Line[] {
  const { now, width, final = false } = options;
  const height = Math.max(1, options.height);
  const cols = columns(state, width);
  if (final) return state.jobs.map((job) => jobLine(state, job, cols, now, 0, true)).slice(-height);

  let jobs: readonly JobProgress[] = state.jobs;
  let folded: Line | null = null;
  if (1 + jobs.length > height) {
    const over = jobs.filter(jobFinished);
    jobs = jobs.filter((j) => !jobFinished(j));
    const clean = over.every((j) => j.failed + j.skipped === 0);
    if (over.length > 0) folded = [clean ? { text: "✓ ", tone: "green" } : { text: "✗ ", tone: "red" }, { text: `${over.length} job(s) finished`, tone: "dim" }];
  }
  const fixed = 1 + jobs.length + (folded ? 1 : 0);
  const room = height - fixed;
  const shown = state.running.length <= room ? state.running : state.running.slice(0, Math.max(0, room - 1));
  const labelWidth = Math.max(0, ...shown.map((c) => planIdOfChunk(c.id).length));
  const countWidth = Math.max(0, ...shown.map((c) => progressText(c).length));

  const lines: Line[] = [header(state, now)];
  if (folded) lines.push(folded);
  const hidden = state.running.length - shown.length;
  let counted = hidden === 0 || room === 0;
  for (const job of jobs) {
    const mine = state.running.filter((c) => c.job === job.job);
    lines.push(jobLine(state, job, cols, now, mine.length, false));
    for (const chunk of mine) if (shown.includes(chunk)) lines.push(chunkLine(chunk, labelWidth, countWidth, now));
    // Under the first job with chunks left out, where the eye looks for them.
    if (!counted && mine.some((c) => !shown.includes(c))) {
      lines.push([{ text: `${RUNNING_INDENT}+ ${hidden} more running`, tone: "dim" }]);
      counted = true;
    }
  }
  return lines.slice(0, height);
}

/**
 * The lines an event prints above the block, as it happens: the job's own log lines
 * (unless `quiet`), retries in yellow, failures for good in red, warnings in yellow.
 * Everything else shows in the block or not at all. `state` is the state after the event.
 */
export function notesOf(event: ProgressEvent, state: ProgressState, now: number, quiet: boolean): Line[] {
  switch (event.name) {
    case "chunk:log": {
      if (quiet) return [];
      const { chunkId, level, text } = event.payload;
      const tone: Tone | undefined = level === "error" ? "red" : level === "warn" ? "yellow" : undefined;
      // Tagged as the console's logs pane tags them: the time it arrived, [chunk#attempt].
      const prefix = `${clockTime(now)} ${attemptTag(chunkId, event.payload.attempt)} `;
      return text.split("\n").map((row) => [{ text: prefix, tone: "dim" }, { text: printable(row), tone }]);
    }
    case "chunk:failed": {
      const { chunk, error, willRetry } = event.payload;
      // A running chunk an operator cancelled was asked for, so it is no error (as in the event lines).
      if (chunk.state === "cancelled") return [[{ text: `! ${planIdOfChunk(chunk.id)} cancelled (attempt ${chunk.attempts}): ${printable(firstLine(error.message))}`, tone: "yellow" }]];
      // A chunk that never started (its job did not load) has no attempt to count.
      const what = `${planIdOfChunk(chunk.id)} failed (${chunk.attempts > 0 ? `attempt ${chunk.attempts}, ` : ""}${error.kind}): ${printable(firstLine(error.message))}`;
      if (!willRetry) return [[{ text: `✗ ${what}`, tone: "red" }]];
      return [[{ text: `! ${what} — retry ${chunk.notBefore === null ? "soon" : until(chunk.notBefore, now)}`, tone: "yellow" }]];
    }
    case "chunk:interrupted": {
      const { chunk, reason } = event.payload;
      return [[{ text: `! ${planIdOfChunk(chunk.id)} interrupted (attempt ${chunk.attempts}): ${printable(reason)}; it runs again`, tone: "yellow" }]];
    }
    case "run:finished": {
      // Why the run as a whole failed (a cycle, a failing selectWork), unless a failed chunk said it already.
      const { run } = event.payload;
      return run.error && !state.jobs.some((j) => j.failed > 0) ? [[{ text: `✗ run ${run.id} of ${run.job} ${run.status}: ${printable(firstLine(run.error))}`, tone: "red" }]] : [];
    }
    case "warning":
      return [[{ text: `warning: ${printable(event.payload.message)}`, tone: "yellow" }]];
    case "store:problem": {
      const { problem } = event.payload;
      return [problem ? [{ text: `✗ ${printable(problem)}: stau stops claiming chunks until it can write again`, tone: "red" }] : [{ text: "the store writes again: claiming resumes" }]];
    }
    default:
      return [];
  }
}
