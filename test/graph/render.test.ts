import { describe, expect, it } from "vitest";
import { renderGraph } from "../../src/graph/render.js";
import { HOUR, job, registry } from "./helpers.js";

const DAY = 24 * HOUR;

const jobs = registry(
  job("daily_stats", { deps: ["clean_measurements", { job: "stations", maxLagMs: DAY }] }),
  job("clean_measurements", { deps: [{ job: "raw", maxLagMs: DAY }, { job: "stations", maxLagMs: 0, unique: true }] }),
  job("stations", { deps: [{ job: "raw", maxLagMs: DAY }] }),
  job("raw"),
  job("weekly-report", { deps: ["daily_stats"] }),
);

describe("renderGraph as text", () => {
  it("draws one job's tree with each edge's maxLag, marking repeated subtrees", () => {
    expect(renderGraph(jobs, "daily_stats", "text")).toBe(
      [
        "daily_stats",
        "├─ clean_measurements (maxLag 1h)",
        "│  ├─ raw (maxLag 1d)",
        "│  └─ stations (maxLag 0ms, unique)",
        "│     └─ raw (maxLag 1d)",
        "└─ stations (maxLag 1d) (see above)",
      ].join("\n"),
    );
  });

  it("draws the simplest case as in the docs", () => {
    const two = registry(job("daily_stats", { deps: ["clean_measurements"] }), job("clean_measurements"));
    expect(renderGraph(two, "daily_stats", "text")).toBe("daily_stats\n└─ clean_measurements (maxLag 1h)");
  });

  it("draws every job nothing depends on when no root is given", () => {
    const out = renderGraph(registry(job("a", { deps: ["b"] }), job("b"), job("c")), null, "text");
    expect(out).toBe("a\n└─ b (maxLag 1h)\n\nc");
  });

  it("shows cycles and unknown jobs instead of throwing", () => {
    const broken = registry(job("a", { deps: ["b", "ghost"] }), job("b", { deps: ["a"] }));
    expect(renderGraph(broken, "a", "text")).toBe(
      ["a", "├─ b (maxLag 1h)", "│  └─ a (maxLag 1h) (cycle)", "└─ ghost (maxLag 1h) (unknown job)"].join("\n"),
    );
    // Only a cycle: no job is free of dependents, yet each is drawn.
    expect(renderGraph(registry(job("x", { deps: ["y"] }), job("y", { deps: ["x"] })), null, "text")).toContain("x\n└─ y");
  });
});

describe("renderGraph as dot", () => {
  it("is a digraph with edges labelled by maxLag", () => {
    const out = renderGraph(jobs, "clean_measurements", "dot");
    expect(out.startsWith("digraph stau {\n")).toBe(true);
    expect(out.endsWith("\n}")).toBe(true);
    expect(out).toContain('"clean_measurements" -> "raw" [label="1d"];');
    expect(out).toContain('"clean_measurements" -> "stations" [label="0ms"];');
    expect(out).toContain('"stations" -> "raw" [label="1d"];');
    expect(out).not.toContain("daily_stats");
  });

  it("draws every job without a root", () => {
    const out = renderGraph(jobs, null, "dot");
    expect(out).toContain('"weekly-report" -> "daily_stats" [label="1h"];');
    expect(out.match(/->/g)).toHaveLength(6);
  });
});

describe("renderGraph as mermaid", () => {
  it("is a graph TD with labelled edges", () => {
    const out = renderGraph(jobs, "daily_stats", "mermaid");
    expect(out.split("\n")[0]).toBe("graph TD");
    expect(out).toContain("  daily_stats -->|1h| clean_measurements");
    expect(out).toContain("  clean_measurements -->|1d| raw");
  });

  it("gives names Mermaid cannot take as ids a plain id with the name as label", () => {
    const out = renderGraph(registry(job("weekly-report", { deps: ["end"] }), job("end")), null, "mermaid");
    expect(out).toBe(['graph TD', '  job_0["weekly-report"]', '  job_1["end"]', "  job_0 -->|1h| job_1"].join("\n"));
  });
});
