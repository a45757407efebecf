import { EVENT_NAMES, type EventBus } from "../events.js";
import { inCi, paint } from "./output.js";
import { foldProgress, initialProgress, type ProgressEvent } from "./run-progress.js";
import { fit, notesOf, renderBlock, type Line, type Tone } from "./run-progress-view.js";

// `stau run`'s live progress on a terminal: the block of run-progress-view.ts redrawn in
// place on stderr, with log lines, failures and warnings printed above it as they come.
// Plain ANSI (cursor up, erase down): the block is a few lines under a scrolling log, which
// needs none of Ink's layout, and keeps `stau run` from loading React.

/** Redraws at most this often; events in between are folded and drawn together. */
const FRAME_MS = 100;
/** Elapsed times, ETAs and the spinner move even when no event comes. */
const TICK_MS = 250;
/** Lines printed above the block per frame: past this, a flood of job output is cut (`stau logs` has it all). */
const MAX_NOTES_PER_FRAME = 400;

export interface RunDisplayOptions {
  readonly job: string;
  readonly workers: number;
  /** Hide the job's log lines (failures and warnings still show). */
  readonly quiet?: boolean;
  readonly out?: NodeJS.WriteStream;
  readonly now?: () => number;
}

export interface RunDisplay {
  /** A line of stau's own above the block (e.g. what Ctrl+C does now). */
  notice(text: string, tone?: Tone): void;
  /** Draws the final state (the jobs' lines, no running chunks) and stops; safe to call twice. */
  stop(): void;
}

/**
 * Whether `stau run` shows live progress on `err`: both it and `out` are a terminal that
 * understands cursor movement, and not CI. Output piped somewhere (`stau run x | tee`)
 * means a script or a log reads it, which wants the event lines.
 */
export function wantsLiveProgress(err: NodeJS.WriteStream = process.stderr, out: NodeJS.WriteStream = process.stdout): boolean {
  return err.isTTY === true && out.isTTY === true && process.env.TERM !== "dumb" && !inCi();
}

export function attachRunDisplay(events: EventBus, options: RunDisplayOptions): RunDisplay {
  const out = options.out ?? process.stderr;
  const now = options.now ?? (() => Date.now());
  const quiet = options.quiet ?? false;
  const colour = (tone: Tone, text: string) => paint(tone, text, out);
  let state = initialProgress(options.job, options.workers, now());
  let notes: string[] = [];
  let cut = 0;
  /** Plain lengths of the block's lines as drawn: how many rows it covers after a resize. */
  let drawn: number[] = [];
  let lastBlock = "";
  let lastDraw = 0;
  let timer: NodeJS.Timeout | null = null;
  let stopped = false;
  let resized = false;

  const addNotes = (lines: readonly Line[]) => {
    for (const line of lines) notes.push(fit(line, Number.MAX_SAFE_INTEGER, colour));
    if (notes.length > MAX_NOTES_PER_FRAME) {
      cut += notes.length - MAX_NOTES_PER_FRAME;
      notes = notes.slice(-MAX_NOTES_PER_FRAME);
    }
  };

  /** Rows the drawn block covers now: a terminal that got narrower reflowed its lines. */
  const drawnRows = (width: number) => drawn.reduce((rows, length) => rows + Math.max(1, Math.ceil(length / width)), 0);

  const draw = (final: boolean) => {
    timer = null;
    const width = out.columns || 80;
    const height = out.rows || 24;
    const at = now();
    // One column short of the edge, so no line ever wraps; two rows short of the screen,
    // so the block always fits (lines scrolled off the top cannot be erased).
    const lines = renderBlock(state, { now: at, width: width - 1, height: Math.max(1, height - 2), final });
    const block = lines.map((line) => fit(line, width - 1, colour));
    const text = block.map((line) => line + "\n").join("");
    if (!final && !resized && notes.length === 0 && cut === 0 && text === lastBlock) return;
    const rows = drawnRows(width);
    let frame = "\r" + (rows > 0 ? `\x1b[${rows}A` : "") + "\x1b[J";
    if (cut > 0) frame += colour("dim", `… ${cut} log line(s) skipped here, too many at once; the chunks' logs keep them all (stau logs <job> --run ${state.runId ?? "<run>"})`) + "\n";
    frame += notes.map((note) => note + "\n").join("");
    frame += text;
    // Synchronized output: terminals that know it show the frame at once, without flicker.
    out.write(`\x1b[?2026h${frame}\x1b[?2026l`);
    notes = [];
    cut = 0;
    drawn = lines.map((line) => line.reduce((n, part) => n + Array.from(part.text).length, 0)).map((n) => Math.min(n, width - 1));
    resized = false;
    lastBlock = text;
    lastDraw = at;
  };

  const schedule = () => {
    if (stopped || timer) return;
    timer = setTimeout(() => draw(false), Math.max(0, lastDraw + FRAME_MS - now()));
  };

  const offs = EVENT_NAMES.map((name) =>
    events.on(name, (payload) => {
      const event = { name, payload } as ProgressEvent;
      const at = now();
      state = foldProgress(state, event, at);
      addNotes(notesOf(event, state, at, quiet));
      schedule();
    }),
  );
  const ticker = setInterval(schedule, TICK_MS);
  ticker.unref();
  // A resize redraws even an unchanged block: it may need to be cut to the new size, and
  // a narrower terminal reflowed the old one over more rows (drawnRows counts them).
  const onResize = () => {
    resized = true;
    schedule();
  };
  out.on("resize", onResize);
  schedule();

  return {
    notice(text, tone) {
      if (stopped) return void out.write(text + "\n");
      addNotes([[{ text, tone }]]);
      schedule();
    },
    stop() {
      if (stopped) return;
      stopped = true;
      offs.forEach((off) => off());
      clearInterval(ticker);
      if (timer) clearTimeout(timer);
      out.off("resize", onResize);
      draw(true);
    },
  };
}
