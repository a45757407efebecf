import { appendFileSync, cpSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { codeHash, codeHashes } from "../../src/jobs/code-hash.js";
import { job, registry } from "../graph/helpers.js";

const dirs: string[] = [];
afterAll(() => dirs.forEach((d) => rmSync(d, { recursive: true, force: true })));

/** A jobs/ folder with these files (paths relative to it). */
function jobsDir(files: Record<string, string>): string {
  const dir = join(mkdtempSync(join(tmpdir(), "stau-hash-")), "jobs");
  dirs.push(dirname(dir));
  for (const [path, text] of Object.entries(files)) {
    mkdirSync(dirname(join(dir, path)), { recursive: true });
    writeFileSync(join(dir, path), text);
  }
  return dir;
}

const FILES = {
  "clean.ts": `import { defineJob } from "stau";\nimport { factor } from "./lib/util.js";\nexport default defineJob({ async run() { return factor; } });\n`,
  "lib/util.ts": `export { unit } from "./unit";\nexport const factor = 2;\n`,
  "lib/unit.ts": `export const unit = "m";\n`,
  "lib/unused.ts": `export const nobody = 1;\n`,
  "_side.ts": `export {};\n`,
};

describe("codeHash", () => {
  it("changes with the job file and every local file it imports, directly or not", () => {
    const dir = jobsDir(FILES);
    const file = join(dir, "clean.ts");
    const before = codeHash(file);
    expect(codeHash(file)).toBe(before);
    appendFileSync(join(dir, "lib/unit.ts"), "// edited\n");
    const afterHelper = codeHash(file);
    expect(afterHelper).not.toBe(before);
    appendFileSync(file, "// edited\n");
    expect(codeHash(file)).not.toBe(afterHelper);
  });

  it("ignores files the job does not import, and packages", () => {
    const dir = jobsDir(FILES);
    const before = codeHash(join(dir, "clean.ts"));
    appendFileSync(join(dir, "lib/unused.ts"), "// edited\n");
    appendFileSync(join(dir, "_side.ts"), "// edited\n");
    expect(codeHash(join(dir, "clean.ts"))).toBe(before);
  });

  it("is the same for a copy of the project in another folder (several instances on one database)", () => {
    const dir = jobsDir(FILES);
    const copy = join(mkdtempSync(join(tmpdir(), "stau-hash-")), "jobs");
    dirs.push(dirname(copy));
    cpSync(dir, copy, { recursive: true });
    expect(codeHash(join(copy, "clean.ts"))).toBe(codeHash(join(dir, "clean.ts")));
  });

  it("hashes every job a root reaches, leaving out files that cannot be read", () => {
    const dir = jobsDir({ "a.ts": "a", "b.ts": "b", "c.ts": "c" });
    const jobs = registry({ ...job("a", { deps: ["b", "gone"] }), file: join(dir, "a.ts") }, { ...job("b"), file: join(dir, "b.ts") }, { ...job("gone"), file: join(dir, "gone.ts") }, { ...job("c"), file: join(dir, "c.ts") });
    expect([...codeHashes(jobs, "a").keys()].sort()).toEqual(["a", "b"]);
    expect([...codeHashes(jobs).keys()].sort()).toEqual(["a", "b", "c"]);
  });
});
