import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import type { ScheduleEntrySpec } from "../../src/config/spec.js";
import { PAUSED_REASON, Scheduler, type ScheduleHost, type Skip } from "../../src/schedule/scheduler.js";
import type { ScheduleMark } from "../../src/schedule/ticks.js";
import { at, entry, isoOf, localDate } from "./entries.js";

const CPH = "Europe/Copenhagen";
const clock = { now: () => Date.now() };

/** A host that records everything; `fire` notes the clock so tests see when it really fired. */
function recordingHost() {
  const fires: { id: string; tickAt: string; catchUp: boolean; firedAt: string }[] = [];
  const skips: { id: string; tickAt: string; reason: string; kind: string }[] = [];
  const marks = new Map<string, ScheduleMark>();
  const state = { skipReason: null as Skip | null, fire: async (): Promise<void> => {} };
  const host: ScheduleHost = {
    fire(e, tickAt, catchUp) {
      fires.push({ id: e.id, tickAt: isoOf(tickAt)!, catchUp, firedAt: isoOf(Date.now())! });
      return state.fire();
    },
    skipReason: () => state.skipReason,
    mark: (id, mark) => void marks.set(id, mark),
    skipped: (e, tickAt, { reason, kind }) => void skips.push({ id: e.id, tickAt: isoOf(tickAt)!, reason, kind }),
  };
  return { host, fires, skips, marks, state };
}

let scheduler: Scheduler | null = null;
function startAt(now: string, entries: ScheduleEntrySpec[], marks = new Map<string, ScheduleMark>()) {
  vi.setSystemTime(at(now));
  const rec = recordingHost();
  scheduler = new Scheduler({ entries, marks, clock, host: rec.host });
  scheduler.start();
  return { ...rec, scheduler };
}
const advanceTo = (iso: string) => vi.advanceTimersByTimeAsync(at(iso) - Date.now());
const mark = (lastTickAt: string): ScheduleMark => ({ lastTickAt: at(lastTickAt), lastSkip: null });

beforeEach(() => {
  vi.useFakeTimers();
});
afterEach(() => {
  scheduler?.stop();
  scheduler = null;
  vi.useRealTimers();
});

describe("Scheduler timing", () => {
  it("fires */5 exactly at :05 and :10, not a millisecond early", async () => {
    const { fires } = startAt("2026-01-05T12:02:30Z", [entry({ cron: "*/5 * * * *" })]);
    await advanceTo("2026-01-05T12:04:59.999Z");
    expect(fires).toEqual([]);
    await vi.advanceTimersByTimeAsync(1);
    await advanceTo("2026-01-05T12:10:00Z");
    expect(fires).toEqual([
      { id: "e", tickAt: "2026-01-05T12:05:00.000Z", catchUp: false, firedAt: "2026-01-05T12:05:00.000Z" },
      { id: "e", tickAt: "2026-01-05T12:10:00.000Z", catchUp: false, firedAt: "2026-01-05T12:10:00.000Z" },
    ]);
  });

  it("fires a 6-field cron on its seconds", async () => {
    const { fires } = startAt("2026-01-05T12:00:05Z", [entry({ cron: "*/20 * * * * *" })]);
    await advanceTo("2026-01-05T12:01:00Z");
    expect(fires.map((f) => f.firedAt)).toEqual(["2026-01-05T12:00:20.000Z", "2026-01-05T12:00:40.000Z", "2026-01-05T12:01:00.000Z"]);
  });

  it("fires `every` on epoch-aligned ticks, not counted from the start", async () => {
    const { fires } = startAt("2026-01-05T12:07:00Z", [entry({ everyMs: 15 * 60_000 })]);
    await advanceTo("2026-01-05T12:45:00Z");
    expect(fires.map((f) => f.firedAt)).toEqual(["2026-01-05T12:15:00.000Z", "2026-01-05T12:30:00.000Z", "2026-01-05T12:45:00.000Z"]);
  });

  it("fires 30 2 * * * in Copenhagen once on the spring-forward day, at 03:00 CEST", async () => {
    const { fires } = startAt("2026-03-28T12:00:00Z", [entry({ cron: "30 2 * * *", timezone: CPH })]);
    await advanceTo("2026-03-30T12:00:00Z");
    expect(fires.map((f) => f.firedAt)).toEqual(["2026-03-29T01:00:00.000Z", "2026-03-30T00:30:00.000Z"]);
  });

  it("fires 30 2 * * * in Copenhagen once on the fall-back day, though 02:30 happens twice", async () => {
    const { fires } = startAt("2026-10-24T12:00:00Z", [entry({ cron: "30 2 * * *", timezone: CPH })]);
    await advanceTo("2026-10-26T12:00:00Z");
    expect(fires.map((f) => f.firedAt)).toEqual(["2026-10-25T00:30:00.000Z", "2026-10-26T01:30:00.000Z"]);
    expect(fires.filter((f) => localDate(at(f.firedAt), CPH) === "2026-10-25")).toHaveLength(1);
  });

  it("does not fire a tick again when the clock goes back an hour", async () => {
    const { fires } = startAt("2026-01-05T12:30:00Z", [entry({ cron: "0 * * * *" })]);
    await advanceTo("2026-01-05T13:00:30Z");
    vi.setSystemTime(at("2026-01-05T12:00:30Z"));
    await advanceTo("2026-01-05T14:00:30Z");
    expect(fires.map((f) => f.tickAt)).toEqual(["2026-01-05T13:00:00.000Z", "2026-01-05T14:00:00.000Z"]);
  });

  it("notices a clock jumping forward within a minute, and fires the latest due tick once", async () => {
    const { fires } = startAt("2026-01-05T12:00:00Z", [entry({ cron: "0 0 * * *" }), entry({ id: "hourly", cron: "0 * * * *" })]);
    vi.setSystemTime(at("2026-01-06T00:00:10Z"));
    await vi.advanceTimersByTimeAsync(60_000);
    expect(fires.map(({ id, tickAt, catchUp }) => ({ id, tickAt, catchUp }))).toEqual([
      { id: "e", tickAt: "2026-01-06T00:00:00.000Z", catchUp: false },
      { id: "hourly", tickAt: "2026-01-06T00:00:00.000Z", catchUp: true },
    ]);
  });
});

describe("Scheduler catch-up and marks", () => {
  const hourly = entry({ cron: "0 * * * *" });
  const downSince9 = () => new Map([["e", mark("2026-01-05T09:00:00Z")]]);

  it("after 3 hours down, fires once on start with catchUp, for the latest missed tick", async () => {
    const { fires, marks } = startAt("2026-01-05T12:30:00Z", [hourly], downSince9());
    await vi.advanceTimersByTimeAsync(0);
    expect(fires).toEqual([{ id: "e", tickAt: "2026-01-05T12:00:00.000Z", catchUp: true, firedAt: "2026-01-05T12:30:00.000Z" }]);
    expect(marks.get("e")).toEqual({ lastTickAt: at("2026-01-05T12:00:00Z"), lastSkip: null });
    await advanceTo("2026-01-05T13:00:00Z");
    expect(fires.map((f) => f.catchUp)).toEqual([true, false]);
  });

  it("with catchUp: false, fires nothing for the downtime and resumes on the next tick", async () => {
    const { fires, marks } = startAt("2026-01-05T12:30:00Z", [{ ...hourly, catchUp: false }], downSince9());
    await advanceTo("2026-01-05T12:59:59Z");
    expect(fires).toEqual([]);
    expect(marks.size).toBe(0);
    await advanceTo("2026-01-05T13:00:00Z");
    expect(fires.map((f) => [f.tickAt, f.catchUp])).toEqual([["2026-01-05T13:00:00.000Z", false]]);
  });

  it("does not catch up an entry without a mark", async () => {
    const { fires } = startAt("2026-01-05T12:30:00Z", [hourly]);
    await advanceTo("2026-01-05T12:59:59Z");
    expect(fires).toEqual([]);
  });

  it("does not catch up on a restart whose mark is ahead of the clock", async () => {
    const { fires } = startAt("2026-01-05T12:30:00Z", [hourly], new Map([["e", mark("2026-01-05T13:00:00Z")]]));
    await advanceTo("2026-01-05T14:00:00Z");
    expect(fires.map((f) => f.tickAt)).toEqual(["2026-01-05T14:00:00.000Z"]);
  });

  it("skips a tick the host refuses (overlap), marks it, and a restart does not fire it", async () => {
    const run = startAt("2026-01-05T12:30:00Z", [hourly]);
    run.state.skipReason = { kind: "overlap", reason: "a run of job is active and job does not allow concurrent runs" };
    await advanceTo("2026-01-05T13:00:00Z");
    expect(run.fires).toEqual([]);
    expect(run.skips).toEqual([{ id: "e", tickAt: "2026-01-05T13:00:00.000Z", ...run.state.skipReason }]);
    const skipped = { lastTickAt: at("2026-01-05T13:00:00Z"), lastSkip: { tickAt: at("2026-01-05T13:00:00Z"), reason: run.state.skipReason.reason } };
    expect(run.marks.get("e")).toEqual(skipped);
    run.scheduler.stop();
    const restart = startAt("2026-01-05T13:10:00Z", [hourly], run.marks);
    await vi.advanceTimersByTimeAsync(0);
    expect(restart.fires).toEqual([]);
  });

  it("records a tick whose fire rejects as a skip with the error, and keeps ticking", async () => {
    const { fires, skips, marks, state } = startAt("2026-01-05T12:30:00Z", [hourly]);
    state.fire = () => Promise.reject(new Error("store is read-only"));
    await advanceTo("2026-01-05T13:00:00Z");
    expect(fires).toHaveLength(1);
    expect(skips).toEqual([{ id: "e", tickAt: "2026-01-05T13:00:00.000Z", kind: "error", reason: expect.stringContaining("store is read-only") }]);
    expect(marks.get("e")?.lastTickAt).toBe(at("2026-01-05T13:00:00Z"));
    state.fire = async () => {};
    await advanceTo("2026-01-05T14:00:00Z");
    expect(fires).toHaveLength(2);
    expect(marks.get("e")).toEqual({ lastTickAt: at("2026-01-05T14:00:00Z"), lastSkip: { tickAt: at("2026-01-05T13:00:00Z"), reason: skips[0]!.reason } });
  });

  it("marks a tick only once its run is recorded", async () => {
    const { marks, state } = startAt("2026-01-05T12:30:00Z", [hourly]);
    let record!: () => void;
    state.fire = () => new Promise((resolve) => (record = resolve));
    await advanceTo("2026-01-05T13:00:00Z");
    expect(marks.size).toBe(0);
    record();
    await scheduler!.settled();
    expect(marks.get("e")?.lastTickAt).toBe(at("2026-01-05T13:00:00Z"));
  });
});

describe("Scheduler control", () => {
  it("skips ticks while paused and fires again after resume", async () => {
    const { fires, skips, scheduler: s } = startAt("2026-01-05T12:30:00Z", [entry({ cron: "0 * * * *" })]);
    s.pause();
    expect(s.paused).toBe(true);
    await advanceTo("2026-01-05T13:30:00Z");
    expect(fires).toEqual([]);
    expect(skips).toEqual([{ id: "e", tickAt: "2026-01-05T13:00:00.000Z", kind: "paused", reason: PAUSED_REASON }]);
    s.resume();
    expect(s.paused).toBe(false);
    await advanceTo("2026-01-05T14:00:00Z");
    expect(fires.map((f) => f.tickAt)).toEqual(["2026-01-05T14:00:00.000Z"]);
  });

  it("stops firing and leaves no timer after stop()", async () => {
    const { fires, scheduler: s } = startAt("2026-01-05T12:30:00Z", [entry({ cron: "0 * * * *" })]);
    expect(vi.getTimerCount()).toBe(1);
    s.stop();
    expect(vi.getTimerCount()).toBe(0);
    await advanceTo("2026-01-05T14:30:00Z");
    expect(fires).toEqual([]);
  });

  it("keeps the marks of entries that survive setEntries, so they still catch up", async () => {
    vi.setSystemTime(at("2026-01-05T12:30:00Z"));
    const rec = recordingHost();
    const marks = new Map([["a", mark("2026-01-05T09:00:00Z")], ["b", mark("2026-01-05T09:00:00Z")]]);
    const hourly = (id: string) => entry({ id, cron: "0 * * * *" });
    scheduler = new Scheduler({ entries: [hourly("a"), hourly("b")], marks, clock, host: rec.host });
    scheduler.setEntries([hourly("a"), hourly("c")]);
    scheduler.start();
    await vi.advanceTimersByTimeAsync(0);
    expect(rec.fires.map((f) => [f.id, f.catchUp])).toEqual([["a", true]]);
    expect([...scheduler.nextFires().keys()]).toEqual(["a", "c"]);
  });

  it("on a hot reload counts a changed entry from now and keeps an unchanged one's ticks", async () => {
    const { fires, scheduler: s } = startAt("2026-01-05T12:20:00Z", [entry({ id: "a", cron: "0 * * * *" }), entry({ id: "b", cron: "*/10 * * * *" })]);
    await advanceTo("2026-01-05T12:40:00Z");
    s.setEntries([entry({ id: "a", cron: "30 * * * *" }), entry({ id: "b", cron: "*/10 * * * *", kwargs: { x: 1 } })]);
    expect(s.nextFires()).toEqual(new Map([["a", at("2026-01-05T13:30:00Z")], ["b", at("2026-01-05T12:50:00Z")]]));
    await advanceTo("2026-01-05T13:30:00Z");
    expect(fires.filter((f) => f.id === "a").map((f) => f.tickAt)).toEqual(["2026-01-05T13:30:00.000Z"]);
    expect(fires.filter((f) => f.id === "b").map((f) => f.tickAt.slice(11, 16))).toEqual(["12:30", "12:40", "12:50", "13:00", "13:10", "13:20", "13:30"]);
  });

  it("reports no next fire for a disabled entry", () => {
    const { scheduler: s } = startAt("2026-01-05T12:30:00Z", [entry({ cron: "0 * * * *", enabled: false })]);
    expect(s.nextFires()).toEqual(new Map([["e", null]]));
    expect(vi.getTimerCount()).toBe(0);
  });
});
