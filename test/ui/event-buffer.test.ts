import { afterEach, beforeEach, describe, expect, test, vi } from "vitest";
import { EventBus } from "../../src/events.js";
import type { Action, EngineEventEntry } from "../../src/ui/actions.js";
import { createConsoleStore } from "../../src/ui/console-store.js";
import { attachEventBuffer, createEventBuffer } from "../../src/ui/event-buffer.js";
import { EVENT_NAMES } from "../../src/events.js";
import { chunk, fakeController, job, NOW, run, snapshot } from "./fixtures.js";

const log = (i: number): EngineEventEntry => ({ name: "chunk:log", payload: { chunkId: "c", attempt: 1, level: "info", text: `line ${i}` } });

describe("event buffer", () => {
  beforeEach(() => void vi.useFakeTimers());
  afterEach(() => void vi.useRealTimers());

  test("a burst of events reaches the reducer as one batch after 100 ms", () => {
    const flushed: EngineEventEntry[][] = [];
    const buffer = createEventBuffer((batch) => flushed.push(batch));
    for (let i = 0; i < 500; i++) buffer.push(log(i));
    expect(flushed).toHaveLength(0);
    vi.advanceTimersByTime(99);
    expect(flushed).toHaveLength(0);
    vi.advanceTimersByTime(1);
    expect(flushed).toHaveLength(1);
    expect(flushed[0]).toHaveLength(500);
  });

  test("a steady stream flushes at most ten times a second", () => {
    const flushed: EngineEventEntry[][] = [];
    const buffer = createEventBuffer((batch) => flushed.push(batch));
    for (let ms = 0; ms < 1000; ms++) {
      buffer.push(log(ms));
      vi.advanceTimersByTime(1);
    }
    expect(flushed.length).toBeLessThanOrEqual(10);
    expect(flushed.flat()).toHaveLength(1000);
  });

  test("an idle buffer sets no timer", () => {
    createEventBuffer(() => undefined);
    expect(vi.getTimerCount()).toBe(0);
  });

  test("progress is coalesced per chunk: only the newest count is kept, in place", () => {
    const flushed: EngineEventEntry[][] = [];
    const buffer = createEventBuffer((batch) => flushed.push(batch));
    buffer.push({ name: "chunk:progress", payload: { chunkId: "a", done: 1, total: 10 } });
    buffer.push(log(1));
    buffer.push({ name: "chunk:progress", payload: { chunkId: "a", done: 5, total: 10 } });
    buffer.push({ name: "chunk:progress", payload: { chunkId: "b", done: 1, total: 2 } });
    buffer.flush();
    expect(flushed[0].map((e) => (e.name === "chunk:progress" ? `${e.payload.chunkId}${e.payload.done}` : e.name))).toEqual(["a5", "chunk:log", "b1"]);
  });

  test("close drops what is buffered and ignores later events", () => {
    const flushed: EngineEventEntry[][] = [];
    const buffer = createEventBuffer((batch) => flushed.push(batch));
    buffer.push(log(1));
    buffer.close();
    buffer.push(log(2));
    vi.advanceTimersByTime(1000);
    expect(flushed).toHaveLength(0);
  });

  test("attachEventBuffer follows every engine event and unsubscribes", () => {
    const bus = new EventBus();
    const seen: string[] = [];
    const off = attachEventBuffer(bus, { push: (e) => seen.push(e.name), flush: () => undefined, close: () => undefined });
    bus.emit("warning", { message: "x" });
    bus.emit("run:finished", { run: run("r", "a", "done") });
    expect(seen).toEqual(["warning", "run:finished"]);
    off();
    bus.emit("warning", { message: "y" });
    expect(seen).toHaveLength(2);
    expect(EVENT_NAMES).toContain("chunk:progress");
    expect(EVENT_NAMES).toHaveLength(21);
  });
});

describe("console store", () => {
  beforeEach(() => void vi.useFakeTimers({ now: NOW }));
  afterEach(() => void vi.useRealTimers());

  test("600 engine events become one events action, one state change", () => {
    const s = snapshot({ jobs: [job("a")], runs: [{ run: run("r1", "a"), chunks: [chunk("r1", "a", 0, "running")] }] });
    const controller = fakeController(s);
    const store = createConsoleStore(controller, { size: { rows: 30, columns: 100 } });
    store.start();
    let changes = 0;
    store.subscribe(() => changes++);
    for (let i = 0; i < 300; i++) controller.events.emit("chunk:log", { chunkId: "r1.a.0", attempt: 1, level: "info", text: `l${i}` });
    for (let i = 0; i < 300; i++) controller.events.emit("chunk:progress", { chunkId: "r1.a.0", done: i, total: 300 });
    vi.advanceTimersByTime(100);
    expect(changes).toBe(1);
    expect(store.getState().logs.lines).toHaveLength(300);
    expect(store.getState().data.progress.get("r1.a.0")).toEqual({ done: 299, total: 300 });
    store.close();
  });

  test("one clock drives time: a single interval, ticking once a second", () => {
    const controller = fakeController(snapshot());
    const store = createConsoleStore(controller, { size: { rows: 30, columns: 100 } });
    const before = vi.getTimerCount();
    store.start();
    expect(vi.getTimerCount() - before).toBe(1);
    controller.busy = 3;
    vi.advanceTimersByTime(1000);
    expect(store.getState().now).toBe(NOW + 1000);
    expect(store.getState().data.busy).toBe(3);
    store.close();
    expect(vi.getTimerCount()).toBe(0);
  });

  test("events implying changes take one (throttled) snapshot; older events are applied first", async () => {
    const controller = fakeController(snapshot({ jobs: [job("a")] }));
    const store = createConsoleStore(controller, { size: { rows: 30, columns: 100 }, refreshMs: 500 });
    const snapshots = vi.spyOn(controller, "snapshot");
    store.start();
    controller.current = snapshot({ jobs: [job("a")], runs: [{ run: run("r1", "a"), chunks: [chunk("r1", "a", 0, "queued"), chunk("r1", "a", 1, "queued")] }] });
    controller.events.emit("run:started", { run: run("r1", "a"), chunks: 2 });
    controller.events.emit("registry:reloaded", { files: ["jobs/a.ts"], broken: [] });
    vi.advanceTimersByTime(100);
    await vi.advanceTimersByTimeAsync(600);
    expect(snapshots).toHaveBeenCalledTimes(1);
    expect(store.getState().views.queue).toHaveLength(2);
    store.close();
  });

  test("events still buffered when a snapshot is taken are applied before it, never after", async () => {
    const a0 = chunk("r1", "a", 0, "running");
    const controller = fakeController(snapshot({ jobs: [job("a")], runs: [{ run: run("r1", "a"), chunks: [a0] }] }));
    const store = createConsoleStore(controller, { size: { rows: 30, columns: 100 }, refreshMs: 500 });
    store.start();
    controller.events.emit("registry:reloaded", { files: [], broken: [] });
    await vi.advanceTimersByTimeAsync(100);
    // The next snapshot is throttled to 500 ms after that one; it will say the chunk is done.
    controller.events.emit("run:finished", { run: run("r1", "a", "done") });
    await vi.advanceTimersByTimeAsync(100);
    controller.current = snapshot({ jobs: [job("a")], runs: [{ run: run("r1", "a", "done"), chunks: [chunk("r1", "a", 0, "done")] }] });
    await vi.advanceTimersByTimeAsync(350);
    // A late, stale event: it is still in the buffer when the snapshot is taken.
    controller.events.emit("chunk:started", { chunk: a0 });
    await vi.advanceTimersByTimeAsync(300);
    expect(store.getState().data.chunks.get(a0.id)?.state).toBe("done");
    store.close();
  });

  test("controller answers come back as actions: plan, logs, failures as notices", async () => {
    const controller = fakeController(snapshot({ jobs: [job("a")] }), { trigger: async () => Promise.reject(new Error("no such job")) });
    const store = createConsoleStore(controller, { size: { rows: 30, columns: 100 } });
    store.start();
    const run = (action: Action) => store.dispatch(action);
    run({ type: "command", command: { type: "trigger" } });
    await vi.advanceTimersByTimeAsync(0);
    expect(store.getState().overlay).toMatchObject({ kind: "plan", preview: { job: "daily_stats" } });
    run({ type: "command", command: { type: "confirm" } });
    await vi.advanceTimersByTimeAsync(0);
    expect(store.getState().notice).toMatchObject({ level: "error", text: expect.stringContaining("no such job") });
    expect(controller.calls.map((c) => c.name)).toEqual(["logTail", "plan"]);
    store.close();
  });

  test("quitting calls controller.quit(false) and resolves exited after it resolved; Ctrl+C twice forces", async () => {
    let finish!: () => void;
    const controller = fakeController(snapshot(), { quit: (force) => (controller.calls.push({ name: "quit", args: [force] }), new Promise<void>((r) => (finish = r))) });
    const store = createConsoleStore(controller, { size: { rows: 30, columns: 100 } });
    store.start();
    let exited = false;
    void store.exited.then(() => (exited = true));
    store.dispatch({ type: "command", command: { type: "interrupt" } });
    store.dispatch({ type: "command", command: { type: "interrupt" } });
    await vi.advanceTimersByTimeAsync(0);
    expect(controller.calls.filter((c) => c.name === "quit").map((c) => c.args)).toEqual([[false], [true]]);
    expect(exited).toBe(false);
    finish();
    await vi.advanceTimersByTimeAsync(0);
    expect(exited).toBe(true);
  });

  test("a failing quit rejects exited", async () => {
    const controller = fakeController(snapshot(), { quit: async () => Promise.reject(new Error("drain failed")) });
    const store = createConsoleStore(controller, { size: { rows: 30, columns: 100 } });
    store.start();
    store.dispatch({ type: "command", command: { type: "quit" } });
    await expect(store.exited).rejects.toThrow("drain failed");
  });
});
