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
});
