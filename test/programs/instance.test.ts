import { readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { chunkOf, projectFactory, show, until, WORKERS } from "../helpers/cli.js";
import { startInstance, instancesKilledAfterEach, type RunningStau } from "../helpers/instance.js";
import { dropSchema, describePg, TEST_DATABASE_URL, testSchema } from "../helpers/pg.js";
import { json, stau } from "../helpers/project.js";
import { alive, hangingShell, pidsIn } from "./helpers.js";

// Program jobs in a long-running stau: cancel, drain, kill -9 of stau, hot reload of a
// config block, and output of programs that TypeScript jobs start.

const project = projectFactory();
const running = instancesKilledAfterEach();

function start(dir: string, args: string[] = [], env: Record<string, string> = {}, command: "start" | "dev" = "start"): RunningStau {
  const instance = startInstance(dir, args, env, command);
  running.push(instance);
  return instance;
}

async function trigger(dir: string, job: string, env: Record<string, string> = {}): Promise<string> {
  const triggered = await stau(dir, ["trigger", job, "--json"], { env });
  expect(triggered.code, show(triggered)).toBe(0);
  return json(triggered).run.id;
}

describe("program jobs in a running stau", () => {
  it("runs a fast program job's chunks beside a TypeScript job's short ones, every one done at its first attempt", async () => {
    // Two runs side by side take turns at the queue, so an executor holds chunks of both,
    // and both jobs are known to be short: the TypeScript chunks travel in batches, and
    // a program chunk must still run alone, as a process of its own. (Whether a batch
    // would have reached across from one job's chunks to the other's depends on where
    // the claims' shares end: this does not reproduce that every time.)
    const p = project({
      "jobs/quick.ts": `import { defineJob } from "stau";\nexport default defineJob({ chunkSize: 1, async run() { await new Promise((resolve) => setTimeout(resolve, 2)); } });\n`,
      "jobs/tick.sh": `# /// stau\n# chunkSize = 1\n# ///\necho "tick $STAU_WORK_IDS"\n`,
    });
    const instance = start(p.dir);
    await instance.waitFor((e) => e.event === "instance:started", "start");
    const ids = (n: number) => Array.from({ length: n }, (_, i) => i + 1).join(",");
    const both = async (quick: number, tick: number) => {
      const triggers = await Promise.all([stau(p.dir, ["trigger", "quick", "--work", ids(quick), "--json"]), stau(p.dir, ["trigger", "tick", "--work", ids(tick), "--json"])]);
      const runs = triggers.map((t) => json(t).run.id as string);
      for (const id of runs) await instance.waitFor((e) => e.event === "run:finished" && e.run === id, `run ${id} to end`, 60_000);
      return runs;
    };
    await both(40, 10); // both jobs are now known to be short
    const [quick, tick] = await both(1_000, 60);
    const ended = (id: string) => instance.events.find((e) => e.event === "run:finished" && e.run === id);
    const failures = instance.events.filter((e) => e.event === "chunk:failed").map((e) => `${e.chunk}: ${e.error}`);
    expect(failures).toEqual([]);
    expect([ended(quick!)?.status, ended(tick!)?.status]).toEqual(["done", "done"]);
    const shown = json(await stau(p.dir, ["show", tick!, "--json"]));
    expect(shown.chunks.filter((c: { status: string; attempts: number }) => c.status === "done" && c.attempts === 1)).toHaveLength(60);
  });

  it("ends a cancelled program's process group, grandchild included", async () => {
    const p = project({ "jobs/hangs.sh": hangingShell("") });
    const instance = start(p.dir);
    await instance.waitFor((e) => e.event === "instance:started", "start");
    const runId = await trigger(p.dir, "hangs");
    const pids = await pidsIn(p, "pids", 2);
    expect((await stau(p.dir, ["cancel", runId])).code).toBe(0);
    const finished = await instance.waitFor((e) => e.event === "run:finished" && e.run === runId, "the cancelled run");
    expect(finished.status).toBe("cancelled");
    for (const pid of pids) expect(alive(pid), `pid ${pid}`).toBe(false);
  });

  it("ends programs past the drain timeout on SIGTERM", async () => {
    const p = project({ "jobs/hangs.sh": hangingShell("") });
    const instance = start(p.dir, ["--drain-timeout", "200ms"]);
    await instance.waitFor((e) => e.event === "instance:started", "start");
    await trigger(p.dir, "hangs");
    const pids = await pidsIn(p, "pids", 2);
    instance.child.kill("SIGTERM");
    expect(await instance.exited()).toBe(0);
    expect(instance.events.some((e) => e.event === "chunk:interrupted")).toBe(true);
    for (const pid of pids) expect(alive(pid), `pid ${pid}`).toBe(false);
  });

  it("leaves no program running after kill -9 of stau, even one that ignores SIGTERM", async () => {
    const p = project({ "jobs/hangs.sh": hangingShell(""), "jobs/stubborn.sh": hangingShell("", { ignoreTerm: true }).replaceAll("out/pids", "out/stubborn") });
    const instance = start(p.dir);
    await instance.waitFor((e) => e.event === "instance:started", "start");
    await trigger(p.dir, "hangs");
    await trigger(p.dir, "stubborn");
    const pids = [...(await pidsIn(p, "pids", 2)), ...(await pidsIn(p, "stubborn", 2))];
    instance.child.kill("SIGKILL");
    await instance.exited();
    // The launcher ends them: SIGTERM at once, SIGKILL after the grace.
    await until(() => pids.every((pid) => !alive(pid)), `programs ${pids.join(", ")} to end`, 10_000);
  });

  it("never lets output of programs a TypeScript job starts reach the event stream", async () => {
    const p = project({
      "jobs/spawns.ts": `import { defineJob } from "stau";
import { spawn, fork } from "node:child_process";
import { writeFileSync } from "node:fs";
const done = (child) => new Promise((resolve, reject) => child.on("close", resolve).on("error", reject));
export default defineJob({ async run() {
  await done(spawn("python3", ["-c", "import sys; print('python on stdout'); print('python on stderr', file=sys.stderr)"], { stdio: "inherit" }));
  await done(spawn("bash", ["-c", "echo 'bash 2>&1' >&2"], { stdio: ["ignore", "inherit", 1] }));
  writeFileSync("child.cjs", "console.log('forked child says hi')");
  await done(fork("child.cjs"));
} });
`,
    });
    // Every line stau start writes must be JSON (startInstance parses each one).
    const instance = start(p.dir);
    await instance.waitFor((e) => e.event === "instance:started", "start");
    const runId = await trigger(p.dir, "spawns");
    expect((await instance.waitFor((e) => e.event === "run:finished" && e.run === runId, "the run")).status).toBe("done");
    expect(instance.stderr()).toBe("");
    const logs = (await stau(p.dir, ["logs", "spawns"])).stdout;
    for (const line of [/log\s+python on stdout/, /error\s+python on stderr/, /error\s+bash 2>&1/, /log\s+forked child says hi/]) expect(logs).toMatch(line);
    instance.child.kill("SIGTERM");
    await instance.exited();
    // stau run: the JSON on stdout alone, its event lines on stderr, no program output on either.
    const result = await stau(p.dir, ["run", "spawns", "--json", ...WORKERS]);
    expect(chunkOf(json(result), "spawns").status).toBe("done");
    expect(result.stderr).not.toMatch(/python on|bash 2>&1|forked child/);
  });

  it("re-reads an edited config block, and the next chunk runs the new file", async () => {
    const version = (v: string, chunkSize: number) => `# /// stau\n# chunkSize = ${chunkSize}\n# ///\necho ${v} >> versions\n`;
    const p = project({ "jobs/versioned.sh": version("v1", 1) });
    const dev = start(p.dir, [], {}, "dev");
    await dev.waitFor((e) => e.event === "instance:started", "start");
    const run = async () => {
      const id = json(await stau(p.dir, ["trigger", "versioned", "--work", "1,2", "--json"])).run.id;
      return dev.waitFor((e) => e.event === "run:finished" && e.run === id, "the run");
    };
    expect((await run()).status).toBe("done");
    p.write("jobs/versioned.sh", version("v2", 2));
    await dev.waitFor((e) => e.event === "registry:reloaded" && e.files.some((f: string) => f.endsWith("versioned.sh")), "the reload");
    expect((await run()).status).toBe("done");
    // Two chunks of one ID each ran v1, one chunk of two IDs ran v2.
    expect(readFileSync(join(p.dir, "versions"), "utf8")).toBe("v1\nv1\nv2\n");
    p.write("jobs/versioned.sh", `# /// stau\n# chunkSize = "two"\n# ///\n`);
    const broken = await dev.waitFor((e) => e.event === "registry:reloaded" && e.broken.includes("versioned"), "the broken reload");
    expect(broken.level).toBe("warn");
  });
});

describePg("program jobs on PostgreSQL", () => {
  it("runs on several copies sharing one queue, logs readable from any", async () => {
    const schema = testSchema("programs");
    const env = { STAU_DATABASE_URL: TEST_DATABASE_URL!, STAU_DATABASE_SCHEMA: schema };
    const p = project({ "jobs/score.py": `# /// stau\n# chunkSize = 1\n# ///\nimport os\nprint("scored", os.environ["STAU_WORK_IDS"], os.getpid())\n` });
    try {
      const copies = [start(p.dir, [], env), start(p.dir, [], env)];
      await Promise.all(copies.map((copy) => copy.waitFor((e) => e.event === "instance:started", "start")));
      const id = json(await stau(p.dir, ["trigger", "score", "--work", "1,2,3,4,5,6", "--json"], { env })).run.id;
      const finished = await Promise.race(copies.map((copy) => copy.waitFor((e) => e.event === "run:finished" && e.run === id, "the run")));
      expect(finished.status).toBe("done");
      await until(() => copies.reduce((n, copy) => n + copy.events.filter((e) => e.event === "chunk:done").length, 0) === 6, "six chunks done");
      const logs = await stau(p.dir, ["logs", "score"], { env });
      for (const n of [1, 2, 3, 4, 5, 6]) expect(logs.stdout).toMatch(new RegExp(`scored \\[${n}\\]`));
    } finally {
      for (const copy of running.splice(0)) {
        copy.child.kill("SIGTERM");
        await copy.exited();
      }
      await dropSchema(schema);
    }
  });
});
