import { appendFileSync, existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { History, describeDamagedLine, type DamagedLine } from "../../src/store/file/history.js";
import type { ArchivedRun } from "../../src/store/records.js";

const dirs: string[] = [];
afterAll(() => {
  for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
});
function historyFile(): string {
  const dir = mkdtempSync(join(tmpdir(), "stau-history-"));
  dirs.push(dir);
  return join(dir, "history", "runs.jsonl");
}

/** The index's entries, `<id>\t<offset>`, from all its shards, in file order within each. */
const indexDir = (file: string) => join(dirname(file), "index");
const indexLines = (file: string) => readdirSync(indexDir(file)).flatMap((name) => readFileSync(join(indexDir(file), name), "utf8").split("\n").filter(Boolean));
/** Leaves only the index entries `keep` says, as a crash between the appends would. */
function keepIndexLines(file: string, keep: (line: string) => boolean): void {
  for (const name of readdirSync(indexDir(file))) {
    const path = join(indexDir(file), name);
    const kept = readFileSync(path, "utf8").split("\n").filter((l) => l && keep(l));
    writeFileSync(path, kept.map((l) => l + "\n").join(""));
  }
}

const archived = (id: string) => ({ run: { id, job: "a", status: "done" }, chunks: [] }) as unknown as ArchivedRun;
const ids = (history: History) => [...history.newestFirst()].map((r) => r.run.id);

describe("run history", () => {
  it("skips damaged lines and reports each once, with file and line number", () => {
    const file = historyFile();
    const heard: DamagedLine[] = [];
    const history = new History(file, (damage) => heard.push(damage));
    history.append([archived("r1")]);
    appendFileSync(file, "null\n{ not json\n{}\n");
    history.append([archived("r2")]);

    expect(ids(history)).toEqual(["r2", "r1"]);
    expect(history.find("r1")?.run.id).toBe("r1");
    expect(ids(history)).toEqual(["r2", "r1"]);
    expect(heard.map((d) => d.line)).toEqual([4, 3, 2]);
    expect(history.damagedLines().map((d) => [d.file, d.line])).toEqual([
      [file, 2],
      [file, 3],
      [file, 4],
    ]);
    expect(history.damagedLines()[0]!.problem).toContain("received null");
    expect(history.damagedLines()[1]!.problem).toContain("not valid JSON");
    expect(history.damagedLines()[2]!.problem).toContain("run: expected an object, received nothing");
    expect(describeDamagedLine(history.damagedLines()[0]!)).toContain(`${file} line 2 `);
  });

  it("does not report a last line without its newline (being written, or torn by a crash)", () => {
    const file = historyFile();
    const history = new History(file);
    history.append([archived("r1")]);
    appendFileSync(file, '{"run":{"id":"torn');
    expect(ids(history)).toEqual(["r1"]);
    expect(history.damagedLines()).toEqual([]);
    // The next writer (after a restart) puts a newline after it: then it is a damaged line like any other.
    const next = new History(file);
    next.append([archived("r2")]);
    expect(ids(next)).toEqual(["r2", "r1"]);
    expect(next.damagedLines().map((d) => d.line)).toEqual([2]);
  });

  it("appends to the history a rewrite put in place, not to the file it replaced", () => {
    const file = historyFile();
    const history = new History(file);
    history.append([archived("r1"), archived("r2")]);
    expect(history.rewrite((line) => line.run.id !== "r1")).toEqual(["r1"]);
    history.append([archived("r3")]);
    history.close();
    expect(readFileSync(file, "utf8").trim().split("\n").map((line) => (JSON.parse(line) as ArchivedRun).run.id)).toEqual(["r2", "r3"]);
    const reader = new History(file);
    expect([reader.find("r3")?.run.id, reader.find("r2")?.run.id, reader.find("r1")]).toEqual(["r3", "r2", null]);
    expect(indexLines(file).map((line) => line.split("\t")[0]).sort()).toEqual(["r2", "r3"]);
  });

  it("counts line numbers across read blocks", () => {
    const file = historyFile();
    const history = new History(file);
    // Enough lines to span more than one 1 MiB block.
    const line = JSON.stringify(archived("x".repeat(200))) + "\n";
    const count = Math.ceil((3 << 20) / line.length);
    mkdirSync(dirname(file), { recursive: true });
    writeFileSync(file, line.repeat(count) + "garbage\n" + line.repeat(count));
    expect(ids(history)).toEqual(["x".repeat(200)]);
    expect(history.damagedLines().map((d) => d.line)).toEqual([count + 1]);
  });
});

describe("the history index", () => {
  const withStatus = (id: string, status: string) => ({ run: { id, job: "a", status }, chunks: [] }) as unknown as ArchivedRun;
  /** Overwrites run `id`'s line in place with garbage of the same length: a scan that passes it reports it. */
  function damage(file: string, id: string): void {
    const text = readFileSync(file, "utf8");
    const start = text.indexOf(`{"run":{"id":"${id}"`);
    const end = text.indexOf("\n", start);
    writeFileSync(file, text.slice(0, start) + "x".repeat(end - start) + text.slice(end));
  }

  it("finds an old run where its index line says, without reading the runs after it", () => {
    const file = historyFile();
    const heard: DamagedLine[] = [];
    const history = new History(file, (d) => heard.push(d));
    for (const id of ["r1", "r2", "r3"]) history.append([archived(id)]);
    damage(file, "r2");
    expect(history.find("r1")?.run.id).toBe("r1");
    expect(history.find("r3")?.run.id).toBe("r3");
    expect(heard).toEqual([]);
    // An entry pointing at a line that is not its run: back to reading the history, which finds nothing and says why.
    expect(history.find("r2")).toBeNull();
    expect(heard.map((d) => d.line)).toEqual([2]);
  });

  it("finds the runs appended after the index's last line (a crash between the two appends), and a retried run's newest line", () => {
    const file = historyFile();
    const history = new History(file);
    history.append([withStatus("r1", "failed"), archived("r2")]);
    history.append([withStatus("r1", "done")]);
    expect(history.find("r1")?.run.status).toBe("done");
    keepIndexLines(file, (line) => line === "r1\t0");
    expect(history.find("r2")?.run.id).toBe("r2");
    expect(history.find("r1")?.run.status).toBe("done");
    expect(history.find("r9")).toBeNull();
  });

  it("is built in one pass for a history written without one, and rewritten with the history", () => {
    const file = historyFile();
    mkdirSync(dirname(file), { recursive: true });
    writeFileSync(file, ["r1", "r2", "r3", "r4"].map((id) => JSON.stringify(archived(id))).join("\n") + "\n");
    const heard: DamagedLine[] = [];
    const history = new History(file, (d) => heard.push(d));
    history.ensureIndex();
    expect(indexLines(file)).toHaveLength(4);
    expect(history.rewrite((run) => run.run.id !== "r2")).toEqual(["r2"]);
    expect(indexLines(file).map((l) => l.split("\t")[0]).sort()).toEqual(["r1", "r3", "r4"]);
    damage(file, "r3");
    expect(history.find("r1")?.run.id).toBe("r1");
    expect(history.find("r4")?.run.id).toBe("r4");
    expect(heard).toEqual([]);
  });

  it("keeps its index in shards: a lookup reads one, and finds the newest line of a run retried among the runs a shard has not recorded", () => {
    const file = historyFile();
    const history = new History(file);
    const runs = Array.from({ length: 300 }, (_, i) => `r${i}`);
    for (const id of runs) history.append([archived(id)]);
    expect(readdirSync(indexDir(file)).length).toBeGreaterThan(32);
    expect(indexLines(file)).toHaveLength(300);
    for (const id of ["r0", "r150", "r299"]) expect(history.find(id)?.run.id).toBe(id);
    expect(history.find("r300")).toBeNull();
    // r5 retried twice, and the index lost its last entries (as a crash between the appends leaves it).
    history.append([withStatus("r5", "failed")]);
    history.append([withStatus("r5", "done")]);
    keepIndexLines(file, (line) => !line.startsWith("r5\t") || line === indexLines(file).find((l) => l.startsWith("r5\t")));
    expect(history.find("r5")?.run.status).toBe("done");
  });

  it("is built again when runs were archived beside it unindexed, as an older version or a crash between the appends leaves them", () => {
    const file = historyFile();
    const first = new History(file);
    for (let i = 0; i < 100; i++) first.append([archived(`r${i}`)]);
    // An older stau archives two runs, with its own one-file index.
    appendFileSync(file, ["old1", "old2"].map((id) => JSON.stringify(archived(id)) + "\n").join(""));
    const again = new History(file);
    again.ensureIndex();
    expect(indexLines(file).map((l) => l.split("\t")[0])).toEqual(expect.arrayContaining(["old1", "old2"]));
    // Long after, with every shard written past them, they are still found.
    for (let i = 100; i < 400; i++) again.append([archived(`r${i}`)]);
    expect(again.find("old1")?.run.id).toBe("old1");
    expect(again.find("old2")?.run.id).toBe("old2");
  });

  it("builds shards in place of the one-file index of earlier versions", () => {
    const file = historyFile();
    mkdirSync(dirname(file), { recursive: true });
    writeFileSync(file, ["r1", "r2"].map((id) => JSON.stringify(archived(id))).join("\n") + "\n");
    writeFileSync(`${file}.idx`, "r1\t0\n");
    const history = new History(file);
    history.ensureIndex();
    expect(existsSync(`${file}.idx`)).toBe(false);
    expect(indexLines(file).map((l) => l.split("\t")[0]).sort()).toEqual(["r1", "r2"]);
    expect(history.find("r2")?.run.id).toBe("r2");
  });
});
