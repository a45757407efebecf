import { spawn } from "node:child_process";
import { existsSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { projectFactory, readText, show, WORKERS } from "../helpers/cli.js";
import { collect, json, stau } from "../helpers/project.js";

// `stau repro <chunk>` (README "Re-running one chunk"): a script that re-runs one chunk of history.

const project = projectFactory();

/** Runs a generated script with plain node from `cwd`, as a user would. */
const node = (script: string, cwd: string) => collect(spawn(process.execPath, [script], { cwd, stdio: ["ignore", "pipe", "pipe"] }), 30_000);

describe("stau repro", () => {
  it("writes a script that re-runs a failed chunk and exits non-zero with its error", async () => {
    const p = project();
    p.useFixtures("throws");
    const run = json(await stau(p.dir, ["run", "throws", "--json", ...WORKERS]));
    const chunk = run.chunks[0];
    expect(chunk).toMatchObject({ status: "failed", attempts: 3 });

    const result = await stau(p.dir, ["repro", chunk.id]);
    expect(result.code, show(result)).toBe(0);
    const script = result.stdout.split("\n")[0];
    expect(script).toBe(join(p.dir, "data", "repro", `${chunk.id}.3.mjs`));
    expect(result.stdout).toContain(`debug it: node --inspect-brk ${script}`);

    // From anywhere: the script runs the job from the project root.
    const rerun = await node(script, "/");
    expect(rerun.code, show(rerun)).toBe(1);
    expect(rerun.stdout).toContain("throws: attempt 3 starting");
    expect(rerun.stderr).toContain("Error: boom from throws");
    // Through stau's loader, with source maps: the stack names the job file's line.
    expect(rerun.stderr).toMatch(/jobs\/throws\.ts:\d+/);

    const first = await stau(p.dir, ["repro", chunk.id, "--attempt", "1"]);
    expect(first.code, show(first)).toBe(0);
    expect((await node(first.stdout.split("\n")[0], p.dir)).stdout).toContain("throws: attempt 1 starting");
  });

  it("passes the recorded work IDs, kwargs, attempt, run and chunk ids to run(), and exits 0 when it succeeds", async () => {
    const p = project();
    p.useFixtures("echo_args");
    const run = json(await stau(p.dir, ["run", "echo_args", "--json", "--kwargs", '{"ids":[1,"b",3]}', ...WORKERS]));
    const chunk = run.chunks.find((c: any) => c.workIds.length === 2);
    const recorded = readText(p, `out/echo_args/${chunk.id}.json`);
    const result = await stau(p.dir, ["repro", chunk.id, "--out", "debug/again.mjs"]);
    expect(result.code, show(result)).toBe(0);
    const script = join(p.dir, "debug", "again.mjs");
    expect(result.stdout.split("\n")[0]).toBe(script);
    p.write(`out/echo_args/${chunk.id}.json`, "");
    const rerun = await node(script, p.dir);
    expect(rerun.code, show(rerun)).toBe(0);
    expect(JSON.parse(readText(p, `out/echo_args/${chunk.id}.json`))).toEqual(JSON.parse(recorded));
    expect(JSON.parse(recorded)).toEqual({ workIds: [1, "b"], kwargs: { ids: [1, "b", 3] }, chunkId: chunk.id, runId: run.run.id, attempt: 1 });
  });

  it("writes a bash script that re-runs a program chunk with the protocol's variables, from anywhere, exiting as it did", async () => {
    const p = project({
      "jobs/score.py": `# /// stau
# chunkSize = 2
# selectWork = true
# ///
import json, os, sys
if os.environ["STAU_PHASE"] == "select-work":
    print(json.dumps([1, 2, 3]))
    sys.exit(0)
print("scoring", os.environ["STAU_WORK_IDS"], os.environ["STAU_KWARGS"], os.environ["STAU_CHUNK_ID"], os.environ["STAU_ATTEMPT"], os.getcwd())
if 3 in json.loads(os.environ["STAU_WORK_IDS"]):
    print("no scores for 3", file=sys.stderr)
    sys.exit(100)
`,
    });
    const run = json(await stau(p.dir, ["run", "score", "--json", "--kwargs", '{"region":"north"}', ...WORKERS]));
    const failed = run.chunks.find((c: any) => c.status === "failed");
    expect(failed.workIds).toEqual([3]);
    const result = await stau(p.dir, ["repro", failed.id]);
    expect(result.code, show(result)).toBe(0);
    const script = result.stdout.split("\n")[0];
    expect(script).toBe(join(p.dir, "data", "repro", `${failed.id}.1.sh`));
    expect(result.stdout).toContain(`run it:   bash ${script}`);
    const rerun = await collect(spawn("bash", [script], { cwd: "/", stdio: ["ignore", "pipe", "pipe"] }), 30_000);
    expect(rerun.code, show(rerun)).toBe(100);
    expect(rerun.stdout.trim()).toBe(`scoring [3] {"region":"north"} ${failed.id} 1 ${p.dir}`);
    expect(rerun.stderr).toContain("no scores for 3");
  });

  it("says what is wrong with an unknown chunk or attempt, exit 2, writing nothing", async () => {
    const p = project();
    p.useFixtures("succeeds");
    const run = json(await stau(p.dir, ["run", "succeeds", "--json", ...WORKERS]));
    const unknown = await stau(p.dir, ["repro", "r0nope.succeeds.0"]);
    expect(unknown.code, show(unknown)).toBe(2);
    expect(unknown.stderr).toContain('no chunk "r0nope.succeeds.0"');
    const attempt = await stau(p.dir, ["repro", run.chunks[0].id, "--attempt", "2"]);
    expect(attempt.code, show(attempt)).toBe(2);
    expect(attempt.stderr).toContain("made 1 attempt");
    expect(existsSync(join(p.dir, "data", "repro"))).toBe(false);
  });
});
