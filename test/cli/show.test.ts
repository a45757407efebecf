import { execFileSync } from "node:child_process";
import { describe, expect, it } from "vitest";
import { projectFactory, show, WORKERS } from "../helpers/cli.js";
import { instancesKilledAfterEach, startInstance } from "../helpers/instance.js";
import { schemasDroppedAfterAll, describePg, TEST_DATABASE_URL, testSchema } from "../helpers/pg.js";
import { json, startStau, stau, type TempProject } from "../helpers/project.js";

// `stau show`: everything about one run (kwargs, work IDs, commit and whether jobs/ had
// uncommitted changes, each chunk's attempts, worker, duration and error); `stau rerun`
// warning of changed code; `stau logs` ending failed attempts with their error, and
// `-f` ending with the run.

const project = projectFactory();
const instances = instancesKilledAfterEach();
const schemas = schemasDroppedAfterAll();

// Fails for work ID 3 on every attempt, with one retry.
const PARTLY_FAILS = `import { defineJob } from "stau";
export default defineJob({
  chunkSize: 2,
  retries: 1,
  retryDelay: 10,
  selectWork: () => [1, 2, 3],
  run({ workIds, kwargs }) {
    console.log(\`units \${workIds.join(",")} for \${kwargs.day}\`);
    if (workIds.includes(3)) throw new Error(\`unit 3 has no data for \${kwargs.day}\`);
  },
});
`;

function git(p: TempProject, ...args: string[]): string {
  return execFileSync("git", ["-c", "user.email=t@example.com", "-c", "user.name=t", ...args], { cwd: p.dir, encoding: "utf8" }).trim();
}

/** A project in a git checkout with everything committed but data/ and node_modules/. */
function committed(files: Record<string, string>): { p: TempProject; commit: string } {
  const p = project({ ".gitignore": "data/\nnode_modules\n", ...files });
  git(p, "init", "-q");
  git(p, "add", ".");
  git(p, "commit", "-qm", "jobs");
  return { p, commit: git(p, "rev-parse", "HEAD") };
}

describe("stau show", () => {
  it("shows a failed run: kwargs, work IDs, commit, dirty jobs/, each chunk's attempts, worker, duration and error with stack", async () => {
    const { p, commit } = committed({ "jobs/partly_fails.ts": PARTLY_FAILS });
    p.write("jobs/partly_fails.ts", PARTLY_FAILS + "// edited, not committed\n");
    const run = await stau(p.dir, ["run", "partly_fails", "--kwargs", '{"day":"2026-11-01"}', "--json", ...WORKERS]);
    expect(run.code, show(run)).toBe(1);
    const runId = json(run).run.id;

    const result = await stau(p.dir, ["show", runId, "--json"]);
    expect(result.code, show(result)).toBe(0);
    const shown = json(result);
    expect(shown.run).toMatchObject({ id: runId, job: "partly_fails", status: "failed", trigger: "cli", kwargs: { day: "2026-11-01" }, workIds: [1, 2, 3], gitCommit: commit, gitDirty: true });
    expect(Date.parse(shown.run.createdAt)).toBeLessThanOrEqual(Date.parse(shown.run.finishedAt));
    expect(shown.run.rerun).toBe(`stau rerun ${runId}`);
    const [ok, failed] = shown.chunks;
    expect(ok).toMatchObject({ workIds: [1, 2], status: "done", attempts: 1, error: null });
    expect(failed).toMatchObject({ workIds: [3], status: "failed", attempts: 2, error: { kind: "error", message: "unit 3 has no data for 2026-11-01" } });
    expect(failed.error.stack).toMatch(/^\s+at .*partly_fails\.ts/m);
    for (const chunk of shown.chunks) {
      expect(chunk.durationMs, JSON.stringify(chunk)).toBeGreaterThanOrEqual(0);
      expect(chunk.instance).toMatch(/-\d+-/);
      expect([1, 2]).toContain(chunk.worker);
    }
    expect(failed.rerun).toBe(`stau run partly_fails --kwargs '{"day":"2026-11-01"}' --work 3`);

    // The command it names reruns that chunk's work, and fails the same way.
    const again = await stau(p.dir, ["run", "partly_fails", "--kwargs", '{"day":"2026-11-01"}', "--work", "3", "--json", ...WORKERS]);
    expect(json(again).chunks.map((c: any) => c.workIds)).toEqual([[3]]);

    // For people: the same facts, the error's frames, and how to rerun.
    const text = await stau(p.dir, ["show", runId]);
    expect(text.code, show(text)).toBe(0);
    expect(text.stdout).toContain(`${commit} + uncommitted changes in jobs/`);
    expect(text.stdout).toContain("error: unit 3 has no data for 2026-11-01");
    expect(text.stdout).toMatch(/^\s+at .*partly_fails\.ts/m);
    // Only the job's frames: not those of stau's worker and thread pool that called it.
    expect(text.stdout).not.toMatch(/dist[\\/]exec[\\/]worker\.js|tinypool/);
    expect(text.stdout).toContain(`rerun: stau run partly_fails --kwargs '{"day":"2026-11-01"}' --work 3`);
    expect(text.stdout).toContain("2 chunk(s): 1 done, 1 failed:");
    // Two chunks fit a screen: their failure is not named again.
    expect(text.stdout).not.toContain("failed chunk(s) of");
  });

  it("a big run's output ends with its failed chunks named again, where the terminal leaves the reader", async () => {
    const p = project({
      "jobs/many.ts": `import { defineJob } from "stau";
export default defineJob({
  chunkSize: 1,
  selectWork: () => Array.from({ length: 30 }, (_, i) => i),
  run({ workIds }) {
    if (workIds[0] === 7 || workIds[0] === 23) throw new Error(\`sensor \${workIds[0]} has no calibration\\nsecond line\`);
  },
});
`,
    });
    const run = await stau(p.dir, ["run", "many", "--json", ...WORKERS]);
    expect(run.code, show(run)).toBe(1);
    const runId = json(run).run.id;
    const text = await stau(p.dir, ["show", runId]);
    expect(text.code, show(text)).toBe(0);
    expect(text.stdout).toContain("30 chunk(s): 28 done, 2 failed:");
    const tail = text.stdout.trimEnd().split("\n").slice(-3);
    expect(tail).toEqual([
      "2 failed chunk(s) of 30, each above with its stack:",
      `  ${runId}.many.7  [7]  error: sensor 7 has no calibration`,
      `  ${runId}.many.23  [23]  error: sensor 23 has no calibration`,
    ]);
  });

  it("shows a retried chunk that then succeeded, a clean checkout, and a job name as its newest run", async () => {
    const { p, commit } = committed({});
    p.useFixtures("flaky");
    git(p, "add", ".");
    git(p, "commit", "-qm", "flaky");
    const run = await stau(p.dir, ["run", "flaky", "--json", ...WORKERS]);
    expect(run.code, show(run)).toBe(0);
    const shown = json(await stau(p.dir, ["show", "flaky", "--json"]));
    expect(shown.run).toMatchObject({ id: json(run).run.id, status: "done", gitCommit: git(p, "rev-parse", "HEAD"), gitDirty: false, workIds: null });
    expect(shown.run.gitCommit).not.toBe(commit);
    expect(shown.chunks).toEqual([expect.objectContaining({ status: "done", attempts: 2, error: null, rerun: "stau run flaky" })]);
  });

  it("outside a checkout records no commit; an unknown run is a usage error", async () => {
    const p = project();
    p.useFixtures("succeeds");
    const run = await stau(p.dir, ["run", "succeeds", "--json", ...WORKERS]);
    const shown = json(await stau(p.dir, ["show", json(run).run.id, "--json"]));
    expect(shown.run).toMatchObject({ gitCommit: null, gitDirty: null });
    const missing = await stau(p.dir, ["show", "r-nope"]);
    expect(missing.code, show(missing)).toBe(2);
    expect(missing.stderr).toContain('no run or job with runs "r-nope"');
  });

  it("shows a rerun with its origin; stau rerun warns when the code differs from the original run's", async () => {
    const { p, commit } = committed({ "jobs/partly_fails.ts": PARTLY_FAILS });
    const instance = startInstance(p.dir);
    instances.push(instance);
    await instance.waitFor((e) => e.event === "instance:started", "the instance to start");
    const trigger = await stau(p.dir, ["trigger", "partly_fails", "--kwargs", '{"day":"d1"}', "--json"]);
    const first = json(trigger).run.id;
    await instance.waitFor((e) => e.event === "run:finished" && e.run === first, "the first run to end");

    // The same commit, nothing changed: no warning.
    const same = await stau(p.dir, ["rerun", first]);
    expect(same.code, show(same)).toBe(0);
    expect(same.stderr).toBe("");

    p.write("jobs/partly_fails.ts", PARTLY_FAILS.replace("[1, 2, 3]", "[1, 2]"));
    const changed = await stau(p.dir, ["rerun", first, "--json"]);
    expect(changed.code, show(changed)).toBe(0);
    const { run, warning } = json(changed);
    expect(warning).toContain("jobs/ has uncommitted changes now");
    const text = await stau(p.dir, ["rerun", first]);
    expect(text.stderr).toMatch(/^warning: the code differs from the original run's: .*uncommitted changes/m);

    await instance.waitFor((e) => e.event === "run:finished" && e.run === run.id, "the rerun to end");
    const shown = json(await stau(p.dir, ["show", run.id, "--json"]));
    expect(shown.run).toMatchObject({ trigger: "rerun", origin: first, kwargs: { day: "d1" }, gitCommit: commit, gitDirty: true });
  });
});

describe("stau logs", () => {
  it("ends each failed attempt's log with its error and stack", async () => {
    const p = project();
    p.useFixtures("throws");
    await stau(p.dir, ["run", "throws", ...WORKERS]);
    const logs = await stau(p.dir, ["logs", "throws"]);
    expect(logs.code, show(logs)).toBe(0);
    for (const attempt of [1, 2, 3]) {
      const lines = logs.stdout.split("\n").filter((l) => l.includes(`#${attempt}]`));
      const failed = lines.findIndex((l) => l.includes(`[stau] attempt ${attempt} failed (error): boom from throws`));
      expect(failed, logs.stdout).toBeGreaterThan(0);
      // The error, then its stack, end the attempt's log.
      expect(lines[failed + 1], logs.stdout).toMatch(/ error at .*throws\.ts/);
      for (const line of lines.slice(failed + 1)) expect(line, logs.stdout).toMatch(/ error at /);
    }
  });

  it("-f ends when the run ends: exit 0 when it is done, 1 when it failed", async () => {
    const p = project({
      "jobs/waits.ts": `import { existsSync } from "node:fs";
import { defineJob } from "stau";
export default defineJob({
  async run({ log }) {
    log("waiting for the go file");
    while (!existsSync("go")) await new Promise((r) => setTimeout(r, 20));
    log("went");
  },
});
`,
    });
    p.useFixtures("throws");
    const instance = startInstance(p.dir);
    instances.push(instance);
    await instance.waitFor((e) => e.event === "instance:started", "the instance to start");
    await stau(p.dir, ["trigger", "waits"]);
    await instance.waitFor((e) => e.event === "chunk:started", "the chunk to start");
    const follow = startStau(p.dir, ["logs", "waits", "-f"]);
    let out = "";
    follow.stdout!.on("data", (d) => (out += d));
    const exited = new Promise<number | null>((resolve) => follow.on("exit", (code) => resolve(code)));
    await new Promise<void>((resolve) => {
      const look = () => (out.includes("waiting for the go file") ? resolve() : setTimeout(look, 20));
      look();
    });
    p.write("go", "");
    expect(await exited).toBe(0);
    expect(out).toContain("went");
    expect(out).toMatch(/run \S+ done/);

    await stau(p.dir, ["trigger", "throws"]);
    await instance.waitFor((e) => e.event === "run:finished" && e.job === "throws", "the throws run to end");
    const failed = await stau(p.dir, ["logs", "throws", "-f"]);
    expect(failed.code, show(failed)).toBe(1);
    expect(failed.stdout).toContain("[stau] attempt 3 failed (error): boom from throws");
  });
});

describePg("stau show on a shared store", () => {
  it("shows a run from any checkout: the copy and worker each chunk ran on, the error with its stack", async () => {
    const schema = testSchema("show");
    schemas.push(schema);
    const p = project({ "jobs/partly_fails.ts": PARTLY_FAILS });
    const env = { STAU_DATABASE_URL: TEST_DATABASE_URL!, STAU_DATABASE_SCHEMA: schema };
    const instance = startInstance(p.dir, [], env);
    instances.push(instance);
    await instance.waitFor((e) => e.event === "instance:orchestrating", "the copy to orchestrate");
    const runId = json(await stau(p.dir, ["trigger", "partly_fails", "--kwargs", '{"day":"d2"}', "--json"], { env })).run.id;
    await instance.waitFor((e) => e.event === "run:finished" && e.run === runId, "the run to end");
    const copy = (await instance.waitFor((e) => e.event === "instance:orchestrating", "the copy's id")).copy;
    const shown = json(await stau(p.dir, ["show", runId, "--json"], { env }));
    expect(shown.run).toMatchObject({ id: runId, status: "failed", kwargs: { day: "d2" }, workIds: [1, 2, 3], gitCommit: null, gitDirty: null });
    expect(shown.chunks.map((c: any) => [c.status, c.attempts, c.instance])).toEqual([
      ["done", 1, copy],
      ["failed", 2, copy],
    ]);
    expect(shown.chunks[1].error.stack).toMatch(/partly_fails\.ts/);
  });
});
