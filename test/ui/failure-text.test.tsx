import { fileURLToPath } from "node:url";
import { describe, expect, test } from "vitest";
import { Dialog } from "../../src/ui/Dialog.js";
import { failureText } from "../../src/ui/failure-text.js";
import type { ChunkError } from "../../src/store/records.js";
import { chunk, job, NOW, run, snapshot } from "./fixtures.js";
import { frameOf } from "./frames.js";
import { apply, cmd, start } from "./helpers.js";

// Enter on a failure: the whole error and its stack, each line of the message once.

const inFailures = (error: ChunkError) =>
  apply(start(snapshot({ jobs: [job("a")], runs: [{ run: run("r1", "a", "failed"), chunks: [chunk("r1", "a", 0, "failed", { error })] }] })), cmd("next-pane"), cmd("next-pane"), cmd("next-pane"));

describe("the whole error", () => {
  test("a multi-line message repeated at the top of its stack shows each line once", () => {
    const message = "feature store timed out\nafter 3 tries on db:5432\nlast reply: 503";
    const stack = `Error: ${message}\n    at fetch (jobs/lib/store.ts:12:9)\n    at run (jobs/anomaly_scores.ts:40:5)`;
    const text = failureText(inFailures({ kind: "error", message, stack }))!;
    expect(text.lines).toEqual([
      "run r1 · attempt 1 · error · work IDs 0",
      "",
      "feature store timed out",
      "after 3 tries on db:5432",
      "last reply: 503",
      "",
      "    at fetch (jobs/lib/store.ts:12:9)",
      "    at run (jobs/anomaly_scores.ts:40:5)",
    ]);
  });

  test("the frames of stau's worker and thread pool that end a job's stack are left out", () => {
    const worker = fileURLToPath(new URL("../../src/exec/worker.js", import.meta.url));
    const stack = `Error: boom\n    at run (jobs/a.ts:4:11)\n    at async runChunk (file://${worker}:161:16)\n    at async file:///app/node_modules/tinypool/dist/entry/worker.js:48:17`;
    expect(failureText(inFailures({ kind: "error", message: "boom", stack }))!.lines.slice(2)).toEqual(["boom", "", "    at run (jobs/a.ts:4:11)"]);
  });

  test("a stack that does not start with the message is kept whole", () => {
    const stack = "    at fetch (jobs/lib/store.ts:12:9)";
    expect(failureText(inFailures({ kind: "error", message: "one\ntwo", stack }))!.lines.slice(2)).toEqual(["one", "two", "", stack]);
  });

  test("a stack that repeats only the first line keeps the rest of its lines", () => {
    const stack = "Error: one\n    at x (a.ts:1:1)";
    expect(failureText(inFailures({ kind: "error", message: "one\ntwo", stack }))!.lines.slice(2)).toEqual(["one", "two", "", "    at x (a.ts:1:1)"]);
  });

  test("as drawn: the second line of the message appears once", () => {
    const message = "connection refused: db:5432\nat second line";
    const state = apply(inFailures({ kind: "error", message, stack: `Error: ${message}\n    at connect (db.ts:3)` }), cmd("open-error"));
    const lines = frameOf(<Dialog overlay={state.overlay!} width={100} height={14} now={NOW} />);
    expect(lines.filter((l) => l.includes("at second line"))).toHaveLength(1);
    expect(lines).toContain("    at connect (db.ts:3)");
  });
});
