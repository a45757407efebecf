import { describe, expect, test } from "vitest";
import { reduce } from "../../src/ui/reducer.js";
import { chunk, job, plan, run, snapshot } from "./fixtures.js";
import { rowsOf } from "../../src/ui/navigation.js";
import { apply, cmd, start } from "./helpers.js";

const jobs = (n: number) => Array.from({ length: n }, (_, i) => job(`job_${i}`));

describe("navigation", () => {
  test("down/up move the selection and stop at the ends", () => {
    let state = start(snapshot({ jobs: jobs(3) }));
    state = apply(state, cmd("down"), cmd("down"), cmd("down"), cmd("down"));
    expect(state.selected.jobs).toBe(2);
    state = apply(state, cmd("up"), cmd("up"), cmd("up"));
    expect(state.selected.jobs).toBe(0);
  });

  test("moving past the pane scrolls the window just enough; End and PgDn jump", () => {
    let state = start(snapshot({ jobs: jobs(500) }), { rows: 20, columns: 80 });
    const rows = rowsOf(state, "jobs");
    expect(rows).toBeGreaterThan(1);
    state = apply(state, ...Array.from({ length: rows }, () => cmd("down")));
    // One row past the window: the list scrolls by one, not by a page.
    expect(state.selected.jobs).toBe(rows);
    expect(state.top.jobs).toBe(1);
    state = apply(state, cmd("bottom"));
    expect(state.selected.jobs).toBe(499);
    expect(state.top.jobs).toBe(500 - rows);
    state = apply(state, cmd("top"), cmd("page-down"));
    expect(state.selected.jobs).toBe(rows - 1);
    expect(state.top.jobs).toBe(0);
  });

  test("Tab cycles the panes, Shift+Tab goes back, both wrap around", () => {
    let state = start(snapshot());
    const order = [state.focus];
    for (let i = 0; i < 5; i++) order.push((state = reduce(state, cmd("next-pane"))).focus);
    expect(order).toEqual(["jobs", "queue", "running", "failures", "logs", "jobs"]);
    expect(reduce(state, cmd("prev-pane")).focus).toBe("logs");
  });

  test("each pane keeps its own selection", () => {
    const s = snapshot({ jobs: jobs(5), runs: [{ run: run("r1", "job_0"), chunks: [0, 1, 2].map((i) => chunk("r1", "job_0", i)) }] });
    const state = apply(start(s), cmd("down"), cmd("down"), cmd("next-pane"), cmd("down"));
    expect(state.selected).toMatchObject({ jobs: 2, queue: 1 });
  });

  test("a selection past the end of a shrunk list is clamped to its last row", () => {
    const runs = [{ run: run("r1", "job_0"), chunks: Array.from({ length: 10 }, (_, i) => chunk("r1", "job_0", i)) }];
    let state = apply(start(snapshot({ jobs: jobs(1), runs })), cmd("next-pane"), cmd("bottom"));
    expect(state.selected.queue).toBe(9);
    state = reduce(state, { type: "snapshot", snapshot: snapshot({ jobs: jobs(1), runs: [{ run: runs[0].run, chunks: runs[0].chunks.slice(0, 4) }] }) });
    expect(state.selected.queue).toBe(3);
    state = reduce(state, { type: "snapshot", snapshot: snapshot({ jobs: jobs(1) }) });
    expect(state.selected.queue).toBe(0);
  });

  test("resizing keeps the selection in view", () => {
    let state = apply(start(snapshot({ jobs: jobs(300) }), { rows: 60, columns: 120 }), cmd("down"));
    state = apply(state, ...Array.from({ length: 25 }, () => cmd("down")));
    expect(state.top.jobs).toBe(0);
    state = reduce(state, { type: "resize", rows: 20, columns: 120 });
    expect(state.size).toEqual({ rows: 20, columns: 120 });
    expect(state.top.jobs).toBeGreaterThan(0);
    expect(state.top.jobs).toBeLessThanOrEqual(26);
  });
});

describe("plan before you press (t)", () => {
  const s = snapshot({ jobs: [job("daily_stats")] });

  test("t asks for the plan and shows it; Enter triggers the job", () => {
    let state = reduce(start(s), cmd("trigger"));
    expect(state.overlay).toMatchObject({ kind: "plan", job: "daily_stats", preview: null });
    const request = state.overlay?.kind === "plan" ? state.overlay.request : -1;
    expect(state.effects).toEqual([{ type: "plan", job: "daily_stats", request }]);
    // Enter before the plan arrived starts nothing and keeps the dialog.
    const early = reduce(state, cmd("confirm"));
    expect(early.effects).toEqual([]);
    expect(early.overlay).toMatchObject({ kind: "plan", preview: null });
    state = reduce(state, { type: "plan", request, preview: plan });
    expect(state.overlay).toMatchObject({ kind: "plan", preview: plan });
    state = reduce(state, cmd("confirm"));
    expect(state.effects).toEqual([{ type: "trigger", job: "daily_stats" }]);
    expect(state.overlay).toBeNull();
  });

  test("Esc cancels: nothing is triggered and a late plan is ignored", () => {
    let state = apply(start(s), cmd("trigger"));
    const request = state.overlay?.kind === "plan" ? state.overlay.request : -1;
    state = reduce(state, cmd("close"));
    expect(state.overlay).toBeNull();
    expect(state.effects).toEqual([]);
    state = reduce(state, { type: "plan", request, preview: plan });
    expect(state.overlay).toBeNull();
  });

  test("a plan that failed shows its error and Enter only closes", () => {
    let state = reduce(start(s), cmd("trigger"));
    const request = state.overlay?.kind === "plan" ? state.overlay.request : -1;
    state = reduce(state, { type: "plan", request, preview: null, error: "cycle a → b → a" });
    expect(state.overlay).toMatchObject({ error: "cycle a → b → a" });
    state = reduce(state, cmd("confirm"));
    expect(state.overlay).toBeNull();
    expect(state.effects).toEqual([]);
  });
});

describe("retry and cancel", () => {
  const failedChunk = chunk("r1", "daily_stats", 0, "failed", { error: { message: "boom\nat line 2", kind: "error" } });
  const s = snapshot({
    jobs: [job("daily_stats"), job("other")],
    runs: [
      { run: run("r2", "other"), chunks: [chunk("r2", "other", 0, "running")] },
      { run: run("r1", "daily_stats", "failed"), chunks: [failedChunk, chunk("r1", "daily_stats", 1, "upstream_failed")] },
    ],
  });
  const inFailures = (state = start(s)) => apply(state, cmd("next-pane"), cmd("next-pane"), cmd("next-pane"));

  test("r on a failed chunk retries its run", () => {
    const state = reduce(inFailures(), cmd("retry"));
    expect(state.effects).toEqual([{ type: "retry", runId: "r1" }]);
  });

  test("r on a job whose newest run failed retries that run; on a healthy job it only explains", () => {
    expect(reduce(start(s), cmd("retry")).effects).toEqual([{ type: "retry", runId: "r1" }]);
    const other = apply(start(s), cmd("down"), cmd("retry"));
    expect(other.effects).toEqual([]);
    expect(other.notice?.level).toBe("warn");
  });

  test("R retries everything that failed", () => {
    expect(reduce(start(s), cmd("retry-all")).effects).toEqual([{ type: "retry-all" }]);
  });

  test("c asks first; Enter cancels the run, Esc does not", () => {
    const running = apply(start(s), cmd("next-pane"), cmd("next-pane"));
    expect(running.focus).toBe("running");
    const asked = reduce(running, cmd("cancel-run"));
    expect(asked.overlay).toMatchObject({ kind: "confirm", confirm: { kind: "cancel-run", runId: "r2" } });
    expect(asked.effects).toEqual([]);
    expect(reduce(asked, cmd("confirm")).effects).toEqual([{ type: "cancel", runId: "r2" }]);
    expect(reduce(asked, cmd("close")).effects).toEqual([]);
  });

  test("c on a finished run refuses", () => {
    const state = reduce(inFailures(), cmd("cancel-run"));
    expect(state.overlay).toBeNull();
    expect(state.notice?.text).toMatch(/r1/);
  });

  test("Enter in Failures opens the whole error", () => {
    const state = reduce(inFailures(), cmd("open-error"));
    expect(state.overlay).toMatchObject({ kind: "text" });
    expect(state.overlay?.kind === "text" && state.overlay.lines.join("\n")).toContain("at line 2");
  });
});

describe("quitting", () => {
  const busy = snapshot({ jobs: [job("a")], runs: [{ run: run("r1", "a"), chunks: [chunk("r1", "a", 0, "running")] }] });

  test("q quits (draining) at once when nothing runs", () => {
    const state = reduce(start(snapshot()), cmd("quit"));
    expect(state.effects).toEqual([{ type: "quit", force: false }]);
    expect(state.quit).toBe("draining");
    expect(state.interrupted).toBe(false);
  });

  test("q asks when chunks are running; Enter drains, Esc stays", () => {
    const asked = reduce(start(busy), cmd("quit"));
    expect(asked.overlay).toMatchObject({ kind: "confirm", confirm: { kind: "quit", running: 1 } });
    expect(asked.effects).toEqual([]);
    expect(reduce(asked, cmd("confirm")).effects).toEqual([{ type: "quit", force: false }]);
    const stayed = reduce(asked, cmd("close"));
    expect(stayed.effects).toEqual([]);
    expect(stayed.quit).toBe("running");
  });

  test("Ctrl+C drains without asking; a second Ctrl+C forces; a third does nothing more", () => {
    const first = reduce(start(busy), cmd("interrupt"));
    expect(first.effects).toEqual([{ type: "quit", force: false }]);
    expect(first.overlay).toBeNull();
    // stau then exits 130, as on Ctrl+C in every command.
    expect(first.interrupted).toBe(true);
    const second = reduce(first, cmd("interrupt"));
    expect(second.effects).toEqual([{ type: "quit", force: true }]);
    expect(reduce(second, cmd("interrupt")).effects).toEqual([]);
  });

  test("Ctrl+C during a drain that q started forces it, and counts as an interrupt", () => {
    const draining = apply(start(busy), cmd("quit"), cmd("confirm"));
    expect(draining).toMatchObject({ quit: "draining", interrupted: false });
    const forced = reduce(draining, cmd("interrupt"));
    expect(forced).toMatchObject({ quit: "forcing", interrupted: true, effects: [{ type: "quit", force: true }] });
  });

  test("Ctrl+C works inside a dialog too", () => {
    const state = apply(start(busy), cmd("help"), cmd("interrupt"));
    expect(state.effects).toEqual([{ type: "quit", force: false }]);
  });

  test("stau stopping on its own ends the console", () => {
    const state = reduce(start(snapshot()), { type: "events", events: [{ name: "instance:stopped", payload: { aborted: 0 } }] });
    expect(state.effects).toContainEqual({ type: "exit" });
  });
});

describe("other commands", () => {
  test("p pauses the scheduler and says so; again resumes", () => {
    const paused = reduce(start(snapshot()), cmd("pause"));
    expect(paused.effects).toEqual([{ type: "pause", paused: true }]);
    expect(paused.data.paused).toBe(true);
    expect(reduce(paused, cmd("pause")).effects).toEqual([{ type: "pause", paused: false }]);
  });

  test("g asks for the selected job's graph; the answer opens as text", () => {
    const state = reduce(start(snapshot({ jobs: [job("daily_stats")] })), cmd("graph"));
    expect(state.effects).toEqual([{ type: "graph", job: "daily_stats" }]);
    expect(reduce(state, { type: "show-text", title: "deps", lines: ["a", "b"] }).overlay).toMatchObject({ kind: "text", lines: ["a", "b"] });
  });

  test("? opens the help, Esc closes it", () => {
    const state = reduce(start(snapshot()), cmd("help"));
    expect(state.overlay?.kind).toBe("help");
    expect(reduce(state, cmd("close")).overlay).toBeNull();
  });

  test("effects belong to the action that asked: the next action starts with none", () => {
    const state = reduce(start(snapshot()), cmd("retry-all"));
    expect(reduce(state, { type: "tick", now: state.now + 1 }).effects).toEqual([]);
  });

  test("notices expire on the shared clock", () => {
    const state = reduce(start(snapshot()), { type: "notice", text: "hello", level: "info" });
    expect(reduce(state, { type: "tick", now: state.now + 1000 }).notice?.text).toBe("hello");
    expect(reduce(state, { type: "tick", now: state.now + 60_000 }).notice).toBeNull();
  });
});
