import { describe, expect, it } from "vitest";
import { lastTickAtOrBefore, missedTick, nextFire, simulate, tickSource, type ScheduleMark } from "../../src/schedule/ticks.js";
import { at, entry, isoOf, localDate } from "./entries.js";

const CPH = "Europe/Copenhagen";
const HOUR = 3_600_000;
const DAY = 24 * HOUR;
const mark = (lastTickAt: number | null): ScheduleMark => ({ lastTickAt, lastSkip: null });

/** The ticks of an entry after `from`, up to `count` of them, as ISO strings. */
function ticks(e: ReturnType<typeof entry>, from: string, count: number): string[] {
  const out: string[] = [];
  let t = at(from);
  for (let i = 0; i < count; i++) out.push(isoOf((t = nextFire(e, undefined, t)!))!);
  return out;
}

describe("nextFire", () => {
  it("gives the next multiple of five minutes for */5, strictly after the reference", () => {
    const e = entry({ cron: "*/5 * * * *" });
    expect(isoOf(nextFire(e, undefined, at("2026-01-05T12:03:17Z")))).toBe("2026-01-05T12:05:00.000Z");
    expect(isoOf(nextFire(e, undefined, at("2026-01-05T12:04:59.999Z")))).toBe("2026-01-05T12:05:00.000Z");
    expect(isoOf(nextFire(e, undefined, at("2026-01-05T12:05:00Z")))).toBe("2026-01-05T12:10:00.000Z");
    expect(isoOf(nextFire(e, undefined, at("2026-01-05T12:05:00.500Z")))).toBe("2026-01-05T12:10:00.000Z");
  });

  it("reads a 6-field expression with seconds first, and a 5-field one at second 0", () => {
    expect(ticks(entry({ cron: "15 */2 * * * *" }), "2026-01-05T12:00:00Z", 3)).toEqual([
      "2026-01-05T12:00:15.000Z",
      "2026-01-05T12:02:15.000Z",
      "2026-01-05T12:04:15.000Z",
    ]);
    expect(ticks(entry({ cron: "*/20 * * * * *" }), "2026-01-05T12:00:05Z", 3)).toEqual([
      "2026-01-05T12:00:20.000Z",
      "2026-01-05T12:00:40.000Z",
      "2026-01-05T12:01:00.000Z",
    ]);
    expect(isoOf(nextFire(entry({ cron: "7 * * * *" }), undefined, at("2026-01-05T12:00:00Z")))).toBe("2026-01-05T12:07:00.000Z");
  });

  it("aligns `every` ticks to the Unix epoch, whatever the reference and the timezone", () => {
    const sixHours = entry({ everyMs: 6 * HOUR, timezone: CPH });
    expect(isoOf(nextFire(sixHours, undefined, at("2026-01-05T07:13:00Z")))).toBe("2026-01-05T12:00:00.000Z");
    expect(isoOf(nextFire(sixHours, undefined, at("2026-01-05T12:00:00Z")))).toBe("2026-01-05T18:00:00.000Z");
    // 7 minutes does not divide an hour: the ticks still come from 1970, not from the start.
    const seven = entry({ everyMs: 7 * 60_000 });
    const a = nextFire(seven, undefined, at("2026-01-05T12:00:00Z"))!;
    const b = nextFire(seven, undefined, at("2026-01-05T12:01:30Z"))!;
    expect(a).toBe(b);
    expect(a % (7 * 60_000)).toBe(0);
    expect(a).toBeGreaterThan(at("2026-01-05T12:01:30Z"));
  });

  it("gives nothing for a disabled entry", () => {
    expect(nextFire(entry({ cron: "* * * * *", undefined, enabled: false }), at("2026-01-05T12:00:00Z"))).toBeNull();
    expect(nextFire(entry({ everyMs: 60_000, undefined, enabled: false }), at("2026-01-05T12:00:00Z"))).toBeNull();
  });

  it("runs 30 2 * * * in Copenhagen once on the spring-forward day, right after the gap (03:00 CEST)", () => {
    const e = entry({ cron: "30 2 * * *", timezone: CPH });
    const list = ticks(e, "2026-03-27T12:00:00Z", 3);
    expect(list).toEqual(["2026-03-28T01:30:00.000Z", "2026-03-29T01:00:00.000Z", "2026-03-30T00:30:00.000Z"]);
    expect(list.filter((t) => localDate(at(t), CPH) === "2026-03-29")).toHaveLength(1);
  });

  it("runs 30 2 * * * in Copenhagen once on the fall-back day, at the first 02:30 (CEST)", () => {
    const e = entry({ cron: "30 2 * * *", timezone: CPH });
    const list = ticks(e, "2026-10-23T12:00:00Z", 3);
    expect(list).toEqual(["2026-10-24T00:30:00.000Z", "2026-10-25T00:30:00.000Z", "2026-10-26T01:30:00.000Z"]);
    // From between the two 02:30s, the second one is not a tick either.
    expect(isoOf(nextFire(e, undefined, at("2026-10-25T01:00:00Z")))).toBe("2026-10-26T01:30:00.000Z");
  });

  it("keeps an hourly cron in Copenhagen hourly in real time across both DST changes", () => {
    const e = entry({ cron: "0 * * * *", timezone: CPH });
    for (const from of ["2026-03-28T22:00:00Z", "2026-10-24T22:00:00Z"]) {
      const list = ticks(e, from, 6).map(at);
      expect(list.map((t, i) => t - at(from) - (i + 1) * HOUR)).toEqual([0, 0, 0, 0, 0, 0]);
    }
  });
});

describe("lastTickAtOrBefore", () => {
  it("includes a tick exactly at the instant", () => {
    const e = entry({ cron: "*/5 * * * *" });
    expect(isoOf(lastTickAtOrBefore(e, at("2026-01-05T12:05:00Z")))).toBe("2026-01-05T12:05:00.000Z");
    expect(isoOf(lastTickAtOrBefore(e, at("2026-01-05T12:04:59.999Z")))).toBe("2026-01-05T12:00:00.000Z");
    expect(isoOf(lastTickAtOrBefore(entry({ everyMs: HOUR }), at("2026-01-05T12:00:00Z")))).toBe("2026-01-05T12:00:00.000Z");
    expect(isoOf(lastTickAtOrBefore(entry({ everyMs: HOUR }), at("2026-01-05T12:59:59Z")))).toBe("2026-01-05T12:00:00.000Z");
  });

  it("agrees with nextFire across DST (first 02:30 on fall-back, 03:00 on spring-forward)", () => {
    const e = entry({ cron: "30 2 * * *", timezone: CPH });
    expect(isoOf(lastTickAtOrBefore(e, at("2026-10-25T01:45:00Z")))).toBe("2026-10-25T00:30:00.000Z");
    expect(isoOf(lastTickAtOrBefore(e, at("2026-03-29T05:00:00Z")))).toBe("2026-03-29T01:00:00.000Z");
  });
});

describe("missedTick", () => {
  const hourly = tickSource(entry({ cron: "0 * * * *" }));
  it("is the latest tick after the mark, one however many were missed", () => {
    expect(isoOf(missedTick(hourly, mark(at("2026-01-05T09:00:00Z")), at("2026-01-05T12:30:00Z")))).toBe("2026-01-05T12:00:00.000Z");
  });
  it("is nothing without a mark, or when no tick passed since the mark", () => {
    expect(missedTick(hourly, undefined, at("2026-01-05T12:30:00Z"))).toBeNull();
    expect(missedTick(hourly, mark(null), at("2026-01-05T12:30:00Z"))).toBeNull();
    expect(missedTick(hourly, mark(at("2026-01-05T12:00:00Z")), at("2026-01-05T12:59:59Z"))).toBeNull();
  });
  it("counts a skipped tick as dealt with", () => {
    const skipped: ScheduleMark = { lastTickAt: at("2026-01-05T09:00:00Z"), lastSkip: { tickAt: at("2026-01-05T12:00:00Z"), reason: "overlap" } };
    expect(missedTick(hourly, skipped, at("2026-01-05T12:30:00Z"))).toBeNull();
  });
});

describe("simulate", () => {
  const from = at("2026-01-05T10:15:00Z");
  const hourly = entry({ id: "hourly", cron: "0 * * * *" });

  it("lists 168 fires of an hourly cron over 7 days, sorted, none a catch-up", () => {
    const fires = simulate([hourly], new Map(), from, from + 7 * DAY);
    expect(fires).toHaveLength(168);
    expect(isoOf(fires[0]!.at)).toBe("2026-01-05T11:00:00.000Z");
    expect(isoOf(fires.at(-1)!.at)).toBe("2026-01-12T10:00:00.000Z");
    expect(fires.every((f, i) => !f.catchUp && (i === 0 || f.at > fires[i - 1]!.at))).toBe(true);
  });

  it("adds one catch-up at the start for a stale mark, and none with catchUp: false", () => {
    const stale = new Map([["hourly", mark(at("2026-01-04T20:00:00Z"))]]);
    const fires = simulate([hourly], stale, from, from + 7 * DAY);
    expect(fires).toHaveLength(169);
    expect(fires[0]).toEqual({ entryId: "hourly", job: "job", at: from, tickAt: at("2026-01-05T10:00:00Z"), catchUp: true });
    expect(fires.filter((f) => f.catchUp)).toHaveLength(1);
    expect(simulate([{ ...hourly, catchUp: false }], stale, from, from + 7 * DAY)).toHaveLength(168);
  });

  it("does not list ticks a mark ahead of the clock already covers (the clock went back)", () => {
    const ahead = new Map([["hourly", mark(at("2026-01-05T14:00:00Z"))]]);
    const fires = simulate([hourly], ahead, from, from + DAY);
    expect(isoOf(fires[0]!.at)).toBe("2026-01-05T15:00:00.000Z");
    expect(fires).toHaveLength(20);
  });

  it("handles DST weeks in Copenhagen: one 30 2 * * * fire a day, 168 distinct hourly fires", () => {
    const daily = entry({ id: "daily", cron: "30 2 * * *", timezone: CPH });
    const cphHourly = entry({ id: "hourly", cron: "0 * * * *", timezone: CPH });
    for (const week of ["2026-03-25T12:00:00Z", "2026-10-21T12:00:00Z"]) {
      const start = at(week);
      const fires = simulate([daily, cphHourly], new Map(), start, start + 7 * DAY);
      const days = fires.filter((f) => f.entryId === "daily").map((f) => localDate(f.at, CPH));
      expect(days).toHaveLength(7);
      expect(new Set(days).size).toBe(7);
      const hours = fires.filter((f) => f.entryId === "hourly").map((f) => f.at);
      expect(hours).toHaveLength(168);
      expect(new Set(hours).size).toBe(168);
    }
    const spring = simulate([daily], new Map(), at("2026-03-28T12:00:00Z"), at("2026-03-29T12:00:00Z"));
    expect(spring.map((f) => isoOf(f.at))).toEqual(["2026-03-29T01:00:00.000Z"]);
  });

  it("merges entries in time order and stops at the limit", () => {
    const a = entry({ id: "a", everyMs: 7 * 60_000 });
    const b = entry({ id: "b", cron: "*/5 * * * *" });
    const fires = simulate([a, b], new Map(), from, from + HOUR);
    expect(fires.map((f) => f.at)).toEqual([...fires.map((f) => f.at)].sort((x, y) => x - y));
    expect(new Set(fires.map((f) => f.entryId))).toEqual(new Set(["a", "b"]));
    const perSecond = simulate([entry({ cron: "* * * * * *" })], new Map(), from, from + 7 * DAY, 100);
    expect(perSecond).toHaveLength(100);
    expect(perSecond.at(-1)!.at - from).toBe(100_000);
  });

  it("leaves out disabled entries", () => {
    expect(simulate([{ ...hourly, enabled: false }], new Map([["hourly", mark(0)]]), from, from + DAY)).toEqual([]);
  });
});
