import { describe, expect, it } from "vitest";
import { projectFactory } from "../helpers/cli.js";
import { KEYS, startPty, ptysKilledAfterEach } from "../helpers/pty.js";

// `stau dev` in a real pseudo-terminal: the `T` form's kwargs and work IDs reach the
// job, the plan learns from the run that just ended, and Ctrl+C exits as an interrupt.

const project = projectFactory();
const open = ptysKilledAfterEach();

const JOBS = {
  "jobs/echo.ts": `import { defineJob } from "stau";
export default defineJob({ chunkSize: 10, selectWork: () => [1, 2, 3], async run({ workIds, kwargs, log }) { log(\`got \${JSON.stringify(workIds)} \${JSON.stringify(kwargs)}\`); } });
`,
};

function dev(dir: string) {
  const pty = startPty(dir, ["dev", "--workers", "1"]);
  open.push(pty);
  return pty;
}

describe("stau dev's keys", () => {
  it("T triggers with the kwargs and work IDs typed, and the next plan has an ETA from that run", async () => {
    const pty = dev(project(JOBS).dir);
    await pty.waitFor((s) => s.includes("Jobs 1") && s.includes("echo"), "the job list");
    pty.press("T");
    await pty.waitFor((s) => s.includes("Trigger echo with…"), "the trigger form");
    pty.press(`{"days": 3}${KEYS.tab}7,8`);
    pty.press(KEYS.enter);
    await pty.waitFor((s) => s.includes("echo: 2 work ID(s) · 1 chunk(s)") && s.includes("no ETA: no history for echo") && s.includes("Enter triggers"), "the plan of what was typed");
    pty.press(KEYS.enter);
    await pty.waitFor((s) => s.includes('got [7,8] {"days":3}'), "the job's log line with the typed work IDs and kwargs");
    pty.press("t");
    const plan = await pty.waitFor((s) => s.includes("echo: 3 work ID(s)") && s.includes("Enter triggers"), "the plan of a plain t");
    expect(plan).toMatch(/ETA (under 1s|~\d+s or more), from past chunk durations/);
    pty.press(KEYS.escape);
    // Esc and q in one read would be Alt+q: q goes once the dialog has closed.
    await pty.waitFor((s) => !s.includes("Enter triggers") && s.includes("Jobs 1"), "the plan closed");
    pty.press("q");
    expect(await pty.exited()).toBe(0);
  });

  it("Ctrl+C with nothing running exits 130, as an interrupt does in every command, and gives the terminal back", async () => {
    // In raw mode Ctrl+C is a key, not SIGINT: the console must still report it as one.
    const pty = dev(project(JOBS).dir);
    await pty.waitFor((s) => s.includes("Jobs 1") && s.includes("echo"), "the job list");
    pty.press(KEYS.ctrlC);
    expect(await pty.exited()).toBe(130);
    expect(pty.bufferType()).toBe("normal");
  });
});
