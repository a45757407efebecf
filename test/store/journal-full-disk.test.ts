import { execFileSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, statfsSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, expect, it } from "vitest";
import { Journal, type WriteProblem } from "../../src/store/file/journal.js";
import { until } from "./helpers.js";

// On a nearly full disk write(2) may take part of what it is given and still succeed.
// The journal must not count such a write as durable: its waiters would announce
// results the file does not hold. The disk is a real 1 MiB tmpfs (this suite runs as
// root, as CI does; mounting fails loudly otherwise).

const mounts: string[] = [];
afterEach(() => {
  for (const dir of mounts.splice(0)) {
    execFileSync("umount", ["-l", dir]);
    rmSync(dir, { recursive: true, force: true });
  }
});

function tinyDisk(): string {
  const dir = mkdtempSync(join(tmpdir(), "stau-journal-disk-"));
  execFileSync("mount", ["-t", "tmpfs", "-o", "size=1m", "tmpfs", dir]);
  mounts.push(dir);
  return dir;
}

it("counts a commit durable only once all of it is written, and writes it whole once there is room", async () => {
  const dir = tinyDisk();
  const file = join(dir, "journal.jsonl");
  const problems: (WriteProblem | null)[] = [];
  const journal = Journal.open<object>(file, { lines: 0, validBytes: 0, tornTail: false }, { lines: () => Infinity, compact: () => undefined }, (p) => problems.push(p));
  const first = { s: 1, t: "ok", note: "first" };
  journal.append(first);
  await journal.commit();

  // Two pages free, then a line of 64 KB: the disk takes part of it before it is full.
  const { bavail, bsize } = statfsSync(dir);
  const filler = join(dir, "filler");
  writeFileSync(filler, Buffer.alloc((bavail - 2) * bsize));
  const second = { s: 2, t: "ok", note: "x".repeat(64 * 1024) };
  journal.append(second);
  let durable = false;
  const committed = journal.commit().then(() => (durable = true));
  await until(() => (problems.some((p) => p !== null) ? true : null), "the journal to say it cannot write");
  expect(durable).toBe(false);
  expect(readFileSync(file, "utf8")).toBe(`${JSON.stringify(first)}\n`);

  rmSync(filler);
  await committed;
  expect(readFileSync(file, "utf8")).toBe(`${JSON.stringify(first)}\n${JSON.stringify(second)}\n`);
  expect(problems.at(-1)).toBeNull();
  journal.close();
});
