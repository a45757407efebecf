import { describe, expect, it } from "vitest";
import { projectFactory, show, WORKERS } from "../helpers/cli.js";
import { startInstance, instancesKilledAfterEach } from "../helpers/instance.js";
import { json, stau } from "../helpers/project.js";

// Plans that say why (README "Plans that say why") and explain telling the same truth.

const project = projectFactory();
const running = instancesKilledAfterEach();

const job = (config: string) => `import { defineJob } from "stau";
export default defineJob({ ${config} async run() {} });
`;

/** top (chunks of 3 over 1–6) needs part under two kwargs; part needs base once a day. */
function twoVariants() {
  return project({
    "jobs/top.ts": job(`chunkSize: 3, dependencies: [{ job: "part", maxLag: "1h" }, { job: "part", maxLag: "2h", kwargs: { v: 2 } }],`),
    "jobs/part.ts": job(`chunkSize: 2, dependencies: [{ job: "base", maxLag: "1d" }],`),
    "jobs/base.ts": job(""),
  });
}

const IDS = ["--work", "1,2,3,4,5,6"];

describe("stau plan says why", () => {
  it("counts a partly fresh dependency's stale and fresh IDs, with its last success and until when it stays fresh", async () => {
    const p = twoVariants();
    const before = Date.now();
    expect((await stau(p.dir, ["run", "part", "--work", "1,2", ...WORKERS])).code).toBe(0);
    const after = Date.now();

    const plan = json(await stau(p.dir, ["plan", "top", "--json", ...IDS]));
    for (const j of plan.jobs) expect(Object.keys(j).sort()).toEqual(["chunks", "freshIds", "freshUntil", "job", "kwargs", "lastSuccess", "reason", "staleIds", "status"]);
    const part = plan.jobs.find((j: any) => j.job === "part" && Object.keys(j.kwargs).length === 0);
    expect(part).toMatchObject({ status: "run", chunks: 2, staleIds: 4, freshIds: 2, reason: "stale on 4 of 6 IDs" });
    const last = Date.parse(part.lastSuccess);
    expect(last).toBeGreaterThanOrEqual(before);
    expect(last).toBeLessThanOrEqual(after);
    expect(Date.parse(part.freshUntil)).toBe(last + 3_600_000);
    // base is needed only where part runs (3–6), and it ran on 1 and 2 only.
    expect(plan.jobs.find((j: any) => j.job === "base" && Object.keys(j.kwargs).length === 0)).toMatchObject({ status: "run", staleIds: 4, freshIds: 0 });

    const text = await stau(p.dir, ["plan", "top", ...IDS]);
    expect(text.stdout).toMatch(/run\s+part: 2 chunks — stale on 4 of 6 IDs; the other 2 fresh until \d{4}-\d\d-\d\d \d\d:\d\d:\d\d; last success \d+s ago/);
  });

  it("lists a job needed under two kwargs twice, each with its own chunks", async () => {
    const p = twoVariants();
    const plan = json(await stau(p.dir, ["plan", "top", "--json", ...IDS]));
    const parts = plan.jobs.filter((j: any) => j.job === "part");
    expect(parts.map((j: any) => [j.kwargs, j.status, j.chunks, j.staleIds])).toEqual([
      [{}, "run", 3, 6],
      [{ v: 2 }, "run", 3, 6],
    ]);
    expect(plan.chunks.filter((c: any) => c.job === "part")).toHaveLength(6);
    expect(parts.every((j: any) => j.reason === "never succeeded" && j.lastSuccess === null && j.freshUntil === null)).toBe(true);

    const text = await stau(p.dir, ["plan", "top", ...IDS]);
    expect(text.stdout).toMatch(/run\s+part: 3 chunks/);
    expect(text.stdout).toMatch(/run\s+part \{"v":2\}: 3 chunks/);
  });

  it("says a fresh dependency is fresh on all its IDs, and what only it needed is skipped", async () => {
    const p = twoVariants();
    expect((await stau(p.dir, ["run", "part", ...IDS, ...WORKERS])).code).toBe(0);
    const plan = json(await stau(p.dir, ["plan", "top", "--json", ...IDS]));
    expect(plan.jobs.find((j: any) => j.job === "part" && Object.keys(j.kwargs).length === 0)).toMatchObject({ status: "fresh", chunks: 0, staleIds: 0, freshIds: 6, reason: "fresh on all 6 IDs" });
    expect(plan.jobs.find((j: any) => j.job === "base")).toMatchObject({ status: "skipped", chunks: 0, reason: "only needed by jobs that are fresh" });
  });
});

describe("stau explain tells the truth", () => {
  it("finds the last success of a job that only ran with kwargs", async () => {
    const p = twoVariants();
    expect((await stau(p.dir, ["run", "base", "--kwargs", '{"day":"2024-01-01"}', ...WORKERS])).code).toBe(0);
    const report = json(await stau(p.dir, ["explain", "base", "--json"]));
    expect(report.lastSuccess).not.toBeNull();
    expect(report.lastSuccessByKwargs).toEqual([{ kwargs: { day: "2024-01-01" }, lastSuccess: report.lastSuccess }]);
    const text = await stau(p.dir, ["explain", "base"]);
    expect(text.stdout).not.toContain("last success: never");
    expect(text.stdout).toContain('{"day":"2024-01-01"}');
  });

  it("does not call a dependency fresh on work IDs it never ran", async () => {
    const p = twoVariants();
    expect((await stau(p.dir, ["run", "part", "--work", "7,8", ...WORKERS])).code).toBe(0);
    expect((await stau(p.dir, ["run", "part", "--work", "1,2", "--kwargs", '{"v":2}', ...WORKERS])).code).toBe(0);
    const report = json(await stau(p.dir, ["explain", "top", "--json", ...IDS]));
    expect(report.workIds).toBe(6);
    expect(report.dependencies.map((d: any) => [d.job, d.kwargs, d.fresh, d.staleIds, d.freshIds, d.reason])).toEqual([
      ["part", {}, false, 6, 0, "stale on 6 of 6 IDs"],
      ["part", { v: 2 }, false, 4, 2, "stale on 4 of 6 IDs"],
    ]);
    const text = await stau(p.dir, ["explain", "top", ...IDS]);
    expect(text.stdout).toMatch(/needs part \(maxLag 1h\): stale on 6 of 6 IDs/);
    expect(text.stdout).toMatch(/needs part \{"v":2\} \(maxLag 2h\): stale on 4 of 6 IDs \(the other 2 fresh until/);
  });

  it("names the run a waiting run waits for", async () => {
    const p = project({
      // Holds its chunk until the test creates the file `release`.
      "jobs/holds.ts": `import { defineJob } from "stau";
import { existsSync } from "node:fs";
export default defineJob({ async run({ signal }) {
  while (!existsSync("release") && !signal.aborted) await new Promise((r) => setTimeout(r, 20));
} });
`,
      "jobs/after.ts": job(`dependencies: [{ job: "holds", maxLag: 0 }],`),
    });
    const instance = startInstance(p.dir);
    running.push(instance);
    await instance.waitFor((e) => e.event === "instance:started", "the instance");
    const first = json(await stau(p.dir, ["trigger", "holds", "--json"])).run.id;
    await instance.waitFor((e) => e.event === "chunk:started" && e.job === "holds", "holds running");
    const second = json(await stau(p.dir, ["trigger", "after", "--json"])).run.id;
    await instance.waitFor((e) => e.event === "run:waiting" && e.run === second, "after waiting");

    const report = json(await stau(p.dir, ["explain", "after", "--json"]));
    expect(report.runs).toEqual([expect.objectContaining({ id: second, status: "waiting", waitingOn: [`${first} (holds)`] })]);
    const text = await stau(p.dir, ["explain", "after"]);
    expect(text.stdout, show(text)).toContain(`waiting for run ${first} (holds) to finish`);
    p.write("release", "");
    await instance.waitFor((e) => e.event === "run:finished" && e.run === second, "after done");
  });
});
