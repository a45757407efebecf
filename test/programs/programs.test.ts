import { readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { chunkOf, filesIn, projectFactory, show, WORKERS } from "../helpers/cli.js";
import { json, stau } from "../helpers/project.js";
import { alive, hangingShell, pidsIn } from "./helpers.js";

// Program jobs (README, "Jobs in any language") through the real CLI, with real python3
// and bash: the protocol's environment, the select-work phase, logs, exit codes, and
// that nothing a program started outlives its chunk.

const project = projectFactory();

/** A Python job that writes what it was given to out/<chunk>.json, and says things on both streams. */
const SCORE_PY = `# /// stau
# chunkSize = 2
# selectWork = true
# retries = 1
# ///
import json, os, sys

if os.environ["STAU_PHASE"] == "select-work":
    print("choosing work", file=sys.stderr)
    kwargs = json.loads(os.environ["STAU_KWARGS"])
    print(json.dumps(list(range(1, kwargs.get("n", 6) + 1))))
    sys.exit(0)

PROTOCOL = ["STAU_PHASE", "STAU_JOB", "STAU_WORK_IDS", "STAU_KWARGS", "STAU_RUN_ID", "STAU_CHUNK_ID", "STAU_ATTEMPT"]
env = {k: os.environ.get(k) for k in PROTOCOL}
os.makedirs("out", exist_ok=True)
with open(os.path.join("out", os.environ["STAU_CHUNK_ID"] + ".json"), "w") as f:
    json.dump({"env": env, "cwd": os.getcwd()}, f)
print("scoring", os.environ["STAU_WORK_IDS"])
print("::stau::progress 1 2")
print("a warning on stderr", file=sys.stderr)
print("::stau::progress 2 2")
`;

describe("program jobs", () => {
  it("runs an R job with Rscript: the select-work phase, its IDs, progress and log lines, and exit 100 not retried", async () => {
    const p = project({
      "jobs/trend.R": `# /// stau
# chunkSize = 2
# selectWork = true
# retries = 2
# ///
if (Sys.getenv("STAU_PHASE") == "select-work") {
  cat("[1, 2, 3]\\n")
  quit(status = 0)
}
ids <- Sys.getenv("STAU_WORK_IDS")
cat("trend over", ids, "\\n")
cat("::stau::progress 1 1\\n")
if (grepl("3", ids)) {
  message("no data for 3")
  quit(status = 100)
}
`,
    });
    const result = await stau(p.dir, ["run", "trend", "--json", ...WORKERS]);
    expect(result.code, show(result)).toBe(1);
    const out = json(result);
    expect(out.chunks.map((c: any) => [c.workIds, c.status, c.attempts])).toEqual([
      [[1, 2], "done", 1],
      [[3], "failed", 1],
    ]);
    expect(out.chunks[1].error.message).toContain("exited with code 100 (not retried)");
    expect(out.chunks[1].error.message).toContain("no data for 3");
    // R's stop() ends stderr with "Execution halted": the line before it is the cause.
    p.write("jobs/halts.R", `# /// stau\n# retries = 0\n# ///\nstop("no readings for unit 3")\n`);
    const halted = chunkOf(json(await stau(p.dir, ["run", "halts", "--json", ...WORKERS])), "halts");
    expect(halted.error.message.split("\n")[0]).toBe("exited with code 1: Error: no readings for unit 3");
    const logs = await stau(p.dir, ["logs", "trend"]);
    expect(logs.stdout).toContain("trend over [1,2]");
    expect(logs.stdout).not.toContain("::stau::progress");
  });

  it("runs the select-work phase, then one process per chunk with its IDs, kwargs and identity", async () => {
    const p = project({ "jobs/score.py": SCORE_PY });
    const result = await stau(p.dir, ["run", "score", "--kwargs", '{"n":6,"region":"north"}', "--json", ...WORKERS]);
    expect(result.code, show(result)).toBe(0);
    const out = json(result);
    expect(out.chunks.map((c: any) => c.workIds)).toEqual([[1, 2], [3, 4], [5, 6]]);
    for (const chunk of out.chunks) {
      const seen = JSON.parse(readFileSync(join(p.dir, "out", `${chunk.id}.json`), "utf8"));
      expect(seen.cwd).toBe(p.dir);
      expect(seen.env).toEqual({
        STAU_PHASE: "run",
        STAU_JOB: "score",
        STAU_WORK_IDS: JSON.stringify(chunk.workIds),
        STAU_KWARGS: JSON.stringify({ n: 6, region: "north" }),
        STAU_RUN_ID: out.run.id,
        STAU_CHUNK_ID: chunk.id,
        STAU_ATTEMPT: "1",
      });
    }
    // --work skips the select-work phase.
    const given = json(await stau(p.dir, ["run", "score", "--work", "7,8,9", "--json", ...WORKERS]));
    expect(given.chunks.map((c: any) => c.workIds)).toEqual([[7, 8], [9]]);
  });

  it("puts stdout and stderr in the chunk's log, never on the terminal, and keeps progress lines out", async () => {
    const p = project({ "jobs/score.py": SCORE_PY });
    const result = await stau(p.dir, ["run", "score", "--work", "1", ...WORKERS]);
    expect(result.code, show(result)).toBe(0);
    expect(result.stdout + result.stderr).not.toMatch(/scoring|a warning on stderr|::stau::/);
    const logs = await stau(p.dir, ["logs", "score"]);
    expect(logs.stdout).toMatch(/\[score\.0#1\] log\s+scoring \[1\]/);
    expect(logs.stdout).toMatch(/\[score\.0#1\] error\s+a warning on stderr/);
    expect(logs.stdout).not.toMatch(/::stau::progress/);
  });

  it("fails on a non-zero exit with the code and stderr's last lines, retried per config", async () => {
    const p = project({
      "jobs/exits.py": `# /// stau
# retries = 1
# retryDelay = 10
# ///
import sys
print("working")
print("Traceback (most recent call last):", file=sys.stderr)
print("ValueError: unit 7 has no readings", file=sys.stderr)
sys.exit(3)
`,
    });
    const result = await stau(p.dir, ["run", "exits", "--json", ...WORKERS]);
    expect(result.code, show(result)).toBe(1);
    const chunk = chunkOf(json(result), "exits");
    expect(chunk.attempts).toBe(2);
    expect(chunk.error.kind).toBe("error");
    // The first line, which the Failures pane and a run's summary show, names the cause too.
    expect(chunk.error.message.split("\n")[0]).toBe("exited with code 3: ValueError: unit 7 has no readings");
    expect(chunk.error.message).toContain("last lines of stderr:\nTraceback (most recent call last):\nValueError: unit 7 has no readings");
    const logs = await stau(p.dir, ["logs", "exits"]);
    expect(logs.stdout).toMatch(/working/);
    expect(logs.stdout).toMatch(/attempt 2 failed \(error\): exited with code 3: ValueError: unit 7 has no readings/);
    // Each attempt's stderr is in its log once: the failure line does not repeat it.
    expect(logs.stdout.match(/Traceback \(most recent call last\):/g)).toHaveLength(2);
    // stau show keeps the message's lines under their chunk.
    const shown = await stau(p.dir, ["show", json(result).run.id]);
    expect(shown.stdout).toContain("    error: exited with code 3: ValueError: unit 7 has no readings\n    last lines of stderr:\n    Traceback (most recent call last):\n");
  });

  it("does not retry exit 100, and names a signal that ended the program", async () => {
    const p = project({
      "jobs/gives_up.sh": `# /// stau\n# retries = 3\n# ///\necho "bad input" >&2\nexit 100\n`,
      "jobs/crashes.sh": `# /// stau\n# retries = 0\n# ///\nkill -SEGV $$\n`,
    });
    const gaveUp = chunkOf(json(await stau(p.dir, ["run", "gives_up", "--json", ...WORKERS])), "gives_up");
    expect(gaveUp.attempts).toBe(1);
    expect(gaveUp.error.message).toMatch(/^exited with code 100 \(not retried\): bad input\nlast lines of stderr:\nbad input/);
    const crashed = chunkOf(json(await stau(p.dir, ["run", "crashes", "--json", ...WORKERS])), "crashes");
    expect(crashed.error.message).toMatch(/^was ended by signal SIGSEGV/);
  });

  it("ends the whole process group past the timeout, a grandchild included", async () => {
    const p = project({ "jobs/hangs.sh": hangingShell(`timeout = "1s"`) });
    const result = await stau(p.dir, ["run", "hangs", "--json", ...WORKERS]);
    expect(result.code, show(result)).toBe(1);
    const chunk = chunkOf(json(result), "hangs");
    expect(chunk.error).toEqual({ kind: "timeout", message: expect.stringMatching(/^timed out after 1s/) });
    const pids = await pidsIn(p, "pids", 2);
    for (const pid of pids) expect(alive(pid), `pid ${pid}`).toBe(false);
  });

  it("kills a program that ignores SIGTERM after the grace", async () => {
    // It ignores SIGTERM from its first line: on a loaded machine a SIGTERM at the timeout
    // could otherwise come before bash has read the trap, and end it before it wrote its pids.
    const p = project({ "jobs/stubborn.sh": hangingShell(`timeout = "1s"`, { ignoreTerm: true }) });
    const began = Date.now();
    const result = await stau(p.dir, ["run", "stubborn", "--json", ...WORKERS]);
    expect(chunkOf(json(result), "stubborn").error.kind).toBe("timeout");
    // 1 s timeout, then SIGTERM is ignored, then SIGKILL after 2 s.
    expect(Date.now() - began).toBeGreaterThan(2_900);
    for (const pid of await pidsIn(p, "pids", 2)) expect(alive(pid), `pid ${pid}`).toBe(false);
  });

  it("ends what a program left running when it exits", async () => {
    const p = project({ "jobs/leaves.sh": `mkdir -p out\nsleep 300 &\necho $! > out/pids\necho done\n` });
    const result = await stau(p.dir, ["run", "leaves", "--json", ...WORKERS]);
    expect(chunkOf(json(result), "leaves").status).toBe("done");
    const [pid] = await pidsIn(p, "pids");
    expect(alive(pid!)).toBe(false);
  });

  it("runs dependencies both ways between programs and TypeScript jobs, with freshness", async () => {
    const p = project({
      "jobs/extract.ts": `import { defineJob } from "stau";\nimport { mkdirSync, appendFileSync } from "node:fs";
export default defineJob({ async run({ workIds }) { mkdirSync("out", { recursive: true }); appendFileSync("out/extract", JSON.stringify(workIds) + "\\n"); } });\n`,
      "jobs/score.py": `# /// stau
# chunkSize = 2
# [[dependencies]]
# job = "extract"
# maxLag = "1h"
# allowMissingWorkIds = true
# ///
import os
os.makedirs("out", exist_ok=True)
with open("out/score", "a") as f:
    f.write(os.environ["STAU_WORK_IDS"] + "\\n")
`,
      "jobs/report.ts": `import { defineJob } from "stau";
export default defineJob({ dependencies: [{ job: "score", maxLag: "1h" }], async selectWork() { return [1, 2, 3]; }, async run() {} });\n`,
    });
    const first = json(await stau(p.dir, ["run", "report", "--json", ...WORKERS]));
    expect(first.run.status).toBe("done");
    expect(first.chunks.filter((c: any) => c.job === "score").map((c: any) => c.workIds)).toEqual([[1, 2], [3]]);
    expect(readFileSync(join(p.dir, "out", "extract"), "utf8").trim().split("\n")).toHaveLength(1);
    // Run again within maxLag: the program and its dependency are fresh, not run again.
    const plan = json(await stau(p.dir, ["plan", "report", "--json"]));
    expect(plan.jobs.find((j: any) => j.job === "score").status).toBe("fresh");
    const second = json(await stau(p.dir, ["run", "report", "--json", ...WORKERS]));
    expect(second.chunks.map((c: any) => c.job)).toEqual(["report"]);
    expect(readFileSync(join(p.dir, "out", "score"), "utf8").trim().split("\n").sort()).toEqual(["[1,2]", "[3]"]);
  });

  it("runs a TypeScript job's command as a program, with its selectWork in a worker thread", async () => {
    const p = project({
      "jobs/dbt.ts": `import { defineJob } from "stau";
export default defineJob({
  chunkSize: 2,
  selectWork: (kwargs) => [1, 2, 3].map((n) => n * (kwargs.times ?? 1)),
  command: ["bash", "-c", "echo \\"models $STAU_WORK_IDS phase $STAU_PHASE\\"; echo '::stau::progress 1 1'"],
});\n`,
      "jobs/both.ts": `import { defineJob } from "stau";\nexport default defineJob({ command: ["true"], async run() {} } as any);\n`,
    });
    const out = json(await stau(p.dir, ["run", "dbt", "--kwargs", '{"times":10}', "--json", ...WORKERS]));
    expect(out.chunks.map((c: any) => [c.workIds, c.status])).toEqual([[[10, 20], "done"], [[30], "done"]]);
    const logs = (await stau(p.dir, ["logs", "dbt"])).stdout;
    expect(logs).toMatch(/log\s+models \[10,20\] phase run/);
    expect(logs).not.toContain("::stau::");
    const validated = json(await stau(p.dir, ["validate", "--json"]));
    expect(validated.jobs.find((j: any) => j.job === "both").error).toBe("jobs/both.ts:2: command: give either run or command, not both");
  });

  it("reports every problem of a config block with file, line and field", async () => {
    const p = project({
      "jobs/typo.py": `#!/usr/bin/env python3
# /// stau
# chunkSise = 2
# timeout = "soon"
# [[dependencies]]
# job = "other"
# maxLag = true
# ///
print("hi")
`,
      "jobs/not_toml.sh": `# /// stau\n# retries = [1,\n# ///\necho hi\n`,
      "jobs/unclosed.R": `# /// stau\n# retries = 1\ncat("hi")\n`,
      "jobs/other.sh": `echo fine\n`,
    });
    const result = await stau(p.dir, ["validate", "--json"]);
    expect(result.code, show(result)).toBe(1);
    const errors = Object.fromEntries(json(result).jobs.map((j: any) => [j.job, j.ok ? null : j.error]));
    expect(errors.other).toBeNull();
    expect(errors.typo.split("\n").sort()).toEqual([
      'jobs/typo.py:3: chunkSise: unknown field; did you mean "chunkSize"?',
      expect.stringMatching(/^jobs\/typo\.py:4: timeout: expected a duration .*received "soon"$/),
      expect.stringMatching(/^jobs\/typo\.py:7: dependencies\.0\.maxLag: expected a duration .*received true$/),
    ]);
    expect(errors.not_toml).toMatch(/^jobs\/not_toml\.sh:2: invalid TOML in the "# \/\/\/ stau" block: /);
    expect(errors.unclosed).toMatch(/^jobs\/unclosed\.R:1: the "# \/\/\/ stau" block is not closed/);
    // A broken program does not run: its run fails with the problem, as a broken TypeScript job's does.
    const run = await stau(p.dir, ["run", "typo", "--json", ...WORKERS]);
    expect(run.code, show(run)).toBe(1);
    expect(chunkOf(json(run), "typo").error).toEqual({ kind: "load", message: expect.stringMatching(/jobs\/typo\.py:3: chunkSise/) });
    expect(filesIn(join(p.dir, "out"))).toEqual([]);
  });
});
