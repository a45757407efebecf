import { readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { projectFactory, show } from "../helpers/cli.js";
import { instancesKilledAfterEach, startInstance } from "../helpers/instance.js";
import { schemasDroppedAfterAll, describePg, TEST_DATABASE_URL, testSchema } from "../helpers/pg.js";
import { json, stau, type TempProject } from "../helpers/project.js";

// A job's `concurrency: N`: at most N of its chunks run at once, however many workers
// there are, on one instance and across instances sharing a PostgreSQL store.

/** A job whose chunks note when they enter and leave their code: the file's order is the real order. */
const traced = (config: string, ms: number) => `import { appendFileSync } from "node:fs";
import { basename } from "node:path";
import { defineJob } from "stau";
const job = basename(import.meta.url).replace(/\\.ts$/, "");
export default defineJob({
  chunkSize: 1,
  ${config}
  async run({ workIds }) {
    appendFileSync("trace.log", \`+ \${job} \${process.pid}\\n\`);
    await new Promise((resolve) => setTimeout(resolve, ${ms}));
    appendFileSync("trace.log", \`- \${job} \${process.pid}\\n\`);
  },
});
`;
const limitedJob = (limit: number, chunks: number, ms = 150) => traced(`concurrency: ${limit}, selectWork: () => Array.from({ length: ${chunks} }, (_, i) => i + 1),`, ms);

/** The most chunks (of `job`, or of any) that were inside their code at once, how many ran, and which processes ran them. */
function overlap(project: TempProject, job?: string): { most: number; chunks: number; pids: Set<string> } {
  let now = 0;
  let most = 0;
  let chunks = 0;
  const pids = new Set<string>();
  for (const line of readFileSync(join(project.dir, "trace.log"), "utf8").split("\n").filter(Boolean)) {
    const [sign, name, pid] = line.split(" ");
    if (job !== undefined && name !== job) continue;
    if (sign === "+") {
      chunks++;
      pids.add(pid!);
    }
    now += sign === "+" ? 1 : -1;
    most = Math.max(most, now);
  }
  return { most, chunks, pids };
}

const project = projectFactory();

describe("per-job concurrency", () => {
  it("runs at most `concurrency` chunks of the job at once with more workers than that, other jobs' chunks beside them", async () => {
    // One run needs both on IDs 1–8: \`free\` takes the workers \`limited\` may not.
    const p = project({
      "jobs/limited.ts": traced("concurrency: 2,", 150),
      "jobs/free.ts": traced("", 150),
      "jobs/top.ts": `import { defineJob } from "stau";
export default defineJob({
  dependencies: [{ job: "limited", maxLag: 0 }, { job: "free", maxLag: 0 }],
  selectWork: () => [1, 2, 3, 4, 5, 6, 7, 8],
  run() {},
});
`,
    });
    const run = await stau(p.dir, ["run", "top", "--json", "--workers", "4"]);
    expect(run.code, show(run)).toBe(0);
    expect(overlap(p, "limited")).toMatchObject({ chunks: 8, most: 2 });
    expect(overlap(p, "free").chunks).toBe(8);
    // The bound held and was used (two at a time, not one), and the other workers were not idle meanwhile.
    expect(overlap(p).most).toBeGreaterThan(2);
  });

  it("concurrency: 1 holds with --workers 4", async () => {
    const p = project({ "jobs/limited.ts": limitedJob(1, 5) });
    const run = await stau(p.dir, ["run", "limited", "--json", "--workers", "4"]);
    expect(run.code, show(run)).toBe(0);
    expect(overlap(p)).toMatchObject({ most: 1, chunks: 5 });
  });

  it("is validated like every field: a positive integer", async () => {
    const p = project({ "jobs/limited.ts": limitedJob(0, 1) });
    const result = await stau(p.dir, ["validate"]);
    expect(result.code, show(result)).toBe(1);
    expect(result.stdout + result.stderr).toMatch(/concurrency: .*(>0|positive|too small)/i);
  });
});

const copies = instancesKilledAfterEach();
const schemas = schemasDroppedAfterAll();

describePg("per-job concurrency on a shared store", () => {
  it("holds across three copies with a worker each, one more than the limit", async () => {
    const schema = testSchema("concurrency");
    schemas.push(schema);
    const p = project({ "jobs/limited.ts": limitedJob(2, 12, 400) });
    const env = { STAU_DATABASE_URL: TEST_DATABASE_URL!, STAU_DATABASE_SCHEMA: schema };
    // One worker each: a copy holds one chunk at a time, so two running at once are on two copies.
    const copy = () => startInstance(p.dir, ["--workers", "1"], env);
    const first = copy();
    copies.push(first);
    await first.waitFor((e) => e.event === "instance:orchestrating", "the first copy to orchestrate");
    copies.push(copy(), copy());
    await Promise.all(copies.map((c) => c.waitFor((e) => e.event === "instance:started", "a copy to start")));

    const trigger = await stau(p.dir, ["trigger", "limited", "--json"], { env });
    expect(trigger.code, show(trigger)).toBe(0);
    const runId = json(trigger).run.id;
    const finished = await first.waitFor((e) => e.event === "run:finished" && e.run === runId, "the run to finish", 60_000);
    expect(finished.status).toBe("done");
    const { most, chunks, pids } = overlap(p);
    expect(chunks).toBe(12);
    // Two at once, so on two copies: the bound was held between copies, not inside one.
    expect(most).toBe(2);
    expect(pids.size).toBeGreaterThan(1);
  });
});
