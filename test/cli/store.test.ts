import { existsSync, mkdirSync, readFileSync, writeFileSync, appendFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { expectNoStackTrace, filesIn, projectFactory, show, until, WORKERS } from "../helpers/cli.js";
import { collect, json, stau, startStau } from "../helpers/project.js";

const project = projectFactory();

describe("store errors", () => {
  it("refuses a state.json that is not JSON, naming it and leaving it untouched", async () => {
    const p = project();
    p.useFixtures("succeeds");
    const garbage = Buffer.from('{"format": 1, "seq": 3, "runs": {oops not json\n\u0000\u00ff', "latin1");
    mkdirSync(join(p.dir, "data"));
    const file = join(p.dir, "data", "state.json");
    writeFileSync(file, garbage);

    const result = await stau(p.dir, ["run", "succeeds", "--json", ...WORKERS]);
    expect(result.code, show(result)).toBe(2);
    expect(result.stderr).toContain(file);
    expectNoStackTrace(result);
    expect(readFileSync(file).equals(garbage)).toBe(true);
    // Nothing ran, and nothing else was written next to it.
    expect(existsSync(join(p.dir, "data", "logs"))).toBe(false);
    expect(existsSync(join(p.dir, "data", "stau.lock"))).toBe(false);
  });

  it("refuses a state.json of the wrong shape ([1,2], null), naming it and never writing over it", async () => {
    for (const text of ["[1,2]\n", "null\n", '{"format":1,"seq":0,"runs":[],"chunks":{},"marks":{}}\n']) {
      const p = project();
      p.useFixtures("succeeds");
      mkdirSync(join(p.dir, "data"));
      const file = join(p.dir, "data", "state.json");
      writeFileSync(file, text);

      for (const args of [["run", "succeeds", "--json", ...WORKERS], ["runs", "--json"]]) {
        const result = await stau(p.dir, args);
        expect(result.code, show(result)).toBe(2);
        expect(result.stderr, text).toContain(file);
        expect(result.stderr).not.toContain("bug in stau");
        expectNoStackTrace(result);
        expect(readFileSync(file, "utf8")).toBe(text);
      }
      expect(existsSync(join(p.dir, "data", "logs"))).toBe(false);
    }
  });

  // Each journal line is checked for shape (journalLineProblem, src/store/file/shapes.ts).
  it("refuses a journal line of the wrong shape (null), naming file and line", async () => {
    const p = project();
    p.useFixtures("succeeds");
    mkdirSync(join(p.dir, "data"));
    const file = join(p.dir, "data", "journal.jsonl");
    const journal = ['{"s":1,"t":"mark","entry":"a","mark":{"lastTickAt":1}}', "null", ""].join("\n");
    writeFileSync(file, journal);

    for (const args of [["run", "succeeds", "--json", ...WORKERS], ["runs", "--json"]]) {
      const result = await stau(p.dir, args);
      expect(result.code, show(result)).toBe(2);
      expect(result.stderr).toContain(file);
      expect(result.stderr).toMatch(/line 2/);
      expect(result.stderr).not.toContain("bug in stau");
      expectNoStackTrace(result);
      expect(readFileSync(file, "utf8")).toBe(journal);
    }
  });

  // History reports its damaged lines; the store hands them to the CLI (Store.skipped()).
  it("warns once of a damaged line in the run history, with path and line, and lists the rest", async () => {
    const p = project();
    p.useFixtures("succeeds");
    const first = json(await stau(p.dir, ["run", "succeeds", "--json", ...WORKERS]));
    const history = join(p.dir, "data", "history", "runs.jsonl");
    appendFileSync(history, "null\n{ damaged\n");
    const second = json(await stau(p.dir, ["run", "succeeds", "--json", ...WORKERS]));

    for (const args of [["runs", "--json"], ["runs"], ["logs", "succeeds"]]) {
      const result = await stau(p.dir, args);
      expect(result.code, show(result)).toBe(0);
      for (const line of [2, 3]) {
        const warnings = result.stderr.split("\n").filter((w) => w.includes(`${history} line ${line} `));
        expect(warnings, `${args.join(" ")}: line ${line}\n${show(result)}`).toHaveLength(1);
      }
    }
    const runs = json<any[]>(await stau(p.dir, ["runs", "--json"]));
    expect(runs.map((r) => r.id)).toEqual([second.run.id, first.run.id]);
    // One run by its id is read where the history's index says: the damaged lines are not on the way.
    const logs = await stau(p.dir, ["logs", "succeeds", "--run", first.run.id]);
    expect(logs.code, show(logs)).toBe(0);
    expect(logs.stdout).toContain("hello from ctx.log");
  });

  it("refuses a journal with a damaged line in the middle, naming it and leaving it untouched", async () => {
    const p = project();
    p.useFixtures("succeeds");
    mkdirSync(join(p.dir, "data"));
    const file = join(p.dir, "data", "journal.jsonl");
    const journal = ['{"s":1,"t":"mark","entry":"a","at":1}', '{"s":2,"t":"mark", this is damaged', '{"s":3,"t":"mark","entry":"b","at":2}', ""].join("\n");
    writeFileSync(file, journal);

    const result = await stau(p.dir, ["run", "succeeds", "--json", ...WORKERS]);
    expect(result.code, show(result)).toBe(2);
    expect(result.stderr).toContain(file);
    expect(result.stderr).toMatch(/line 2/);
    expectNoStackTrace(result);
    expect(readFileSync(file, "utf8")).toBe(journal);

    // Read-only commands report it the same way.
    const runs = await stau(p.dir, ["runs", "--json"]);
    expect(runs.code, show(runs)).toBe(2);
    expect(runs.stderr).toContain(file);
    expect(readFileSync(file, "utf8")).toBe(journal);
  });

  it("drops a torn last journal line (a write cut short by a crash) and runs", async () => {
    const p = project();
    p.useFixtures("succeeds");
    mkdirSync(join(p.dir, "data"));
    writeFileSync(join(p.dir, "data", "journal.jsonl"), '{"s":1,"t":"mark","entry":"a","at":1}\n{"s":2,"t":"ma');
    const result = await stau(p.dir, ["run", "succeeds", "--json", ...WORKERS]);
    expect(result.code, show(result)).toBe(0);
    expect(json(result).run.status).toBe("done");
  });

  it("reports a damaged freshness file with its path and leaves it untouched", async () => {
    const p = project();
    p.useFixtures("produces", "consumes");
    const first = await stau(p.dir, ["run", "consumes", "--json", ...WORKERS]);
    expect(first.code, show(first)).toBe(0);
    const file = join(p.dir, "data", "freshness", "produces.json");
    expect(existsSync(file)).toBe(true);
    writeFileSync(file, "garbage");

    const result = await stau(p.dir, ["run", "consumes", "--json", ...WORKERS]);
    expect(result.code, show(result)).not.toBe(0);
    expect(result.stdout + result.stderr).toContain(file);
    expect(readFileSync(file, "utf8")).toBe("garbage");
  });

  // A line cut short by a crash must not swallow the next run's line.
  it("keeps recording runs after a torn last line in the run history", async () => {
    const p = project();
    p.useFixtures("succeeds");
    const first = json(await stau(p.dir, ["run", "succeeds", "--json", ...WORKERS]));
    appendFileSync(join(p.dir, "data", "history", "runs.jsonl"), '{"run":{"id":"torn');
    const second = await stau(p.dir, ["run", "succeeds", "--json", ...WORKERS]);
    expect(second.code, show(second)).toBe(0);
    const runs = json<any[]>(await stau(p.dir, ["runs", "--json"]));
    expect(runs.map((r) => r.id)).toEqual([json(second).run.id, first.run.id]);
  });
});

describe("the data directory lock", () => {
  it("refuses a second run while one holds the data directory, naming its pid", async () => {
    const p = project();
    p.useFixtures("sleeps", "succeeds");
    const lock = join(p.dir, "data", "stau.lock");
    const holder = startStau(p.dir, ["run", "sleeps", "--json", "--kwargs", '{"ms":5000}', ...WORKERS]);
    const holderDone = collect(holder, 50_000);
    try {
      await until(() => existsSync(lock), "data/stau.lock");
      // Once its chunk is running it holds the lock for another 5s.
      await until(() => filesIn(join(p.dir, "data", "logs", "sleeps")).length > 0, "the sleeps chunk to start");

      const second = await stau(p.dir, ["run", "succeeds", "--json", ...WORKERS]);
      expect(second.code, show(second)).toBe(2);
      expect(second.stderr).toContain(`pid ${holder.pid}`);
      expect(second.stderr).toContain(join(p.dir, "data"));
      expectNoStackTrace(second);

      // Read-only commands work beside it.
      const runs = await stau(p.dir, ["runs", "--json"]);
      expect(runs.code, show(runs)).toBe(0);
      expect(Array.isArray(json(runs))).toBe(true);
      const logs = await stau(p.dir, ["logs", "succeeds"]);
      expect(logs.code, show(logs)).toBe(0);
    } finally {
      const first = await holderDone;
      expect(first.code, show(first)).toBe(0);
      expect(json(first).run.status).toBe("done");
    }
    // The lock is released on exit, so the next run may go.
    expect(existsSync(lock)).toBe(false);
    const after = await stau(p.dir, ["run", "succeeds", "--json", ...WORKERS]);
    expect(after.code, show(after)).toBe(0);
  });

  it("takes over a lock left by a process that is gone", async () => {
    const p = project();
    p.useFixtures("succeeds");
    mkdirSync(join(p.dir, "data"));
    // A pid that cannot be alive on Linux (above pid_max).
    writeFileSync(
      join(p.dir, "data", "stau.lock"),
      JSON.stringify({ id: "gone", pid: 2 ** 22 + 1, hostname: (await import("node:os")).hostname(), startedAt: 0, command: "run x" }),
    );
    const result = await stau(p.dir, ["run", "succeeds", "--json", ...WORKERS]);
    expect(result.code, show(result)).toBe(0);
  });

  // A run is on disk from its trigger on, so another process sees it while it runs.
  it("shows a run that is executing in another process in stau runs", async () => {
    const p = project();
    p.useFixtures("sleeps");
    const holder = startStau(p.dir, ["run", "sleeps", "--json", "--kwargs", '{"ms":4000}', ...WORKERS]);
    const holderDone = collect(holder, 50_000);
    try {
      // Its log file exists once the chunk has started (and it then sleeps 4s).
      await until(() => filesIn(join(p.dir, "data", "logs", "sleeps")).length > 0, "the sleeps chunk to start");
      const runs = json<any[]>(await stau(p.dir, ["runs", "--json"]));
      expect(runs).toHaveLength(1);
      expect(runs[0]).toMatchObject({ job: "sleeps", status: "running", finishedAt: null, chunks: { done: 0, running: 1, queued: 0, failed: 0 } });
    } finally {
      expect((await holderDone).code).toBe(0);
    }
  });
});
