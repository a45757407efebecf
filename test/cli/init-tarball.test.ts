import { spawn } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { show, WORKERS } from "../helpers/cli.js";
import { collect, json, REPO, type CliResult } from "../helpers/project.js";

// A newcomer's first hour, as the README's "A new project" has it, with real npm: stau is
// on no registry, so it comes from the tarball `npm pack` makes; its dependencies,
// TypeScript and @types/node come from the registry (so this test needs the network).

const dir = mkdtempSync(join(tmpdir(), "stau-newcomer-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/**
 * A newcomer's shell: none of the npm_* variables an enclosing `npm test` sets (npm reads
 * them as its config), and an npm cache of its own, so npx's copy of stau is not left in
 * the user's cache and nothing installed earlier stands in for the tarball.
 */
const env: NodeJS.ProcessEnv = {
  ...Object.fromEntries(Object.entries(process.env).filter(([name]) => !/^npm_/i.test(name))),
  NO_COLOR: "1",
  npm_config_cache: join(dir, "npm-cache"),
  npm_config_update_notifier: "false",
  npm_config_fund: "false",
  npm_config_audit: "false",
};

function run(cwd: string, command: string, args: string[]): Promise<CliResult> {
  return collect(spawn(command, args, { cwd, env, stdio: ["ignore", "pipe", "pipe"] }), 240_000);
}

describe("a new project from a packed stau", () => {
  it("packs with dist/, scaffolds through npx, installs, validates, plans, type-checks and runs", { timeout: 600_000 }, async () => {
    // The test run built dist/ already (tsc before vitest); `prepare` would rebuild it
    // under the other tests that run from it, so the pack skips it.
    const pack = await run(REPO, "npm", ["pack", "--ignore-scripts", "--json", "--pack-destination", dir]);
    expect(pack.code, show(pack)).toBe(0);
    const [packed] = json<{ filename: string; files: { path: string }[] }[]>(pack);
    const files = packed!.files.map((f) => f.path);
    expect(files).toEqual(expect.arrayContaining(["bin/stau.js", "dist/index.js", "dist/index.d.ts", "dist/cli/main.js", "package.json"]));
    expect(files.filter((f) => f.startsWith("src/") || f.startsWith("test/"))).toEqual([]);

    const init = await run(dir, "npx", ["--yes", "--package", `./${packed!.filename}`, "stau", "init", "my-pipeline"]);
    expect(init.code, show(init)).toBe(0);
    const project = join(dir, "my-pipeline");
    const pkg = JSON.parse(readFileSync(join(project, "package.json"), "utf8"));
    // Where it was run from, not the npx cache it was unpacked into.
    expect(pkg.dependencies).toEqual({ stau: `file:${join(dir, packed!.filename)}` });
    expect(Object.keys(pkg.devDependencies).sort()).toEqual(["@types/node", "typescript"]);

    const install = await run(project, "npm", ["install"]);
    expect(install.code, show(install)).toBe(0);
    expect(install.stderr, show(install)).not.toContain("not yet covered by allowScripts");

    const validate = await run(project, "npx", ["stau", "validate", "--json"]);
    expect(validate.code, show(validate)).toBe(0);
    expect(json(validate)).toMatchObject({ ok: true, jobs: [{ job: "daily_revenue", ok: true }, { job: "fetch_orders", ok: true }] });

    const plan = await run(project, "npx", ["stau", "plan", "daily_revenue", "--json"]);
    expect(plan.code, show(plan)).toBe(0);
    expect(json(plan).chunks).toHaveLength(5);

    const tsc = await run(project, "npx", ["tsc", "--noEmit"]);
    expect(tsc.code, show(tsc)).toBe(0);

    const result = await run(project, "npx", ["stau", "run", "daily_revenue", "--json", ...WORKERS]);
    expect(result.code, show(result)).toBe(0);
    expect(json(result).run.status).toBe("done");
    // Outputs go to output/, beside stau's store in data/, never into it.
    expect(JSON.parse(readFileSync(join(project, "output", "revenue.json"), "utf8")).stores).toBe(40);
    expect(existsSync(join(project, "data", "revenue.json"))).toBe(false);
    const logs = await run(project, "npx", ["stau", "logs", "daily_revenue"]);
    expect(logs.stdout, show(logs)).toContain("revenue over 40 stores");
  });
});
