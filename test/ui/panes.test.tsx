import { describe, expect, test } from "vitest";
import { Dialog } from "../../src/ui/Dialog.js";
import { FailuresPane } from "../../src/ui/FailuresPane.js";
import { Header } from "../../src/ui/Header.js";
import { JobsPane } from "../../src/ui/JobsPane.js";
import { appendLogs, initialLogs } from "../../src/ui/logs-reducer.js";
import { LogsPane } from "../../src/ui/LogsPane.js";
import { QueuePane } from "../../src/ui/QueuePane.js";
import { RunningPane } from "../../src/ui/RunningPane.js";
import { dataFromSnapshot } from "../../src/ui/data-reducer.js";
import { deriveViews } from "../../src/ui/views.js";
import { chunk, job, NOW, plan, run, snapshot } from "./fixtures.js";
import { frameOf } from "./frames.js";

const data = dataFromSnapshot(
  snapshot({
    jobs: [job("daily_stats"), job("clean_measurements"), job("unit_registry", { broken: "jobs/unit_registry.ts:4 SyntaxError: Unexpected token '}'", problems: ["jobs/unit_registry.ts:4 SyntaxError: Unexpected token '}'"] })],
    runs: [
      {
        run: run("r1", "daily_stats"),
        chunks: [
          chunk("r1", "daily_stats", 0, "running", { startedAt: NOW - 83_000 }),
          chunk("r1", "daily_stats", 1, "queued"),
          chunk("r1", "clean_measurements", 0, "failed", { error: { message: "connection refused: db:5432\nsecond line must not show", kind: "error", stack: "Error: connection refused\n    at connect (db.ts:3)" } }),
        ],
      },
    ],
    nextFires: { daily_stats: NOW + 5 * 60_000 },
    lastSuccess: { clean_measurements: NOW - 12 * 60_000 },
    paused: true,
  }),
);
const views = deriveViews(data);
const pane = { width: 100, height: 8, focused: true };

describe("panes", () => {
  test("Jobs: names, states, next fire and freshness; exactly its height in lines", () => {
    const lines = frameOf(<JobsPane {...pane} jobs={views.jobs} selected={0} top={0} now={NOW} schedule="on" />);
    const text = lines.join("\n");
    expect(text).toMatch(/daily_stats\s+running\s+never\s+in 5m\s+never/);
    expect(text).toMatch(/clean_measurements\s+failed\s+failed 5s ago\s+-\s+12m ago/);
    expect(text).toMatch(/unit_registry\s+broken/);
    expect(lines.length).toBeLessThanOrEqual(8);
  });

  test("Jobs: the focused pane marks its selected row; an unfocused one does not", () => {
    const focused = frameOf(<JobsPane {...pane} jobs={views.jobs} selected={1} top={0} now={NOW} schedule="on" />);
    expect(focused.find((l) => l.startsWith("›"))).toContain("clean_measurements");
    const unfocused = frameOf(<JobsPane {...pane} focused={false} jobs={views.jobs} selected={1} top={0} now={NOW} schedule="on" />);
    expect(unfocused.some((l) => l.startsWith("›"))).toBe(false);
  });

  test("Jobs: 2,000 jobs render only the rows that fit", () => {
    const many = deriveViews(dataFromSnapshot(snapshot({ jobs: Array.from({ length: 2000 }, (_, i) => job(`job_${i}`)) })));
    const lines = frameOf(<JobsPane {...pane} height={12} jobs={many.jobs} selected={1500} top={0} now={NOW} schedule="on" />);
    expect(lines.filter((l) => /job_\d+/.test(l))).toHaveLength(11);
    expect(lines.find((l) => l.startsWith("›"))).toContain("job_1500");
    expect(lines[0]).toContain("1501/2000");
  });

  test("Queue: queued chunks with their work IDs", () => {
    const text = frameOf(<QueuePane {...pane} queue={views.queue} selected={0} top={0} now={NOW} />).join("\n");
    expect(text).toMatch(/queued\s+daily_stats\.1 \[1\]/);
  });

  test("Running: chunk id, elapsed time, progress bar from chunk:progress", () => {
    const progress = new Map([["r1.daily_stats.0", { done: 5, total: 10 }]]);
    const text = frameOf(<RunningPane {...pane} running={views.running} progress={progress} selected={0} top={0} now={NOW} workers={4} busy={1} />).join("\n");
    expect(text).toContain("daily_stats.0");
    expect(text).toMatch(/w1 +daily_stats\.0 +1m +(█+)(░+) 5\/10/);
    const [, full, empty] = text.match(/(█+)(░+) 5\/10/)!;
    expect(full.length).toBe(empty.length);
    expect(text).toContain("workers 1/4");
  });

  test("Failures: broken files and failed chunks with the first line of the error only", () => {
    const text = frameOf(<FailuresPane {...pane} failures={views.failures} selected={0} top={0} now={NOW} />).join("\n");
    expect(text).toContain("unit_registry: jobs/unit_registry.ts:4 SyntaxError");
    expect(text).toContain("connection refused: db:5432");
    expect(text).not.toContain("second line");
  });

  test("Logs: job prefix, chunk and attempt on each line; the search highlights", () => {
    const logs = appendLogs(initialLogs(), [
      { job: "daily_stats", chunkId: "r1.daily_stats.0", attempt: 2, at: NOW, level: "info", text: "loaded 120 units" },
      { job: "clean_measurements", chunkId: "r1.clean_measurements.3", attempt: 1, at: NOW, level: "error", text: "bad row 7" },
    ]);
    const lines = frameOf(<LogsPane {...pane} logs={logs} />);
    expect(lines[0]).toContain("Logs · all jobs · following");
    // The one tag format, as `stau logs` writes it (attemptTag), in both views.
    expect(lines.find((l) => l.includes("loaded"))).toMatch(/\d\d:\d\d:\d\d \[daily_stats\.0#2\] loaded 120 units/);
    expect(lines.find((l) => l.includes("bad row"))).toMatch(/\[clean_measurements\.3#1\] bad row 7/);
    const one = frameOf(<LogsPane {...pane} logs={{ ...logs, scope: "daily_stats" }} />);
    expect(one.find((l) => l.includes("loaded"))).toMatch(/\d\d:\d\d:\d\d \[daily_stats\.0#2\] loaded 120 units/);
    const searched = frameOf(<LogsPane {...pane} logs={{ ...logs, query: "units", follow: false }} />);
    expect(searched[0]).toContain("paused");
    expect(searched.filter((l) => l.includes("#"))).toHaveLength(1);
  });

  test("Header: project, store, uptime, workers, paused; chunk counts of active runs apart from what Failures holds", () => {
    const lines = frameOf(<Header data={{ ...data, busy: 1 }} counts={views.counts} failures={views.failureCounts} now={NOW} height={2} width={160} />);
    expect(lines[0]).toBe("stau demo · workers 1/4 · scheduler paused · up 1h · store data/");
    expect(lines[1]).toBe("chunks of active runs: 1 running · 0 pending · 1 queued · 0 done · 1 failed │ failed in recent runs: 1 chunk │ broken jobs: 1");
  });
});

describe("dialogs", () => {
  test("the plan preview: chunks per job, fresh jobs and until when, ETA; Enter/Esc hint", () => {
    const lines = frameOf(<Dialog overlay={{ kind: "plan", job: "daily_stats", request: 1, preview: plan, error: null, scroll: 0 }} width={100} height={10} now={NOW} />);
    const text = lines.join("\n");
    expect(lines[0]).toBe("Trigger daily_stats?");
    expect(text).toContain("daily_stats: 6 work ID(s) · 4 chunk(s)");
    expect(text).toContain("ETA ~2m or more, from past chunk durations");
    expect(text).toMatch(/daily_stats\s+run\s+3/);
    expect(text).toMatch(/clean_measurements\s+fresh\s+—\s+\d\d:\d\d:\d\d \(in 23m\)/);
    // A job needed under two kwargs is two rows, each with its chunks and why.
    expect(text).toMatch(/unit_registry \{"region":"eu"\}\s+run\s+2\s+\d\d:\d\d:\d\d \(in 5m\)\s+stale on 4 of 6 IDs/);
    expect(text).toContain("Enter triggers · Esc cancels");
  });

  test("the ETA never reads 0s, and without history it names the jobs that have none", () => {
    const shown = (preview: typeof plan) => frameOf(<Dialog overlay={{ kind: "plan", job: "daily_stats", request: 1, preview, error: null, scroll: 0 }} width={100} height={10} now={NOW} />).join("\n");
    expect(shown({ ...plan, etaMs: 300 })).toContain("ETA under 1s, from past chunk durations");
    const missing = shown({ ...plan, etaMs: null, noHistory: ["a", "b", "c", "d", "e"] });
    expect(missing).toContain("no ETA: no history for a, b, c and 2 more");
    expect(missing).not.toMatch(/ETA ~|0s/);
  });

  test("while planning, Enter is not offered", () => {
    const text = frameOf(<Dialog overlay={{ kind: "plan", job: "x", request: 1, preview: null, error: null, scroll: 0 }} width={80} height={6} now={NOW} />).join("\n");
    expect(text).toContain("planning x…");
    expect(text).not.toContain("Enter");
  });

  test("help lists the key map and scrolls within its height", () => {
    const lines = frameOf(<Dialog overlay={{ kind: "help", scroll: 0 }} width={100} height={12} now={NOW} />);
    expect(lines.length).toBeLessThanOrEqual(12);
    expect(lines.join("\n")).toContain("trigger the selected job");
    const scrolled = frameOf(<Dialog overlay={{ kind: "help", scroll: 1000 }} width={100} height={12} now={NOW} />);
    expect(scrolled.join("\n")).toContain("type the search text");
  });
});
