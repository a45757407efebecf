import { readFileSync } from "node:fs";
import { join } from "node:path";
import { expect, it } from "vitest";
import { projectFactory, show } from "../helpers/cli.js";
import { instancesKilledAfterEach, startInstance } from "../helpers/instance.js";
import { schemasDroppedAfterAll, describePg, query, TEST_DATABASE_URL, testSchema } from "../helpers/pg.js";
import { json, stau } from "../helpers/project.js";

// Instances on one PostgreSQL schema when the database drops every connection: nobody
// stays broken, one instance orchestrates again within seconds, and every chunk is
// recorded once.

const JOB = `import { appendFileSync } from "node:fs";
import { defineJob } from "stau";
export default defineJob({
  chunkSize: 1,
  allowConcurrentRuns: true,
  async selectWork(kwargs) { return Array.from({ length: Number(kwargs.n ?? 40) }, (_, i) => i + 1); },
  async run({ chunkId, attempt }) {
    await new Promise((resolve) => setTimeout(resolve, 100));
    appendFileSync("finished.log", chunkId + " " + attempt + "\\n");
  },
});
`;

const schemas = schemasDroppedAfterAll();
const instances = instancesKilledAfterEach();
const newProject = projectFactory();

async function until<T>(what: string, probe: () => Promise<T | null | undefined | false>, ms = 30_000): Promise<T> {
  const deadline = Date.now() + ms;
  for (;;) {
    const value = await probe();
    if (value) return value;
    if (Date.now() > deadline) throw new Error(`gave up waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
}

describePg("instances on PostgreSQL when every database session is terminated", () => {
  it("reconnect, orchestrate again and finish the run, recording every chunk once", async () => {
    const schema = testSchema("faults");
    schemas.push(schema);
    const project = newProject({ "jobs/counted.ts": JOB });
    const env = { STAU_DATABASE_URL: TEST_DATABASE_URL!, STAU_DATABASE_SCHEMA: schema };
    const start = () => {
      const instance = startInstance(project.dir, [], env);
      instances.push(instance);
      return instance;
    };
    const first = start();
    await first.waitFor((e) => e.event === "instance:orchestrating", "the first to orchestrate");
    const all = [first, start(), start()];
    await Promise.all(all.map((c) => c.waitFor((e) => e.event === "instance:started", "started")));

    const triggered = await stau(project.dir, ["trigger", "counted", "--kwargs", '{"n":60}', "--json"], { env });
    expect(triggered.code, show(triggered)).toBe(0);
    const runId = json(triggered).run.id;
    await until("some chunks done", async () => (await query(`SELECT count(*)::int AS n FROM "${schema}".chunks WHERE state = 'done'`))[0].n >= 10);

    // Every session of these instances, at once: pools, listeners and the orchestrator lock.
    const killed = await query(`SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE application_name = $1`, [`stau:${schema}`]);
    expect(killed.length).toBeGreaterThan(3);
    const back = Date.now();

    const run = await until("the run to finish", async () => (await query(`SELECT status FROM "${schema}".runs WHERE id = $1 AND finished`, [runId]))[0], 30_000);
    expect(run.status).toBe("done");
    expect(Date.now() - back).toBeLessThan(15_000);
    expect(await query(`SELECT state, count(*)::int AS n FROM "${schema}".chunks GROUP BY state`)).toEqual([{ state: "done", n: 60 }]);
    const finished = readFileSync(join(project.dir, "finished.log"), "utf8").split("\n").filter(Boolean);
    expect(new Set(finished.map((line) => line.split(" ")[0])).size).toBe(60);

    // Nobody stayed broken: exactly one orchestrates, and a new run finishes too.
    const alive = all.filter((c) => c.child.exitCode === null);
    expect(alive.length).toBeGreaterThanOrEqual(2);
    await until("one orchestrator", async () => (await query(`SELECT count(*)::int AS n FROM "${schema}".instances WHERE orchestrating AND stopped_at IS NULL`))[0].n === 1);
    const again = await stau(project.dir, ["run", "counted", "--kwargs", '{"n":6}', "--json"], { env });
    expect(again.code, show(again)).toBe(0);
    expect(json(again).run.status).toBe("done");
  }, 90_000);
});
