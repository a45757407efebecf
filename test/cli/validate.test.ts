import { symlinkSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { expectNoStackTrace, projectFactory, show } from "../helpers/cli.js";
import { json, stau } from "../helpers/project.js";

const project = projectFactory();

const HEAD = `import { defineJob } from "stau";\n`;
const job = (body: string) => `${HEAD}export default defineJob(${body});\n`;

/** Every kind of problem at once, beside one good job. */
function brokenProject() {
  const p = project({
    "jobs/good.ts": job(`{ async run() {} }`),
    "jobs/bad_config.ts": job(`{ chunkSize: -1, retries: "x" as any, async run() {} }`),
    "jobs/not_plain.ts": job(`{ timeout: new Date() as any, async run() {} }`),
    "jobs/no_run.ts": job(`{ chunkSize: 1 } as any`),
    "jobs/x.ts": job(`{ dependencies: [{ job: "y", maxLag: "1h" }], async run() {} }`),
    "jobs/y.ts": job(`{ dependencies: [{ job: "x", maxLag: "1h" }], async run() {} }`),
    "jobs/unknown_dep.ts": job(`{ dependencies: [{ job: "nope", maxLag: "1h" }], async run() {} }`),
    "jobs/bad name.ts": job(`{ async run() {} }`),
    "stau.schedule.ts": `import { defineSchedule } from "stau";
export default defineSchedule([
  { id: "bad-cron", job: "good", cron: "61 * * * *" },
  { id: "both", job: "good", cron: "* * * * *", every: "1h" },
]);
`,
  });
  p.useFixtures("syntax_error");
  return p;
}

describe("stau validate", () => {
  it("reports every problem of every file at once, exit 1", async () => {
    const p = brokenProject();
    const result = await stau(p.dir, ["validate", "--json"]);
    expect(result.code, show(result)).toBe(1);
    const out = json(result);
    expect(Object.keys(out).sort()).toEqual(["jobs", "ok", "schedule", "warnings"]);
    expect(out.ok).toBe(false);

    const byJob = new Map<string, any>(out.jobs.map((j: any) => [j.job, j]));
    const error = (name: string): string => {
      const entry = byJob.get(name);
      expect(entry, `${name} in ${JSON.stringify(out.jobs)}`).toBeDefined();
      expect(entry.ok).toBe(false);
      expect(typeof entry.error).toBe("string");
      return entry.error;
    };

    expect(byJob.get("good")).toEqual({ job: "good", ok: true });

    expect(error("syntax_error")).toContain("jobs/syntax_error.ts:5");

    const config = error("bad_config");
    expect(config).toContain("jobs/bad_config.ts");
    expect(config).toContain("chunkSize");
    expect(config).toContain("-1");
    expect(config).toContain("retries");
    expect(config).toContain('"x"');

    const plain = error("not_plain");
    expect(plain).toContain("jobs/not_plain.ts");
    expect(plain).toContain("timeout");

    const noRun = error("no_run");
    expect(noRun).toContain("jobs/no_run.ts");
    expect(noRun).toContain("run");

    for (const name of ["x", "y"]) {
      const cycle = error(name);
      expect(cycle.includes("x → y → x") || cycle.includes("y → x → y"), cycle).toBe(true);
    }

    const unknown = error("unknown_dep");
    expect(unknown).toContain("jobs/unknown_dep.ts");
    expect(unknown).toContain('"nope"');

    // The bad file name is reported with its file.
    const badName = out.jobs.find((j: any) => !j.ok && String(j.error).includes("bad name.ts"));
    expect(badName, JSON.stringify(out.jobs)).toBeDefined();

    expect(out.schedule.ok).toBe(false);
    expect(out.schedule.error).toContain("stau.schedule.ts");
    expect(out.schedule.error).toContain("61 * * * *");
    expect(out.schedule.error).toMatch(/both/);
    expect(out.schedule.error).toMatch(/cron/);
    expect(out.schedule.error).toMatch(/every/);

    // Every entry has exactly the contract's keys.
    for (const entry of out.jobs) {
      expect(Object.keys(entry).sort()).toEqual(entry.ok ? ["job", "ok"] : ["error", "job", "ok"]);
    }
    expectNoStackTrace(result);
  });

  it("prints the same problems readably without --json", async () => {
    const p = brokenProject();
    const result = await stau(p.dir, ["validate"]);
    expect(result.code, show(result)).toBe(1);
    for (const text of ["jobs/syntax_error.ts:5", "bad_config", "not_plain", "no_run", "x → y → x", "unknown_dep", "bad name.ts", "61 * * * *"]) {
      expect(result.stdout, text).toContain(text);
    }
    expectNoStackTrace(result);
  });

  it("points at the line of a bad field and suggests the field a typo meant", async () => {
    const p = project({
      "jobs/fetch_orders.ts": `import { defineJob } from "stau";
export default defineJob({
  chunkSize: 10,
  retrys: 3,
  dependencies: [
    { job: "other", maxLag: "1h" },
    { job: "other", maxLag: "soon", allowMissing: true },
  ],
  async run() {},
});
`,
      "jobs/other.ts": job(`{ async run() {} }`),
      "stau.schedule.ts": `import { defineSchedule } from "stau";
export default defineSchedule([
  { id: "ok", job: "other", every: "1h" },
  { id: "typo", job: "other", evry: "1h" },
]);
`,
    });
    const result = await stau(p.dir, ["validate"]);
    expect(result.code, show(result)).toBe(1);
    expect(result.stdout).toContain('jobs/fetch_orders.ts:4: retrys: unknown field; did you mean "retries"?');
    expect(result.stdout).toMatch(/jobs\/fetch_orders\.ts:7: dependencies\.1\.maxLag: expected a duration[^\n]*"soon"/);
    expect(result.stdout).toContain('jobs/fetch_orders.ts:7: dependencies.1.allowMissing: unknown field; did you mean "allowMissingWorkIds"?');
    expect(result.stdout).toContain('stau.schedule.ts:4: 1.evry: entry "typo": unknown field; did you mean "every"?');
    expectNoStackTrace(result);
  });

  it("passes a fully valid project with exit 0", async () => {
    const p = project({
      "jobs/a.ts": job(`{ chunkSize: 2, retries: 1, retryDelay: "1s", timeout: "1m", dependencies: [{ job: "b", maxLag: "1h" }], async selectWork() { return [1, 2]; }, async run() {} }`),
      "jobs/b.ts": job(`{ async run() {} }`),
      "jobs/_helper.ts": `export const helper = 1;\n`,
      "jobs/lib/util.ts": `export const util = 2;\n`,
      "stau.schedule.ts": `import { defineSchedule } from "stau";
export default defineSchedule([
  { id: "hourly", job: "a", cron: "5 * * * *", kwargs: { window: "1d" } },
  { id: "often", job: "b", every: "15m" },
]);
`,
    });
    p.useFixtures("succeeds");
    const result = await stau(p.dir, ["validate", "--json"]);
    expect(result.code, show(result)).toBe(0);
    expect(json(result)).toEqual({
      ok: true,
      jobs: [
        { job: "a", ok: true },
        { job: "b", ok: true },
        { job: "succeeds", ok: true },
      ],
      schedule: { ok: true },
      warnings: [],
    });
    const text = await stau(p.dir, ["validate"]);
    expect(text.code, show(text)).toBe(0);
  });

  it("reports a schedule entry naming an unknown job", async () => {
    const p = project({
      "jobs/a.ts": job(`{ async run() {} }`),
      "stau.schedule.ts": `import { defineSchedule } from "stau";
export default defineSchedule([{ id: "ghost", job: "missing_job", every: "1h" }]);
`,
    });
    const result = await stau(p.dir, ["validate", "--json"]);
    expect(result.code, show(result)).toBe(1);
    const out = json(result);
    expect(out.ok).toBe(false);
    expect(out.jobs).toEqual([{ job: "a", ok: true }]);
    expect(out.schedule.ok).toBe(false);
    expect(out.schedule.error).toContain("missing_job");
  });

  it("keeps the good schedule entries when others are bad, and reports every bad one at once", async () => {
    const p = project({
      "jobs/a.ts": job(`{ async run() {} }`),
      "stau.schedule.ts": `import { defineSchedule } from "stau";
export default defineSchedule([
  { id: "ghost", job: "deleted_job", every: "1h" },
  { id: "hourly", job: "a", every: "1h" },
  { id: "bad-every", job: "a", every: "every now and then" },
]);
`,
    });
    const result = await stau(p.dir, ["validate", "--json"]);
    expect(result.code, show(result)).toBe(1);
    const out = json(result);
    expect(out.jobs).toEqual([{ job: "a", ok: true }]);
    expect(out.schedule.ok).toBe(false);
    const problems = String(out.schedule.error).split("\n");
    expect(problems).toHaveLength(2);
    expect(problems[0]).toContain('entry "ghost"');
    expect(problems[0]).toContain('"deleted_job"');
    expect(problems[1]).toContain('entry "bad-every"');
    expect(problems[1]).toContain('"every now and then"');

    const text = await stau(p.dir, ["validate"]);
    expect(text.code, show(text)).toBe(1);
    expect(text.stdout).toContain('entry "ghost"');
    expect(text.stdout).toContain('entry "bad-every"');

    // stau schedule lists what stau fires (the good entry) and reports the rest.
    const schedule = await stau(p.dir, ["schedule", "--json"]);
    expect(schedule.code, show(schedule)).toBe(2);
    expect(json(schedule).entries.map((e: any) => e.id)).toEqual(["hourly"]);
    expect(schedule.stderr).toContain('entry "ghost"');
    expect(schedule.stderr).toContain('entry "bad-every"');
    expectNoStackTrace(schedule);
  });

  it("reports a file without a default export and one that throws at import, with its line", async () => {
    const p = project({
      "jobs/no_default.ts": `export const config = {};\n`,
      "jobs/throws_on_import.ts": `${HEAD}\nthrow new Error("import-time failure");\nexport default defineJob({ async run() {} });\n`,
    });
    const result = await stau(p.dir, ["validate", "--json"]);
    expect(result.code, show(result)).toBe(1);
    const out = json(result);
    const byJob = new Map<string, any>(out.jobs.map((j: any) => [j.job, j]));
    expect(byJob.get("no_default")?.ok).toBe(false);
    expect(byJob.get("no_default")?.error).toContain("jobs/no_default.ts");
    expect(byJob.get("throws_on_import")?.ok).toBe(false);
    expect(byJob.get("throws_on_import")?.error).toContain("import-time failure");
    expect(byJob.get("throws_on_import")?.error).toContain("jobs/throws_on_import.ts:3");
  });

  it("blames a process.exit at import on its file and line; the other jobs load", async () => {
    const p = project({ "jobs/exits.ts": `${HEAD}\nprocess.exit(3);\nexport default defineJob({ async run() {} });\n`, "jobs/fine.ts": job(`{ async run() {} }`) });
    const result = await stau(p.dir, ["validate", "--json"]);
    expect(result.code, show(result)).toBe(1);
    expect(json(result).jobs).toEqual([
      { job: "exits", ok: false, error: "jobs/exits.ts:3:9: process.exit(3) was called while the file was imported" },
      { job: "fine", ok: true },
    ]);
  });

  it("takes a link to a file as a job and a folder named like one as none, and says where a link to nothing points", async () => {
    const p = project({
      "jobs/own.ts": job(`{ async run() {} }`),
      "shared/linked.ts": job(`{ async run() {} }`),
      "jobs/folder.ts/inside.ts": `export const x = 1;\n`,
    });
    symlinkSync(join(p.dir, "shared", "linked.ts"), join(p.dir, "jobs", "linked.ts"));
    const gone = join(p.dir, "shared", "gone.ts");
    symlinkSync(gone, join(p.dir, "jobs", "dangling.ts"));
    const result = await stau(p.dir, ["validate", "--json"]);
    expect(result.code, show(result)).toBe(1);
    expect(json(result).jobs).toEqual([
      { job: "dangling", ok: false, error: `jobs/dangling.ts: is a link to ${gone}, which does not exist; point the link at the job's file, or remove it` },
      { job: "linked", ok: true },
      { job: "own", ok: true },
    ]);
    const run = await stau(p.dir, ["run", "dangling"]);
    expect(run.code, show(run)).toBe(2);
    expect(run.stderr).toContain(`jobs/dangling.ts: is a link to ${gone}, which does not exist; point the link at the job's file, or remove it`);
    // The hint adds where to see every problem, not advice about names that would not fix a link.
    expect(run.stderr).toContain("stau validate lists every problem in jobs/");
    expect(run.stderr).not.toContain("named with letters");
    expectNoStackTrace(run);
  });

  it("reports two files with the same job name", async () => {
    const p = project({
      "jobs/twice.ts": job(`{ async run() {} }`),
      "jobs/twice.js": `import { defineJob } from "stau";\nexport default defineJob({ async run() {} });\n`,
    });
    const result = await stau(p.dir, ["validate", "--json"]);
    expect(result.code, show(result)).toBe(1);
    const out = json(result);
    expect(out.ok).toBe(false);
    const text = JSON.stringify(out.jobs);
    expect(text).toContain("jobs/twice.ts");
    expect(text).toContain("jobs/twice.js");
  });

  it("reports a job importing a helper with a syntax error", async () => {
    const p = project();
    p.useFixtures("imports_broken", "_syntax_helper", "succeeds");
    const result = await stau(p.dir, ["validate", "--json"]);
    expect(result.code, show(result)).toBe(1);
    const out = json(result);
    expect(out.jobs).toContainEqual({ job: "succeeds", ok: true });
    const broken = out.jobs.find((j: any) => j.job === "imports_broken");
    expect(broken?.ok).toBe(false);
    expect(broken.error).toMatch(/syntax error/i);
    // The helper is not a job of its own.
    expect(out.jobs.map((j: any) => j.job)).not.toContain("_syntax_helper");
  });

  // The error names the helper's file:line, where the fix has to be made.
  it("names the helper's file:line for a syntax error in an imported helper", async () => {
    const p = project();
    p.useFixtures("imports_broken", "_syntax_helper");
    const out = json(await stau(p.dir, ["validate", "--json"]));
    expect(out.jobs.find((j: any) => j.job === "imports_broken").error).toContain("_syntax_helper.ts:3");
  });
});

describe("stau validate: lineage", () => {
  /** audit reads what clean writes without depending on clean; stats reads it through a dependency. */
  const lineageProject = () =>
    project({
      "jobs/clean.ts": job(`{ writes: ["clean_table"], async run() {} }`),
      "jobs/stats.ts": job(`{ dependencies: [{ job: "clean", maxLag: "1h" }], reads: ["clean_table"], async run() {} }`),
      "jobs/audit.ts": job(`{ reads: ["clean_table"], async run() {} }`),
    });

  it("warns when a job reads a dataset written by a job it does not depend on, and still passes", async () => {
    const p = lineageProject();
    const result = await stau(p.dir, ["validate", "--json"]);
    expect(result.code, show(result)).toBe(0);
    const out = json(result);
    expect(out.ok).toBe(true);
    expect(out.warnings).toEqual([{ job: "audit", dataset: "clean_table", writer: "clean", message: expect.stringContaining("clean_table") }]);
    expect(out.warnings[0].message).toContain("clean");

    const text = await stau(p.dir, ["validate"]);
    expect(text.code, show(text)).toBe(0);
    expect(text.stdout).toMatch(/! audit: reads dataset "clean_table", which clean writes, but does not depend on clean/);
    expect(text.stdout).toContain("all 3 jobs valid, 1 lineage warning");
  });

  it("fails on warnings with --strict (exit 1)", async () => {
    const p = lineageProject();
    const result = await stau(p.dir, ["validate", "--strict", "--json"]);
    expect(result.code, show(result)).toBe(1);
    expect(json(result)).toMatchObject({ ok: false, warnings: [{ job: "audit", writer: "clean", dataset: "clean_table" }] });
    const text = await stau(p.dir, ["validate", "--strict"]);
    expect(text.code, show(text)).toBe(1);
    expect(text.stdout).toContain("(failing: --strict)");
    p.write("jobs/audit.ts", job(`{ dependencies: [{ job: "clean", maxLag: "1h" }], reads: ["clean_table"], async run() {} }`));
    const fixed = await stau(p.dir, ["validate", "--strict", "--json"]);
    expect(fixed.code, show(fixed)).toBe(0);
    expect(json(fixed).warnings).toEqual([]);
  });
});
