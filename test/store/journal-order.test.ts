import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, expect, it } from "vitest";
import { Journal } from "../../src/store/file/journal.js";

// One group commit often carries the changes of several parties: whoever waited on each
// reacts to its durability (announces, writes in answer) in its own chain of promises.
// The journal tells them in the order they asked, each after the one before has
// reacted, however long each one's chain is: what they announce follows the file.

const dirs: string[] = [];
afterEach(() => {
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});

/** A new journal; `compactEvery` lines it compacts, by writing what is buffered at once (as the file store does first). */
function openJournal(compactEvery = Infinity): { journal: Journal<object>; file: string } {
  const dir = mkdtempSync(join(tmpdir(), "stau-journal-order-"));
  dirs.push(dir);
  const file = join(dir, "journal.jsonl");
  const journal: Journal<object> = Journal.open<object>(file, { lines: 0, validBytes: 0, tornTail: false }, { lines: () => compactEvery, compact: () => journal.flushNow() });
  return { journal, file };
}

/** Resolves after `depth` hops of the microtask queue. */
async function hops(depth: number): Promise<void> {
  for (let i = 0; i < depth; i++) await Promise.resolve();
}

it("tells commits that one write made durable in the order they were asked, each after the one before reacted", async () => {
  const { journal, file } = openJournal();
  const said: string[] = [];
  // The first to ask reacts after a long chain, the second at once: asked in this order, heard in this order.
  journal.append({ t: "result" });
  const first = journal.commit().then(() => hops(20)).then(() => said.push("chunk:done"));
  journal.append({ t: "finish" });
  const second = journal.commit().then(() => said.push("run:finished"));
  await Promise.all([first, second]);
  expect(said).toEqual(["chunk:done", "run:finished"]);
  // Both went to disk in one write.
  expect(readFileSync(file, "utf8").trim().split("\n")).toHaveLength(2);
  journal.close();
});

it("makes a commit that asks while others are still being told wait its turn", async () => {
  const { journal } = openJournal();
  const said: string[] = [];
  journal.append({ t: "a" });
  const a = journal.commit().then(() => said.push("a"));
  journal.append({ t: "b" });
  const b = journal.commit().then(() => hops(5)).then(() => said.push("b"));
  journal.append({ t: "c" });
  const c = journal.commit().then(() => said.push("c"));
  await a;
  // Everything is durable now, but b and c have not been told: one with nothing new to write waits behind them.
  const late = journal.commit().then(() => said.push("late"));
  await Promise.all([b, c, late]);
  expect(said).toEqual(["a", "b", "c", "late"]);
  journal.close();
});

it("keeps that order when a write made at once (compaction) makes the next commit durable in the same turn", async () => {
  // Compaction after every write: it first writes what is buffered at once.
  const { journal } = openJournal(1);
  const said: string[] = [];
  journal.append({ t: "result" });
  const first = journal.commit().then(() => hops(20)).then(() => said.push("chunk:done"));
  // The first write is on its way now; this line waits in the buffer for the compaction after it.
  await new Promise((resolve) => setImmediate(resolve));
  journal.append({ t: "finish" });
  const second = journal.commit().then(() => said.push("run:finished"));
  await Promise.all([first, second]);
  expect(said).toEqual(["chunk:done", "run:finished"]);
  journal.close();
});
