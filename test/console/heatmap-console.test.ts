import { describe, expect, it } from "vitest";
import { projectFactory, show } from "../helpers/cli.js";
import { stau } from "../helpers/project.js";
import { KEYS, startPty, ptysKilledAfterEach } from "../helpers/pty.js";

// `h` in the real console: the latest run of a job as a grid of its 40 work IDs, the
// failed one under the cursor, and Enter on it shows that chunk's log.

const project = projectFactory();
const open = ptysKilledAfterEach();

const JOBS = {
  "jobs/scores.ts": `import { defineJob, NonRetryableError } from "stau";
export default defineJob({
  chunkSize: 4,
  async selectWork() { return Array.from({ length: 40 }, (_, i) => i + 1); },
  async run({ workIds, log }) {
    log("scoring " + workIds.join(","));
    if (workIds.includes(18)) throw new NonRetryableError("boom at 18");
  },
});
`,
};

describe("the heatmap in stau dev", () => {
  it("shows the 40 IDs of the latest run with the first failed one (of the chunk 17–20) under the cursor, and its chunk's log on Enter", async () => {
    const p = project(JOBS);
    const ran = await stau(p.dir, ["run", "scores", "--workers", "2"]);
    expect(ran.code, show(ran)).toBe(1);

    const pty = startPty(p.dir, ["dev", "--workers", "1"]);
    open.push(pty);
    await pty.waitFor((s) => s.includes("Jobs 1") && s.includes("scores"), "the job list");
    pty.press("h");
    const heat = await pty.waitFor((s) => s.includes("Heatmap of scores") && s.includes("ID 17 · chunk scores.4 · failed"), "the heatmap on the first failed ID");
    expect(heat).toMatch(/run \w+ · failed · 40 IDs · 4 failed/);
    // One character per ID: the grid row holds all 40.
    expect(heat.split("\n").some((line) => /^[█▒×▓·]{40}\s*$/.test(line))).toBe(true);

    pty.press(KEYS.enter);
    await pty.waitFor((s) => s.includes("log of scores.4") && s.includes("boom at 18") && s.includes("scoring 17,18,19,20"), "the failed chunk's log");
    pty.press(KEYS.escape);
    await pty.waitFor((s) => s.includes("Heatmap of scores"), "back to the heatmap");
    pty.press("l");
    await pty.waitFor((s) => s.includes("ID 18 · chunk scores.4"), "the cursor one ID on");
    pty.press(KEYS.escape);
    await pty.waitFor((s) => s.includes("▸ Jobs 1"), "the panes again");
    pty.press("q");
    expect(await pty.exited()).toBe(0);
  });
});
