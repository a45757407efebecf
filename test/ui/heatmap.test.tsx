import { render } from "ink-testing-library";
import { describe, expect, test } from "vitest";
import type { HeatCell, HeatmapData } from "../../src/console/contract.js";
import { heatmapOf, readHeatmap } from "../../src/console/heatmap.js";
import { MemoryStore } from "../helpers/memory-store.js";
import { cellLook, heatStats } from "../../src/ui/heatmap.js";
import { HeatmapView } from "../../src/ui/HeatmapView.js";
import type { ConsoleState } from "../../src/ui/state.js";
import { chunk, job, NOW, run, snapshot } from "./fixtures.js";
import { apply, cmd, start } from "./helpers.js";

// `h`: a job's latest run as a grid of its work IDs. Failures and the slowest must stand
// out, the cursor must name what it is on, and a huge run must cost what a small one does.

const cells = (n: number, at: (i: number) => Partial<HeatCell> = () => ({})): HeatCell[] =>
  Array.from({ length: n }, (_, i) => ({ id: i + 1, chunkId: `r1.scores.${Math.floor(i / 4)}`, state: "done", attempts: 1, durationMs: 100, finishedAt: NOW - 5_000, ...at(i) }));

const data = (list: HeatCell[], status: HeatmapData["status"] = "failed"): HeatmapData => ({ job: "scores", runId: "r1", runJob: "scores", status, cells: list });

const opened = (state: ConsoleState) => {
  const overlay = state.overlay;
  if (overlay?.kind !== "heatmap") throw new Error(`no heatmap open: ${overlay?.kind}`);
  return overlay;
};

describe("the heatmap's data", () => {
  test("is the job's newest run, one cell per work ID in chunk order", () => {
    const older = { run: run("r0", "scores", "done", { createdAt: NOW - 90_000 }), chunks: [chunk("r0", "scores", 0, "done", { workIds: [9] })] };
    const newest = { run: run("r1", "scores", "failed"), chunks: [chunk("r1", "scores", 0, "done", { workIds: [1, 2], durationMs: 40 }), chunk("r1", "scores", 1, "failed", { workIds: [3] })] };
    const other = { run: run("r2", "report", "done", { createdAt: NOW }), chunks: [chunk("r2", "report", 0, "done")] };
    const heat = heatmapOf([other, older, newest], "scores")!;
    expect(heat.runId).toBe("r1");
    expect(heat.cells.map((c) => [c.id, c.chunkId, c.state, c.durationMs])).toEqual([
      [1, "r1.scores.0", "done", 40],
      [2, "r1.scores.0", "done", 40],
      [3, "r1.scores.1", "failed", null],
    ]);
    expect(heatmapOf([other], "scores")).toBeNull();
    // A newer run of a job that needs it holds its chunks too: that run is its latest.
    const needing = { run: run("r3", "report", "done", { createdAt: NOW + 1 }), chunks: [chunk("r3", "scores", 0, "done", { workIds: [5] }), chunk("r3", "report", 0, "done")] };
    expect(heatmapOf([newest, needing], "scores")).toMatchObject({ runId: "r3", runJob: "report", cells: [{ id: 5, chunkId: "r3.scores.0" }] });
  });

  test("is read from the store's newest run of the job, however many runs came after it", async () => {
    const store = new MemoryStore();
    store.insertRun(run("r0", "scores", "running", { createdAt: 1 }));
    store.addChunks([chunk("r0", "scores", 0, "pending", { workIds: [4] })]);
    for (let i = 1; i <= 300; i++) {
      store.insertRun(run(`n${i}`, "report", "running", { createdAt: 1 + i }));
      store.addChunks([chunk(`n${i}`, "report", 0, "pending")]);
    }
    await store.commit();
    expect(await readHeatmap(store, "scores")).toMatchObject({ runId: "r0", cells: [{ id: 4, chunkId: "r0.scores.0" }] });
    expect(await readHeatmap(store, "nobody")).toBeNull();
  });

  test("marks failures and the slowest; fast ones are dim", () => {
    const list = cells(40, (i) => (i === 17 ? { state: "failed" } : i === 30 ? { durationMs: 2_000 } : i < 10 ? { durationMs: 50 } : {}));
    const stats = heatStats(list);
    expect(stats).toMatchObject({ medianMs: 100, maxMs: 2_000, failed: 1 });
    expect(cellLook(list[17]!, stats, "duration", NOW).look).toMatchObject({ color: "red", bold: true });
    expect(cellLook(list[30]!, stats, "duration", NOW).look).toMatchObject({ color: "yellow", bold: true });
    expect(cellLook(list[3]!, stats, "duration", NOW).look).toMatchObject({ color: "green", dim: true });
    // By age: an hour-old success is dim, a fresh one bright.
    expect(cellLook({ ...list[3]!, finishedAt: NOW - 2 * 3_600_000 }, stats, "age", NOW).look).toMatchObject({ dim: true });
    expect(cellLook(list[3]!, stats, "age", NOW).look).toMatchObject({ color: "green", bold: true });
  });
});

describe("the heatmap dialog", () => {
  const open = () => {
    let state = start(snapshot({ jobs: [job("scores")] }));
    state = apply(state, cmd("heatmap"));
    const { request } = opened(state);
    expect(state.effects).toContainEqual({ type: "heatmap", job: "scores", request });
    return apply({ ...state, effects: [] }, { type: "heatmap", request, data: data(cells(40, (i) => (i === 17 ? { state: "failed" } : {}))) });
  };

  test("opens on the first failure of an idle job, shaded by age", () => {
    const heat = opened(open());
    expect(heat.cursor).toBe(17);
    expect(heat.shade).toBe("age");
  });

  test("moves by cell and by row, stops at the ends, and toggles the shading", () => {
    let state = open();
    state = apply(state, cmd("right"), cmd("right"));
    expect(opened(state).cursor).toBe(19);
    // 40 cells in a 120-column grid are one row: up and down stop where they are.
    state = apply(state, cmd("down"));
    expect(opened(state).cursor).toBe(19);
    state = apply(state, cmd("bottom"));
    expect(opened(state).cursor).toBe(39);
    state = apply(state, cmd("right"), cmd("top"), cmd("left"));
    expect(opened(state).cursor).toBe(0);
    expect(opened(apply(state, cmd("shade"))).shade).toBe("duration");
  });

  test("Enter asks for the chunk's log; Esc from that log goes back to the heatmap", () => {
    let state = open();
    const heat = opened(state);
    state = apply(state, cmd("confirm"));
    expect(state.effects).toContainEqual({ type: "chunk-log", job: "scores", chunkId: "r1.scores.4", back: heat });
    state = apply({ ...state, effects: [] }, { type: "show-text", title: "log of scores.4", lines: ["boom"], back: heat });
    expect(state.overlay?.kind).toBe("text");
    state = apply(state, cmd("close"));
    expect(opened(state).cursor).toBe(17);
    expect(apply(state, cmd("close")).overlay).toBeNull();
  });

  test("asks again each second while the run is active, and keeps the cursor", () => {
    let state = start(snapshot({ jobs: [job("scores")] }));
    state = apply(state, cmd("heatmap"));
    state = apply({ ...state, effects: [] }, { type: "heatmap", request: opened(state).request, data: data(cells(8, (i) => ({ state: i < 3 ? "done" : "running" })), "running") });
    state = apply(state, cmd("right"));
    state = apply(state, { type: "tick", now: NOW + 500 });
    expect(state.effects).toEqual([]);
    state = apply(state, { type: "tick", now: NOW + 1_000 });
    const again = opened(state).request;
    expect(state.effects).toEqual([{ type: "heatmap", job: "scores", request: again }]);
    state = apply({ ...state, effects: [] }, { type: "heatmap", request: again, data: data(cells(8), "done") });
    expect(opened(state)).toMatchObject({ cursor: 1, shade: "duration" });
    // Finished: no more asking.
    expect(apply(state, { type: "tick", now: NOW + 5_000 }).effects).toEqual([]);
  });

  test("while the run it shows is one the console holds, its own data answers each second, without asking stau", () => {
    const chunks = [0, 1, 2].map((i) => chunk("r1", "scores", i, i === 0 ? "done" : "running", { durationMs: i === 0 ? 40 : null }));
    let state = start(snapshot({ jobs: [job("scores")], runs: [{ run: run("r1", "scores"), chunks }] }));
    state = apply(state, cmd("heatmap"));
    const active = heatmapOf([{ run: run("r1", "scores"), chunks }], "scores")!;
    state = apply({ ...state, effects: [] }, { type: "heatmap", request: opened(state).request, data: active });
    state = apply(state, { type: "events", at: NOW, events: [{ name: "chunk:done", payload: { chunk: chunk("r1", "scores", 1, "done", { durationMs: 70 }), durationMs: 70 } }] });
    state = apply(state, { type: "tick", now: NOW + 1_000 });
    expect(state.effects).toEqual([]);
    expect(opened(state).data?.cells.map((c) => [c.chunkId, c.state, c.durationMs])).toEqual([
      ["r1.scores.0", "done", 40],
      ["r1.scores.1", "done", 70],
      ["r1.scores.2", "running", null],
    ]);
  });

  test("says so when the job has no run in view", () => {
    let state = start(snapshot({ jobs: [job("scores")] }));
    state = apply(state, cmd("heatmap"));
    state = apply(state, { type: "heatmap", request: opened(state).request, data: null });
    expect(opened(state).error).toContain("scores has no run");
  });
});

describe("drawing the heatmap", () => {
  const frame = (list: HeatCell[], cursor: number, rows = 6) =>
    render(<HeatmapView data={data(list)} error={null} cursor={cursor} scroll={0} shade="duration" width={50} rows={rows} now={NOW} />).lastFrame()!;

  test("draws a character per ID, the summary above and the cursor's cell below", () => {
    const text = frame(cells(120, (i) => (i === 17 ? { state: "failed", attempts: 3 } : {})), 17);
    const lines = text.split("\n");
    expect(lines[0]).toContain("run r1 · failed · 120 IDs · 1 failed");
    expect(lines.slice(1, 4).map((l) => l.length)).toEqual([50, 50, 20]);
    expect(lines[4]).toBe("ID 18 · chunk scores.4 · failed · attempt 3 · took 100ms · ended 5s ago");
  });

  test("builds only the visible rows: 100,000 IDs draw as many lines as 200", () => {
    const big = frame(cells(100_000), 0, 6).split("\n");
    const small = frame(cells(200), 0, 6).split("\n");
    expect(big.length).toBe(small.length);
    expect(big.length).toBe(6);
  });
});
