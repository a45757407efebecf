import { execFileSync, fork } from "node:child_process";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { projectPaths } from "../../src/config/project.js";
import { loadInWorker, loadRegistry } from "../../src/jobs/load.js";
import { SpareLoader } from "../../src/jobs/spare-loader.js";
import { projectFactory, until } from "../helpers/cli.js";
import { REPO } from "../helpers/project.js";

// A hot reload imports the saved files in a spare loading process that was set up ahead:
// the TypeScript loader registered, "stau" imported, the loader's esbuild started (a
// child of the spare). These tests run real processes and a real esbuild, and read the
// process table with ps.

const project = projectFactory();

interface Process {
  pid: number;
  ppid: number;
  state: string;
  command: string;
}

function processes(): Process[] {
  return execFileSync("ps", ["-e", "-o", "pid=,ppid=,stat=,args="], { encoding: "utf8" })
    .trim()
    .split("\n")
    .map((line) => {
      const [pid, ppid, state, ...command] = line.trim().split(/\s+/);
      return { pid: Number(pid), ppid: Number(ppid), state: state!, command: command.join(" ") };
    });
}

/** This process's spare loading processes, each with its esbuild children. */
function spares(): { pid: number; esbuild: Process[] }[] {
  const all = processes();
  return all
    .filter((p) => p.ppid === process.pid && p.command.includes("load-worker.js") && p.state[0] !== "Z")
    .map((spare) => ({ pid: spare.pid, esbuild: all.filter((p) => p.ppid === spare.pid && p.command.includes("esbuild")) }));
}

const warmSpares = () => spares().filter((spare) => spare.esbuild.some((e) => e.state[0] !== "Z"));
/** Zombies among this process's children and the spares' (ended, never reaped). */
const zombies = () => processes().filter((p) => p.state[0] === "Z" && (p.ppid === process.pid || p.command.includes("esbuild")));

// New text each time, so the loader's disk cache cannot answer it without esbuild.
const job = (marker: string) => `import { defineJob } from "stau";
export default defineJob({ chunkSize: 3, async run() { return ${JSON.stringify(marker)} as string; } });
`;

describe("the spare loading process of hot reload", () => {
  it("has esbuild running while it waits, and ends with it when closed unused, leaving no zombie", async () => {
    const p = project();
    const spare = new SpareLoader(join(p.dir, "jobs"));
    spare.warm();
    await until(() => warmSpares().length === 1, "the spare and its esbuild to start");
    const [{ esbuild }] = warmSpares();
    await spare.close();
    expect(spares()).toEqual([]);
    await until(() => !processes().some((p) => esbuild.some((e) => e.pid === p.pid)), "the spare's esbuild to end");
    expect(zombies()).toEqual([]);
  });

  it("loads ES module and CommonJS job files that import stau, then ends; the next spare waits", async () => {
    const p = project({
      "jobs/typed.ts": job(`typed ${Date.now()}`),
      "jobs/common.cjs": `const { defineJob } = require("stau");\nmodule.exports = defineJob({ chunkSize: 4, async run() {} });\n`,
    });
    const spare = new SpareLoader(join(p.dir, "jobs"));
    spare.warm();
    await until(() => warmSpares().length === 1, "the spare and its esbuild to start");
    const [first] = warmSpares();
    const results = await loadInWorker([join(p.dir, "jobs", "typed.ts"), join(p.dir, "jobs", "common.cjs")], spare);
    expect(results.map((r) => [r.file.split("/").pop(), r.ok])).toEqual([
      ["typed.ts", true],
      ["common.cjs", true],
    ]);
    // The load started the next spare; the one that loaded ends by itself.
    await until(() => warmSpares().length === 1 && warmSpares()[0]!.pid !== first!.pid, "one spare left: the next one");
    await spare.close();
    await until(() => spares().length === 0, "the spare to end");
    expect(zombies()).toEqual([]);
  });

  it("ends when stau ends before the spare has started listening to it", async () => {
    const p = project();
    // As stau's end looks to a spare that is still loading its own modules (seen: a spare
    // left running for good, its channel closed, kept alive by its module hooks' port).
    // A preload holds the spare's own code back a moment, so the channel closes before it
    // runs, and leaves a timer that would keep it running (there, a request to its module
    // hooks that never got an answer).
    const holdBack = "data:text/javascript,setInterval(() => {}, 1000); await new Promise((resolve) => setTimeout(resolve, 300));";
    const spare = fork(join(REPO, "dist", "jobs", "load-worker.js"), [join(p.dir, "jobs")], { execArgv: ["--import", holdBack], stdio: ["ignore", "ignore", "pipe", "ipc"] });
    spare.disconnect();
    spare.stderr!.destroy();
    const exited = new Promise((resolve) => spare.once("exit", resolve));
    const outcome = await Promise.race([exited.then(() => "ended"), new Promise((resolve) => setTimeout(resolve, 10_000, "still running"))]);
    spare.kill("SIGKILL");
    expect(outcome).toBe("ended");
  });

  it("blames process.exit at import on its file and line, and says so when the spare is ended without an answer", async () => {
    const p = project({
      "jobs/exits.ts": `\nprocess.exit(3);\nexport default {};\n`,
      "jobs/killed.ts": `process.kill(process.pid, "SIGKILL");\nexport default {};\n`,
      "jobs/fine.ts": job("fine"),
    });
    const spare = new SpareLoader(join(p.dir, "jobs"));
    const [exits] = await loadInWorker([join(p.dir, "jobs", "exits.ts")], spare);
    expect(exits).toMatchObject({ ok: false, message: "process.exit(3) was called while the file was imported", line: 2 });
    await expect(loadInWorker([join(p.dir, "jobs", "killed.ts")], spare)).rejects.toThrow(/^loading \S*jobs\/killed\.ts ended before it answered \(SIGKILL\)$/);
    const results = await loadInWorker([join(p.dir, "jobs", "fine.ts")], spare);
    expect(results.map((r) => r.ok)).toEqual([true]);
    await spare.close();
    await until(() => spares().length === 0, "the spare to end");
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
