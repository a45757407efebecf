import { appendFileSync, cpSync, mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, utimesSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { afterAll, afterEach, describe, expect, it, vi } from "vitest";
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

  it("sees an edit that keeps a file's size, made right after the file was hashed", () => {
    const dir = jobsDir({ "a.ts": "export const a = 1;\n" });
    const file = join(dir, "a.ts");
    const before = codeHash(file);
    writeFileSync(file, "export const a = 2;\n");
    expect(codeHash(file)).not.toBe(before);
  });

  describe("once its files have not changed for a while", () => {
    afterEach(() => void vi.useRealTimers());

    it("sees an edit of any file it read, even one that keeps the file's size and modification time", () => {
      const dir = jobsDir(FILES);
      const file = join(dir, "clean.ts");
      const unit = join(dir, "lib/unit.ts");
      // Modified long ago, and a minute on: the files look settled, and their hashes may be remembered.
      const longAgo = 1_700_000_000;
      for (const path of Object.keys(FILES)) utimesSync(join(dir, path), longAgo, longAgo);
      vi.useFakeTimers({ toFake: ["Date"], now: Date.now() + 60_000 });
      const before = codeHash(file);
      expect(codeHash(file)).toBe(before);
      writeFileSync(unit, readFileSync(unit, "utf8").replace('"m"', '"s"'));
      utimesSync(unit, longAgo, longAgo);
      expect(statSync(unit, { bigint: true }).mtimeNs).toBe(BigInt(longAgo) * 1_000_000_000n);
      const after = codeHash(file);
      expect(after).not.toBe(before);
      writeFileSync(unit, readFileSync(unit, "utf8").replace('"s"', '"m"'));
      expect(codeHash(file)).toBe(before);
    });
  });

  it("hashes every job a root reaches, leaving out files that cannot be read", () => {
    const dir = jobsDir({ "a.ts": "a", "b.ts": "b", "c.ts": "c" });
    const jobs = registry({ ...job("a", { deps: ["b", "gone"] }), file: join(dir, "a.ts") }, { ...job("b"), file: join(dir, "b.ts") }, { ...job("gone"), file: join(dir, "gone.ts") }, { ...job("c"), file: join(dir, "c.ts") });
    expect([...codeHashes(jobs, "a").keys()].sort()).toEqual(["a", "b"]);
    expect([...codeHashes(jobs).keys()].sort()).toEqual(["a", "b", "c"]);
  });
});
