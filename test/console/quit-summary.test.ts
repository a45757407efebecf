import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { projectFactory, show } from "../helpers/cli.js";
import { json, stau } from "../helpers/project.js";
import { startPty, ptysKilledAfterEach } from "../helpers/pty.js";

// Quitting the console drains what runs and leaves the rest queued in the store; once the
// terminal is back, stau says which: a user must not wonder whether work was lost.

const project = projectFactory();
const open = ptysKilledAfterEach();

// Six one-ID chunks; each waits for the test to create `release` (a barrier, not a sleep).
const JOBS = {
  "jobs/gated.ts": `import { defineJob } from "stau";
import { existsSync } from "node:fs";
export default defineJob({
  chunkSize: 1,
  async selectWork() { return [1, 2, 3, 4, 5, 6]; },
  async run({ log }) {
    log("waiting for release");
    while (!existsSync("release")) await new Promise((resolve) => setTimeout(resolve, 20));
  },
});
`,
};

describe("quitting stau dev", () => {
  it("says how many running chunks finished while draining and how many stay queued", async () => {
    const p = project(JOBS);
    const pty = startPty(p.dir, ["dev", "--workers", "1"]);
    open.push(pty);
    await pty.waitFor((s) => s.includes("Jobs 1") && s.includes("gated"), "the job list");
    const triggered = await stau(p.dir, ["trigger", "gated", "--json"]);
    expect(triggered.code, show(triggered)).toBe(0);
    const runId = json(triggered).run.id;
    await pty.waitFor((s) => s.includes("waiting for release"), "the first chunk running");

    pty.press("q");
    await pty.waitFor((s) => s.includes("Quit stau?"), "the quit dialog");
    pty.press("y");
    await pty.waitFor((s) => /draining/i.test(s), "the console draining");
    writeFileSync(join(p.dir, "release"), "");
    expect(await pty.exited()).toBe(0);
    expect(pty.raw()).toContain("stau dev: stopped: 1 running chunk(s) finished while draining; 5 unfinished chunk(s) of 1 run(s) stay queued");

    // What it said is what the store holds.
    const runs = json(await stau(p.dir, ["runs", "--json"]));
    const run = runs.find((r: { id: string }) => r.id === runId);
    expect(run.chunks.done).toBe(1);
    expect(run.chunks.queued + run.chunks.running).toBe(5);
    expect(run.interrupted).toBe(true);
  });

  it("gives the terminal back and exits 130 when Ctrl+C comes while it is still starting", async () => {
    // A job file whose import waits for a file that never comes: stau stays on its "starting" line.
    const p = project({ "jobs/slow.ts": `import { defineJob } from "stau";
import { existsSync } from "node:fs";
while (!existsSync("never")) await new Promise((resolve) => setTimeout(resolve, 20));
export default defineJob({ run() {} });
` });
    const pty = startPty(p.dir, ["dev", "--workers", "1"]);
    open.push(pty);
    await pty.waitFor((s) => s.includes("starting: reading jobs"), "the starting line");
    pty.press("\x03");
    expect(await pty.exited()).toBe(130);
    expect(pty.bufferType()).toBe("normal");
    expect(pty.raw()).toContain("SIGINT while starting: stopped before anything ran");
  });
});
