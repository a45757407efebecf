import { execFileSync } from "node:child_process";
import { existsSync, mkdirSync, readFileSync, rmSync, statfsSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { projectFactory, show } from "../helpers/cli.js";
import { startInstance, type RunningStau } from "../helpers/instance.js";
import { json, stau } from "../helpers/project.js";

// A full disk under the data directory: stau loses nothing, runs nothing it cannot
// record, says so (naming the file and the free space), and goes on by itself once
// space is back. The data directory is a real 1 MiB tmpfs (this suite runs as root, as
// CI does; mounting fails loudly otherwise).

const project = projectFactory();
const running: RunningStau[] = [];
const mounts: string[] = [];
afterEach(() => {
  for (const instance of running.splice(0)) instance.child.kill("SIGKILL");
  for (const dir of mounts.splice(0)) execFileSync("umount", ["-l", dir]);
});

const JOB = `import { appendFileSync } from "node:fs";
import { defineJob } from "stau";
export default defineJob({
  chunkSize: 1,
  async selectWork() { return Array.from({ length: 200 }, (_, i) => i + 1); },
  async run({ workIds, chunkId }) {
    appendFileSync("executions.log", workIds[0] + " " + chunkId + "\\n");
    await new Promise((resolve) => setTimeout(resolve, 5));
  },
});
`;

function tinyDisk(dir: string): string {
  const data = join(dir, "data");
  mkdirSync(data);
  execFileSync("mount", ["-t", "tmpfs", "-o", "size=1m", "tmpfs", data]);
  mounts.push(data);
  return data;
}

/** Leaves about `bytes` free on the disk of `dir`, with a file that can be removed again. */
function fill(dir: string, bytes: number): string {
  const filler = join(dir, "filler");
  const { bavail, bsize } = statfsSync(dir);
  try {
    writeFileSync(filler, Buffer.alloc(Math.max(0, bavail * bsize - bytes)));
  } catch (error) {
    // stau wrote meanwhile, so less fit: the disk is fuller still, which is what was asked.
    if ((error as NodeJS.ErrnoException).code !== "ENOSPC") throw error;
  }
  return filler;
}

/** Each execution of a chunk's code, in order: its work ID and its chunk id. */
const executed = (dir: string) =>
  existsSync(join(dir, "executions.log"))
    ? readFileSync(join(dir, "executions.log"), "utf8").split("\n").filter(Boolean).map((line) => ({ workId: Number(line.split(" ")[0]), chunk: line.split(" ")[1]! }))
    : [];
const executions = (dir: string) => executed(dir).map((e) => e.workId);

describe("a full disk under the data directory", () => {
  it("stops claiming and says so, then finishes the run by itself once space is back; nothing runs twice", async () => {
    const p = project({ "jobs/many.ts": JOB });
    const data = tinyDisk(p.dir);
    const port = 20_000 + Math.floor(Math.random() * 20_000);
    const instance = startInstance(p.dir, ["--health-port", String(port)]);
    running.push(instance);
    await instance.waitFor((e) => e.event === "instance:started", "start");
    const triggered = await stau(p.dir, ["trigger", "many", "--json"]);
    expect(triggered.code, show(triggered)).toBe(0);
    const runId = json(triggered).run.id;
    await instance.waitFor(() => executions(p.dir).length >= 20, "some chunks to run");

    const filler = fill(data, 0);
    const problem = await instance.waitFor((e) => e.event === "store:problem" && e.problem, "the store to say it cannot write");
    expect(problem.problem).toContain(join(data, "journal.jsonl"));
    expect(problem.problem).toMatch(/no space left on its disk; [\d.]+ MB free/);
    const health = await fetch(`http://127.0.0.1:${port}/healthz`);
    expect(health.status).toBe(503);
    expect((await health.json()).storeProblem).toMatch(/no space left/);
    // A trigger's answer is the truth: no run is taken that cannot be recorded.
    const refused = await stau(p.dir, ["trigger", "many", "--json"]);
    expect(refused.code, show(refused)).toBe(1);
    expect(refused.stderr).toMatch(/no run was created: cannot write .*journal\.jsonl: no space left/);
    const status = json(await stau(p.dir, ["status", "--json"]));
    expect(status.instance.storeProblem).toMatch(/no space left/);

    rmSync(filler);
    await instance.waitFor((e) => e.event === "store:problem" && e.problem === null, "the store to write again");
    const finished = await instance.waitFor((e) => e.event === "run:finished" && e.run === runId, "the run to finish", 60_000);
    expect(finished.status).toBe("done");
    instance.child.kill("SIGTERM");
    expect(await instance.exited()).toBe(0);

    const ran = executions(p.dir);
    expect(new Set(ran).size).toBe(200);
    expect(ran.length).toBe(200);
    const runs = json(await stau(p.dir, ["runs", "--json"]));
    expect(runs.find((r: any) => r.id === runId)).toMatchObject({ status: "done", chunks: { done: 200 } });
  });

  it("drains on SIGTERM while the disk is full, and after a restart with space nothing finished runs again beyond what was in flight", async () => {
    const p = project({ "jobs/many.ts": JOB });
    const data = tinyDisk(p.dir);
    const first = startInstance(p.dir);
    running.push(first);
    await first.waitFor((e) => e.event === "instance:started", "start");
    const runId = json(await stau(p.dir, ["trigger", "many", "--json"])).run.id;
    await first.waitFor(() => executions(p.dir).length >= 20, "some chunks to run");
    const filler = fill(data, 0);
    await first.waitFor((e) => e.event === "store:problem" && e.problem, "the store to say it cannot write");
    first.child.kill("SIGTERM");
    expect(await first.exited()).toBe(0);
    expect(first.events.some((e) => e.event === "warning" && /could not be written and are lost/.test(e.message))).toBe(true);
    // Said done only once durable: these must never run again.
    const recorded = new Set(first.events.filter((e) => e.event === "chunk:done").map((e) => e.chunk));
    expect(recorded.size).toBeGreaterThan(0);

    rmSync(filler);
    const second = startInstance(p.dir);
    running.push(second);
    const finished = await second.waitFor((e) => e.event === "run:finished" && e.run === runId, "the run to finish", 60_000);
    expect(finished.status).toBe("done");
    const ran = executions(p.dir);
    expect(new Set(ran).size).toBe(200);
    // What ran again is only what was in flight, its result not recorded, when the disk filled.
    const seen = new Set<string>();
    const again = executed(p.dir).filter(({ chunk }) => seen.has(chunk) || !seen.add(chunk));
    expect(again.filter(({ chunk }) => recorded.has(chunk))).toEqual([]);
    expect(again.length).toBeLessThanOrEqual(2 * 32 + 2);
  });
});
