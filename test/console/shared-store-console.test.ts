import { afterEach, expect, it } from "vitest";
import { projectFactory } from "../helpers/cli.js";
import { startInstance, type RunningStau } from "../helpers/instance.js";
import { schemasDroppedAfterAll, describePg, TEST_DATABASE_URL, testSchema } from "../helpers/pg.js";
import { stau } from "../helpers/project.js";
import { KEYS, startPty, type PtyStau } from "../helpers/pty.js";

// `stau dev` as one copy among others on a shared PostgreSQL store, in a real terminal:
// it shows work another copy orchestrated, and its keys reach that copy.

const project = projectFactory();
const schemas = schemasDroppedAfterAll();
const open: { ptys: PtyStau[]; copies: RunningStau[] } = { ptys: [], copies: [] };

afterEach(async () => {
  for (const pty of open.ptys.splice(0)) {
    try {
      pty.pty.kill("SIGKILL");
    } catch {
      // already gone
    }
  }
  for (const copy of open.copies.splice(0)) {
    copy.child.kill("SIGKILL");
    await copy.exited();
  }
});


/**
 * A project with one job on its own schema, another copy that orchestrates (started
 * first), and `stau dev` beside it in a pty, showing the shared store.
 */
async function consoleBesideOrchestrator(schemaName: string, job: string, code: string, devArgs: string[], size: { cols: number; rows: number }) {
  const schema = testSchema(schemaName);
  schemas.push(schema);
  const env = { STAU_DATABASE_URL: TEST_DATABASE_URL!, STAU_DATABASE_SCHEMA: schema };
  const p = project({ [`jobs/${job}.ts`]: code });
  const other = startInstance(p.dir, [], env);
  open.copies.push(other);
  await other.waitFor((e) => e.event === "instance:orchestrating", "the other copy to orchestrate");
  const pty = startPty(p.dir, ["dev", ...devArgs], size, env);
  open.ptys.push(pty);
  await pty.waitFor((s) => s.includes(job) && s.includes(`schema ${schema}`), "the console on the shared store");
  return { p, env, other, pty };
}

describePg("stau dev on a shared store", () => {
  it("shows the runs other copies do, and triggers through the orchestrating copy", async () => {
    const { p, env, other, pty } = await consoleBesideOrchestrator("console", "alpha", `import { defineJob } from "stau";
export default defineJob({ async run({ log }) { log("alpha ran on pid " + process.pid); } });
`, ["--workers", "1"], { cols: 140, rows: 36 });

    // A run triggered from another terminal appears, with its log from the database.
    const triggered = await stau(p.dir, ["trigger", "alpha"], { env });
    expect(triggered.code).toBe(0);
    await pty.waitFor((s) => /alpha\s+idle\s+ok/.test(s), "alpha ok in Jobs");
    await pty.waitFor((s) => s.includes("alpha ran on pid"), "alpha's log line");

    // Its own trigger goes to the orchestrating copy.
    pty.press("t");
    await pty.waitFor((s) => s.includes("Trigger alpha?"), "the plan dialog");
    pty.press(KEYS.enter);
    await other.waitFor((e) => e.event === "run:queued" && e.trigger === "console" && other.events.filter((x) => x.event === "run:queued").length === 2, "the second run on the orchestrating copy");

    pty.press("q");
    expect(await pty.exited()).toBe(0);
  }, 60_000);

  it("keeps no chunk of a big run running once it is over, when this copy ran some of its chunks and another orchestrated it", async () => {
    // This copy's own chunk events come before the run:started its look at the store
    // announces, and a look can read a chunk's state from before this copy finished it.
    // 5,500 chunks: held in sums (more than 5,000) though this copy ran some before its
    // look saw the run start.
    const { p, env, other, pty } = await consoleBesideOrchestrator("console_big", "many", `import { defineJob } from "stau";
export default defineJob({
  chunkSize: 1,
  async selectWork() { return Array.from({ length: 5500 }, (_, i) => i); },
  async run() { await new Promise((r) => setTimeout(r, 1)); },
});
`, ["--workers", "2"], { cols: 160, rows: 40 });

    expect((await stau(p.dir, ["trigger", "many"], { env })).code).toBe(0);
    await pty.waitFor((s) => /many run \w+ \d+ pending/.test(s), "the run's summary row");
    await other.waitFor((e) => e.event === "run:finished", "the run to finish", 120_000);
    const screen = await pty.waitFor((s) => s.includes("chunks of active runs: none") && /Running 0 · workers 0\/2\s/.test(s), "nothing running once the run is over");
    expect(screen).not.toMatch(/ended, being recorded|claimed ahead/);
    expect(screen).toMatch(/many\s+idle\s+ok/);

    pty.press("q");
    expect(await pty.exited()).toBe(0);
  }, 180_000);
});
