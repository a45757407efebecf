import { describe, expect, it } from "vitest";
import { ConfigError } from "../../src/errors.js";
import {
  buildRawGraph,
  CycleError,
  findCycles,
  findUnknownDependencies,
  UnknownJobError,
  upstreamJobs,
} from "../../src/graph/raw-graph.js";
import { job, registry } from "./helpers.js";

describe("buildRawGraph", () => {
  it("holds the jobs reachable from the root, edges pointing at dependencies", () => {
    const jobs = registry(
      job("A", { deps: ["B", "C", { job: "C", kwargs: { x: 1 } }] }),
      job("B", { deps: ["D"] }),
      job("C", { deps: ["D"] }),
      job("D"),
      job("unrelated"),
    );
    const graph = buildRawGraph(jobs, "A");
    expect(graph.nodes().sort()).toEqual(["A", "B", "C", "D"]);
    expect(graph.outNeighbors("A").sort()).toEqual(["B", "C"]);
    expect(graph.hasDirectedEdge("C", "D")).toBe(true);
    expect(graph.size).toBe(4); // the two edges A → C collapse into one
  });

  it("names a cycle from where the walk entered it", () => {
    const jobs = registry(job("root", { deps: ["a"] }), job("a", { deps: ["b"] }), job("b", { deps: ["c"] }), job("c", { deps: ["a"] }));
    let error: unknown;
    try {
      buildRawGraph(jobs, "root");
    } catch (caught) {
      error = caught;
    }
    expect(error).toBeInstanceOf(CycleError);
    expect(error).toBeInstanceOf(ConfigError);
    expect((error as CycleError).cycle).toEqual(["a", "b", "c", "a"]);
    expect((error as CycleError).message).toBe("dependency cycle: a → b → c → a");
  });

  it("names a job that depends on itself", () => {
    expect(() => buildRawGraph(registry(job("a", { deps: ["a"] })), "a")).toThrow("dependency cycle: a → a");
  });

  it("names the file and the unknown dependency", () => {
    const jobs = registry(job("a", { deps: ["b"] }), job("b", { deps: ["ghost"] }));
    let error: unknown;
    try {
      buildRawGraph(jobs, "a");
    } catch (caught) {
      error = caught;
    }
    expect(error).toBeInstanceOf(UnknownJobError);
    expect(error).toMatchObject({ job: "b", file: "/p/jobs/b.ts", dependency: "ghost", exitCode: 2 });
    expect((error as Error).message).toContain("/p/jobs/b.ts");
    expect((error as Error).message).toContain('"ghost"');
  });

  it("rejects an unknown root", () => {
    expect(() => buildRawGraph(registry(job("a")), "zzz")).toThrow(ConfigError);
  });

  it("handles a deep chain without recursion", () => {
    const specs = Array.from({ length: 5_000 }, (_, i) => job(`j${i}`, { deps: i < 4_999 ? [`j${i + 1}`] : [] }));
    expect(buildRawGraph(registry(...specs), "j0").order).toBe(5_000);
  });
});

describe("upstreamJobs", () => {
  it("lists every job below the root, not the root", () => {
    const jobs = registry(job("A", { deps: ["B"] }), job("B", { deps: ["C"] }), job("C"), job("Z"));
    expect(upstreamJobs(jobs, "A")).toEqual(new Set(["B", "C"]));
    expect(upstreamJobs(jobs, "C")).toEqual(new Set());
  });
});

describe("findCycles", () => {
  it("reports every distinct cycle once, starting at its first job", () => {
    const jobs = registry(
      job("a", { deps: ["b"] }),
      job("b", { deps: ["c", "a"] }),
      job("c", { deps: ["a", "missing"] }),
      job("x", { deps: ["x"] }),
      job("ok", { deps: ["a"] }),
    );
    expect(findCycles(jobs)).toEqual([
      ["a", "b", "c", "a"],
      ["a", "b", "a"],
      ["x", "x"],
    ]);
  });

  it("finds none in a DAG, even a wide one", () => {
    const specs = Array.from({ length: 200 }, (_, i) =>
      job(`j${i}`, { deps: [i + 1, i + 2, i + 3].filter((d) => d < 200).map((d) => `j${d}`) }),
    );
    expect(findCycles(registry(...specs))).toEqual([]);
  });
});

describe("findUnknownDependencies", () => {
  it("lists each edge to a job that does not exist", () => {
    const jobs = registry(job("a", { deps: ["b", "nope"] }), job("b", { deps: ["gone"] }));
    expect(findUnknownDependencies(jobs)).toEqual([
      { job: "a", file: "/p/jobs/a.ts", dependency: "nope" },
      { job: "b", file: "/p/jobs/b.ts", dependency: "gone" },
    ]);
  });
});
