import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { chunkOf, filesIn, projectFactory, readText, show, WORKERS } from "../helpers/cli.js";
import { json, stau } from "../helpers/project.js";

const project = projectFactory();

/** What echo_args wrote for each chunk, sorted by its first work ID. */
function echoes(dir: string): { workIds: unknown[]; kwargs: Record<string, unknown>; chunkId: string; runId: string }[] {
  const out = join(dir, "out", "echo_args");
  return filesIn(out)
    .map((name) => JSON.parse(readFileSync(join(out, name), "utf8")))
    .sort((a, b) => String(a.workIds[0]).localeCompare(String(b.workIds[0]), undefined, { numeric: true }));
}

describe("stau run", () => {
  it("runs a job that succeeds and prints exactly the run contract", async () => {
    const p = project();
    p.useFixtures("succeeds");
    const result = await stau(p.dir, ["run", "succeeds", "--json", ...WORKERS]);
    expect(result.code, show(result)).toBe(0);
    const out = json(result);
    expect(Object.keys(out).sort()).toEqual(["chunks", "run"]);
    expect(Object.keys(out.run).sort()).toEqual(["id", "job", "status"]);
    expect(out.run).toEqual({ id: expect.any(String), job: "succeeds", status: "done" });
    expect(out.run.id).not.toBe("");
    expect(out.chunks).toHaveLength(1);
    const [chunk] = out.chunks;
    expect(Object.keys(chunk).sort()).toEqual(["attempts", "error", "id", "job", "status", "workIds"]);
    expect(chunk).toEqual({ id: expect.any(String), job: "succeeds", workIds: [], status: "done", attempts: 1, error: null });
    expect(chunk.id).not.toBe("");
  });

  it("prints a human summary without --json and still exits 0", async () => {
    const p = project();
    p.useFixtures("succeeds");
    const result = await stau(p.dir, ["run", "succeeds", ...WORKERS]);
    expect(result.code, show(result)).toBe(0);
    expect(result.stdout).toMatch(/succeeds done/);
    expect(() => JSON.parse(result.stdout)).toThrow();
  });

  it("splits the work IDs from selectWork by chunkSize and gives each chunk its IDs", async () => {
    const p = project();
    p.useFixtures("echo_args");
    const result = await stau(p.dir, ["run", "echo_args", "--json", ...WORKERS]);
    expect(result.code, show(result)).toBe(0);
    const out = json(result);
    expect(out.run.status).toBe("done");
    expect(out.chunks.map((c: any) => c.workIds)).toEqual([[1, 2], [3, 4], [5]]);
    expect(out.chunks.every((c: any) => c.status === "done" && c.job === "echo_args")).toBe(true);
    expect(new Set(out.chunks.map((c: any) => c.id)).size).toBe(3);
    // What the job itself received, chunk by chunk.
    const seen = echoes(p.dir);
    expect(seen.map((e) => e.workIds)).toEqual([[1, 2], [3, 4], [5]]);
    expect(seen.map((e) => e.kwargs)).toEqual([{}, {}, {}]);
    expect(seen.every((e) => e.runId === out.run.id)).toBe(true);
    expect(seen.map((e) => e.chunkId).sort()).toEqual(out.chunks.map((c: any) => c.id).sort());
  });

  it("passes --kwargs to selectWork", async () => {
    const p = project();
    p.useFixtures("echo_args");
    const result = await stau(p.dir, ["run", "echo_args", "--json", "--kwargs", '{"ids":[7,8,9]}', ...WORKERS]);
    expect(result.code, show(result)).toBe(0);
    expect(json(result).chunks.map((c: any) => c.workIds)).toEqual([[7, 8], [9]]);
    expect(echoes(p.dir).map((e) => e.kwargs)).toEqual([{ ids: [7, 8, 9] }, { ids: [7, 8, 9] }]);
  });

  it("passes --work and --kwargs through to the job's chunks", async () => {
    const p = project();
    p.useFixtures("echo_args");
    const result = await stau(p.dir, ["run", "echo_args", "--json", "--work", "1,2,3", "--kwargs", '{"a":1}', ...WORKERS]);
    expect(result.code, show(result)).toBe(0);
    const out = json(result);
    expect(out.chunks.map((c: any) => c.workIds)).toEqual([[1, 2], [3]]);
    const seen = echoes(p.dir);
    expect(seen.map((e) => e.workIds)).toEqual([[1, 2], [3]]);
    expect(seen.map((e) => e.kwargs)).toEqual([{ a: 1 }, { a: 1 }]);
  });

  it("accepts string work IDs as a JSON array", async () => {
    const p = project();
    p.useFixtures("echo_args");
    const result = await stau(p.dir, ["run", "echo_args", "--json", "--work", '["x","y","z"]', ...WORKERS]);
    expect(result.code, show(result)).toBe(0);
    expect(json(result).chunks.map((c: any) => c.workIds)).toEqual([["x", "y"], ["z"]]);
    expect(echoes(p.dir).map((e) => e.workIds)).toEqual([["x", "y"], ["z"]]);
  });

  it("runs a dependency first, then prunes it while it is fresh", async () => {
    const p = project();
    p.useFixtures("produces", "consumes");

    // First run: produces is missing, so it runs, before consumes (which reads its output).
    const first = await stau(p.dir, ["run", "consumes", "--json", ...WORKERS]);
    expect(first.code, show(first)).toBe(0);
    const one = json(first);
    expect(one.run).toMatchObject({ job: "consumes", status: "done" });
    expect(chunkOf(one, "produces")).toMatchObject({ status: "done", attempts: 1, error: null });
    expect(chunkOf(one, "consumes")).toMatchObject({ status: "done", attempts: 1, error: null });
    expect(readText(p, "out/produces.log").trim().split("\n")).toEqual([one.run.id]);
    expect(readText(p, "out/consumes.log")).toContain("saw 1 produces runs");

    // Within maxLag the plan shows produces as fresh and has no chunk of it.
    const plan = await stau(p.dir, ["plan", "consumes", "--json"]);
    expect(plan.code, show(plan)).toBe(0);
    const planned = json(plan);
    expect(planned.jobs.map((j: any) => ({ job: j.job, status: j.status }))).toEqual([
      { job: "consumes", status: "run" },
      { job: "produces", status: "fresh" },
    ]);
    expect(planned.chunks.map((c: any) => c.job)).toEqual(["consumes"]);

    // Second run: only consumes runs; produces did not run again.
    const second = await stau(p.dir, ["run", "consumes", "--json", ...WORKERS]);
    expect(second.code, show(second)).toBe(0);
    const two = json(second);
    expect(two.chunks.map((c: any) => c.job)).toEqual(["consumes"]);
    expect(two.chunks[0]).toMatchObject({ job: "consumes", status: "done", attempts: 1, error: null });
    expect(readText(p, "out/produces.log").trim().split("\n")).toEqual([one.run.id]);
    expect(readText(p, "out/consumes.log").trim().split("\n")).toHaveLength(2);
  });

  it("runs a dependency again when maxLag is 0", async () => {
    const p = project();
    p.useFixtures("produces");
    p.write(
      "jobs/always_fresh_input.ts",
      `import { defineJob } from "stau";
export default defineJob({ dependencies: [{ job: "produces", maxLag: 0 }], async run() {} });
`,
    );
    for (let i = 0; i < 2; i++) {
      const result = await stau(p.dir, ["run", "always_fresh_input", "--json", ...WORKERS]);
      expect(result.code, show(result)).toBe(0);
      expect(json(result).chunks.map((c: any) => c.job).sort()).toEqual(["always_fresh_input", "produces"]);
    }
    expect(readText(p, "out/produces.log").trim().split("\n")).toHaveLength(2);
  });

  it("keeps the data directory in ./data by default and in --data when given", async () => {
    const p = project();
    p.useFixtures("succeeds");
    const result = await stau(p.dir, ["run", "succeeds", "--json", "--data", "elsewhere", ...WORKERS]);
    expect(result.code, show(result)).toBe(0);
    expect(existsSync(join(p.dir, "elsewhere"))).toBe(true);
    expect(existsSync(join(p.dir, "data"))).toBe(false);
    const runs = await stau(p.dir, ["runs", "--json", "--data", "elsewhere"]);
    expect(json(runs).map((r: any) => r.id)).toEqual([json(result).run.id]);
  });
});
