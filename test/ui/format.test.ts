import { describe, expect, test } from "vitest";
import { ago, clockTime, dateTime, shortDuration, until } from "../../src/ui/format.js";
import { attemptTag } from "../../src/store/logs.js";

// The one way stau writes time for people: local wall-clock instants, one-unit spans.

describe("instants", () => {
  // Built from local parts, so the expectations hold in any time zone the tests run in.
  const at = new Date(2026, 0, 5, 9, 4, 7, 6).getTime();

  test("clockTime is local HH:MM:SS, with milliseconds for log lines", () => {
    expect(clockTime(at)).toBe("09:04:07");
    expect(clockTime(at, true)).toBe("09:04:07.006");
  });

  test("dateTime is local YYYY-MM-DD HH:MM:SS, the same clock with the date in front", () => {
    expect(dateTime(at)).toBe("2026-01-05 09:04:07");
    expect(dateTime(at).endsWith(clockTime(at))).toBe(true);
  });
});

describe("spans", () => {
  test("one unit, rounded down, so a column is as wide as its widest value", () => {
    expect([0, 999, 59_999, 60_000, 3_599_999, 3_600_000, 86_399_999, 86_400_000, 99 * 86_400_000].map(shortDuration)).toEqual(["0s", "0s", "59s", "1m", "59m", "1h", "23h", "1d", "99d"]);
    expect(shortDuration(-5000)).toBe("0s");
  });

  test("ages and countdowns", () => {
    expect(ago(null, 10_000)).toBe("never");
    expect(ago(0, 83_000)).toBe("1m ago");
    expect(until(null, 0)).toBe("—");
    expect(until(3_000, 0)).toBe("in 3s");
    expect(until(0, 3_000)).toBe("due");
  });
});

test("a log line's tag names the chunk without its run, and the attempt", () => {
  expect(attemptTag("rmwxvjibqf5b4.daily_stats.3", 2)).toBe("[daily_stats.3#2]");
});
