import { appendFileSync, readdirSync, readFileSync, rmSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { parseBackfillRange } from "../../src/cli/backfill-range.js";
import { projectFactory, show } from "../helpers/cli.js";
import { startInstance, instancesKilledAfterEach } from "../helpers/instance.js";
import { json, stau } from "../helpers/project.js";

// `stau backfill`: one ordinary run per value of a range, at most --max-active at once,
// and resumable — run again, it does only what is not done yet.

const project = projectFactory();
const running = instancesKilledAfterEach();

// Each run records when it started and ended; the day named in BAD_DAY fails.
const JOBS = {
  "jobs/daily.ts": `import { defineJob } from "stau";
import { mkdirSync, writeFileSync } from "node:fs";
export default defineJob<{ day: string }>({
  async run({ kwargs, log }) {
    const start = Date.now();
    log("summarising " + kwargs.day);
    await new Promise((resolve) => setTimeout(resolve, 150));
    mkdirSync("out", { recursive: true });
    writeFileSync("out/" + kwargs.day + "." + process.hrtime.bigint() + ".json", JSON.stringify({ day: kwargs.day, start, end: Date.now() }));
    if (kwargs.day === process.env.BAD_DAY) throw new Error("no data for " + kwargs.day);
  },
});
`,
};

const spans = (dir: string) => readdirSync(join(dir, "out")).map((f) => JSON.parse(readFileSync(join(dir, "out", f), "utf8")) as { day: string; start: number; end: number });
/** The most runs that were in their run() at one instant. */
const mostAtOnce = (list: { start: number; end: number }[]) => Math.max(...list.map((a) => list.filter((b) => b.start <= a.start && a.start < b.end).length));

describe("stau backfill", () => {
  it("counts a large run as done from its history line alone, its chunk file gone", async () => {
    const p = project({
      "jobs/wide.ts": `import { defineJob } from "stau";\nexport default defineJob<{ day: string }>({ chunkSize: 1, async selectWork() { return Array.from({ length: 150 }, (_, i) => i); }, run() {} });\n`,
    });
    const first = await stau(p.dir, ["run", "wide", "--kwargs", '{"day":"2026-01-01"}', "--workers", "2"]);
    expect(first.code, show(first)).toBe(0);
    // Its chunks are kept apart, in a file backfill has no need of.
    const chunkFiles = readdirSync(join(p.dir, "data", "history", "chunks"));
    expect(chunkFiles).toHaveLength(1);
    rmSync(join(p.dir, "data", "history", "chunks", chunkFiles[0]!));
    const again = await stau(p.dir, ["backfill", "wide", "--range", "day=2026-01-01..2026-01-02", "--workers", "2"]);
    expect(again.code, show(again)).toBe(0);
    expect(again.stdout).toContain("1 already done");
  });

  it("says which line of history it skipped as damaged, and goes on", async () => {
    const p = project(JOBS);
    const first = await stau(p.dir, ["backfill", "daily", "--range", "day=2026-01-01..2026-01-01", "--workers", "2"]);
    expect(first.code, show(first)).toBe(0);
    appendFileSync(join(p.dir, "data", "history", "runs.jsonl"), "{ not json\n");
    const again = await stau(p.dir, ["backfill", "daily", "--range", "day=2026-01-01..2026-01-02", "--workers", "2"]);
    expect(again.code, show(again)).toBe(0);
    expect(again.stdout).toContain("1 already done");
    expect(again.stderr, show(again)).toMatch(/runs\.jsonl line 2 is damaged/);
  });

  it("runs one run per day, at most --max-active at once, and a second time only the day that failed", async () => {
    const p = project(JOBS);
    const first = await stau(p.dir, ["backfill", "daily", "--range", "day=2026-01-30..2026-02-03", "--max-active", "2", "--workers", "4", "--json"], { env: { BAD_DAY: "2026-02-01" } });
    expect(first.code, show(first)).toBe(1);
    const out = json(first);
    expect(out.values.map((v: { value: string; status: string }) => [v.value, v.status])).toEqual([
      ["2026-01-30", "done"],
      ["2026-01-31", "done"],
      ["2026-02-01", "failed"],
      ["2026-02-02", "done"],
      ["2026-02-03", "done"],
    ]);
    expect(first.stderr).toContain("day=2026-02-01 run");
    expect(first.stderr).toContain("failed: no data for 2026-02-01");
    expect(mostAtOnce(spans(p.dir))).toBeLessThanOrEqual(2);

    const again = await stau(p.dir, ["backfill", "daily", "--range", "day=2026-01-30..2026-02-03", "--workers", "2"]);
    expect(again.code, show(again)).toBe(0);
    expect(again.stdout).toContain("1 done, 4 already done, 0 not done");
    expect(spans(p.dir).filter((s) => s.day === "2026-02-01")).toHaveLength(2);
    expect(spans(p.dir)).toHaveLength(6);
    // Each value is an ordinary run, with its kwargs.
    const runs = json(await stau(p.dir, ["runs", "--json"]));
    expect(runs.filter((r: { job: string }) => r.job === "daily")).toHaveLength(6);
  });

  it("goes through the running instance when one holds the data directory", async () => {
    const p = project(JOBS);
    const instance = startInstance(p.dir, []);
    running.push(instance);
    await instance.waitFor((e) => e.event === "instance:started", "stau start");
    const result = await stau(p.dir, ["backfill", "daily", "--range", "day=2026-03-01..2026-03-03", "--max-active", "3"]);
    expect(result.code, show(result)).toBe(0);
    expect(result.stderr).toContain("on the running instance");
    expect(result.stdout).toContain("3 done, 0 already done, 0 not done");
    const pid = instance.child.pid;
    const finished = instance.events.filter((e) => e.event === "run:finished" && e.job === "daily");
    expect(finished, `runs finished on pid ${pid}`).toHaveLength(3);
  });

  it("refuses a bad range or an unknown job before running anything", async () => {
    const p = project(JOBS);
    for (const [args, says] of [
      [["daily", "--range", "day=2026-01-05..2026-01-01"], "FROM is after TO"],
      [["daily", "--range", "day=2026-02-30..2026-03-02"], "2026-02-30 is not a date"],
      [["daily", "--range", "day=2026-01-01..5"], "must both be dates (YYYY-MM-DD) or both integers"],
      [["daily", "--range", "day=2026-01-01..2026-01-09", "--step", "36h"], "whole number of days"],
      [["daly", "--range", "day=2026-01-01..2026-01-02"], 'did you mean "daily"?'],
    ] as const) {
      const result = await stau(p.dir, ["backfill", ...args]);
      expect(result.code, show(result)).toBe(2);
      expect(result.stderr).toContain(says);
    }
    expect(() => readdirSync(join(p.dir, "out"))).toThrow();
  });
});

describe("backfill ranges", () => {
  it("steps dates by whole days across month ends and integers by a whole number", () => {
    expect(parseBackfillRange("day=2026-02-27..2026-03-02", undefined)).toEqual({ key: "day", values: ["2026-02-27", "2026-02-28", "2026-03-01", "2026-03-02"] });
    expect(parseBackfillRange("week=2026-01-01..2026-01-29", "7d").values).toEqual(["2026-01-01", "2026-01-08", "2026-01-15", "2026-01-22", "2026-01-29"]);
    expect(parseBackfillRange("shard=0..10", "5")).toEqual({ key: "shard", values: [0, 5, 10] });
    expect(parseBackfillRange("n=-2..1", undefined).values).toEqual([-2, -1, 0, 1]);
    expect(() => parseBackfillRange("shard=0..1000000", undefined)).toThrow(/more than 100000/);
    expect(() => parseBackfillRange("day", undefined)).toThrow(/KEY=FROM..TO/);
  });
});
