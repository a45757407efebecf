import { mkdirSync, mkdtempSync, readdirSync, readFileSync, realpathSync, rmSync, symlinkSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { buildProgram } from "../../src/cli/main.js";
import { expectNoStackTrace, filesIn, projectFactory, show, WORKERS } from "../helpers/cli.js";
import { json, REPO, stau } from "../helpers/project.js";

const project = projectFactory();
const empties: string[] = [];
afterAll(() => {
  for (const dir of empties) rmSync(dir, { recursive: true, force: true });
});

/** A folder with nothing in it and no project above it. */
function emptyDir(): string {
  const dir = mkdtempSync(join(tmpdir(), "stau-noproject-"));
  empties.push(dir);
  return dir;
}

// Writes where it ran, relative to its working directory, so a test sees which that was.
const WHERE = `import { writeFile } from "node:fs/promises";
import { defineJob } from "stau";
export default defineJob({
  async run({ log }) {
    await writeFile("ran-in.txt", process.cwd());
    log("ran in", process.cwd());
  },
});
`;

describe("the project is found upward from the working directory", () => {
  it("validate in jobs/ of a project checks that project's jobs", async () => {
    const p = project({ "jobs/one.ts": WHERE, "jobs/lib/helper.ts": "export const x = 1;\n" });
    for (const dir of [join(p.dir, "jobs"), join(p.dir, "jobs", "lib")]) {
      const result = await stau(dir, ["validate", "--json"]);
      expect(result.code, show(result)).toBe(0);
      expect(json(result).jobs).toEqual([{ job: "one", ok: true }]);
    }
  });

  it("run in a subfolder runs jobs in the project root, with --data relative to the root", async () => {
    const p = project({ "jobs/one.ts": WHERE });
    const result = await stau(join(p.dir, "jobs"), ["run", "one", "--json", "--data", "store", ...WORKERS]);
    expect(result.code, show(result)).toBe(0);
    expect(filesIn(p.dir)).toEqual(expect.arrayContaining(["ran-in.txt", "store"]));
    expect(readFileSync(join(p.dir, "ran-in.txt"), "utf8")).toBe(realpathSync(p.dir));
    expect(filesIn(join(p.dir, "jobs"))).toEqual(["one.ts"]);
    expect(filesIn(p.dir)).not.toContain("data");

    const viaEnv = await stau(join(p.dir, "jobs"), ["runs", "--json"], { env: { STAU_DATA_DIR: "store" } });
    expect(viaEnv.code, show(viaEnv)).toBe(0);
    expect(json(viaEnv)).toHaveLength(1);
  });
});

/**
 * Every command but init, from the program itself (so a new command is covered too), with
 * a placeholder for each required argument and option; the executing ones get two workers, so a
 * command that ran anyway stays light.
 */
const COMMANDS = buildProgram()
  .commands.filter((command) => command.name() !== "init")
  .map((command) => [
    command.name(),
    ...command.registeredArguments.filter((argument) => argument.required).map(() => "one"),
    ...command.options.filter((option) => option.mandatory).flatMap((option) => [option.long!, "one"]),
    ...(command.options.some((option) => option.long === "--workers") ? WORKERS : []),
  ]);

describe("outside a project", () => {
  it("covers the commands users run", () => {
    expect(COMMANDS.map(([name]) => name)).toEqual(expect.arrayContaining(["validate", "dev", "start", "run", "plan", "graph", "runs", "logs", "trigger", "retry", "cancel", "rerun", "status", "schedule", "explain"]));
  });

  it.each(COMMANDS.map((args) => [args.join(" "), args]))("stau %s exits 2, names where it looked and creates nothing", async (_name, args) => {
    const dir = emptyDir();
    const result = await stau(dir, args);
    expect(result.code, show(result)).toBe(2);
    expect(result.stderr).toContain(`no stau project in ${dir} or any folder above it`);
    expect(result.stderr).toContain("stau init");
    expectNoStackTrace(result);
    expect(readdirSync(dir)).toEqual([]);
  });

  it("stau init works there, and the folder is a project afterwards", async () => {
    const dir = emptyDir();
    const init = await stau(dir, ["init"]);
    expect(init.code, show(init)).toBe(0);
    mkdirSync(join(dir, "node_modules"));
    symlinkSync(REPO, join(dir, "node_modules", "stau"), "dir");
    const validate = await stau(join(dir, "jobs"), ["validate", "--json"]);
    expect(validate.code, show(validate)).toBe(0);
    expect(json(validate).ok).toBe(true);
  });
});
