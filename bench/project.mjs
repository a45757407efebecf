// Throw-away projects for benchmarks, set up as a user's: node_modules/stau → this repo.
import { mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";

export const REPO = resolve(dirname(fileURLToPath(import.meta.url)), "..");

export function benchProject(jobs) {
  const dir = mkdtempSync(join(tmpdir(), "stau-bench-"));
  mkdirSync(join(dir, "jobs"));
  mkdirSync(join(dir, "node_modules"));
  symlinkSync(REPO, join(dir, "node_modules", "stau"), "dir");
  writeFileSync(join(dir, "package.json"), JSON.stringify({ name: "bench", private: true, type: "module" }));
  for (const [name, text] of Object.entries(jobs)) writeFileSync(join(dir, "jobs", `${name}.ts`), text);
  return { dir, remove: () => rmSync(dir, { recursive: true, force: true }) };
}

export const median = (xs) => {
  const sorted = [...xs].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)];
};
