import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { findProjectRoot } from "../../src/config/project.js";

const made: string[] = [];
afterAll(() => {
  for (const dir of made) rmSync(dir, { recursive: true, force: true });
});

/** A folder under the temp directory with the given files (a name ending in / is a folder). */
function tree(...paths: string[]): string {
  const dir = mkdtempSync(join(tmpdir(), "stau-root-"));
  made.push(dir);
  for (const path of paths) {
    if (path.endsWith("/")) mkdirSync(join(dir, path), { recursive: true });
    else writeFileSync(join(dir, path), "");
  }
  return dir;
}

describe("findProjectRoot", () => {
  it("is the folder itself when it holds jobs/", () => {
    const dir = tree("jobs/");
    expect(findProjectRoot(dir)).toBe(dir);
  });

  it("looks upward from jobs/ and its subfolders, as git and npm do", () => {
    const dir = tree("jobs/lib/deep/");
    expect(findProjectRoot(join(dir, "jobs"))).toBe(dir);
    expect(findProjectRoot(join(dir, "jobs", "lib", "deep"))).toBe(dir);
  });

  it("counts a schedule file alone, under any of its names", () => {
    for (const name of ["stau.schedule.ts", "stau.schedule.mjs"]) {
      const dir = tree("sub/", name);
      expect(findProjectRoot(join(dir, "sub"))).toBe(dir);
    }
  });

  it("takes the nearest project when projects nest", () => {
    const dir = tree("jobs/", "inner/jobs/", "inner/src/");
    expect(findProjectRoot(join(dir, "inner", "src"))).toBe(join(dir, "inner"));
  });

  it("does not take a file named jobs for the jobs folder", () => {
    const dir = tree("jobs");
    expect(findProjectRoot(dir)).toBeNull();
  });

  it("is null outside any project", () => {
    expect(findProjectRoot(tree("empty/"))).toBeNull();
  });
});
