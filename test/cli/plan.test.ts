import { describe, expect, it } from "vitest";
import { projectFactory, show, WORKERS } from "../helpers/cli.js";
import { json, stau } from "../helpers/project.js";

const project = projectFactory();

const job = (config: string) => `import { defineJob } from "stau";
export default defineJob({ ${config} async run() {} });
`;

/** SPEC §3's example: A (chunk 3) needs B (chunk 2) and C; B needs E (chunk 6); C needs D. */
function specExample() {
  return project({
    "jobs/A.ts": job(`chunkSize: 3, dependencies: [{ job: "B", maxLag: "1h" }, { job: "C", maxLag: "1h" }],`),
    "jobs/B.ts": job(`chunkSize: 2, dependencies: [{ job: "E", maxLag: "1h" }],`),
    "jobs/C.ts": job(`dependencies: [{ job: "D", maxLag: "1h" }],`),
    "jobs/D.ts": job(""),
    "jobs/E.ts": job(`chunkSize: 6,`),
  });
}

const IDS = ["--work", "1,2,3,4,5,6"];

describe("stau plan", () => {
  it("plans SPEC §3's example once C is fresh", async () => {
    const p = specExample();
    // C is fresh on IDs 1–6 after a run of C over them (which runs D first).
    const runC = await stau(p.dir, ["run", "C", "--json", ...IDS, ...WORKERS]);
    expect(runC.code, show(runC)).toBe(0);
    expect(json(runC).chunks.map((c: any) => `${c.job}:${c.status}`).sort()).toEqual(["C:done", "D:done"]);

    const result = await stau(p.dir, ["plan", "A", "--json", ...IDS]);
    expect(result.code, show(result)).toBe(0);
    const plan = json(result);
    expect(Object.keys(plan).sort()).toEqual(["chunks", "job", "jobs", "workIds"]);
    expect(plan.job).toBe("A");
    expect(plan.workIds).toEqual([1, 2, 3, 4, 5, 6]);

    const status = Object.fromEntries(plan.jobs.map((j: any) => [j.job, j.status]));
    expect(status).toEqual({ A: "run", B: "run", C: "fresh", D: "skipped", E: "run" });
    // Fields are only ever added to the contract (README "JSON contracts").
    for (const j of plan.jobs) expect(Object.keys(j).sort()).toEqual(["chunks", "freshIds", "freshUntil", "job", "kwargs", "lastSuccess", "reason", "staleIds", "status"]);

    for (const c of plan.chunks) expect(Object.keys(c).sort()).toEqual(["dependsOn", "id", "job", "kwargs", "workIds"]);
    const ids = plan.chunks.map((c: any) => c.id);
    expect(new Set(ids).size).toBe(ids.length);
    expect(plan.chunks).toHaveLength(6);

    // Chunk ids are opaque: find chunks by job and work IDs.
    const find = (job: string, workIds: number[]) => {
      const found = plan.chunks.filter((c: any) => c.job === job && JSON.stringify(c.workIds) === JSON.stringify(workIds));
      expect(found, `${job}${JSON.stringify(workIds)} in ${JSON.stringify(plan.chunks)}`).toHaveLength(1);
      return found[0];
    };
    const A0 = find("A", [1, 2, 3]);
    const A1 = find("A", [4, 5, 6]);
    const B0 = find("B", [1, 2]);
    const B1 = find("B", [3, 4]);
    const B2 = find("B", [5, 6]);
    const E0 = find("E", [1, 2, 3, 4, 5, 6]);
    const deps = (chunk: any) => [...chunk.dependsOn].sort();
    expect(deps(A0)).toEqual([B0.id, B1.id].sort());
    expect(deps(A1)).toEqual([B1.id, B2.id].sort());
    expect(deps(B0)).toEqual([E0.id]);
    expect(deps(B1)).toEqual([E0.id]);
    expect(deps(B2)).toEqual([E0.id]);
    expect(deps(E0)).toEqual([]);
    for (const c of plan.chunks) expect(c.kwargs).toEqual({});
  });

  it("plans every job when nothing is fresh, and runs nothing", async () => {
    const p = specExample();
    const result = await stau(p.dir, ["plan", "A", "--json", ...IDS]);
    expect(result.code, show(result)).toBe(0);
    const plan = json(result);
    const status = Object.fromEntries(plan.jobs.map((j: any) => [j.job, j.status]));
    expect(status).toEqual({ A: "run", B: "run", C: "run", D: "run", E: "run" });
    const counts: Record<string, number> = {};
    for (const c of plan.chunks) counts[c.job] = (counts[c.job] ?? 0) + 1;
    expect(counts).toEqual({ A: 2, B: 3, C: 1, D: 1, E: 1 });
    // C has no chunkSize: one chunk over all the IDs A needs from it.
    expect(plan.chunks.find((c: any) => c.job === "C").workIds).toEqual([1, 2, 3, 4, 5, 6]);

    const runs = await stau(p.dir, ["runs", "--json"]);
    expect(json(runs)).toEqual([]);
  });

  it("passes --kwargs into every chunk of the plan", async () => {
    const p = specExample();
    const result = await stau(p.dir, ["plan", "A", "--json", ...IDS, "--kwargs", '{"day":"2024-01-01"}']);
    expect(result.code, show(result)).toBe(0);
    const plan = json(result);
    expect(plan.chunks.filter((c: any) => c.job === "A").map((c: any) => c.kwargs)).toEqual([{ day: "2024-01-01" }, { day: "2024-01-01" }]);
  });

  it("uses selectWork when no --work is given", async () => {
    const p = project();
    p.useFixtures("echo_args");
    const result = await stau(p.dir, ["plan", "echo_args", "--json"]);
    expect(result.code, show(result)).toBe(0);
    const plan = json(result);
    expect(plan.workIds).toEqual([1, 2, 3, 4, 5]);
    expect(plan.chunks.map((c: any) => c.workIds)).toEqual([[1, 2], [3, 4], [5]]);
    expect(plan.jobs).toEqual([{ job: "echo_args", status: "run", kwargs: {}, chunks: 3, staleIds: 5, freshIds: 0, lastSuccess: null, freshUntil: null, reason: "the triggered job always runs" }]);
  });

  it("prints a readable plan without --json", async () => {
    const p = specExample();
    const result = await stau(p.dir, ["plan", "A", ...IDS]);
    expect(result.code, show(result)).toBe(0);
    for (const name of ["A", "B", "C", "D", "E"]) expect(result.stdout).toMatch(new RegExp(`\\b${name}\\b`));
    expect(result.stdout).toContain("8 chunks");
  });
});
