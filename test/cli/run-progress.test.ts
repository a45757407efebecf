import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { attachRunDisplay, wantsLiveProgress } from "../../src/cli/run-display.js";
import { foldProgress, initialProgress, jobEta, type ProgressEvent, type ProgressState } from "../../src/cli/run-progress.js";
import { fit, notesOf, renderBlock, type Line } from "../../src/cli/run-progress-view.js";
import { EventBus } from "../../src/events.js";
import type { ChunkRecord, RunRecord } from "../../src/store/records.js";
import { clockTime } from "../../src/ui/format.js";

// `stau run`'s live display without a terminal: events folded into state, state rendered
// to lines at a width, and the frames the display writes (cursor movement, colour).

const RUN: RunRecord = {
  id: "r1", job: "report", kwargs: {}, requestedWorkIds: null, workIds: null, status: "running", trigger: "cli", scheduleEntry: null,
  origin: null, createdAt: 0, startedAt: 0, finishedAt: null, gitCommit: null, error: null,
};

function chunk(job: string, n: number, patch: Partial<ChunkRecord> = {}): ChunkRecord {
  return {
    id: `r1.${job}.${n}`, runId: "r1", job, kwargs: {}, kwargsKey: "{}", workIds: [n * 10 + 1, n * 10 + 2], dependsOn: [], state: "queued",
    attempts: 1, error: null, startedAt: null, finishedAt: null, notBefore: null, owner: null, token: null, ...patch,
  };
}

// The asked-for job first, its dependencies below, as the engine lists them.
const RECORDS = [chunk("report", 0), chunk("stats", 0), chunk("stats", 1), chunk("stats", 2), chunk("stats", 3), chunk("ingest", 0)];

const plain = (lines: Line[], width: number) => lines.map((line) => fit(line, width));

function fold(events: [ProgressEvent, number][], state: ProgressState = initialProgress("report", 2, 0)): ProgressState {
  return events.reduce((s, [event, at]) => foldProgress(s, event, at), state);
}

const started = (c: ChunkRecord, at: number): [ProgressEvent, number] => [{ name: "chunk:started", payload: { chunk: { ...c, state: "running", startedAt: at } } }, at];
const done = (c: ChunkRecord, at: number, durationMs: number): [ProgressEvent, number] => [{ name: "chunk:done", payload: { chunk: { ...c, state: "done" }, durationMs } }, at];

const [REPORT_0, STATS_0, STATS_1, STATS_2, , INGEST_0] = RECORDS;

/** ingest done; stats.0 done in 4s; stats.1 and stats.2 running, stats.1 at 5 of 10. */
const midRun = () =>
  fold([
    [{ name: "run:queued", payload: { run: RUN } }, 0],
    [{ name: "run:started", payload: { run: RUN, chunks: RECORDS.length, records: RECORDS } }, 100],
    started(INGEST_0, 200),
    done(INGEST_0, 1200, 1000),
    started(STATS_0, 1300),
    started(STATS_1, 1300),
    done(STATS_0, 5300, 4000),
    started(STATS_2, 5300),
    [{ name: "chunk:progress", payload: { chunkId: "r1.stats.1", done: 5, total: 10 } }, 5400],
  ]);

describe("run progress state", () => {
  it("lists jobs in the order they run, with totals from the run's chunks", () => {
    const state = midRun();
    expect(state.jobs.map((j) => [j.job, j.done, j.total])).toEqual([["ingest", 1, 1], ["stats", 1, 4], ["report", 0, 1]]);
    expect(state.running.map((c) => [c.id, c.progress])).toEqual([["r1.stats.1", { done: 5, total: 10 }], ["r1.stats.2", null]]);
  });

  it("estimates from this run's finished chunks of the job, and not before one finished", () => {
    const state = midRun();
    const [ingest, stats, report] = state.jobs;
    expect(jobEta(state, report, 6000)).toBeNull();
    expect(jobEta(state, ingest, 6000)).toBe(0);
    // stats: 4s a chunk; one waiting (4s) plus what is left of the running two (0s and 3.3s), on 2 workers.
    expect(jobEta(state, stats, 6000)).toBe((4000 + 0 + 3300) / 2);
  });

  it("shows a chunk that starts again (a retry, or after an interruption) once, with its new attempt", () => {
    const error = { message: "reset", kind: "error" as const };
    const state = fold(
      [
        [{ name: "chunk:failed", payload: { chunk: STATS_1, error, willRetry: true, durationMs: 5 } }, 5500],
        started({ ...STATS_1, attempts: 2 }, 5600),
        [{ name: "chunk:interrupted", payload: { chunk: { ...STATS_2, state: "pending" }, reason: "its instance went silent" } }, 5700],
        started({ ...STATS_2, attempts: 2 }, 5800),
        // Heard twice (a start this instance announces again after a reclaim): still one row.
        started({ ...STATS_2, attempts: 2 }, 5800),
      ],
      midRun(),
    );
    expect(state.running.map((c) => [c.id, c.attempt, c.progress])).toEqual([["r1.stats.1", 2, null], ["r1.stats.2", 2, null]]);
    expect(state.jobs.find((j) => j.job === "stats")).toMatchObject({ done: 1, failed: 0, skipped: 0 });
    const lines = plain(renderBlock(state, { now: 6000, width: 80, height: 20 }), 80);
    expect(lines.filter((l) => l.includes("stats.2"))).toEqual([expect.stringMatching(/^ {4}stats\.2 {2}0s attempt 2 {2}\[21,22\]$/)]);
  });

  it("counts failures for good and chunks that never ran, but not a failure that retries", () => {
    const error = { message: "boom\nat line 2", kind: "error" as const };
    const state = fold(
      [
        [{ name: "chunk:failed", payload: { chunk: STATS_1, error, willRetry: true, durationMs: 5 } }, 10],
        started(STATS_1, 20),
        [{ name: "chunk:failed", payload: { chunk: { ...STATS_1, state: "failed" }, error, willRetry: false, durationMs: 5 } }, 30],
        [{ name: "chunk:upstream_failed", payload: { chunk: { ...REPORT_0, state: "upstream_failed" } } }, 40],
      ],
      midRun(),
    );
    const byJob = Object.fromEntries(state.jobs.map((j) => [j.job, j]));
    expect([byJob.stats.failed, byJob.stats.skipped, byJob.report.skipped]).toEqual([1, 0, 1]);
    expect(state.running.map((c) => c.id)).toEqual(["r1.stats.2"]);
  });
});

describe("run progress rendering", () => {
  it("shows each job's bar, count and ETA, and the running chunks with their progress and elapsed time", () => {
    const lines = plain(renderBlock(midRun(), { now: 6000, width: 80, height: 20 }), 80);
    expect(lines[0]).toMatch(/report {2}run r1 · 2 running · 6s$/);
    expect(lines[1]).toMatch(/^✓ ingest █+ 1\/1 {2}1s$/);
    // Spans of time as the console writes them: one unit, rounded down; an ETA marked as an estimate.
    expect(lines[2]).toMatch(/^. stats {2}█{6}░{18} 1\/4 {2}ETA ~3s$/);
    // The console's Running pane's order; a chunk without progress() keeps the bar's columns blank.
    expect(lines[3]).toBe("    stats.1  4s █████░░░░░ 5/10  [11,12]");
    expect(lines[4]).toMatch(/^ {4}stats\.2 {2}0s {18}\[21,22\]$/);
    expect(lines[4].indexOf("[")).toBe(lines[3].indexOf("["));
    expect(lines[5]).toMatch(/^· report .* 0\/1 {2}ETA …$/);
  });

  it("never draws a line wider than asked, down to a very narrow terminal", () => {
    for (const width of [100, 60, 30, 12, 1]) {
      const lines = plain(renderBlock(midRun(), { now: 6000, width, height: 20 }), width);
      for (const line of lines) expect(Array.from(line).length, line).toBeLessThanOrEqual(width);
    }
    expect(plain(renderBlock(midRun(), { now: 6000, width: 30, height: 20 }), 30)[2]).not.toContain("░");
  });

  it("fits the height: running chunks past the room are counted, then finished jobs fold into one line", () => {
    const four = plain(renderBlock(midRun(), { now: 6000, width: 80, height: 5 }), 80);
    expect(four).toHaveLength(5);
    // Counted under the job whose chunks they are.
    expect(four.slice(1).map((l) => l.trim().slice(0, 18))).toEqual(["✓ ingest █████████", "⠋ stats  ██████░░░", "+ 2 more running", "· report ░░░░░░░░░"]);
    const three = plain(renderBlock(midRun(), { now: 6000, width: 80, height: 3 }), 80);
    expect(three.map((l) => l.slice(0, 20))).toEqual([expect.stringContaining("report"), "✓ 1 job(s) finished", expect.stringMatching(/^. stats/)]);
  });

  it("keeps only the jobs' lines when the run is over", () => {
    const lines = plain(renderBlock(midRun(), { now: 6000, width: 80, height: 20, final: true }), 80);
    expect(lines).toHaveLength(3);
    expect(lines.some((l) => l.includes("stats.1") || l.includes("ETA"))).toBe(false);
    expect(lines.every((l) => l === l.trimEnd())).toBe(true);
  });

  it("prints the job's log lines above the block (not with quiet), failures in red and retries and warnings in yellow", () => {
    const state = midRun();
    const log: ProgressEvent = { name: "chunk:log", payload: { chunkId: "r1.stats.2", attempt: 2, level: "log", text: "hello\n\u001b[2Jworld" } };
    // Tagged as the console's logs pane tags a line: time, [chunk#attempt].
    const at = clockTime(0);
    expect(notesOf(log, state, 0, false).map((l) => fit(l, 200))).toEqual([`${at} [stats.2#2] hello`, `${at} [stats.2#2] world`]);
    expect(notesOf(log, state, 0, true)).toEqual([]);
    const warn: ProgressEvent = { name: "chunk:log", payload: { chunkId: "r1.stats.2", attempt: 1, level: "warn", text: "careful" } };
    expect(notesOf(warn, state, 0, false)[0][1].tone).toBe("yellow");

    const error = { message: "boom\n  at somewhere", kind: "error" as const };
    const retry = notesOf({ name: "chunk:failed", payload: { chunk: { ...STATS_0, notBefore: 3000 }, error, willRetry: true, durationMs: 1 } }, state, 1000, true);
    expect(retry).toEqual([[{ text: "! stats.0 failed (attempt 1, error): boom — retry in 2s", tone: "yellow" }]]);
    const fatal = notesOf({ name: "chunk:failed", payload: { chunk: STATS_0, error, willRetry: false, durationMs: 1 } }, state, 1000, true);
    expect(fatal).toEqual([[{ text: "✗ stats.0 failed (attempt 1, error): boom", tone: "red" }]]);
    const cancelled = notesOf({ name: "chunk:failed", payload: { chunk: { ...STATS_0, state: "cancelled" }, error: { message: "cancelled by an operator", kind: "cancelled" }, willRetry: false, durationMs: 1 } }, state, 1000, true);
    expect(cancelled).toEqual([[{ text: "! stats.0 cancelled (attempt 1): cancelled by an operator", tone: "yellow" }]]);
    expect(notesOf({ name: "warning", payload: { message: "disk is slow" } }, state, 0, true)).toEqual([[{ text: "warning: disk is slow", tone: "yellow" }]]);
    const failedRun: ProgressEvent = { name: "run:finished", payload: { run: { ...RUN, status: "failed", error: "selectWork threw: no input" } } };
    expect(notesOf(failedRun, state, 0, true)).toEqual([[{ text: "✗ run r1 of report failed: selectWork threw: no input", tone: "red" }]]);
    // Said once: a failed chunk's red line already gave the reason.
    const afterFailure = foldProgress(state, { name: "chunk:failed", payload: { chunk: { ...REPORT_0, state: "failed" }, error, willRetry: false, durationMs: 0 } }, 1000);
    expect(notesOf(failedRun, afterFailure, 0, true)).toEqual([]);
    const unloaded = notesOf({ name: "chunk:failed", payload: { chunk: { ...REPORT_0, attempts: 0 }, error: { message: "no such file", kind: "load" }, willRetry: false, durationMs: 0 } }, state, 0, true);
    expect(unloaded).toEqual([[{ text: "✗ report.0 failed (load): no such file", tone: "red" }]]);
  });

  it("cuts parts with an ellipsis and paints each part by its tone", () => {
    const line: Line = [{ text: "abc", tone: "red" }, { text: "defgh" }];
    expect(fit(line, 6, (tone, text) => `<${tone}>${text}`)).toBe("<red>abcde…");
    expect(fit(line, 3)).toBe("abc");
    expect(fit(line, 0)).toBe("");
  });
});

describe("run progress display", () => {
  let written = "";
  const out = { isTTY: true, columns: 60, rows: 20, write: (text: string) => ((written += text), true), on: () => out, off: () => out } as unknown as NodeJS.WriteStream;
  const { NO_COLOR: noColor, FORCE_COLOR: forceColor } = process.env;
  beforeEach(() => {
    written = "";
    vi.useFakeTimers();
    vi.setSystemTime(0);
  });
  afterEach(() => {
    vi.useRealTimers();
    for (const [name, value] of [["NO_COLOR", noColor], ["FORCE_COLOR", forceColor]] as const) {
      if (value === undefined) delete process.env[name];
      else process.env[name] = value;
    }
  });

  function drive(): string[] {
    const events = new EventBus();
    const display = attachRunDisplay(events, { job: "report", workers: 2, out, now: () => Date.now() });
    vi.advanceTimersByTime(100);
    events.emit("run:started", { run: RUN, chunks: RECORDS.length, records: RECORDS });
    events.emit("chunk:started", { chunk: { ...INGEST_0, startedAt: Date.now() } });
    events.emit("chunk:log", { chunkId: INGEST_0.id, attempt: 1, level: "log", text: "reading input" });
    vi.advanceTimersByTime(100);
    events.emit("chunk:failed", { chunk: { ...INGEST_0, state: "failed" }, error: { message: "gone", kind: "error" }, willRetry: false, durationMs: 3 });
    display.stop();
    display.stop();
    return written.split("\x1b[?2026h").slice(1).map((frame) => frame.replace(/\x1b\[\?2026l$/, ""));
  }

  it("redraws in place: each frame moves up over the block the last one drew, prints new lines above, then the block", () => {
    process.env.NO_COLOR = "1";
    const frames = drive();
    expect(frames).toHaveLength(3);
    expect(frames[0]).toMatch(/^\r\x1b\[J. report {2}resolving what to run… · 0s\n$/);
    const above = "\r\x1b[1A\x1b[J" + `${clockTime(100)} [ingest.0#1] reading input\n`;
    expect(frames[1].slice(0, above.length)).toBe(above);
    const block = frames[1].split("\n").slice(1, -1);
    expect(block).toHaveLength(5); // header, ingest, its chunk, stats, report
    // The final frame: over those 5 lines, the failure above, then only the jobs.
    expect(frames[2]).toMatch(/^\r\x1b\[5A\x1b\[J✗ ingest\.0 failed \(attempt 1, error\): gone\n✗ ingest .*\n· stats .*\n· report .*\n$/);
    // NO_COLOR: nothing but cursor movement and erasing.
    expect(written.replace(/\x1b\[(\d+A|J|\?2026[hl])/g, "")).not.toContain("\x1b");
  });

  it("paints failures red on a colour terminal", () => {
    delete process.env.NO_COLOR;
    // Node's styleText asks the process's stdout (not this fake stream) whether it takes colour.
    process.env.FORCE_COLOR = "1";
    drive();
    expect(written).toContain("\x1b[31m✗ ingest.0 failed");
  });
});

describe("whether stau run draws live progress", () => {
  const tty = { isTTY: true } as NodeJS.WriteStream;
  const pipe = { isTTY: false } as NodeJS.WriteStream;
  const { CI: ci, TERM: term } = process.env;
  afterEach(() => {
    for (const [name, value] of [["CI", ci], ["TERM", term]] as const) {
      if (value === undefined) delete process.env[name];
      else process.env[name] = value;
    }
  });

  it("only when stderr and stdout are both a terminal, one that moves its cursor, outside CI", () => {
    delete process.env.CI;
    process.env.TERM = "xterm-256color";
    expect(wantsLiveProgress(tty, tty)).toBe(true);
    // `stau run x | tee out`: a script or a log reads stdout, and gets the event lines on stderr.
    expect(wantsLiveProgress(tty, pipe)).toBe(false);
    expect(wantsLiveProgress(pipe, tty)).toBe(false);
    process.env.CI = "false";
    expect(wantsLiveProgress(tty, tty)).toBe(true);
    process.env.CI = "true";
    expect(wantsLiveProgress(tty, tty)).toBe(false);
    delete process.env.CI;
    process.env.TERM = "dumb";
    expect(wantsLiveProgress(tty, tty)).toBe(false);
  });
});
