import { render } from "ink";
import { EventEmitter } from "node:events";
import { afterEach, describe, expect, test } from "vitest";
import { App } from "../../src/ui/App.js";
import { createConsoleStore, type ConsoleStore } from "../../src/ui/console-store.js";
import { runConsole } from "../../src/ui/run-console.js";
import { fakeController, job, NOW, snapshot } from "./fixtures.js";
import { plain, settle } from "./frames.js";

/** A terminal-sized stdout that records what Ink writes and can be resized. */
class FakeStdout extends EventEmitter {
  readonly writes: string[] = [];
  constructor(
    public rows: number,
    public columns: number,
  ) {
    super();
  }
  write = (data: string) => (this.writes.push(data), true);
  resize(rows: number, columns: number) {
    this.rows = rows;
    this.columns = columns;
    this.emit("resize");
  }
}

/** A raw-mode stdin whose key presses Ink reads through 'readable' and read(). */
class FakeStdin extends EventEmitter {
  isTTY = true;
  rawMode = false;
  rawModeOffs = 0;
  private readonly queue: string[] = [];
  setRawMode(on: boolean) {
    this.rawMode = on;
    if (!on) this.rawModeOffs++;
  }
  setEncoding() {}
  resume() {}
  pause() {}
  ref() {}
  unref() {}
  read = () => this.queue.shift() ?? null;
  press(data: string) {
    this.queue.push(data);
    this.emit("readable");
  }
}

const streams = (rows: number, columns: number) => ({ stdout: new FakeStdout(rows, columns), stdin: new FakeStdin() });
const asStreams = (s: ReturnType<typeof streams>) => ({ stdout: s.stdout as unknown as NodeJS.WriteStream, stdin: s.stdin as unknown as NodeJS.ReadStream });
const cleanups: (() => void)[] = [];
afterEach(() => cleanups.splice(0).forEach((c) => c()));

describe("terminal size", () => {
  test("the App follows the terminal's resize events and never outgrows it", async () => {
    const io = streams(40, 120);
    const store: ConsoleStore = createConsoleStore(fakeController(snapshot({ jobs: Array.from({ length: 100 }, (_, i) => job(`job_${i}`)) })), { size: { rows: 40, columns: 120 }, now: () => NOW });
    const app = render(<App store={store} />, { ...asStreams(io), debug: true, exitOnCtrlC: false, patchConsole: false });
    cleanups.push(() => (store.close(), app.unmount()));
    await settle();
    const lastFrame = () => plain(io.stdout.writes.at(-1)).split("\n");
    expect(lastFrame().length).toBe(39);
    io.stdout.resize(15, 60);
    await settle();
    expect(store.getState().size).toEqual({ rows: 15, columns: 60 });
    expect(lastFrame().length).toBe(14);
  });
});

describe("keys", () => {
  test("a key press reaches exactly one handler: the focused pane's", async () => {
    const io = streams(40, 120);
    const store = createConsoleStore(fakeController(snapshot({ jobs: Array.from({ length: 30 }, (_, i) => job(`job_${i}`)) })), { size: { rows: 40, columns: 120 }, now: () => NOW });
    const app = render(<App store={store} />, { ...asStreams(io), debug: true, exitOnCtrlC: false, patchConsole: false });
    cleanups.push(() => (store.close(), app.unmount()));
    await settle();
    expect(io.stdin.rawMode).toBe(true);
    io.stdin.press("j");
    await settle();
    expect(store.getState().selected.jobs).toBe(1);
    io.stdin.press("\t");
    await settle();
    expect(store.getState().focus).toBe("queue");
    io.stdin.press("j");
    await settle();
    expect(store.getState().selected.jobs).toBe(1);
    // Focus moved between panes without the terminal leaving raw mode, even for a moment.
    expect(io.stdin.rawMode).toBe(true);
    expect(io.stdin.rawModeOffs).toBe(0);
    io.stdin.press("?");
    await settle();
    expect(store.getState().overlay?.kind).toBe("help");
    io.stdin.press("j");
    await settle();
    expect(store.getState().selected.jobs).toBe(1);
    expect(store.getState().overlay).toMatchObject({ kind: "help", scroll: 1 });
  });

  test("in a terminal too small for any pane, Ctrl+C still drains, and again forces", async () => {
    const io = streams(1, 30);
    const controller = fakeController(snapshot(), { quit: (force) => (controller.calls.push({ name: "quit", args: [force] }), new Promise<void>(() => undefined)) });
    const store = createConsoleStore(controller, { size: { rows: 1, columns: 30 }, now: () => NOW });
    const app = render(<App store={store} />, { ...asStreams(io), debug: true, exitOnCtrlC: false, patchConsole: false });
    cleanups.push(() => (store.close(), app.unmount()));
    await settle();
    io.stdin.press("\u0003");
    await settle();
    io.stdin.press("\u0003");
    await settle();
    expect(controller.calls.filter((c) => c.name === "quit").map((c) => c.args)).toEqual([[false], [true]]);
  });
});

describe("runConsole", () => {
  test("renders the console and resolves (unmounted) when stau reports it stopped", async () => {
    const io = streams(30, 100);
    const controller = fakeController(snapshot({ jobs: [job("daily_stats")] }));
    let resolved = false;
    const done = runConsole(controller, asStreams(io)).then(() => (resolved = true));
    await settle();
    expect(plain(io.stdout.writes.join(""))).toContain("daily_stats");
    expect(resolved).toBe(false);
    controller.events.emit("instance:stopped", { aborted: 0 });
    await done;
    expect(resolved).toBe(true);
    expect(controller.calls.some((c) => c.name === "quit")).toBe(false);
    // Unmounted: no listener is left on the event bus or the streams.
    const writes = io.stdout.writes.length;
    controller.events.emit("chunk:log", { chunkId: "x", attempt: 1, level: "info", text: "after" });
    await new Promise((r) => setTimeout(r, 150));
    expect(io.stdout.writes.length).toBe(writes);
    expect(io.stdout.listenerCount("resize")).toBe(0);
  });
});
