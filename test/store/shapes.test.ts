import { describe, expect, it } from "vitest";
import { archivedRunProblem, journalLineProblem } from "../../src/store/file/shapes.js";

describe("journal line shapes", () => {
  it("passes every operation the file store writes, and the older forms it still reads", () => {
    const lines = [
      { s: 1, t: "run", run: { id: "r1" } },
      { s: 2, t: "run", run: { id: "r1" }, chunks: [{ id: "c1" }] },
      { s: 3, t: "run~", id: "r1", patch: { status: "running" } },
      { s: 4, t: "chunks+", chunks: [{ id: "c1" }] },
      { s: 5, t: "chunks~", patches: [["c1", { state: "pending" }, "queued"]] },
      { s: 6, t: "claim", patch: { state: "running" }, claims: [["c1", 1, "w:1"]] },
      { s: 7, t: "ok", successes: [{ job: "a" }] },
      { s: 8, t: "ok", success: { job: "a" } },
      { s: 9, t: "complete", id: "c1", patch: {}, success: null },
      { s: 10, t: "archive", id: "r1" },
      { s: 11, t: "revive", archived: { run: { id: "r1" }, chunks: [] } },
      { s: 12, t: "mark", entry: "e", mark: { lastTickAt: 1 } },
      { s: 13, t: "chunks*", keys: ["id", "runId", "workIds"], base: { runId: "r1" }, idPrefix: "r1.", columns: ["id", "workIds"], rows: [["a.0", [0]]] },
    ];
    for (const line of lines) expect(journalLineProblem(line), JSON.stringify(line)).toBeNull();
  });

  it("says what is wrong with a line of the wrong shape, naming the field and value", () => {
    const cases: [unknown, string][] = [
      [null, 'expected a JSON object with "s" and "t", received null'],
      [[1, 2], "received [1,2]"],
      [{ t: "archive", id: "r1" }, "s: expected a sequence number (a whole number from 1), received nothing"],
      [{ s: "1", t: "archive", id: "r1" }, 's: expected a sequence number (a whole number from 1), received "1"'],
      [{ s: 1, t: "explode" }, 't: expected one of "run",'],
      [{ s: 1, t: "run", run: null }, "run: expected an object, received null"],
      [{ s: 1, t: "run", run: { job: "a" } }, "run.id: expected a string, received nothing"],
      [{ s: 1, t: "chunks+", chunks: [{}, 3] }, "chunks.1: expected an object, received 3"],
      [{ s: 1, t: "chunks~", patches: [["c1"]] }, 'patches.0: expected [id, patch], received ["c1"]'],
      [{ s: 1, t: "claim", patch: {}, claims: [["c1", "1", "t"]] }, "claims.0: expected [id, attempts, token]"],
      [{ s: 1, t: "ok", successes: {} }, "successes: expected an array of objects, received {}"],
      [{ s: 1, t: "revive", archived: { run: { id: "r1" } } }, "archived.chunks: expected an array of objects, received nothing"],
      [{ s: 1, t: "chunks*", keys: ["id"], base: {}, idPrefix: "r1.", columns: ["id"], rows: [["a.0"], "a.1"] }, 'rows.1: expected a row (an array), received "a.1"'],
      [{ s: 1, t: "chunks*", keys: ["id", "job"], base: {}, idPrefix: "", columns: ["id", "job"], rows: [["a.0"]] }, "rows.0: expected a row of 2 values"],
      [{ s: 1, t: "chunks*", keys: ["id", "job"], base: {}, idPrefix: "", columns: ["id"], rows: [["a.0"]] }, "keys: job is neither in base nor in columns"],
      [{ s: 1, t: "chunks*", keys: ["job"], base: { job: "a" }, idPrefix: "", columns: [], rows: [[]] }, "base.id: expected a string, or id among the columns"],
    ];
    for (const [line, problem] of cases) expect(journalLineProblem(line), JSON.stringify(line)).toContain(problem);
  });
});

describe("archived run shapes", () => {
  it("wants a run with an id and its chunks", () => {
    expect(archivedRunProblem({ run: { id: "r1" }, chunks: [] })).toBeNull();
    expect(archivedRunProblem(null)).toContain("received null");
    expect(archivedRunProblem({ run: { id: 1 }, chunks: [] })).toBe("run.id: expected a string, received 1");
    expect(archivedRunProblem({ run: { id: "r1" } })).toBe("chunks: expected an array of objects, received nothing");
  });
});
