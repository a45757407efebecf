import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { History } from "../../src/store/file/history.js";
import { projectFactory, show, WORKERS } from "../helpers/cli.js";
import { json, stau } from "../helpers/project.js";

// Commands on a store that has grown: a job's last run far back in history, a run of
// many chunks among the newest, freshness of many IDs (README "The data directory").

const project = projectFactory();

const MANY = `import { defineJob } from "stau";
export default defineJob({
  chunkSize: 1,
  async selectWork() { return Array.from({ length: 150 }, (_, i) => i); },
  async run({ workIds, log }) { log(\`many: \${workIds[0]}\`); },
});
`;

const USES = `import { defineJob } from "stau";
export default defineJob({
  dependencies: [{ job: "many", maxLag: "1h" }],
  async selectWork() { return Array.from({ length: 150 }, (_, i) => i); },
  async run() {},
});
`;

describe("a store that has grown", () => {
  it("stau logs <job> finds the job's latest run behind hundreds of newer runs of other jobs", async () => {
    const p = project();
    p.useFixtures("succeeds");
    const run = await stau(p.dir, ["run", "succeeds", "--json", ...WORKERS]);
    expect(run.code, show(run)).toBe(0);
    const { run: first } = json(run);
    // 300 newer runs of another job, appended as an instance archives them.
    const history = new History(join(p.dir, "data", "history", "runs.jsonl"));
    const newer = Date.parse(new Date().toISOString()) + 1_000;
    history.append(
      Array.from({ length: 300 }, (_, i) => {
        const id = `r${(newer + i).toString(36)}0000`;
        const record = { id, job: "other", kwargs: {}, requestedWorkIds: null, workIds: null, status: "done" as const, trigger: "cli" as const, scheduleEntry: null, origin: null, createdAt: newer + i, startedAt: newer + i, finishedAt: newer + i, gitCommit: null, error: null };
        return { run: record, chunks: [{ id: `${id}.other.0`, runId: id, job: "other", kwargs: {}, kwargsKey: "{}", workIds: [], dependsOn: [], state: "done" as const, attempts: 1, error: null, startedAt: newer + i, finishedAt: newer + i, notBefore: null, owner: null, token: null }] };
      }),
    );
    const listed = json<any[]>(await stau(p.dir, ["runs", "--json", "--limit", "250"]));
    expect(listed.some((r) => r.id === first.id)).toBe(false);

    const logs = await stau(p.dir, ["logs", "succeeds"]);
    expect(logs.code, show(logs)).toBe(0);
    expect(logs.stdout).toContain("succeeds: hello from ctx.log");
    expect(logs.stdout).not.toContain("no runs of succeeds yet");
  });

  it("lists a run of many chunks with its counts from a short history line, and shows and logs every chunk", async () => {
    const p = project({ "jobs/many.ts": MANY });
    const run = await stau(p.dir, ["run", "many", "--json", ...WORKERS]);
    expect(run.code, show(run)).toBe(0);
    const id = json(run).run.id;

    const runs = await stau(p.dir, ["runs", "--json"]);
    expect(runs.code, show(runs)).toBe(0);
    expect(json<any[]>(runs)[0]).toMatchObject({ id, status: "done", chunks: { done: 150, running: 0, queued: 0, failed: 0 } });
    const line = readFileSync(join(p.dir, "data", "history", "runs.jsonl"), "utf8").trim();
    expect(line.length).toBeLessThan(2_000);
    expect(existsSync(join(p.dir, "data", "history", "chunks", `${id}.json`))).toBe(true);

    const shown = await stau(p.dir, ["show", id, "--json"]);
    expect(json(shown).chunks).toHaveLength(150);
    const logs = await stau(p.dir, ["logs", "many"]);
    expect(logs.code, show(logs)).toBe(0);
    expect(logs.stdout).toContain("many: 149");
  });

  it("plans and runs one work ID of a job with freshness on many, and keeps the others' freshness", async () => {
    const p = project({ "jobs/many.ts": MANY, "jobs/uses.ts": USES });
    expect((await stau(p.dir, ["run", "many", ...WORKERS])).code).toBe(0);
    const plan = await stau(p.dir, ["plan", "many", "--work", "7", "--json"]);
    expect(plan.code, show(plan)).toBe(0);
    expect(json(plan).chunks).toHaveLength(1);
    expect((await stau(p.dir, ["run", "many", "--work", "7", ...WORKERS])).code).toBe(0);
    // The run on one ID rewrote its shard and the head; every other ID's success is still there.
    const uses = json(await stau(p.dir, ["plan", "uses", "--json"]));
    expect(uses.jobs.find((j: any) => j.job === "many")).toMatchObject({ status: "fresh", freshIds: 150 });
    expect(uses.chunks.map((c: any) => c.job)).toEqual(["uses"]);
  });
});
