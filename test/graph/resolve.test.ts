import { describe, expect, it } from "vitest";
import type { JobSpec } from "../../src/config/spec.js";
import type { WorkId } from "../../src/config/types.js";
import { ConfigError } from "../../src/errors.js";
import { CycleError, UnknownJobError } from "../../src/graph/raw-graph.js";
import { resolve } from "../../src/graph/resolve.js";
import type { FreshnessView, Plan } from "../../src/graph/types.js";
import { HOUR, MINUTE, freshness, job, registry, type SuccessRow } from "./helpers.js";

const NOW = Date.UTC(2024, 0, 15, 12);
const IDS = [1, 2, 3, 4, 5, 6];

function plan(jobs: Map<string, JobSpec>, options: { workIds?: WorkId[] | null; rows?: SuccessRow[]; kwargs?: Record<string, unknown> } = {}): Plan {
  return resolve({
    jobs,
    job: [...jobs.keys()][0],
    kwargs: options.kwargs ?? {},
    workIds: options.workIds === undefined ? IDS : options.workIds,
    now: NOW,
    freshness: freshness(options.rows ?? []),
  });
}

/** Chunks as `id[ids]→deps`, compact enough to compare whole plans at a glance. */
const brief = (p: Plan) => p.chunks.map((c) => `${c.id}[${c.workIds.join(",")}]→${c.dependsOn.join(",")}`);
const statuses = (p: Plan) => p.jobs.map((j) => `${j.job}:${j.status}`);
const rowsFor = (jobName: string, ids: (WorkId | null)[], at: number, key?: string): SuccessRow[] =>
  ids.map((workId) => ({ job: jobName, workId, at, key }));

describe("resolve", () => {
  it("plans SPEC §3's example exactly", () => {
    const jobs = registry(
      job("A", { chunkSize: 3, deps: ["B", "C"] }),
      job("B", { chunkSize: 2, deps: ["E"] }),
      job("C", { deps: ["D"] }),
      job("D"),
      job("E", { chunkSize: 6 }),
    );
    const p = plan(jobs, { rows: rowsFor("C", IDS, NOW - 10 * MINUTE) });
    expect(p.chunks).toEqual([
      { node: 0, id: "A.0", job: "A", kwargs: {}, workIds: [1, 2, 3], dependsOn: ["B.0", "B.1"] },
      { node: 0, id: "A.1", job: "A", kwargs: {}, workIds: [4, 5, 6], dependsOn: ["B.1", "B.2"] },
      { node: 1, id: "B.0", job: "B", kwargs: {}, workIds: [1, 2], dependsOn: ["E.0"] },
      { node: 1, id: "B.1", job: "B", kwargs: {}, workIds: [3, 4], dependsOn: ["E.0"] },
      { node: 1, id: "B.2", job: "B", kwargs: {}, workIds: [5, 6], dependsOn: ["E.0"] },
      { node: 3, id: "E.0", job: "E", kwargs: {}, workIds: [1, 2, 3, 4, 5, 6], dependsOn: [] },
    ]);
    expect(p.jobs).toEqual([
      { job: "A", kwargs: {}, status: "run" },
      { job: "B", kwargs: {}, status: "run" },
      { job: "C", kwargs: {}, status: "fresh", freshSince: NOW - 10 * MINUTE },
      { job: "E", kwargs: {}, status: "run" },
      { job: "D", kwargs: {}, status: "skipped" },
    ]);
    expect(p.workIds).toEqual(IDS);
  });

  it("runs a dependency only on the work IDs that are stale or missing", () => {
    const jobs = registry(job("A", { deps: ["B"] }), job("B"));
    const rows = [
      ...rowsFor("B", [1, 2], NOW - 30 * MINUTE),
      ...rowsFor("B", [3], NOW - HOUR), // exactly now − maxLag: still fresh
      ...rowsFor("B", [4], NOW - HOUR - 1),
      ...rowsFor("B", [5], NOW - 2 * HOUR),
    ];
    expect(brief(plan(jobs, { rows }))).toEqual(["A.0[1,2,3,4,5,6]→B.0", "B.0[4,5,6]→"]);
  });

  it("marks a dependency fresh with its oldest relevant success when every ID is fresh", () => {
    const jobs = registry(job("A", { deps: ["B"] }), job("B", { deps: ["C"] }), job("C"));
    const rows = [...rowsFor("B", [1, 2, 3], NOW - 5 * MINUTE), ...rowsFor("B", [4, 5, 6], NOW - 50 * MINUTE)];
    const p = plan(jobs, { rows });
    expect(brief(p)).toEqual(["A.0[1,2,3,4,5,6]→"]);
    expect(p.jobs[1]).toEqual({ job: "B", kwargs: {}, status: "fresh", freshSince: NOW - 50 * MINUTE });
    expect(statuses(p)).toEqual(["A:run", "B:fresh", "C:skipped"]);
  });

  it("asks a dependency's freshness per ID only when its newest success is within maxLag", () => {
    const jobs = registry(job("A", { deps: ["B", "C"] }), job("B"), job("C"));
    const asked: string[] = [];
    const rows = [...rowsFor("B", [1, 2, 3, 4, 5, 6], NOW - 2 * HOUR), ...rowsFor("C", [1, 2, 3], NOW - 5 * MINUTE)];
    const known = freshness(rows);
    const counting: FreshnessView = { ...known, lastSuccess: (name, key, id) => (asked.push(`${name}:${id}`), known.lastSuccess(name, key, id)) };
    const p = resolve({ jobs, job: "A", kwargs: {}, workIds: IDS, now: NOW, freshness: counting });
    // B last succeeded 2 h ago, past its 1 h maxLag: every ID is stale, asked once in all.
    expect(asked.filter((a) => a.startsWith("B:"))).toEqual(["B:null"]);
    // C succeeded 5 minutes ago on some IDs: each ID is asked.
    expect(asked.filter((a) => a.startsWith("C:")).length).toBe(1 + IDS.length);
    expect(brief(p)).toEqual(["A.0[1,2,3,4,5,6]→B.0,C.0", "B.0[1,2,3,4,5,6]→", "C.0[4,5,6]→"]);
  });

  it("holds each edge to its own maxLag when two parents that run on every ID need one job", () => {
    const jobs = registry(
      job("A", { deps: ["C", "B", "E"] }),
      job("C", { deps: [{ job: "D", maxLagMs: 3 * HOUR }] }),
      job("B", { deps: [{ job: "D", maxLagMs: HOUR }] }),
      job("E", { deps: [{ job: "D", maxLagMs: HOUR }] }),
      job("D", { chunkSize: 3 }),
    );
    const rows = [...rowsFor("D", [1, 2, 3], NOW - 30 * MINUTE), ...rowsFor("D", [4, 5, 6], NOW - 2 * HOUR)];
    // C (3 h) finds every ID fresh; B and E (1 h) need D again on 4–6.
    expect(brief(plan(jobs, { rows }))).toEqual(["A.0[1,2,3,4,5,6]→C.0,B.0,E.0", "C.0[1,2,3,4,5,6]→", "B.0[1,2,3,4,5,6]→D.0", "E.0[1,2,3,4,5,6]→D.0", "D.0[4,5,6]→"]);
  });

  it("gives a job both its shared chunks and a unique edge's own when parents that run on every ID need it both ways", () => {
    const jobs = registry(
      job("A", { deps: ["C", "B"] }),
      job("C", { chunkSize: 3, deps: [{ job: "D", unique: true }] }),
      job("B", { deps: ["D"] }),
      job("D"),
    );
    const rows = rowsFor("D", [1, 2, 3], NOW - 30 * MINUTE);
    expect(brief(plan(jobs, { rows }))).toEqual(["A.0[1,2,3,4,5,6]→C.0,C.1,B.0", "C.0[1,2,3]→", "C.1[4,5,6]→D.1", "B.0[1,2,3,4,5,6]→D.0", "D.0[4,5,6]→", "D.1[4,5,6]→"]);
  });

  it("always runs a dependency with maxLag 0", () => {
    const jobs = registry(job("A", { deps: [{ job: "B", maxLagMs: 0 }] }), job("B"));
    const p = plan(jobs, { rows: rowsFor("B", IDS, NOW) });
    expect(brief(p)).toEqual(["A.0[1,2,3,4,5,6]→B.0", "B.0[1,2,3,4,5,6]→"]);
  });

  describe("allowMissingWorkIds", () => {
    const jobs = registry(job("A", { chunkSize: 3, deps: [{ job: "B", allowMissingWorkIds: true }] }), job("B"));

    it("keeps the dependency fresh when it succeeded on any IDs within maxLag", () => {
      const p = plan(jobs, { rows: rowsFor("B", ["other"], NOW - 20 * MINUTE) });
      expect(brief(p)).toEqual(["A.0[1,2,3]→", "A.1[4,5,6]→"]);
      expect(p.jobs[1]).toMatchObject({ status: "fresh", freshSince: NOW - 20 * MINUTE });
    });

    it("runs it on all IDs otherwise, even those that are fresh on their own", () => {
      const rows = [...rowsFor("B", [1], NOW - 2 * HOUR), ...rowsFor("B", [2], NOW - 2 * HOUR)];
      expect(brief(plan(jobs, { rows }))).toEqual(["A.0[1,2,3]→B.0", "A.1[4,5,6]→B.0", "B.0[1,2,3,4,5,6]→"]);
    });
  });

  it("gives each parent chunk its own dependency chunks with unique", () => {
    const jobs = registry(
      job("A", { chunkSize: 3, deps: [{ job: "B", unique: true }, "C"] }),
      job("B", { chunkSize: 2, deps: ["C"] }),
      job("C"),
    );
    expect(brief(plan(jobs))).toEqual([
      "A.0[1,2,3]→B.0,B.1,C.0",
      "A.1[4,5,6]→B.2,B.3,C.0",
      "B.0[1,2]→C.0",
      "B.1[3]→C.0",
      "B.2[4,5]→C.0",
      "B.3[6]→C.0",
      "C.0[1,2,3,4,5,6]→",
    ]);
  });

  describe("kwargs", () => {
    const jobs = registry(
      job("A", { deps: [{ job: "B", kwargs: { x: 1 } }, { job: "C", kwargs: { x: 2 } }] }),
      job("B", { deps: [{ job: "D", kwargs: { y: 1 } }] }),
      job("C", { deps: [{ job: "D", kwargs: { x: 3 } }] }),
      job("D"),
    );

    it("makes separate nodes for different effective kwargs, deeper keys winning", () => {
      const p = plan(jobs, { kwargs: { run: true }, workIds: [1] });
      expect(p.jobs.map((j) => [j.job, j.kwargs])).toEqual([
        ["A", { run: true }],
        ["B", { x: 1 }],
        ["C", { x: 2 }],
        ["D", { x: 1, y: 1 }],
        ["D", { x: 3 }],
      ]);
      expect(brief(p)).toEqual(["A.0[1]→B.0,C.0", "B.0[1]→D~0.0", "C.0[1]→D~1.0", "D~0.0[1]→", "D~1.0[1]→"]);
      expect(p.chunks.find((c) => c.id === "D~1.0")?.kwargs).toEqual({ x: 3 });
    });

    it("keys freshness by the canonical kwargs", () => {
      const p = plan(jobs, { workIds: [1], rows: rowsFor("D", [1], NOW - MINUTE, '{"x":1,"y":1}') });
      expect(statuses(p)).toEqual(["A:run", "B:run", "C:run", "D:fresh", "D:run"]);
      expect(brief(p)).toEqual(["A.0[1]→B.0,C.0", "B.0[1]→", "C.0[1]→D~1.0", "D~1.0[1]→"]);
    });

    it("merges paths that arrive at the same kwargs into one node", () => {
      const same = registry(
        job("A", { deps: [{ job: "B", kwargs: { x: 1 } }, { job: "C", kwargs: { x: 1 } }] }),
        job("B", { deps: ["D"] }),
        job("C", { deps: ["D"] }),
        job("D"),
      );
      expect(brief(plan(same, { workIds: [1] }))).toEqual(["A.0[1]→B.0,C.0", "B.0[1]→D.0", "C.0[1]→D.0", "D.0[1]→"]);
    });
  });

  describe("without work IDs", () => {
    const jobs = registry(job("A", { chunkSize: 2, deps: ["B"] }), job("B", { deps: ["C"] }), job("C"));

    it("prunes a dependency whose last success is within maxLag", () => {
      const p = plan(jobs, { workIds: null, rows: rowsFor("B", [null], NOW - 30 * MINUTE) });
      expect(brief(p)).toEqual(["A.0[]→"]);
      expect(statuses(p)).toEqual(["A:run", "B:fresh", "C:skipped"]);
      expect(p.workIds).toBeNull();
    });

    it("runs every stale dependency as one chunk", () => {
      const p = plan(jobs, { workIds: null, rows: rowsFor("B", [null], NOW - 2 * HOUR) });
      expect(brief(p)).toEqual(["A.0[]→B.0", "B.0[]→C.0", "C.0[]→"]);
    });
  });

  it("gives a node needed by two parents the union of their IDs, in W's order", () => {
    const jobs = registry(
      job("A", { deps: ["B", "C"] }),
      job("B", { deps: ["D"] }),
      job("C", { deps: ["D"] }),
      job("D", { chunkSize: 1 }),
    );
    const rows = [...rowsFor("B", [10, 20], NOW), ...rowsFor("C", [30, 40], NOW)];
    expect(brief(plan(jobs, { workIds: [10, 20, 30, 40], rows }))).toEqual([
      "A.0[10,20,30,40]→B.0,C.0",
      "B.0[30,40]→D.2,D.3",
      "C.0[10,20]→D.0,D.1",
      "D.0[10]→",
      "D.1[20]→",
      "D.2[30]→",
      "D.3[40]→",
    ]);
  });

  it("still runs a job below a pruned one when another running parent needs it", () => {
    const jobs = registry(job("A", { deps: ["B", "C"] }), job("B", { deps: ["D"] }), job("C", { deps: ["D"] }), job("D"));
    const p = plan(jobs, { workIds: [1], rows: rowsFor("B", [1], NOW) });
    expect(statuses(p)).toEqual(["A:run", "B:fresh", "C:run", "D:run"]);
    expect(brief(p)).toEqual(["A.0[1]→C.0", "C.0[1]→D.0", "D.0[1]→"]);
  });

  it("lists a dependency chunk once when two edges lead to the same node", () => {
    const jobs = registry(job("A", { deps: ["B", { job: "B", maxLagMs: 0 }] }), job("B", { chunkSize: 2 }));
    expect(brief(plan(jobs, { workIds: [1, 2, 3] }))).toEqual(["A.0[1,2,3]→B.0,B.1", "B.0[1,2]→", "B.1[3]→"]);
  });

  it("links chunks across different chunk sizes by shared IDs", () => {
    const jobs = registry(job("A", { chunkSize: 4, deps: ["B"] }), job("B", { chunkSize: 3 }));
    expect(brief(plan(jobs, { workIds: [1, 2, 3, 4, 5, 6, 7, 8, 9, 10] }))).toEqual([
      "A.0[1,2,3,4]→B.0,B.1",
      "A.1[5,6,7,8]→B.1,B.2",
      "A.2[9,10]→B.2,B.3",
      "B.0[1,2,3]→",
      "B.1[4,5,6]→",
      "B.2[7,8,9]→",
      "B.3[10]→",
    ]);
  });

  it("runs the triggered job as one chunk when W is empty, and drops repeated IDs", () => {
    const jobs = registry(job("A", { chunkSize: 2, deps: ["B"] }), job("B"));
    expect(brief(plan(jobs, { workIds: [] }))).toEqual(["A.0[]→"]);
    expect(brief(plan(jobs, { workIds: [1, "1", 1] }))).toEqual(['A.0[1,1]→B.0', "B.0[1,1]→"]);
    expect(plan(jobs, { workIds: [1, "1", 1] }).workIds).toEqual([1, "1"]);
  });

  it("names the cycle", () => {
    const jobs = registry(job("A", { deps: ["B"] }), job("B", { deps: ["C"] }), job("C", { deps: ["A"] }));
    expect(() => plan(jobs)).toThrow(CycleError);
    expect(() => plan(jobs)).toThrow("dependency cycle: A → B → C → A");
  });

  it("names the file of an unknown dependency", () => {
    const jobs = registry(job("A", { deps: ["B"] }), job("B", { deps: ["nope"] }));
    expect(() => plan(jobs)).toThrow(UnknownJobError);
    expect(() => plan(jobs)).toThrow('/p/jobs/B.ts: dependencies: unknown job "nope"');
  });

  it("rejects an unknown triggered job", () => {
    const jobs = registry(job("A"));
    expect(() => resolve({ jobs, job: "Z", kwargs: {}, workIds: null, now: NOW, freshness: freshness([]) })).toThrow(ConfigError);
  });

  it("resolves a 500-job DAG over 10,000 work IDs with partial freshness (speed: npm run bench)", () => {
    // Ten levels of 50 jobs, each depending on three jobs of the level below.
    const sizes = [null, 37, 100, 250, 1000];
    const specs: JobSpec[] = [];
    const name = (level: number, i: number) => `j${level}_${i}`;
    for (let level = 0; level < 10; level++) {
      for (let i = 0; i < 50; i++) {
        const deps = level === 9 ? [] : [i, (i * 7 + 3) % 50, (i * 13 + 11) % 50].map((d) => name(level + 1, d));
        specs.push(job(name(level, i), { chunkSize: sizes[(level + i) % sizes.length], deps: [...new Set(deps)] }));
      }
    }
    const root = job("root", { chunkSize: 500, deps: Array.from({ length: 50 }, (_, i) => name(0, i)) });
    const ids = Array.from({ length: 10_000 }, (_, i) => i);
    // Every third job is fresh on the even IDs.
    const partlyFresh = new Set(specs.filter((_, i) => i % 3 === 0).map((s) => s.name));
    const view: FreshnessView = {
      // On any IDs (null): the newest of its successes, as every store keeps it.
      lastSuccess: (name, _key, id) => (partlyFresh.has(name) && (id === null || (typeof id === "number" && id % 2 === 0)) ? NOW : undefined),
      kwargsKeys: (name) => (partlyFresh.has(name) ? ["{}"] : []),
    };
    const input = { jobs: registry(root, ...specs), job: "root", kwargs: {}, workIds: ids, now: NOW, freshness: view };
    const plan = resolve(input);
    expect(plan.jobs).toHaveLength(501);
    expect(plan.jobs.filter((j) => j.status === "run")).toHaveLength(501);
    expect(plan.chunks.length).toBeGreaterThan(10_000);
    // A partly fresh job runs only on its stale (odd) IDs.
    const partly = plan.chunks.filter((c) => partlyFresh.has(c.job)).flatMap((c) => c.workIds);
    expect(partly.length).toBeGreaterThan(0);
    expect(partly.every((id) => Number(id) % 2 === 1)).toBe(true);
  });
});
