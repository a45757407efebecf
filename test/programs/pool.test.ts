import { readFileSync } from "node:fs";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { projectPaths } from "../../src/config/project.js";
import { ExecPool } from "../../src/exec/pool.js";
import { loadRegistry } from "../../src/jobs/load.js";
import { logFile } from "../../src/store/logs.js";
import { projectFactory, until } from "../helpers/cli.js";

// A program's chunk on the pool, as the executor runs it: progress reaches the console
// and not the log, the log cap holds, and the select-work phase's answers and failures.

const project = projectFactory();
const pools: ExecPool[] = [];
afterEach(async () => {
  for (const pool of pools.splice(0)) await pool.close();
});

async function setUp(files: Record<string, string>) {
  const p = project(files);
  const registry = await loadRegistry(projectPaths(p.dir));
  const progress: [number, number][] = [];
  const closed = new Set<string>();
  const pool = new ExecPool({
    workers: 1,
    dataDir: join(p.dir, "data"),
    logCapBytes: 200,
    onProgress: (_chunkId, done, total) => progress.push([done, total]),
    onLogClosed: (_job, chunkId) => closed.add(chunkId),
  });
  pools.push(pool);
  const spec = (job: string) => registry.jobs.get(job) ?? expect.unreachable(`${job}: ${JSON.stringify([...registry.broken])}`);
  const run = async (job: string) => (await pool.runChunks([{ spec: spec(job), task: { runId: "r1", chunkId: `r1.${job}.0`, attempt: 1, workIds: [1], kwargs: {} } }]))[0]!.outcome;
  const log = async (job: string) => {
    await until(() => closed.has(`r1.${job}.0`), `the log of ${job}`);
    return readFileSync(logFile(join(p.dir, "data"), job, `r1.${job}.0`, 1), "utf8");
  };
  return { p, pool, spec, run, log, progress };
}

describe("a program's chunk on the pool", () => {
  it("feeds ::stau::progress lines to the console and keeps them out of the log", async () => {
    const { run, log, progress } = await setUp({
      "jobs/counts.py": `for i in range(1, 4):\n    print("step", i)\n    print(f"::stau::progress {i} 3")\n`,
    });
    expect(await run("counts")).toEqual({ ok: true });
    expect(progress.at(-1)).toEqual([3, 3]);
    expect(progress[0]).toEqual([1, 3]);
    const text = await log("counts");
    expect(text).toMatch(/step 1\n.*step 2\n.*step 3\n$/);
    expect(text).not.toContain("::stau::");
  });

  it("caps a chatty program's log and still names its stderr when it fails", async () => {
    const { run, log } = await setUp({ "jobs/chatty.sh": `for i in $(seq 1 200); do echo "line $i"; done\necho "the real problem" >&2\nexit 1\n` });
    const outcome = await run("chatty");
    expect(outcome).toMatchObject({ ok: false, kind: "error", error: { message: "exited with code 1: the real problem\nlast lines of stderr:\nthe real problem" } });
    const text = await log("chatty");
    expect(text).toContain("[stau] log cap of 200 bytes reached");
    expect(text).not.toContain("line 200");
  });

  it("takes the select-work phase's JSON array, alone or as the last line, and says what else it printed", async () => {
    const { pool, spec } = await setUp({
      "jobs/alone.py": `# /// stau\n# selectWork = true\n# ///\nimport json, os\nprint(json.dumps(["a", 2], indent=2))\n`,
      "jobs/last.sh": `# /// stau\n# selectWork = true\n# ///\necho "looking in the inbox"\necho "[1,2,3]"\n`,
      "jobs/chatty.sh": `# /// stau\n# selectWork = true\n# ///\necho "no ids today"\n`,
      "jobs/fails.sh": `# /// stau\n# selectWork = true\n# ///\necho "no database" >&2\nexit 2\n`,
      "jobs/silent.sh": `# /// stau\n# selectWork = true\n# ///\ntrue\n`,
      "jobs/hangs.sh": `# /// stau\n# selectWork = true\n# timeout = "300ms"\n# ///\nsleep 300\n`,
    });
    expect(await pool.selectWork(spec("alone"), {})).toEqual(["a", 2]);
    expect(await pool.selectWork(spec("last"), {})).toEqual([1, 2, 3]);
    await expect(pool.selectWork(spec("chatty"), {})).rejects.toThrow(/chatty \(select-work phase\) must print a JSON array of work IDs .*printed "no ids today"/);
    await expect(pool.selectWork(spec("fails"), {})).rejects.toThrow(/fails \(select-work phase\) exited with code 2: no database\nlast lines of stderr:\nno database/);
    await expect(pool.selectWork(spec("silent"), {})).rejects.toThrow(/silent \(select-work phase\) must print a JSON array .*printed nothing$/);
    await expect(pool.selectWork(spec("hangs"), {})).rejects.toThrow("hangs (select-work phase) timed out after 300ms");
  });

  it("fails without retries when the interpreter is missing", async () => {
    const previous = process.env.STAU_PYTHON;
    process.env.STAU_PYTHON = "/nonexistent/python3";
    try {
      const { run } = await setUp({ "jobs/score.py": `print("never")\n` });
      expect(await run("score")).toMatchObject({ ok: false, error: { message: "cannot start /nonexistent/python3: not found (set STAU_PYTHON to the Python to use)", nonRetryable: true } });
    } finally {
      if (previous === undefined) delete process.env.STAU_PYTHON;
      else process.env.STAU_PYTHON = previous;
    }
  });
});
