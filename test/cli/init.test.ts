import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { show, WORKERS } from "../helpers/cli.js";
import { json, REPO, stau } from "../helpers/project.js";

const dirs: string[] = [];
afterAll(() => {
  for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
});

function emptyDir(): string {
  const dir = mkdtempSync(join(tmpdir(), "stau-init-"));
  dirs.push(dir);
  return dir;
}

/** What `npm install` would do for stau in a scaffolded project. */
function linkStau(dir: string): void {
  mkdirSync(join(dir, "node_modules"), { recursive: true });
  symlinkSync(REPO, join(dir, "node_modules", "stau"), "dir");
}

describe("stau init", () => {
  it("scaffolds a project that validates and runs", async () => {
    const dir = emptyDir();
    const init = await stau(dir, ["init"]);
    expect(init.code, show(init)).toBe(0);
    for (const file of ["package.json", "jobs/fetch_orders.ts", "jobs/daily_revenue.ts", "stau.schedule.ts", ".gitignore"]) {
      expect(existsSync(join(dir, file)), file).toBe(true);
      expect(init.stdout).toContain(file);
    }
    const pkg = JSON.parse(readFileSync(join(dir, "package.json"), "utf8"));
    expect(pkg.type).toBe("module");
    expect(pkg.dependencies?.stau).toBeDefined();
    linkStau(dir);

    const validate = await stau(dir, ["validate", "--json"]);
    expect(validate.code, show(validate)).toBe(0);
    expect(json(validate)).toEqual({
      ok: true,
      jobs: [
        { job: "daily_revenue", ok: true },
        { job: "fetch_orders", ok: true },
      ],
      schedule: { ok: true },
    });

    const run = await stau(dir, ["run", "daily_revenue", "--json", ...WORKERS]);
    expect(run.code, show(run)).toBe(0);
    const out = json(run);
    expect(out.run).toMatchObject({ job: "daily_revenue", status: "done" });
    expect(out.chunks.every((c: any) => c.status === "done")).toBe(true);
    const fetch = out.chunks.filter((c: any) => c.job === "fetch_orders");
    expect(fetch.map((c: any) => c.workIds.length)).toEqual([10, 10, 10, 10]);
    expect(out.chunks.filter((c: any) => c.job === "daily_revenue")).toHaveLength(1);
    const revenue = JSON.parse(readFileSync(join(dir, "data", "revenue.json"), "utf8"));
    expect(revenue.stores).toBe(40);
    expect(typeof revenue.total).toBe("number");
  });

  it("scaffolds into a named directory and never overwrites files", async () => {
    const parent = emptyDir();
    const first = await stau(parent, ["init", "proj"]);
    expect(first.code, show(first)).toBe(0);
    const dir = join(parent, "proj");
    expect(existsSync(join(dir, "jobs", "daily_revenue.ts"))).toBe(true);

    writeFileSync(join(dir, "jobs", "daily_revenue.ts"), "// mine\n");
    const again = await stau(parent, ["init", "proj"]);
    expect(again.code, show(again)).toBe(0);
    expect(readFileSync(join(dir, "jobs", "daily_revenue.ts"), "utf8")).toBe("// mine\n");
    expect(again.stdout).toMatch(/kept\s+jobs\/daily_revenue\.ts/);
  });
});
