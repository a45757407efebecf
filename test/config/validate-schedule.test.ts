import { describe, expect, it } from "vitest";
import type { DescribedConfig } from "../../src/config/described.js";
import { formatProblem } from "../../src/config/problem.js";
import { validateSchedule } from "../../src/config/validate.js";

const plain = (entries: unknown): DescribedConfig => ({ plain: entries, functions: [], nonPlain: [] });
const known = new Set(["a", "b"]);
const jobProblem = (name: string) => (known.has(name) ? null : `names job ${JSON.stringify(name)}, which is not a file in jobs/`);
const lines = (problems: ReturnType<typeof validateSchedule>["problems"]) => problems.map(formatProblem);

describe("validateSchedule", () => {
  it("keeps the good entries and reports every problem of every bad one, naming its id", () => {
    const { entries, problems } = validateSchedule(
      "stau.schedule.ts",
      plain([
        { id: "ghost", job: "deleted", every: "1h" },
        { id: "good", job: "a", cron: "5 * * * *" },
        { id: "bad-every", job: "b", every: "soon" },
        { id: "two-wrongs", job: "gone", every: 0, timezone: "Mars/Olympus" },
      ]),
      jobProblem,
    );
    expect(entries.map((e) => e.id)).toEqual(["good"]);
    expect(lines(problems)).toEqual([
      'stau.schedule.ts: 0.job: entry "ghost": names job "deleted", which is not a file in jobs/',
      'stau.schedule.ts: 2.every: entry "bad-every": expected a duration like "90s", "15m", "1h", "1d" or milliseconds ≥ 0, received "soon"',
      'stau.schedule.ts: 3.timezone: entry "two-wrongs": expected an IANA time zone like "Europe/Copenhagen", received "Mars/Olympus"',
      'stau.schedule.ts: 3.every: entry "two-wrongs": expected an interval greater than 0, received 0',
      'stau.schedule.ts: 3.job: entry "two-wrongs": names job "gone", which is not a file in jobs/',
    ]);
  });

  it("refuses the second of two entries with one id, keeping the first", () => {
    const { entries, problems } = validateSchedule("s.ts", plain([{ id: "x", job: "a", every: "1h" }, { id: "x", job: "b", every: "2h" }]), jobProblem);
    expect(entries.map((e) => e.job)).toEqual(["a"]);
    expect(lines(problems)).toEqual(['s.ts: 1.id: entry "x": duplicate entry id "x"; ids must be unique']);
  });

  it("names an entry without an id by its position, and reports a bad cron with the expression", () => {
    const { entries, problems } = validateSchedule("s.ts", plain([{ job: "a", cron: "61 * * * *" }, { id: "both", job: "a", cron: "* * * * *", every: "1h" }]), jobProblem);
    expect(entries).toEqual([]);
    const text = lines(problems).join("\n");
    expect(text).toContain("s.ts: 0.id: entry #1:");
    expect(text).toContain('s.ts: 0.cron: entry #1: invalid cron expression "61 * * * *"');
    expect(text).toContain('s.ts: 1: entry "both": needs exactly one of cron, every and onFiles');
  });

  it("drops only the entry holding a function", () => {
    const described: DescribedConfig = { plain: [{ id: "ok", job: "a", every: "1h" }, { id: "fn", job: "a", every: "1h" }], functions: ["1.kwargs.make"], nonPlain: [] };
    const { entries, problems } = validateSchedule("s.ts", described, jobProblem);
    expect(entries.map((e) => e.id)).toEqual(["ok"]);
    expect(lines(problems)).toEqual(['s.ts: 1.kwargs.make: entry "fn": must be plain data, received a function']);
  });

  it("refuses a default export that is not an array", () => {
    const { entries, problems } = validateSchedule("s.ts", plain({ id: "x" }), jobProblem);
    expect(entries).toEqual([]);
    expect(lines(problems)).toEqual(['s.ts: default export must be an array from defineSchedule([ ... ]), received {"id":"x"}']);
  });
});
