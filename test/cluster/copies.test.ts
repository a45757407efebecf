import { mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { expect, it } from "vitest";
import { openOrders } from "../../src/store/open.js";
import { projectFactory, show } from "../helpers/cli.js";
import { instancesKilledAfterEach, startInstance, type RunningStau } from "../helpers/instance.js";
import { schemasDroppedAfterAll, describePg, query, TEST_DATABASE_URL, testSchema } from "../helpers/pg.js";
import { json, stau, type TempProject } from "../helpers/project.js";

// Several `stau start` processes on one PostgreSQL schema, as a team runs them on
// several machines: every chunk runs, copies die, the orchestrator dies.

const COUNTED = `import { appendFileSync } from "node:fs";
import { defineJob } from "stau";

// Records each attempt's start and end with the pid of the copy that ran it.
export default defineJob({
  chunkSize: 1,
  allowConcurrentRuns: true,
  async selectWork(kwargs) {
    return Array.from({ length: Number(kwargs.n ?? 20) }, (_, i) => i + 1);
  },
  async run({ chunkId, attempt, kwargs, signal }) {
    appendFileSync("started.log", \`\${chunkId} \${attempt} \${process.pid}\\n\`);
    console.log(\`chunk \${chunkId} ran on \${process.pid}\`);
    await new Promise((resolve) => setTimeout(resolve, Number(kwargs.ms ?? 0)));
    signal.throwIfAborted();
    appendFileSync("finished.log", \`\${chunkId} \${attempt} \${process.pid}\\n\`);
  },
});
`;

const TICK = `import { appendFileSync } from "node:fs";
import { defineJob } from "stau";
export default defineJob({ allowConcurrentRuns: true, run() {} });
`;

const schemas = schemasDroppedAfterAll();
const copies = instancesKilledAfterEach();
const newProject = projectFactory();

function cluster(files: Record<string, string> = {}) {
  const schema = testSchema("copies");
  schemas.push(schema);
  const project = newProject({ "jobs/counted.ts": COUNTED, ...files });
  const env = { STAU_DATABASE_URL: TEST_DATABASE_URL!, STAU_DATABASE_SCHEMA: schema };
  const start = (args: string[] = []) => {
    const copy = startInstance(project.dir, args, env);
    copies.push(copy);
    return copy;
  };
  return { schema, project, env, start };
}

const orchestrates = (event: any) => event.event === "instance:orchestrating";

/** `started.log` / `finished.log`: chunk id → the pids that ran it, attempt by attempt. */
function executions(project: TempProject, file: "started.log" | "finished.log"): Map<string, { attempt: number; pid: number }[]> {
  const runs = new Map<string, { attempt: number; pid: number }[]>();
  let text = "";
  try {
    text = readFileSync(join(project.dir, file), "utf8");
  } catch {
    return runs;
  }
  for (const line of text.split("\n").filter(Boolean)) {
    const [chunk, attempt, pid] = line.split(" ");
    runs.set(chunk!, [...(runs.get(chunk!) ?? []), { attempt: Number(attempt), pid: Number(pid) }]);
  }
  return runs;
}

async function until<T>(what: string, probe: () => Promise<T | null | undefined | false>, ms = 60_000): Promise<T> {
  const deadline = Date.now() + ms;
  for (;;) {
    const value = await probe();
    if (value) return value;
    if (Date.now() > deadline) throw new Error(`gave up waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
}

async function finishedRuns(schema: string): Promise<{ id: string; status: string }[]> {
  return query(`SELECT id, status FROM "${schema}".runs WHERE finished`);
}

/** Triggers through the database, as `stau trigger` does from any machine. */
async function trigger(schema: string, job: string, kwargs: Record<string, unknown>, times: number): Promise<string[]> {
  const { orders, close } = await openOrders({ dataDir: "unused", database: { url: TEST_DATABASE_URL!, schema } });
  try {
    const ids: string[] = [];
    for (let i = 0; i < times; i++) ids.push((await orders.call<{ run: { id: string } }>({ cmd: "trigger", job, kwargs })).run.id);
    return ids;
  } finally {
    await close();
  }
}

describePg("stau copies on one PostgreSQL store", () => {
  it("runs 1,000 chunks of 50 runs on three copies, each chunk once, and answers commands from any terminal", async () => {
    const { schema, project, env, start } = cluster();
    const first = start();
    await first.waitFor(orchestrates, "the first copy to orchestrate");
    const all = [first, start(), start()];
    await Promise.all(all.map((c) => c.waitFor((e) => e.event === "instance:started", "copy started")));

    const viaCli = await stau(project.dir, ["trigger", "counted", "--kwargs", '{"n":20}', "--json"], { env });
    expect(viaCli.code, show(viaCli)).toBe(0);
    await trigger(schema, "counted", { n: 20 }, 49);
    const runs = await until("50 finished runs", async () => ((await finishedRuns(schema)).length === 50 ? finishedRuns(schema) : null), 90_000);
    expect(runs.every((r) => r.status === "done")).toBe(true);

    const finished = executions(project, "finished.log");
    expect(finished.size).toBe(1000);
    expect([...finished.values()].every((list) => list.length === 1 && list[0]!.attempt === 1)).toBe(true);
    // The work was shared: every copy ran some of it.
    const pids = new Set([...finished.values()].map((list) => list[0]!.pid));
    expect(pids).toEqual(new Set(all.map((c) => c.child.pid)));
    expect(await query(`SELECT count(*)::int AS n FROM "${schema}".chunks WHERE state = 'done' AND attempts = 1`)).toEqual([{ n: 1000 }]);

    // Commands from another terminal go through the database.
    const runsJson = await stau(project.dir, ["runs", "--json", "--limit", "60"], { env });
    expect(json<any[]>(runsJson)).toHaveLength(50);
    expect(json<any[]>(runsJson).every((r) => r.status === "done" && r.chunks.done === 20)).toBe(true);
    const status = json<any>(await stau(project.dir, ["status", "--json"], { env }));
    expect(status.copies.filter((c: any) => !c.stopped)).toHaveLength(3);
    expect(status.copies.filter((c: any) => c.leading).map((c: any) => c.info.pid)).toEqual([first.child.pid]);
    // Logs of chunks that ran on other copies are readable here.
    const runId = json<any>(viaCli).run.id;
    const logs = await until("logs in the database", async () => {
      const result = await stau(project.dir, ["logs", "counted", "--run", runId], { env });
      return (result.stdout.match(/ran on/g) ?? []).length === 20 && result;
    });
    const shownPids = new Set([...logs.stdout.matchAll(/ran on (\d+)/g)].map((m) => Number(m[1])));
    expect(shownPids.size).toBeGreaterThan(1);
  }, 150_000);

  it("re-runs elsewhere the chunks of a copy killed with -9, and the runs finish", async () => {
    const { schema, project, start } = cluster();
    const orchestrator = start();
    await orchestrator.waitFor(orchestrates, "the orchestrator");
    const victim = start();
    const third = start();
    await Promise.all([victim, third].map((c) => c.waitFor((e) => e.event === "instance:started", "copy started")));
    await trigger(schema, "counted", { n: 12, ms: 400 }, 4);
    // Killed while its job code runs (not merely claimed).
    await until("the victim running a chunk", async () => [...executions(project, "started.log").values()].some((list) => list.some((e) => e.pid === victim.child.pid)));
    victim.child.kill("SIGKILL");
    await victim.exited();

    const runs = await until("4 finished runs", async () => ((await finishedRuns(schema)).length === 4 ? finishedRuns(schema) : null), 60_000);
    expect(runs.map((r) => r.status)).toEqual(["done", "done", "done", "done"]);
    const started = executions(project, "started.log");
    const finished = executions(project, "finished.log");
    expect(finished.size).toBe(48);
    // What the victim started and did not finish ran again, on another copy, as a new attempt.
    const cut = [...started].filter(([chunk, list]) => list.some((e) => e.pid === victim.child.pid) && !finished.get(chunk)!.some((e) => e.pid === victim.child.pid));
    expect(cut.length).toBeGreaterThan(0);
    for (const [chunk] of cut) {
      const [done] = finished.get(chunk)!;
      expect(done!.pid).not.toBe(victim.child.pid);
      expect(done!.attempt).toBeGreaterThan(1);
    }
    await orchestrator.waitFor((e) => e.event === "warning" && /is gone/.test(e.message), "the release of the victim's chunks");
  }, 120_000);

  it("finishes the runs when the orchestrating copy is killed with -9 in the middle of them", async () => {
    // Two layers, so the new orchestrator has dependencies to release.
    const { schema, project, start } = cluster({
      "jobs/summary.ts": `import { defineJob } from "stau";
export default defineJob({
  chunkSize: 12,
  allowConcurrentRuns: true,
  dependencies: [{ job: "counted", maxLag: "0s", kwargs: { ms: 300 } }],
  async selectWork() { return Array.from({ length: 12 }, (_, i) => i + 1); },
  run() {},
});
`,
    });
    const first = start();
    await first.waitFor(orchestrates, "the first orchestrator");
    const others = [start(), start()];
    await Promise.all(others.map((c) => c.waitFor((e) => e.event === "instance:started", "copy started")));
    await trigger(schema, "summary", {}, 3);
    await until("the orchestrator's copy running a chunk", async () => [...executions(project, "started.log").values()].some((list) => list.some((e) => e.pid === first.child.pid)));
    first.child.kill("SIGKILL");
    await first.exited();
    await Promise.race(others.map((c) => c.waitFor(orchestrates, "a new orchestrator", 10_000)));

    const runs = await until("3 finished runs", async () => ((await finishedRuns(schema)).length === 3 ? finishedRuns(schema) : null), 60_000);
    expect(runs.map((r) => r.status)).toEqual(["done", "done", "done"]);
    const finished = executions(project, "finished.log");
    expect(finished.size).toBe(36);
    expect(await query(`SELECT state, count(*)::int AS n FROM "${schema}".chunks GROUP BY state`)).toEqual([{ state: "done", n: 39 }]);
  }, 90_000);

  it("gives the orchestrator lock up as soon as the orchestrating copy starts draining", async () => {
    const { schema, project, start } = cluster();
    const first = start();
    await first.waitFor(orchestrates, "the first orchestrator");
    const second = start();
    await second.waitFor((e) => e.event === "instance:started", "copy started");
    // Four slow chunks: a copy holds no more than one per thread (two), so each runs some.
    await trigger(schema, "counted", { n: 4, ms: 3000 }, 1);
    await until("the orchestrator's copy running a chunk", async () => [...executions(project, "started.log").values()].some((list) => list.some((e) => e.pid === first.child.pid)));
    first.child.kill("SIGTERM");
    await second.waitFor(orchestrates, "the second copy to take over", 2_500);
    // The first is still letting its chunk finish.
    expect(first.child.exitCode).toBeNull();
    expect(await first.exited()).toBe(0);
    const [run] = await until("the run to finish", async () => {
      const runs = await finishedRuns(schema);
      return runs.length === 1 && runs;
    });
    expect(run!.status).toBe("done");
    expect([...executions(project, "finished.log").values()].every((list) => list.length === 1)).toBe(true);
  }, 60_000);

  it("hands a stopping copy's chunks back at once instead of waiting for its heartbeat to stop", async () => {
    const { schema, project, start } = cluster();
    const orchestrator = start();
    await orchestrator.waitFor(orchestrates, "the orchestrator");
    const leaving = start(["--drain-timeout", "200ms"]);
    await leaving.waitFor((e) => e.event === "instance:started", "copy started");
    await trigger(schema, "counted", { n: 4, ms: 1500 }, 1);
    await leaving.waitFor((e) => e.event === "chunk:started", "the leaving copy running a chunk");
    leaving.child.kill("SIGTERM");
    expect(await leaving.exited()).toBe(0);

    await until("the run to finish", async () => (await finishedRuns(schema)).length === 1, 30_000);
    const finished = executions(project, "finished.log");
    expect(finished.size).toBe(4);
    expect([...finished.values()].every((list) => list[0]!.pid === orchestrator.child.pid)).toBe(true);
    expect(orchestrator.events.some((e) => e.event === "warning" && /is gone/.test(e.message))).toBe(false);
    const [handedBack] = await query(`SELECT count(*)::int AS n FROM "${schema}".chunks WHERE attempts = 2`);
    expect(handedBack.n).toBeGreaterThan(0);
  }, 60_000);

  it("runs `stau run` as a copy of its own, and cancels a run on other copies with `stau cancel`", async () => {
    const { schema, project, env, start } = cluster();
    // No copy is running: `stau run` orchestrates its own run.
    const alone = await stau(project.dir, ["run", "counted", "--kwargs", '{"n":3}', "--json", "--workers", "2"], { env });
    expect(alone.code, show(alone)).toBe(0);
    const result = json<any>(alone);
    expect(result.run.status).toBe("done");
    expect(result.chunks.map((c: any) => [c.workIds, c.status, c.attempts])).toEqual([
      [[1], "done", 1],
      [[2], "done", 1],
      [[3], "done", 1],
    ]);

    const copy = start();
    await copy.waitFor(orchestrates, "the orchestrator");
    const triggered = json<any>(await stau(project.dir, ["trigger", "counted", "--kwargs", '{"n":4,"ms":20000}', "--json"], { env }));
    await copy.waitFor((e) => e.event === "chunk:started" && e.run === triggered.run.id, "a chunk of the run to start");
    const cancel = await stau(project.dir, ["cancel", triggered.run.id], { env });
    expect(cancel.code, show(cancel)).toBe(0);
    const runs = await until("the run to end", async () => (await finishedRuns(schema)).find((r) => r.id === triggered.run.id), 15_000);
    expect(runs.status).toBe("cancelled");
    const again = await stau(project.dir, ["cancel", triggered.run.id], { env });
    expect(again.code, show(again)).toBe(2);
    expect(again.stderr).toMatch(/already finished \(cancelled\)/);
  }, 60_000);

  it("fires an onFiles entry on one copy only, once per file, and the heir remembers what was handled", async () => {
    const { schema, project, start } = cluster({
      "jobs/tick.ts": TICK,
      "stau.schedule.ts": `import { defineSchedule } from "stau";
export default defineSchedule([{ id: "inbox", job: "tick", onFiles: "inbox/*.csv" }]);
`,
    });
    mkdirSync(join(project.dir, "inbox"));
    const all = [start(), start(), start()];
    const first = await Promise.race(all.map((c) => c.waitFor(orchestrates, "an orchestrator").then(() => c)));
    await Promise.all(all.map((c) => c.waitFor((e) => e.event === "instance:started", "every copy up")));
    writeFileSync(join(project.dir, "inbox", "a.csv"), "1\n");
    const firedOn = () => all.flatMap((c) => c.events.filter((e) => e.event === "schedule:fired" && e.entryId === "inbox").map(() => c));
    await first.waitFor(() => firedOn().length >= 1, "a.csv fired");
    // The orchestrator dies; the heir scans the inbox on taking over and fires only what is new.
    first.child.kill("SIGKILL");
    await first.exited();
    writeFileSync(join(project.dir, "inbox", "b.csv"), "2\n");
    const others = all.filter((c) => c !== first);
    const heir = await Promise.race(others.map((c) => c.waitFor(orchestrates, "a new orchestrator", 10_000).then(() => c)));
    await heir.waitFor(() => firedOn().length >= 2, "b.csv fired by the heir", 15_000);
    const runs = await query<{ files: string }>(`SELECT record->'kwargs'->>'files' AS files FROM "${schema}".runs WHERE record->>'trigger' = 'schedule' ORDER BY record->>'createdAt'`);
    expect(runs.map((r) => JSON.parse(r.files))).toEqual([["inbox/a.csv"], ["inbox/b.csv"]]);
    expect(firedOn().map((c) => c.child.pid).sort()).toEqual([first.child.pid, heir.child.pid].sort());
  }, 60_000);

  it("fires every schedule tick exactly once while the orchestrator is killed and another takes over", async () => {
    const every = 2_000;
    const { schema, start } = cluster({
      "jobs/tick.ts": TICK,
      "stau.schedule.ts": `import { defineSchedule } from "stau";
export default defineSchedule([
  { id: "a", job: "tick", every: "2s" },
  { id: "b", job: "tick", every: "2s" },
]);
`,
    });
    const first = start();
    await first.waitFor(orchestrates, "the first orchestrator");
    const others = [start(), start()];
    // Two ticks of each entry fired by the first orchestrator, then it dies.
    const firedBy = (copy: RunningStau, entry: string) => copy.events.filter((e) => e.event === "schedule:fired" && e.entryId === entry).length;
    await first.waitFor(() => firedBy(first, "a") >= 2 && firedBy(first, "b") >= 2, "two ticks of each entry", 15_000);
    const killedAt = Date.now();
    first.child.kill("SIGKILL");
    await first.exited();
    const heir = await Promise.race(others.map((c) => c.waitFor(orchestrates, "a new orchestrator", 10_000).then(() => c)));
    // The heir fires on: two ticks of each entry after the kill are in the database.
    const lastTick = async (entry: string) =>
      Number((await query<{ t: string }>(`SELECT max(tick_at)::text AS t FROM "${schema}".schedule_ticks WHERE entry_id = $1`, [entry]))[0]?.t ?? 0);
    await until("two ticks of each entry after the kill", async () => (await lastTick("a")) > killedAt + every && (await lastTick("b")) > killedAt + every, 20_000);
    for (const copy of others) copy.child.kill("SIGTERM");
    await Promise.all(others.map((c) => c.exited()));

    const rows = await query<{ entry: string; tick: string }>(`SELECT record->>'scheduleEntry' AS entry, record->>'scheduleTick' AS tick FROM "${schema}".runs WHERE record->>'trigger' = 'schedule'`);
    for (const entry of ["a", "b"]) {
      const ticks = rows.filter((r) => r.entry === entry).map((r) => Number(r.tick)).sort((x, y) => x - y);
      expect(new Set(ticks).size, `entry ${entry} fired a tick twice: ${ticks}`).toBe(ticks.length);
      for (let i = 1; i < ticks.length; i++) expect(ticks[i]! - ticks[i - 1]!, `entry ${entry} lost a tick: ${ticks}`).toBe(every);
      expect(ticks.length).toBeGreaterThanOrEqual(4);
      expect(ticks.at(-1)!).toBeGreaterThan(killedAt + every);
    }
    expect(await query(`SELECT count(*)::int AS n FROM "${schema}".schedule_ticks`)).toEqual([{ n: rows.length }]);
    expect(heir.events.some((e) => e.event === "schedule:fired")).toBe(true);
  }, 90_000);
});
