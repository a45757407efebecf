import { describe, expect, it } from "vitest";
import { projectFactory } from "../helpers/cli.js";
import { KEYS, startPty, ptysKilledAfterEach, selectedLine } from "../helpers/pty.js";

// `stau dev` in a real pseudo-terminal, read through @xterm/headless: keys as a person
// types them, the screen as a person sees it, and the terminal as they get it back.

const project = projectFactory();
const open = ptysKilledAfterEach();

const JOBS = {
  "jobs/alpha.ts": `import { defineJob } from "stau";
export default defineJob({ async run({ log }) { log("alpha says hello"); } });
`,
  "jobs/beta.ts": `import { defineJob } from "stau";
export default defineJob({ async run() { throw new Error("beta broke on purpose"); } });
`,
  "jobs/gamma.ts": `import { defineJob } from "stau";
export default defineJob({ chunkSize: 1, selectWork: () => [1, 2], async run({ signal }) { await new Promise((r) => setTimeout(r, 3000)); } });
`,
};

function dev(dir: string, size?: { cols: number; rows: number }) {
  const pty = startPty(dir, ["dev", "--workers", "2"], size);
  open.push(pty);
  return pty;
}


describe("stau dev console", () => {
  it("moves, triggers with a plan, shows logs and failures, and quits restoring the terminal", async () => {
    const p = project(JOBS);
    const pty = dev(p.dir);
    await pty.waitFor((s) => s.includes("alpha") && s.includes("gamma") && s.includes("Jobs 3"), "the job list");
    expect(pty.bufferType()).toBe("alternate");
    expect(selectedLine(pty.screen())).toContain("alpha");

    pty.press("j");
    await pty.waitFor((s) => selectedLine(s).includes("beta"), "selection on beta");
    pty.press("k");
    await pty.waitFor((s) => selectedLine(s).includes("alpha"), "selection back on alpha");
    // Keys that arrive in one write each count: two rows down, then two back.
    pty.press("jj");
    await pty.waitFor((s) => selectedLine(s).includes("gamma"), "jj: selection on gamma");
    pty.press("kk");
    await pty.waitFor((s) => selectedLine(s).includes("alpha"), "kk: selection back on alpha");

    pty.press("t");
    await pty.waitFor((s) => s.includes("Trigger alpha?") && s.includes("Enter triggers"), "the plan dialog");
    pty.press(KEYS.enter);
    await pty.waitFor((s) => s.includes("alpha says hello"), "alpha's log line in Logs");
    await pty.waitFor((s) => /alpha\s+idle\s+ok/.test(s), "alpha ok in Jobs");

    pty.press("j");
    await pty.waitFor((s) => selectedLine(s).includes("beta"), "selection on beta");
    pty.press("t");
    await pty.waitFor((s) => s.includes("Trigger beta?") && s.includes("Enter triggers"), "beta's plan");
    pty.press(KEYS.enter);
    await pty.waitFor((s) => s.includes("beta broke on purpose") && /Failures 1/.test(s), "beta's failure");

    pty.press("?");
    await pty.waitFor((s) => s.includes("Keys") && s.includes("pause/resume the scheduler"), "the help overlay");
    pty.press(KEYS.escape);
    await pty.waitFor((s) => !s.includes("pause/resume the scheduler"), "help closed");

    pty.press("q");
    expect(await pty.exited()).toBe(0);
    expect(pty.bufferType()).toBe("normal");
    expect(pty.raw()).toMatch(/\x1b\[\?25h\x1b\[\?1049l[^]*$/);
  });

  it("shows a broken job file with file:line until it is fixed, and follows added and deleted files", async () => {
    const p = project(JOBS);
    const pty = dev(p.dir);
    await pty.waitFor((s) => s.includes("Jobs 3"), "the job list");
    p.write("jobs/alpha.ts", `import { defineJob } from "stau";\nexport default defineJob({\n  run() { const x = ; }\n});\n`);
    await pty.waitFor((s) => /alpha\s+broken/.test(s) && s.includes("jobs/alpha.ts:3"), "alpha broken with its line");
    p.write("jobs/alpha.ts", JOBS["jobs/alpha.ts"]);
    await pty.waitFor((s) => /alpha\s+idle/.test(s) && !s.includes("jobs/alpha.ts:3"), "alpha fixed");

    p.write("jobs/delta.ts", JOBS["jobs/alpha.ts"]);
    await pty.waitFor((s) => s.includes("Jobs 4") && s.includes("delta"), "the added job");
    const { rmSync } = await import("node:fs");
    rmSync(`${p.dir}/jobs/delta.ts`);
    await pty.waitFor((s) => s.includes("Jobs 3") && !s.includes("delta"), "the deleted job gone");
    pty.press("q");
    expect(await pty.exited()).toBe(0);
  });

  it("after a schedule entry fires, the Jobs pane says when it fires next, not \"due\"", async () => {
    const p = project({
      "jobs/alpha.ts": JOBS["jobs/alpha.ts"],
      "stau.schedule.ts": `import { defineSchedule } from "stau";
export default defineSchedule([{ id: "often", job: "alpha", every: "3s" }]);
`,
    });
    const pty = dev(p.dir);
    const alphaRow = (s: string) => s.split("\n").find((line) => /\balpha\s+(idle|queued|running)/.test(line)) ?? "";
    // Two fires seen in the Logs pane (the second surely after the console read stau's
    // state), and the next one is ahead again: the row counts down instead of saying "due".
    const fires = (s: string) => (s.match(/alpha says hello/g) ?? []).length;
    await pty.waitFor((s) => fires(s) >= 2 && /ok \d+s ago\s+in \ds/.test(alphaRow(s)), "alpha's next fire after two scheduled runs");
  });

  it("redraws to the new size and never draws past the last row", async () => {
    const p = project(JOBS);
    const pty = dev(p.dir, { cols: 120, rows: 36 });
    await pty.waitFor((s) => s.includes("Jobs 3"), "the job list");
    pty.resize(70, 16);
    const small = await pty.waitFor((s) => s.split("\n").length === 16 && s.includes("Jobs 3") && s.includes("stau"), "the small layout");
    expect(small.split("\n").every((line) => line.length <= 70)).toBe(true);
    expect(small.split("\n")[0]).toContain("stau");
    pty.resize(140, 40);
    await pty.waitFor((s) => s.includes("Jobs 3") && s.includes("Failures") && s.includes("Logs"), "the wide layout");
    pty.press("q");
    expect(await pty.exited()).toBe(0);
  });

  it("drains on the first Ctrl+C and forces on the second, giving the terminal back", async () => {
    const p = project(JOBS);
    const pty = dev(p.dir);
    await pty.waitFor((s) => s.includes("Jobs 3"), "the job list");
    pty.press("G");
    await pty.waitFor((s) => selectedLine(s).includes("gamma"), "gamma selected");
    pty.press("t");
    await pty.waitFor((s) => s.includes("Trigger gamma?") && s.includes("2 chunk(s)") && s.includes("Enter triggers"), "gamma's plan");
    pty.press(KEYS.enter);
    // Each running chunk shows the worker it occupies.
    await pty.waitFor((s) => /Running 2/.test(s) && /w1 +gamma/.test(s) && /w2 +gamma/.test(s), "gamma's chunks running on w1 and w2");
    pty.press(KEYS.ctrlC);
    await pty.waitFor((s) => s.includes("Ctrl+C forces") || s.includes("stopping"), "the drain notice");
    pty.press(KEYS.ctrlC);
    expect(await pty.exited()).toBe(130);
    expect(pty.bufferType()).toBe("normal");
  });
});
