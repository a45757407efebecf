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

/** A realistic TypeScript job file (types, a helper, both functions), the i-th of a chain. */
export function typedJobFile(i) {
  return `import { defineJob } from "stau";
interface Row { id: number; value: number }
const clean = (rows: Row[]): Row[] => rows.filter((r) => Number.isFinite(r.value));
export default defineJob({
  chunkSize: ${10 + (i % 7)},
  dependencies: ${i > 0 ? `[{ job: "job_${i - 1}", maxLag: "1h" }]` : "[]"},
  retries: 1,
  async selectWork(): Promise<number[]> { return Array.from({ length: 10 }, (_, k) => k); },
  async run({ workIds }) { clean(workIds.map((id) => ({ id: Number(id), value: 1 }))); },
});
`;
}
