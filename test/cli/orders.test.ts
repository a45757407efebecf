import { connect } from "node:net";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { expectNoStackTrace, projectFactory, show } from "../helpers/cli.js";
import { startInstance, type RunningStau } from "../helpers/instance.js";
import { json, stau } from "../helpers/project.js";

const project = projectFactory();
const running: RunningStau[] = [];
const start = (cwd: string) => {
  const instance = startInstance(cwd);
  running.push(instance);
  return instance;
};
afterEach(() => {
  for (const instance of running.splice(0)) instance.child.kill("SIGKILL");
});

/** One request line on the control socket, as anything that can open it might send; the answer line. */
function send(socketPath: string, line: string): Promise<any> {
  return new Promise((resolve, reject) => {
    const socket = connect(socketPath);
    let answer = "";
    socket.setEncoding("utf8");
    socket.on("connect", () => socket.write(line + "\n"));
    socket.on("data", (data: string) => (answer += data));
    socket.on("error", reject);
    socket.on("end", () => resolve(JSON.parse(answer)));
  });
}

describe("orders to a running instance", () => {
  it("refuses a control request of the wrong shape, naming the field, and runs nothing", async () => {
    const p = project();
    p.useFixtures("succeeds");
    const instance = start(p.dir);
    await instance.waitFor((e) => e.event === "instance:started", "start");
    const socket = join(p.dir, "data", "stau.sock");

    const cases: [object, string, string][] = [
      [{ cmd: "trigger", job: "succeeds", workIds: "abc" }, "workIds", '"abc"'],
      [{ cmd: "trigger", job: "succeeds", workIds: [1, {}] }, "workIds", "[1,{}]"],
      [{ cmd: "trigger", job: "succeeds", kwargs: [1] }, "kwargs", "[1]"],
      [{ cmd: "trigger", job: 7 }, "job", "7"],
      [{ cmd: "retry", run: null }, "run", "null"],
      [{ cmd: "explode" }, "cmd", '"explode"'],
    ];
    for (const [request, field, value] of cases) {
      const answer = await send(socket, JSON.stringify(request));
      expect(answer.ok, JSON.stringify(request)).toBe(false);
      expect(answer.error.exitCode).toBe(2);
      expect(answer.error.message, JSON.stringify(request)).toContain(field);
      expect(answer.error.message, JSON.stringify(request)).toContain(value);
    }
    expect(instance.events.filter((e) => e.event === "run:queued")).toEqual([]);
    expect(json(await stau(p.dir, ["runs", "--json"]))).toEqual([]);
  });

  // The engine refuses the retry (engine.ts retry); the CLI prints its error and exits with its code.
  it("says a run with nothing to retry has nothing to retry, exit 1", async () => {
    const p = project();
    p.useFixtures("succeeds");
    const instance = start(p.dir);
    await instance.waitFor((e) => e.event === "instance:started", "start");
    const runId = json(await stau(p.dir, ["trigger", "succeeds", "--json"])).run.id;
    const finished = await instance.waitFor((e) => e.event === "run:finished" && e.run === runId, "the run");
    expect(finished.status).toBe("done");

    const retry = await stau(p.dir, ["retry", runId]);
    expect(retry.code, show(retry)).toBe(1);
    expect(retry.stderr).toContain(runId);
    expect(retry.stderr).toContain("nothing to retry");
    expect(retry.stdout).not.toContain("retrying");
    expectNoStackTrace(retry);
    // The run stays as it ended: not reopened, not run again.
    const runs = json<any[]>(await stau(p.dir, ["runs", "--json"]));
    expect(runs.find((r) => r.id === runId)).toMatchObject({ status: "done", chunks: { done: 1, running: 0, queued: 0, failed: 0 } });
    expect(instance.events.filter((e) => e.event === "chunk:started" && e.run === runId)).toHaveLength(1);
  });

  // The engine refuses the name (engine.ts trigger asks jobProblem, src/jobs/load.ts).
  it("says a job name two files share is used by both, in trigger", async () => {
    const p = project();
    p.useFixtures("succeeds");
    p.write("jobs/dup.ts", `import { defineJob } from "stau";\nexport default defineJob({ async run() {} });\n`);
    p.write("jobs/dup.js", `import { defineJob } from "stau";\nexport default defineJob({ async run() {} });\n`);
    const instance = start(p.dir);
    await instance.waitFor((e) => e.event === "instance:started", "start");
    const result = await stau(p.dir, ["trigger", "dup"]);
    expect(result.code, show(result)).toBe(2);
    expect(result.stderr).toContain("jobs/dup.ts");
    expect(result.stderr).toContain("jobs/dup.js");
    expect(result.stderr).not.toContain("unknown job");
  });

  it("cancels and retries by job name: the job's newest run, and suggests the job a typo meant", async () => {
    const p = project();
    p.useFixtures("slow_units", "throws");
    const instance = start(p.dir);
    await instance.waitFor((e) => e.event === "instance:started", "start");

    const slow = json(await stau(p.dir, ["trigger", "slow_units", "--kwargs", '{"n":40,"ms":300}', "--json"])).run.id;
    await instance.waitFor((e) => e.event === "chunk:started" && e.run === slow, "a slow chunk");
    const cancelled = await stau(p.dir, ["cancel", "slow_units"]);
    expect(cancelled.code, show(cancelled)).toBe(0);
    expect(cancelled.stdout).toContain(`cancelling run ${slow} (slow_units)`);
    expect((await instance.waitFor((e) => e.event === "run:finished" && e.run === slow, "the cancelled run")).status).toBe("cancelled");
    // Nothing of slow_units is active any more: cancelling by name says so.
    const none = await stau(p.dir, ["cancel", "slow_units"]);
    expect(none.code, show(none)).toBe(2);
    expect(none.stderr).toContain("job slow_units has no active run");

    const failed = json(await stau(p.dir, ["trigger", "throws", "--json"])).run.id;
    await instance.waitFor((e) => e.event === "run:finished" && e.run === failed, "the failing run");
    const retried = await stau(p.dir, ["retry", "throws", "--json"]);
    expect(retried.code, show(retried)).toBe(0);
    expect(json(retried).run.id).toBe(failed);

    const typo = await stau(p.dir, ["cancel", "slow_unit"]);
    expect(typo.code, show(typo)).toBe(2);
    expect(typo.stderr).toContain('no run or job "slow_unit"; did you mean "slow_units"?');
    expectNoStackTrace(typo);
  });

  it("says a job added after stau start began needs a restart, not that it is unknown", async () => {
    const p = project();
    p.useFixtures("succeeds");
    const instance = start(p.dir);
    await instance.waitFor((e) => e.event === "instance:started", "start");
    p.write("jobs/newcomer.ts", `import { defineJob } from "stau";\nexport default defineJob({ async run() {} });\n`);
    const result = await stau(p.dir, ["trigger", "newcomer"]);
    expect(result.code, show(result)).toBe(2);
    expect(result.stderr).toContain("job newcomer was added to jobs/ after this instance read its jobs");
    expect(result.stderr).toContain("restart");
    expect(result.stderr).not.toContain("unknown job");
    // A name with no file is still unknown.
    const unknown = await stau(p.dir, ["trigger", "nobody"]);
    expect(unknown.code, show(unknown)).toBe(2);
    expect(unknown.stderr).toContain('unknown job "nobody"');
  });
});
