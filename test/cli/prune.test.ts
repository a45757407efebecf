import { existsSync, readdirSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { projectFactory, show } from "../helpers/cli.js";
import { startInstance, instancesKilledAfterEach } from "../helpers/instance.js";
import { json, stau } from "../helpers/project.js";

// `stau prune`: finished runs older than a duration go, with their chunks and log files;
// freshness stays, so what is fresh is still fresh and the plan does not change.

const project = projectFactory();
const running = instancesKilledAfterEach();

const JOBS = {
  "jobs/source.ts": `import { defineJob } from "stau";
export default defineJob({ async run({ log }) { log("source ran"); } });
`,
  "jobs/report.ts": `import { defineJob } from "stau";
export default defineJob({ dependencies: [{ job: "source", maxLag: "1h" }], async run({ log }) { log("report ran"); } });
`,
};

const logFiles = (dir: string) => (existsSync(join(dir, "data", "logs")) ? readdirSync(join(dir, "data", "logs")).flatMap((job) => readdirSync(join(dir, "data", "logs", job))) : []);

describe("stau prune", () => {
  it("removes old finished runs and their logs, keeps freshness, and counts first with --dry-run", async () => {
    const p = project(JOBS);
    expect((await stau(p.dir, ["run", "report"])).code).toBe(0);
    expect(logFiles(p.dir)).toHaveLength(2);

    const young = json(await stau(p.dir, ["prune", "--older-than", "1h", "--json"]));
    expect(young).toMatchObject({ runs: 0, chunks: 0, logs: 0, dryRun: false });
    const dry = await stau(p.dir, ["prune", "--older-than", "0s", "--dry-run"]);
    expect(dry.code, show(dry)).toBe(0);
    expect(dry.stdout).toContain("would prune 1 run(s) (2 chunks) and 2 log file(s)");
    expect(json(await stau(p.dir, ["runs", "--json"]))).toHaveLength(1);

    const pruned = await stau(p.dir, ["prune", "--older-than", "0s"]);
    expect(pruned.code, show(pruned)).toBe(0);
    expect(pruned.stdout).toContain("pruned 1 run(s) (2 chunks) and 2 log file(s)");
    expect(json(await stau(p.dir, ["runs", "--json"]))).toEqual([]);
    expect(logFiles(p.dir)).toEqual([]);
    // Freshness is not history: source is still fresh for report.
    const plan = json(await stau(p.dir, ["plan", "report", "--json"]));
    expect(plan.jobs.find((j: { job: string }) => j.job === "source").status).toBe("fresh");
  });

  it("goes through the running instance, which alone writes the embedded store", async () => {
    const p = project(JOBS);
    expect((await stau(p.dir, ["run", "source"])).code).toBe(0);
    const instance = startInstance(p.dir, []);
    running.push(instance);
    await instance.waitFor((e) => e.event === "instance:started", "stau start");
    const pruned = await stau(p.dir, ["prune", "--older-than", "0s"]);
    expect(pruned.code, show(pruned)).toBe(0);
    expect(pruned.stdout).toContain("pruned 1 run(s) (1 chunks) and 1 log file(s)");
    expect(pruned.stdout).toContain("on the running instance");
    expect(json(await stau(p.dir, ["runs", "--json"]))).toEqual([]);
  });

  it("applies retention from stau.config.ts in stau start: at start, without touching freshness", async () => {
    const p = project({ ...JOBS, "stau.config.ts": `import { defineConfig } from "stau";\nexport default defineConfig({ retention: "1ms" });\n` });
    expect((await stau(p.dir, ["run", "report"])).code).toBe(0);
    const instance = startInstance(p.dir, []);
    running.push(instance);
    const pruned = await instance.waitFor((e) => e.event === "store:pruned", "retention pruning the run");
    expect(pruned).toMatchObject({ runs: 1, chunks: 2, logs: 2 });
    expect(json(await stau(p.dir, ["runs", "--json"]))).toEqual([]);
    const plan = json(await stau(p.dir, ["plan", "report", "--json"]));
    expect(plan.jobs.find((j: { job: string }) => j.job === "source").status).toBe("fresh");
  });

  it("refuses a retention of nothing", async () => {
    const p = project({ ...JOBS, "stau.config.ts": `import { defineConfig } from "stau";\nexport default defineConfig({ retention: "0s" });\n` });
    const result = await stau(p.dir, ["validate"]);
    expect(result.code, show(result)).toBe(1);
    expect(result.stdout + result.stderr).toContain("retention: expected a duration above 0");
  });

  it("refuses a duration it cannot read", async () => {
    const result = await stau(project(JOBS).dir, ["prune", "--older-than", "ninety days"]);
    expect(result.code, show(result)).toBe(2);
    expect(result.stderr).toContain('--older-than expects a duration, received "ninety days"');
  });
});
