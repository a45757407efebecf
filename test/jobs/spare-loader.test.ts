import { execFileSync } from "node:child_process";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { projectPaths } from "../../src/config/project.js";
import { loadInWorker, loadRegistry, SpareLoader } from "../../src/jobs/load.js";
import { projectFactory, until } from "../helpers/cli.js";

// A hot reload imports the saved files in a spare loading thread that was set up ahead:
// the TypeScript loader registered, "stau" imported, the loader's esbuild started. These
// tests run real threads and a real esbuild in this process, and read its children with ps.

const project = projectFactory();

/** This process's esbuild children, with their state letter (Z: exited, never reaped). */
function esbuildChildren(): { pid: number; state: string }[] {
  let out = "";
  try {
    out = execFileSync("ps", ["-o", "pid=,stat=,comm=", "--ppid", String(process.pid)], { encoding: "utf8" });
  } catch {
    return []; // ps exits 1 when there are none
  }
  return out
    .trim()
    .split("\n")
    .map((line) => line.trim().split(/\s+/))
    .filter(([, , command]) => command === "esbuild")
    .map(([pid, state]) => ({ pid: Number(pid), state: state! }));
}

const running = () => esbuildChildren().filter((child) => child.state[0] !== "Z");
const zombies = () => esbuildChildren().filter((child) => child.state[0] === "Z");

// New text each time, so the loader's disk cache cannot answer it without esbuild.
const job = (marker: string) => `import { defineJob } from "stau";
export default defineJob({ chunkSize: 3, async run() { return ${JSON.stringify(marker)} as string; } });
`;

describe("the spare loading thread of hot reload", () => {
  it("has esbuild running while it waits, and ends it when closed unused, leaving no zombie", async () => {
    const p = project();
    const before = running().length;
    const spare = new SpareLoader(join(p.dir, "jobs"));
    spare.warm();
    await until(() => running().length > before, "the spare's esbuild to start");
    await spare.close();
    await until(() => running().length === before, "the spare's esbuild to end");
    expect(zombies()).toEqual([]);
  });

  it("loads ES module and CommonJS job files that import stau, then ends with its esbuild", async () => {
    const p = project({
      "jobs/typed.ts": job(`typed ${Date.now()}`),
      "jobs/common.cjs": `const { defineJob } = require("stau");\nmodule.exports = defineJob({ chunkSize: 4, async run() {} });\n`,
    });
    const before = running().length;
    const spare = new SpareLoader(join(p.dir, "jobs"));
    spare.warm();
    await until(() => running().length > before, "the spare's esbuild to start");
    const results = await loadInWorker([join(p.dir, "jobs", "typed.ts"), join(p.dir, "jobs", "common.cjs")], spare.take());
    expect(results.map((r) => [r.file.split("/").pop(), r.ok])).toEqual([
      ["typed.ts", true],
      ["common.cjs", true],
    ]);
    // take() started the next spare, whose esbuild is the only one left.
    await until(() => running().length === before + 1, "one esbuild: the next spare's");
    await spare.close();
    await until(() => running().length === before, "every esbuild to end");
    expect(zombies()).toEqual([]);
  });
});

describe("a reload of some job files", () => {
  it("keeps every other job's result, broken ones with their problems, and validates the changed one anew", async () => {
    const p = project({ "jobs/kept.ts": job("kept"), "jobs/edited.ts": job("edited v1"), "jobs/broken.ts": `export default { chunkSize: "many", async run() {} };\n` });
    const paths = projectPaths(p.dir);
    const first = await loadRegistry(paths);
    expect([...first.jobs.keys()].sort()).toEqual(["edited", "kept"]);
    p.write("jobs/edited.ts", `import { defineJob } from "stau";\nexport default defineJob({ chunkSize: 0, async run() {} });\n`);
    const second = await loadRegistry(paths, { previous: first, changed: new Set([join(p.dir, "jobs", "edited.ts")]) });
    expect(second.jobs.get("kept")).toBe(first.jobs.get("kept"));
    expect(second.broken.get("broken")).toEqual(first.broken.get("broken"));
    expect(second.broken.get("broken")![0]).toMatchObject({ file: "jobs/broken.ts", field: "chunkSize", line: 1 });
    expect(second.broken.get("edited")![0]).toMatchObject({ file: "jobs/edited.ts", field: "chunkSize", line: 2 });
    expect(second.jobs.has("edited")).toBe(false);
  });
});
