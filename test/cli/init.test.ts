import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { expectNoStackTrace, show, WORKERS } from "../helpers/cli.js";
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
      warnings: [],
    });

    const run = await stau(dir, ["run", "daily_revenue", "--json", ...WORKERS]);
    expect(run.code, show(run)).toBe(0);
    const out = json(run);
    expect(out.run).toMatchObject({ job: "daily_revenue", status: "done" });
    expect(out.chunks.every((c: any) => c.status === "done")).toBe(true);
    const fetch = out.chunks.filter((c: any) => c.job === "fetch_orders");
    expect(fetch.map((c: any) => c.workIds.length)).toEqual([10, 10, 10, 10]);
    expect(out.chunks.filter((c: any) => c.job === "daily_revenue")).toHaveLength(1);
    const revenue = JSON.parse(readFileSync(join(dir, "output", "revenue.json"), "utf8"));
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

  it("keeps a package.json it did not write and says what it lacks", async () => {
    const dir = emptyDir();
    // What \`npm init -y\` writes with npm 11.
    writeFileSync(join(dir, "package.json"), JSON.stringify({ name: "mine", version: "1.0.0", type: "commonjs" }));
    const init = await stau(dir, ["init"]);
    expect(init.code, show(init)).toBe(0);
    expect(JSON.parse(readFileSync(join(dir, "package.json"), "utf8"))).toEqual({ name: "mine", version: "1.0.0", type: "commonjs" });
    expect(init.stdout).toMatch(/kept\s+package\.json/);
    expect(init.stderr).toContain(`warning: package.json was kept: set "type": "module" in it`);
    // Run from this checkout, so the project depends on the checkout's folder.
    expect(init.stderr).toContain(`npm install stau@file:${REPO}`);
    expect(init.stderr).toMatch(/npm install --save-dev typescript@\S+ @types\/node@\S+/);

    const complete = emptyDir();
    writeFileSync(join(complete, "package.json"), JSON.stringify({ type: "module", dependencies: { stau: "*" }, devDependencies: { typescript: "*", "@types/node": "*" } }));
    const quiet = await stau(complete, ["init"]);
    expect(quiet.code, show(quiet)).toBe(0);
    expect(quiet.stderr).toBe("");
  });

  it("stops at a package.json it cannot read, with nothing created", async () => {
    const dir = emptyDir();
    writeFileSync(join(dir, "package.json"), "{ not json");
    const init = await stau(dir, ["init"]);
    expect(init.code, show(init)).toBe(2);
    expect(init.stderr).toContain(`cannot read ${join(dir, "package.json")}`);
    expectNoStackTrace(init);
    expect(readdirSync(dir)).toEqual(["package.json"]);
  });
});
