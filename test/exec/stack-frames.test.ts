import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { describe, expect, test } from "vitest";
import { stackFrames } from "../../src/stack.js";

// A job's stack ends in the frames of stau's worker and its thread pool, which say
// nothing of the job: they are left out of what stau shows (logs, `stau show`, the
// console). A failure inside stau's own code keeps every frame.

const STAU = fileURLToPath(new URL("../../src/", import.meta.url));
const runner = [
  `    at async runChunk (file://${join(STAU, "exec", "worker.js")}:161:16)`,
  `    at async runBatch (file://${join(STAU, "exec", "worker.js")}:211:21)`,
  "    at async file:///app/node_modules/tinypool/dist/entry/worker.js:48:17",
];

describe("stackFrames", () => {
  test("keeps the job's frames and drops the runner's that end the stack", () => {
    const stack = ["Error: sensor 7777 has no calibration", "    at Object.run (/app/jobs/big.ts:10:41)", `    at step (${join(STAU, "config", "define.js")}:3:1)`, "    at helper (/app/jobs/lib/h.ts:2:2)", ...runner].join("\n");
    // stau's code between two of the job's frames stays: it is where the job called it.
    expect(stackFrames(stack).split("\n")).toEqual(["    at Object.run (/app/jobs/big.ts:10:41)", `    at step (${join(STAU, "config", "define.js")}:3:1)`, "    at helper (/app/jobs/lib/h.ts:2:2)"]);
  });

  test("a stack all in stau's code is kept whole", () => {
    const stack = ["TypeError: x is not a function", ...runner].join("\n");
    expect(stackFrames(stack).split("\n")).toEqual(runner);
  });

  test("no stack, or one without frames, shows none", () => {
    expect(stackFrames(null)).toBe("");
    expect(stackFrames("Error: only a message")).toBe("");
  });
});
