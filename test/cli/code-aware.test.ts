import { appendFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { projectFactory, show, WORKERS } from "../helpers/cli.js";
import { schemasDroppedAfterAll, describePg, TEST_DATABASE_URL, testSchema } from "../helpers/pg.js";
import { json, stau } from "../helpers/project.js";

// Code-aware freshness (README "Code-aware freshness") through the CLI, on both stores.

const project = projectFactory();
const schemas = schemasDroppedAfterAll();

const IDS = ["--work", "1,2,3"];

function pipeline() {
  return project({
    "jobs/lib/util.ts": `export const factor = 2;\n`,
    "jobs/clean.ts": `import { defineJob } from "stau";
import { factor } from "./lib/util.js";
export default defineJob({ chunkSize: 2, async run({ workIds }) { console.log(workIds.map((id) => Number(id) * factor)); } });
`,
    "jobs/other.ts": `import { defineJob } from "stau";\nexport default defineJob({ async run() {} });\n`,
    "jobs/report.ts": `import { defineJob } from "stau";
export default defineJob({
  dependencies: [{ job: "clean", maxLag: "1d", codeAware: true }, { job: "other", maxLag: "1d" }],
  async run() {},
});
`,
  });
}

const entry = (plan: any, job: string) => plan.jobs.find((j: any) => j.job === job);

describe("codeAware dependencies", () => {
  it("run again after their job file or a helper it imports changed, and not otherwise", async () => {
    const p = pipeline();
    expect((await stau(p.dir, ["validate"])).code).toBe(0);
    const first = await stau(p.dir, ["run", "report", ...IDS, ...WORKERS]);
    expect(first.code, show(first)).toBe(0);
    const fresh = json(await stau(p.dir, ["plan", "report", "--json", ...IDS]));
    expect(entry(fresh, "clean")).toMatchObject({ status: "fresh", freshIds: 3 });

    appendFileSync(join(p.dir, "jobs/clean.ts"), "// a fix\n");
    const edited = await stau(p.dir, ["plan", "report", ...IDS]);
    expect(edited.stdout, show(edited)).toMatch(/run\s+clean: 2 chunks — code changed since last success \(stale on 3 of 3 IDs\)/);
    // other is not codeAware, and its code did not change anyway.
    expect(edited.stdout).toMatch(/fresh\s+other/);
    const explained = await stau(p.dir, ["explain", "report", ...IDS]);
    expect(explained.stdout).toMatch(/needs clean \(maxLag 1d\): code changed since last success/);

    expect((await stau(p.dir, ["run", "report", ...IDS, ...WORKERS])).code).toBe(0);
    expect(entry(json(await stau(p.dir, ["plan", "report", "--json", ...IDS])), "clean").status).toBe("fresh");

    appendFileSync(join(p.dir, "jobs/lib/util.ts"), "export const unit = 'm';\n");
    const helper = json(await stau(p.dir, ["plan", "report", "--json", ...IDS]));
    expect(entry(helper, "clean")).toMatchObject({ status: "run", staleIds: 3, reason: "code changed since last success (stale on 3 of 3 IDs)" });
  });

  it("leave an edge without codeAware fresh after its job's code changed", async () => {
    const p = pipeline();
    expect((await stau(p.dir, ["run", "report", ...IDS, ...WORKERS])).code).toBe(0);
    appendFileSync(join(p.dir, "jobs/other.ts"), "// changed\n");
    expect(entry(json(await stau(p.dir, ["plan", "report", "--json", ...IDS])), "other").status).toBe("fresh");
  });
});

describePg("codeAware dependencies on a shared store", () => {
  it("record the code hash in PostgreSQL and run again after an edit; repro works there too", async () => {
    const schema = testSchema("codeaware");
    schemas.push(schema);
    const env = { env: { STAU_DATABASE_URL: TEST_DATABASE_URL!, STAU_DATABASE_SCHEMA: schema } };
    const p = pipeline();
    const first = await stau(p.dir, ["run", "report", "--json", ...IDS, ...WORKERS], env);
    expect(first.code, show(first)).toBe(0);
    expect(entry(json(await stau(p.dir, ["plan", "report", "--json", ...IDS], env)), "clean").status).toBe("fresh");
    appendFileSync(join(p.dir, "jobs/lib/util.ts"), "// edited\n");
    expect(entry(json(await stau(p.dir, ["plan", "report", "--json", ...IDS], env)), "clean")).toMatchObject({ status: "run", reason: "code changed since last success (stale on 3 of 3 IDs)" });

    const chunk = json(first).chunks.find((c: any) => c.job === "clean");
    const repro = await stau(p.dir, ["repro", chunk.id], env);
    expect(repro.code, show(repro)).toBe(0);
    expect(repro.stdout).toContain(`${chunk.id}.1.mjs`);
  });
});
