import { describe, expect, it } from "vitest";
import { projectFactory, show } from "../helpers/cli.js";
import { stau } from "../helpers/project.js";

const project = projectFactory();

describe("stau graph", () => {
  it("shows a job's dependencies as text, dot and mermaid", async () => {
    const p = project();
    p.useFixtures("succeeds", "throws", "needs_throws", "produces", "consumes");

    const text = await stau(p.dir, ["graph", "needs_throws"]);
    expect(text.code, show(text)).toBe(0);
    const lines = text.stdout.trim().split("\n");
    expect(lines[0]).toBe("needs_throws");
    expect(text.stdout).toMatch(/throws \(maxLag 1h\)/);
    expect(text.stdout).toMatch(/succeeds \(maxLag 1h\)/);
    expect(text.stdout).not.toContain("produces");

    const dot = await stau(p.dir, ["graph", "consumes", "--format", "dot"]);
    expect(dot.code, show(dot)).toBe(0);
    expect(dot.stdout).toMatch(/^digraph/);
    expect(dot.stdout).toContain('"consumes" -> "produces"');

    const mermaid = await stau(p.dir, ["graph", "consumes", "--format", "mermaid"]);
    expect(mermaid.code, show(mermaid)).toBe(0);
    expect(mermaid.stdout).toMatch(/^graph/);
    expect(mermaid.stdout).toMatch(/consumes -->.*produces/);
  });

  it("shows every job without a job argument", async () => {
    const p = project();
    p.useFixtures("succeeds", "produces", "consumes");
    const all = await stau(p.dir, ["graph"]);
    expect(all.code, show(all)).toBe(0);
    for (const job of ["succeeds", "produces", "consumes"]) expect(all.stdout).toContain(job);
  });
});

describe("stau graph: lineage", () => {
  it("shows datasets between the jobs that write and read them, in text, dot and mermaid", async () => {
    const job = (config: string) => `import { defineJob } from "stau";\nexport default defineJob({ ${config} async run() {} });\n`;
    const p = project({
      "jobs/clean.ts": job(`writes: ["clean_table"],`),
      "jobs/stats.ts": job(`dependencies: [{ job: "clean", maxLag: "1h" }], reads: ["clean_table"], writes: ["stats_table"],`),
    });
    const text = await stau(p.dir, ["graph", "stats"]);
    expect(text.code, show(text)).toBe(0);
    expect(text.stdout).toContain("datasets (written by → read by):\n  clean_table: clean → stats\n  stats_table: stats → —");
    const dot = await stau(p.dir, ["graph", "--format", "dot"]);
    expect(dot.stdout).toContain('"clean" -> "dataset:clean_table" [style=dashed, label="writes"];');
    const mermaid = await stau(p.dir, ["graph", "stats", "--format", "mermaid"]);
    expect(mermaid.code, show(mermaid)).toBe(0);
    expect(mermaid.stdout).toMatch(/dataset_0\[\("clean_table"\)\]/);
    expect(mermaid.stdout).toContain("clean -.->|writes| dataset_0");
    expect(mermaid.stdout).toContain("stats -.->|reads| dataset_0");
  });
});
