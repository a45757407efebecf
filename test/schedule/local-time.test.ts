import { describe, expect, it } from "vitest";
import { localTime } from "../../src/cli/commands/schedule.js";
import { at } from "./entries.js";

describe("localTime (stau schedule's display)", () => {
  it("tells the two 02:30s of the fall-back day apart by their offset", () => {
    expect(localTime(at("2026-10-25T00:30:00Z"), "Europe/Copenhagen")).toBe("2026-10-25 02:30:00 GMT+2");
    expect(localTime(at("2026-10-25T01:30:00Z"), "Europe/Copenhagen")).toBe("2026-10-25 02:30:00 GMT+1");
  });

  it("shows the spring-forward fire at 03:00 summer time", () => {
    expect(localTime(at("2026-03-29T01:00:00Z"), "Europe/Copenhagen")).toBe("2026-03-29 03:00:00 GMT+2");
  });

  it("writes midnight as 00, not 24", () => {
    expect(localTime(at("2026-01-05T23:00:00Z"), "Europe/Copenhagen")).toBe("2026-01-06 00:00:00 GMT+1");
  });
});
