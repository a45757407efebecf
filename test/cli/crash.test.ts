import { describe, expect, it } from "vitest";
import { projectFactory, show } from "../helpers/cli.js";
import { until } from "../store/helpers.js";
import { startInstance, instancesKilledAfterEach } from "../helpers/instance.js";
import { json, stau } from "../helpers/project.js";

// A chunk whose code kills the whole stau process (a native crash, a main-process OOM,
// process.kill) must not take the instance down at every start: its claim is on disk
// before its code runs, so its attempts are counted, and they run out.

const project = projectFactory();
const running = instancesKilledAfterEach();

const POISON = `import { defineJob } from "stau";
export default defineJob({
  retries: 1,
  run() { process.kill(process.pid, "SIGKILL"); },
});
`;

const SLOW = `import { defineJob } from "stau";
export default defineJob({
  chunkSize: 1,
  async selectWork() { return [1, 2, 3, 4, 5, 6]; },
  async run() { await new Promise((resolve) => setTimeout(resolve, 300)); },
});
`;

describe("a chunk that kills its process", () => {
  it("is failed after at most two restarts, saying why, and every other run finishes", async () => {
    const p = project({ "jobs/poison.ts": POISON, "jobs/slow.ts": SLOW });
    const start = () => {
      const instance = startInstance(p.dir);
      running.push(instance);
      return instance;
    };
    const first = start();
    await first.waitFor((e) => e.event === "instance:started", "start");
    const slow = json(await stau(p.dir, ["trigger", "slow", "--json"])).run.id;
    const poison = await stau(p.dir, ["trigger", "poison", "--json"]);
    expect(poison.code, show(poison)).toBe(0);
    const poisonRun = json(poison).run.id;
    await first.exited();

    // With no instance alive, the unfinished runs are interrupted, not running.
    const dead = await stau(p.dir, ["runs", "--json"]);
    expect(json(dead).find((r: any) => r.id === poisonRun)).toMatchObject({ status: "running", finishedAt: null, interrupted: true });
    const text = await stau(p.dir, ["runs"]);
    expect(text.stdout.split("\n").find((line) => line.startsWith(poisonRun))).toMatch(/interrupted/);
    expect(text.stdout).toContain("the next stau start (or dev) takes these runs up");

    // The second start runs the chunk again (a first death may not be its doing) and dies too.
    const second = start();
    await second.exited();
    expect(second.events.some((e) => e.event === "chunk:started" && e.job === "poison" && e.attempt === 2)).toBe(true);

    // The third start fails it instead of running it, and everything else goes on.
    const third = start();
    const failed = await third.waitFor((e) => e.event === "chunk:failed" && e.job === "poison", "the poison chunk to be failed");
    expect(failed.error).toMatch(/stopped while it ran again, running alone this time: the chunk is what stops stau/);
    expect(third.events.some((e) => e.event === "chunk:started" && e.job === "poison")).toBe(false);
    await third.waitFor((e) => e.event === "run:finished" && e.run === poisonRun, "the poison run to end");
    // The other run finishes wherever it gets to run (its chunk caught in the first death
    // ran again, alone, and was done).
    await until(async () => json(await stau(p.dir, ["runs", "--json"])).find((r: any) => r.id === slow)?.status === "done", "the slow run to finish", 20_000);
    expect(third.child.exitCode).toBeNull();

    const result = json(await stau(p.dir, ["runs", "--json"]));
    expect(result.find((r: any) => r.id === poisonRun)).toMatchObject({ status: "failed", chunks: { failed: 1 }, interrupted: false });
  });
});
