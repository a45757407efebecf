import { describe, expect, it } from "vitest";
import type { JobSpec } from "../../src/config/spec.js";
import { datasets, lineageWarnings } from "../../src/graph/lineage.js";
import { renderGraph } from "../../src/graph/render.js";
import { job, registry } from "./helpers.js";

const io = (spec: JobSpec, reads: string[], writes: string[]): JobSpec => ({ ...spec, reads, writes });

// raw → clean → stats; report reads stats through its dependency, audit reads clean without one.
const jobs = registry(
  io(job("report", { deps: ["stats"] }), ["stats_table"], ["report_pdf"]),
  io(job("stats", { deps: ["clean"] }), ["clean_table"], ["stats_table"]),
  io(job("clean", { deps: ["raw"] }), ["raw_csv"], ["clean_table"]),
  io(job("raw"), [], ["raw_csv"]),
  io(job("audit"), ["clean_table"], []),
);

describe("lineage", () => {
  it("lists each dataset with the jobs that write and read it", () => {
    expect(datasets(jobs)).toEqual([
      { name: "clean_table", writers: ["clean"], readers: ["audit", "stats"] },
      { name: "raw_csv", writers: ["raw"], readers: ["clean"] },
      { name: "report_pdf", writers: ["report"], readers: [] },
      { name: "stats_table", writers: ["stats"], readers: ["report"] },
    ]);
  });

  it("warns of a read whose writer the reader does not depend on, even transitively; not of one it does", () => {
    const warnings = lineageWarnings(jobs);
    expect(warnings.map((w) => [w.job, w.dataset, w.writer])).toEqual([["audit", "clean_table", "clean"]]);
    expect(warnings[0].message).toContain('reads dataset "clean_table", which clean writes, but does not depend on clean');
    // Transitive: report depends on clean through stats, so reading clean_table is fine.
    const deeper = registry(...jobs.values(), io(job("late", { deps: ["report"] }), ["raw_csv"], []));
    expect(lineageWarnings(deeper).map((w) => w.job)).toEqual(["audit"]);
  });

  it("never throws on cycles or unknown jobs", () => {
    const broken = registry(io(job("a", { deps: ["b", "ghost"] }), ["d"], []), io(job("b", { deps: ["a"] }), [], ["d"]));
    expect(lineageWarnings(broken)).toEqual([]);
  });
});

describe("renderGraph with datasets", () => {
  it("lists the datasets of the drawn jobs after the text tree, with every job that writes or reads them", () => {
    expect(renderGraph(jobs, "stats", "text")).toBe(
      [
        "stats",
        "└─ clean (maxLag 1h)",
        "   └─ raw (maxLag 1h)",
        "",
        "datasets (written by → read by):",
        "  clean_table: clean → audit, stats",
        "  raw_csv: raw → clean",
        "  stats_table: stats → report",
      ].join("\n"),
    );
  });

  it("draws datasets as cylinders with dashed writes/reads edges in dot and mermaid", () => {
    const dot = renderGraph(jobs, "stats", "dot");
    expect(dot).toContain('"dataset:clean_table" [shape=cylinder, label="clean_table"];');
    expect(dot).toContain('"clean" -> "dataset:clean_table" [style=dashed, label="writes"];');
    expect(dot).toContain('"stats" -> "dataset:clean_table" [style=dashed, label="reads"];');
    const mermaid = renderGraph(jobs, "stats", "mermaid").split("\n");
    expect(mermaid).toContain('  dataset_0[("clean_table")]');
    expect(mermaid).toContain("  clean -.->|writes| dataset_0");
    expect(mermaid).toContain("  stats -.->|reads| dataset_0");
    // audit reads clean_table without being in stats' graph: drawn as a node of its own, without dependencies.
    expect(mermaid).toContain("  audit");
    expect(mermaid).toContain("  audit -.->|reads| dataset_0");
    expect(mermaid.filter((line) => line.startsWith("  audit -->"))).toEqual([]);
    expect(renderGraph(jobs, "report", "dot")).toContain('"audit" -> "dataset:clean_table" [style=dashed, label="reads"];');
  });
});
