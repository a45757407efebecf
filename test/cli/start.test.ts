import { existsSync, readFileSync, statSync } from "node:fs";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { projectFactory, show, until } from "../helpers/cli.js";
import { startInstance, type RunningStau } from "../helpers/instance.js";
import { json, stau } from "../helpers/project.js";

const project = projectFactory();
const running: RunningStau[] = [];
const start = (cwd: string, args: string[] = []) => {
  const instance = startInstance(cwd, args);
  running.push(instance);
  return instance;
};
afterEach(() => {
  for (const instance of running.splice(0)) instance.child.kill("SIGKILL");
});

const executions = (dir: string) =>
  existsSync(join(dir, "executions.log")) ? readFileSync(join(dir, "executions.log"), "utf8").split("\n").filter(Boolean).map(Number) : [];

describe("stau start and the control socket", () => {
  it("takes triggers, status, cancel and rerun from another terminal", async () => {
    const p = project();
    p.useFixtures("succeeds", "slow_units");
    const instance = start(p.dir);
    await instance.waitFor((e) => e.event === "instance:started", "start");
    expect((statSync(join(p.dir, "data", "stau.sock")).mode & 0o777).toString(8)).toBe("600");

    const triggered = await stau(p.dir, ["trigger", "succeeds", "--json"]);
    expect(triggered.code, show(triggered)).toBe(0);
    const runId = json(triggered).run.id;
    await instance.waitFor((e) => e.event === "run:finished" && e.run === runId, "the triggered run");
    const runs = json(await stau(p.dir, ["runs", "--json"]));
    expect(runs.find((r: any) => r.id === runId)).toMatchObject({ status: "done", trigger: "trigger" });

    const slow = json(await stau(p.dir, ["trigger", "slow_units", "--kwargs", '{"n":40,"ms":300}', "--json"])).run.id;
    await instance.waitFor((e) => e.event === "chunk:started" && e.run === slow, "a slow chunk");
    const status = json(await stau(p.dir, ["status", "--json"]));
    expect(status.instance.pid).toBe(instance.child.pid);
    expect(status.runs.map((r: any) => r.id)).toContain(slow);
    expect((await stau(p.dir, ["cancel", slow])).code).toBe(0);
    const finished = await instance.waitFor((e) => e.event === "run:finished" && e.run === slow, "the cancelled run");
    expect(finished.status).toBe("cancelled");
    expect(executions(p.dir).length).toBeLessThan(40);

    const again = await stau(p.dir, ["cancel", slow]);
    expect(again.code, show(again)).toBe(2);
    expect(again.stderr).toContain("already finished");

    const rerun = json(await stau(p.dir, ["rerun", runId, "--json"]));
    expect(rerun.run.id).not.toBe(runId);
    await instance.waitFor((e) => e.event === "run:finished" && e.run === rerun.run.id, "the re-run");
    const history = json(await stau(p.dir, ["runs", "--json"]));
    expect(history.find((r: any) => r.id === rerun.run.id)).toMatchObject({ status: "done", trigger: "rerun", job: "succeeds" });
  });

  it("retries only the failed chunks of a run", async () => {
    const p = project();
    p.write(
      "jobs/half_fails.ts",
      `import { defineJob } from "stau";
import { existsSync, appendFileSync } from "node:fs";
export default defineJob({
  chunkSize: 1,
  selectWork: () => [1, 2, 3, 4],
  run({ workIds }) {
    appendFileSync("executions.log", workIds[0] + "\\n");
    if (Number(workIds[0]) % 2 === 0 && !existsSync("fixed")) throw new Error("even IDs fail until fixed");
  },
});
`,
    );
    const instance = start(p.dir);
    await instance.waitFor((e) => e.event === "instance:started", "start");
    const runId = json(await stau(p.dir, ["trigger", "half_fails", "--json"])).run.id;
    const failed = await instance.waitFor((e) => e.event === "run:finished" && e.run === runId, "the failing run");
    expect(failed.status).toBe("failed");
    p.write("fixed", "");
    expect((await stau(p.dir, ["retry", runId])).code).toBe(0);
    const retried = await instance.waitFor((e) => e.event === "run:finished" && e.run === runId && e.status === "done", "the retried run");
    expect(retried.status).toBe("done");
    expect(executions(p.dir).sort()).toEqual([1, 2, 2, 3, 4, 4]);
  });

  it("says there is no instance, and refuses a second one naming the pid", async () => {
    const p = project();
    p.useFixtures("succeeds");
    for (const args of [["trigger", "succeeds"], ["status"], ["retry", "r1"], ["cancel", "r1"], ["rerun", "r1"]]) {
      const result = await stau(p.dir, args);
      expect(result.code, show(result)).toBe(2);
      expect(result.stderr).toContain("no stau instance is running");
    }
    const first = start(p.dir);
    await first.waitFor((e) => e.event === "instance:started", "start");
    const second = await stau(p.dir, ["start", "--no-ui"], { timeoutMs: 10_000 });
    expect(second.code, show(second)).toBe(2);
    expect(second.stderr).toContain(`pid ${first.child.pid}`);
  });

  it("drains on SIGTERM: running chunks finish, nothing new starts", async () => {
    const p = project();
    p.useFixtures("slow_units");
    const instance = start(p.dir, ["--drain-timeout", "20s"]);
    await instance.waitFor((e) => e.event === "instance:started", "start");
    const runId = json(await stau(p.dir, ["trigger", "slow_units", "--kwargs", '{"n":10,"ms":1000}', "--json"])).run.id;
    await instance.waitFor((e) => e.event === "chunk:started", "a chunk");
    instance.child.kill("SIGTERM");
    expect(await instance.exited()).toBe(0);
    const names = instance.events.map((e) => e.event);
    expect(names.indexOf("instance:draining")).toBeLessThan(names.lastIndexOf("chunk:done"));
    expect(instance.events.filter((e) => e.event === "chunk:started" && instance.events.indexOf(e) > names.indexOf("instance:draining"))).toEqual([]);
    expect(instance.events.at(-1)).toMatchObject({ event: "instance:stopped", aborted: 0 });
    const runs = json(await stau(p.dir, ["runs", "--json"]));
    expect(runs.find((r: any) => r.id === runId).status).toBe("running");
  });

  it("aborts chunks past the drain timeout and runs them again on the next start", async () => {
    const p = project();
    p.useFixtures("slow_units");
    const instance = start(p.dir, ["--drain-timeout", "300ms"]);
    await instance.waitFor((e) => e.event === "instance:started", "start");
    const runId = json(await stau(p.dir, ["trigger", "slow_units", "--kwargs", '{"n":2,"ms":4000}', "--json"])).run.id;
    await instance.waitFor((e) => e.event === "chunk:started", "a chunk");
    instance.child.kill("SIGTERM");
    expect(await instance.exited()).toBe(0);
    expect(instance.events.at(-1)).toMatchObject({ event: "instance:stopped" });
    expect(instance.events.at(-1).aborted).toBeGreaterThan(0);

    const restarted = start(p.dir);
    const finished = await restarted.waitFor((e) => e.event === "run:finished" && e.run === runId, "the interrupted run", 40_000);
    expect(finished.status).toBe("done");
    expect(restarted.events.filter((e) => e.event === "chunk:started").every((e) => e.attempt === 2)).toBe(true);
    expect(executions(p.dir).sort()).toEqual([1, 2]);
  });

  it("finishes a run after kill -9 without repeating chunks whose completion was recorded", async () => {
    const p = project();
    p.useFixtures("slow_units");
    const first = start(p.dir);
    await first.waitFor((e) => e.event === "instance:started", "start");
    const runId = json(await stau(p.dir, ["trigger", "slow_units", "--kwargs", '{"n":30,"ms":100}', "--json"])).run.id;
    await first.waitFor(() => first.events.filter((e) => e.event === "chunk:done").length >= 8, "some chunks done");
    first.child.kill("SIGKILL");
    await first.exited();
    const doneBefore = new Set(first.events.filter((e) => e.event === "chunk:done").map((e) => e.chunk));

    const second = start(p.dir);
    const finished = await second.waitFor((e) => e.event === "run:finished" && e.run === runId, "the run after restart", 40_000);
    expect(finished.status).toBe("done");
    // Chunks reported done before the kill are never started again.
    const startedAgain = second.events.filter((e) => e.event === "chunk:started").map((e) => e.chunk);
    expect(startedAgain.filter((id) => doneBefore.has(id))).toEqual([]);
    // Every work ID ran; at most the chunks in flight at the kill (2 workers) ran twice.
    const counts = new Map<number, number>();
    for (const id of executions(p.dir)) counts.set(id, (counts.get(id) ?? 0) + 1);
    expect([...counts.keys()].sort((a, b) => a - b)).toEqual(Array.from({ length: 30 }, (_, i) => i + 1));
    expect([...counts.values()].filter((n) => n > 1).length).toBeLessThanOrEqual(2);
    const runs = json(await stau(p.dir, ["runs", "--json"]));
    expect(runs.find((r: any) => r.id === runId)).toMatchObject({ status: "done", chunks: { done: 30, running: 0, queued: 0, failed: 0 } });
  });

  it("fires the schedule, and across a restart neither skips nor doubles a tick", async () => {
    const p = project();
    p.useFixtures("succeeds");
    p.write("stau.schedule.ts", `import { defineSchedule } from "stau";\nexport default defineSchedule([{ id: "tick", job: "succeeds", every: "1s" }]);\n`);
    const first = start(p.dir);
    // Stopped once the runs it fired have ended: a run left for the next start (its chunk
    // not begun when the drain came) would make the restart skip its catch-up tick, as an
    // entry whose job is still running does, and this test is about ticks, not overlaps.
    const fired = () => first.events.filter((e) => e.event === "schedule:fired");
    const ended = (runId: string) => first.events.some((e) => e.event === "run:finished" && e.run === runId);
    await first.waitFor(() => fired().length >= 2 && fired().every((e) => ended(e.runId)), "two fires, their runs ended");
    first.child.kill("SIGTERM");
    await first.exited();
    // Down over at least one tick, so the restart has one to catch up on: wait for the
    // instant of the first tick after the last fired one, not for a guessed while.
    const lastFired = Math.max(...first.events.filter((e) => e.event === "schedule:fired").map((e) => Date.parse(e.tickAt)));
    await until(() => Date.now() > lastFired + 1_000, "a tick missed while stopped");
    const second = start(p.dir);
    await second.waitFor(() => second.events.filter((e) => e.event === "schedule:fired").length >= 2, "two fires after restart");
    second.child.kill("SIGTERM");
    await second.exited();
    const fires = [...first.events, ...second.events].filter((e) => e.event === "schedule:fired");
    const ticks = fires.map((e) => e.tickAt);
    expect(new Set(ticks).size).toBe(ticks.length);
    const afterRestart = second.events.filter((e) => e.event === "schedule:fired");
    expect(afterRestart[0].catchUp).toBe(true);
    expect(afterRestart.filter((e) => e.catchUp)).toHaveLength(1);
    const runs = json(await stau(p.dir, ["runs", "--json"]));
    expect(runs.filter((r: any) => r.trigger === "schedule").length).toBe(fires.length);
  });

  it("answers /healthz on loopback", async () => {
    const p = project();
    p.useFixtures("succeeds");
    const port = 20_000 + Math.floor(Math.random() * 20_000);
    const instance = start(p.dir, ["--health-port", String(port)]);
    await instance.waitFor((e) => e.event === "instance:started", "start");
    const response = await fetch(`http://127.0.0.1:${port}/healthz`);
    expect(response.status).toBe(200);
    expect(await response.json()).toMatchObject({ status: "ok", pid: instance.child.pid, workers: 2 });
  });
});
