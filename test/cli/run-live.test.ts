import { spawn } from "node-pty";
import { describe, expect, it } from "vitest";
import { projectFactory, show, WORKERS } from "../helpers/cli.js";
import { stau, STAU_BIN } from "../helpers/project.js";
import { KEYS, startPty, ptysKilledAfterEach } from "../helpers/pty.js";

// `stau run` on a terminal (a real pseudo-terminal read through @xterm/headless): live
// progress on stderr; and without one, the event lines as before. The job's chunks wait
// for gate files the test writes, so the test, not a sleep, decides when they end.

const project = projectFactory();
const open = ptysKilledAfterEach();

const JOBS = {
  "jobs/prepare.ts": `import { defineJob } from "stau";
export default defineJob({ async run({ log }) { log("prepare: inputs ready"); } });
`,
  // Four chunks of one ID; each logs, reports progress, and waits for gate-<id> or gate-all.
  "jobs/steps.ts": `import { existsSync } from "node:fs";
import { defineJob } from "stau";
export default defineJob({
  chunkSize: 1,
  dependencies: [{ job: "prepare", maxLag: "1h" }],
  selectWork: () => [1, 2, 3, 4],
  async run({ workIds, log, progress, signal }) {
    const id = workIds[0];
    log(\`step \${id} begins\`);
    progress(1, 3);
    while (!existsSync(\`gate-\${id}\`) && !existsSync("gate-all")) {
      signal.throwIfAborted();
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
    progress(3, 3);
    log(\`step \${id} ends\`);
  },
});
`,
  "jobs/breaks.ts": `import { defineJob, NonRetryableError } from "stau";
export default defineJob({ async run() { console.warn("breaks: about to fail"); throw new NonRetryableError("breaks on purpose"); } });
`,
};

function run(dir: string, args: string[], size = { cols: 100, rows: 30 }, env: Record<string, string> = {}): PtyStau {
  const pty = startPty(dir, ["run", ...args, ...WORKERS], size, env);
  open.push(pty);
  return pty;
}

/** A running chunk's line in the block: `steps.<n>`, its elapsed time, its progress() bar at `count`. */
const CHUNK_AT = (n: number, count: string) => new RegExp(`^ +steps\\.${n} +\\d+s +█+░* ${count}`, "m");

/** What stau wrote, as lines of text: escape sequences (colour, cursor movement) removed. */
const rawLines = (pty: PtyStau) =>
  pty
    .raw()
    .replace(/\x1b\[[0-9;?]*[ -/]*[@-~]/g, "")
    .split(/\r?\n/)
    .map((line) => line.replace(/\r/g, ""));

describe("stau run on a terminal", () => {
  it("shows each job's bar and count, the running chunks' progress and the job's log lines, then the summary", async () => {
    const p = project(JOBS);
    const pty = run(p.dir, ["steps"]);
    const running = await pty.waitFor(
      (s) => /✓ prepare +█+ 1\/1/.test(s) && /steps +░+ 0\/4 +ETA …/.test(s) && CHUNK_AT(0, "1/3").test(s) && CHUNK_AT(1, "1/3").test(s),
      "prepare done, steps at 0/4 with two chunks at 1/3",
    );
    // The job's log lines as the console's logs pane shows them: time, [chunk#attempt], text.
    expect(running).toMatch(/^\d\d:\d\d:\d\d \[prepare\.0#1\] prepare: inputs ready$/m);
    expect(running).toMatch(/^\d\d:\d\d:\d\d \[steps\.0#1\] step 1 begins$/m);
    expect(running).toMatch(/steps +run r\w+ · 2 running · \d+s/);

    // Once a chunk of the job finished, its ETA is an estimate instead of "…".
    p.write("gate-1", "");
    await pty.waitFor((s) => /steps +█+░+ 1\/4 +ETA ~\d+s/.test(s) && s.includes("[steps.0#1] step 1 ends"), "steps at 1/4 with an ETA");

    p.write("gate-all", "");
    expect(await pty.exited()).toBe(0);
    const end = await pty.waitFor((s) => /✓ run r\w+ of steps done in .*: 5 done/.test(s), "the summary");
    // The live block is gone but for the jobs' final lines, right above the summary.
    const rows = end.split("\n").filter((row) => row.trim() !== "");
    expect(rows.slice(-3)).toEqual([expect.stringMatching(/^✓ prepare +█+ 1\/1 +\S+$/), expect.stringMatching(/^✓ steps +█+ 4\/4 +\S+$/), expect.stringMatching(/^✓ run r\w+ of steps done/)]);
    expect(end).not.toMatch(/ETA|running ·|^ +steps\.\d/m);
    for (const id of [1, 2, 3, 4]) expect(end).toContain(`step ${id} ends`);
    // Never wider than the terminal: no line stau wrote reaches the last column.
    for (const line of rawLines(pty)) expect(Array.from(line).length, line).toBeLessThan(100);
  });

  it("redraws the block in place at the new width when the terminal is resized", async () => {
    const p = project(JOBS);
    const pty = run(p.dir, ["steps"]);
    await pty.waitFor((s) => CHUNK_AT(1, "1/3").test(s), "two chunks running");
    pty.resize(50, 30);
    const narrow = await pty.waitFor((s) => /steps +░{20} 0\/4  ETA …$/m.test(s) && s.split("\n").every((row) => row.length <= 50), "the block at 50 columns");
    // One block on the screen, not a copy per size.
    expect(narrow.split("\n").filter((row) => /^. steps +█*░+ 0\/4/.test(row))).toHaveLength(1);
    // Narrower than the lines drawn: the terminal rewraps them over more rows, all of which
    // the next frame must move up over, or pieces of the old block stay behind.
    pty.resize(30, 30);
    const tiny = await pty.waitFor((s) => /^. steps +0\/4  ETA …$/m.test(s), "the block at 30 columns, without bars");
    const block = tiny.split("\n").slice(tiny.split("\n").findIndex((row) => /^. steps {2}run r\w+/.test(row)));
    expect(block.filter((row) => row !== "")).toEqual([
      expect.stringMatching(/^. steps {2}run r\w+ ·…$/),
      expect.stringMatching(/^✓ prepare 1\/1 {2}\d+m?s$/),
      expect.stringMatching(/^. steps {3}0\/4 {2}ETA …$/),
      expect.stringMatching(/^ {4}steps\.0 {2}\ds █+░+ 1…$/),
      expect.stringMatching(/^ {4}steps\.1 {2}\ds █+░+ 1…$/),
    ]);
    expect(tiny.match(/ETA/g)).toHaveLength(1);
    p.write("gate-all", "");
    expect(await pty.exited()).toBe(0);
  });

  it("shows a failure as a red line above the block as it happens, and honours NO_COLOR", async () => {
    const p = project(JOBS);
    const pty = run(p.dir, ["breaks"], undefined, { NO_COLOR: "1" });
    expect(await pty.exited()).toBe(1);
    const end = await pty.waitFor((s) => /✗ run r\w+ of breaks failed/.test(s), "the summary");
    expect(end).toContain("[breaks.0#1] breaks: about to fail");
    expect(end).toContain("✗ breaks.0 failed (attempt 1, error): breaks on purpose");
    expect(end).toMatch(/✗ breaks +░+ 0\/1 +\S+ · 1 failed/);
    // No colour: the only escape sequences are cursor movement, erasing and synchronized output.
    expect(pty.raw().replace(/\x1b\[(\d*A|J|\?2026[hl])/g, "")).not.toContain("\x1b");
  });

  it("hides the job's log lines with --quiet, but not its failures", async () => {
    const p = project(JOBS);
    const pty = run(p.dir, ["breaks", "--quiet"]);
    expect(await pty.exited()).toBe(1);
    const end = await pty.waitFor((s) => /✗ run r\w+ of breaks failed/.test(s), "the summary");
    expect(end).toContain("✗ breaks.0 failed (attempt 1, error): breaks on purpose");
    expect(pty.raw()).not.toContain("about to fail");
  });
});

describe("Ctrl+C in stau run on a terminal", () => {
  it("lets the running chunks finish, cancels the rest and exits 130", async () => {
    const p = project(JOBS);
    const pty = run(p.dir, ["steps"]);
    await pty.waitFor((s) => CHUNK_AT(0, "1/3").test(s) && CHUNK_AT(1, "1/3").test(s), "two chunks running");
    pty.press(KEYS.ctrlC);
    await pty.waitFor((s) => /stopping: running chunks get 30s to finish, then run r\w+ is cancelled \(Ctrl\+C again to force\)/.test(s.replace(/\n/g, "")), "the notice");
    // Stopping claims nothing more: once the two running chunks end, the run is cancelled.
    p.write("gate-all", "");
    expect(await pty.exited()).toBe(130);
    const end = await pty.waitFor((s) => /run r\w+ of steps cancelled/.test(s), "the summary");
    expect(end).toMatch(/^✗ steps +█+░+ 2\/4 +\S+ · 2 not run$/m);
    expect(end).toMatch(/^✗ run r\w+ of steps cancelled in .*: (3 done, 2 cancelled|2 cancelled, 3 done)$/m);
    expect(pty.raw()).not.toMatch(/step [34] begins/);
  });

  it("stops at once on a second Ctrl+C, exit 130", async () => {
    const p = project(JOBS);
    const pty = run(p.dir, ["steps"]);
    await pty.waitFor((s) => CHUNK_AT(1, "1/3").test(s), "two chunks running");
    pty.press(KEYS.ctrlC);
    await pty.waitFor((s) => s.includes("stopping: running chunks get 30s"), "the notice");
    pty.press(KEYS.ctrlC);
    // The gates stay closed: only the forced stop can end it.
    expect(await pty.exited()).toBe(130);
    const end = await pty.waitFor((s) => /^· steps +░+ 0\/4$/m.test(s), "the last frame, kept");
    expect(end).not.toMatch(/ETA|running ·/);
  });
});

describe("stau run without a terminal", () => {
  it("prints the event lines when only stdout is piped (stau run x | cat), with stderr on a terminal", async () => {
    const p = project({ ...JOBS, "gate-all": "" });
    const { CI: _ci, ...env } = process.env;
    const shell = spawn("/bin/sh", ["-c", `"${process.execPath}" "${STAU_BIN}" run steps ${WORKERS.join(" ")} | cat`], { cwd: p.dir, cols: 100, rows: 30, env: env as Record<string, string> });
    let raw = "";
    shell.onData((data) => (raw += data));
    const code = await new Promise<number>((resolve) => shell.onExit(({ exitCode }) => resolve(exitCode)));
    expect(code, raw).toBe(0);
    expect(raw).toMatch(/^\d\d:\d\d:\d\d\.\d{3} {7}run r\w+ of steps started: 5 chunk\(s\)\r?$/m);
    expect(raw).toMatch(/^✓ run r\w+ of steps done in .*: 5 done\r?$/m);
    // No live block: no cursor movement, no bars, no job output.
    expect(raw).not.toMatch(/\x1b\[\d*A|█|ETA|step 1 begins/);
  });

  it("prints the event lines on stderr as before: no bars, no escape codes, no job output", async () => {
    const p = project({ ...JOBS, "gate-all": "" });
    const result = await stau(p.dir, ["run", "steps", ...WORKERS]);
    expect(result.code, show(result)).toBe(0);
    const lines = result.stderr.trimEnd().split("\n");
    for (const line of lines) expect(line).toMatch(/^\d\d:\d\d:\d\d\.\d{3} (     |WARN |ERROR) \S/);
    const text = lines.map((line) => line.slice(19)).join("\n");
    expect(text).toMatch(/^stau started \(pid \d+, 2 workers, data .+\)$/m);
    expect(text).toMatch(/^run (r\w+) of steps queued \(cli\)$/m);
    expect(text).toMatch(/^run r\w+ of steps started: 5 chunk\(s\)$/m);
    expect(text).toMatch(/^chunk r\w+\.steps\.0 \[1\] started \(attempt 1\)$/m);
    expect(text).toMatch(/^chunk r\w+\.steps\.3 \[4\] done in \d+(ms|\.?\d*s)$/m);
    expect(result.stderr).not.toMatch(/\x1b|█|ETA|step 1 begins/);
    expect(result.stdout).toMatch(/^✓ run r\w+ of steps done in .*: 5 done\n$/);
  });

  it("prints nothing on stderr with --json", async () => {
    const p = project({ ...JOBS, "gate-all": "" });
    const result = await stau(p.dir, ["run", "steps", "--json", ...WORKERS]);
    expect(result.code, show(result)).toBe(0);
    expect(result.stderr).toBe("");
    expect(JSON.parse(result.stdout).run.status).toBe("done");
  });
});
