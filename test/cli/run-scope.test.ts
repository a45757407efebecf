import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { projectFactory, show, WORKERS } from "../helpers/cli.js";
import { startInstance, instancesKilledAfterEach } from "../helpers/instance.js";
import { json, stau } from "../helpers/project.js";

// `stau run` runs its own run and nothing else: a run another instance left unfinished
// stays as it is for the next `stau start` or `stau dev`, and a command that fails
// early changes nothing.

const project = projectFactory();
const running = instancesKilledAfterEach();

const LEFT = `import { appendFileSync } from "node:fs";
import { defineJob } from "stau";
export default defineJob({
  chunkSize: 1,
  async selectWork() { return Array.from({ length: 8 }, (_, i) => i + 1); },
  async run({ workIds }) {
    appendFileSync("left.log", workIds[0] + "\\n");
    await new Promise((resolve) => setTimeout(resolve, 400));
  },
});
`;
const OWN = `import { defineJob } from "stau";
export default defineJob({ run() {} });
`;

const ranLeft = (dir: string) => (existsSync(join(dir, "left.log")) ? readFileSync(join(dir, "left.log"), "utf8").split("\n").filter(Boolean).length : 0);
const runOf = async (dir: string, id: string) => json(await stau(dir, ["runs", "--json"])).find((r: any) => r.id === id);

describe("stau run beside a run left unfinished", () => {
  it("touches only its own run, and a typo touches nothing", async () => {
    const p = project({ "jobs/left.ts": LEFT, "jobs/own.ts": OWN });
    const first = startInstance(p.dir);
    running.push(first);
    await first.waitFor((e) => e.event === "instance:started", "start");
    const leftRun = json(await stau(p.dir, ["trigger", "left", "--json"])).run.id;
    await first.waitFor((e) => e.event === "chunk:started" && e.job === "left", "a chunk of the left run");
    first.child.kill("SIGKILL");
    await first.exited();
    const before = await runOf(p.dir, leftRun);
    const ranBefore = ranLeft(p.dir);
    expect(before.status).toBe("running");

    const typo = await stau(p.dir, ["run", "nosuch", ...WORKERS]);
    expect(typo.code, show(typo)).toBe(2);
    expect(await runOf(p.dir, leftRun)).toEqual(before);

    const own = await stau(p.dir, ["run", "own", "--json", ...WORKERS]);
    expect(own.code, show(own)).toBe(0);
    expect(json(own).run.status).toBe("done");
    expect(await runOf(p.dir, leftRun)).toEqual(before);
    expect(ranLeft(p.dir)).toBe(ranBefore);

    // The next long-running instance takes it up and finishes it.
    const next = startInstance(p.dir);
    running.push(next);
    const finished = await next.waitFor((e) => e.event === "run:finished" && e.run === leftRun, "the left run to finish", 30_000);
    expect(finished.status).toBe("done");
  });
});
