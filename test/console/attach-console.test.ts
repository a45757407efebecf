import { rmSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { projectFactory, show } from "../helpers/cli.js";
import { instancesKilledAfterEach, startInstance } from "../helpers/instance.js";
import { json, stau } from "../helpers/project.js";
import { KEYS, ptysKilledAfterEach, startPty, selectedLine } from "../helpers/pty.js";

// `stau dev` where a `stau start` already holds the data directory: the console attaches
// to the running instance over its control socket instead of refusing, and quitting it
// leaves the instance running.

const project = projectFactory();
const running = instancesKilledAfterEach();
const ptys = ptysKilledAfterEach();

const JOBS = {
  "jobs/alpha.ts": `import { defineJob } from "stau";
export default defineJob({ async run({ log }) { log("alpha ran on the instance pid " + process.pid); } });
`,
  "jobs/beta.ts": `import { defineJob } from "stau";
export default defineJob({ async run() {} });
`,
  "jobs/gamma.ts": `import { defineJob } from "stau";
export default defineJob({ async run() {} });
`,
};


describe("stau dev beside stau start", () => {
  it("attaches, shows the instance's work live, sends orders to it, and detaches leaving it running", async () => {
    const p = project(JOBS);
    const instance = startInstance(p.dir, []);
    running.push(instance);
    const started = await instance.waitFor((e) => e.event === "instance:started", "stau start");

    const pty = startPty(p.dir, ["dev"]);
    ptys.push(pty);
    await pty.waitFor((s) => s.includes("Jobs 3") && s.includes(`attached to stau start (pid ${started.pid})`), "the attached console");

    // A burst of keys counts key by key here too.
    pty.press("jj");
    await pty.waitFor((s) => selectedLine(s).includes("gamma"), "jj: selection on gamma");
    pty.press("kk");
    await pty.waitFor((s) => selectedLine(s).includes("alpha"), "kk: selection back on alpha");

    pty.press("t");
    await pty.waitFor((s) => s.includes("Trigger alpha?") && s.includes("Enter triggers"), "the plan dialog");
    pty.press(KEYS.enter);
    // The run happens in the instance: its log line names the instance's pid, and the
    // instance reports the run as its own.
    const finished = await instance.waitFor((e) => e.event === "run:finished" && e.job === "alpha", "alpha's run on the instance");
    expect(finished.status).toBe("done");
    await pty.waitFor((s) => s.includes(`alpha ran on the instance pid ${started.pid}`), "alpha's log line in the attached console");
    await pty.waitFor((s) => /alpha\s+idle\s+ok/.test(s), "alpha ok in Jobs");

    pty.press("q");
    expect(await pty.exited()).toBe(0);
    expect(pty.bufferType()).toBe("normal");
    expect(pty.raw()).toContain("detached; the instance goes on running");

    // The instance goes on: it answers, and it still takes work.
    const status = await stau(p.dir, ["status", "--json"]);
    expect(status.code, show(status)).toBe(0);
    expect(json(status).instance.pid).toBe(started.pid);
    expect(instance.child.exitCode).toBeNull();
    const again = json(await stau(p.dir, ["trigger", "beta", "--json"])).run.id;
    await instance.waitFor((e) => e.event === "run:finished" && e.run === again, "a run after detaching");
  });

  it("ends when the instance it is attached to stops", async () => {
    const p = project(JOBS);
    const instance = startInstance(p.dir, []);
    running.push(instance);
    await instance.waitFor((e) => e.event === "instance:started", "stau start");
    const pty = startPty(p.dir, ["dev"]);
    ptys.push(pty);
    await pty.waitFor((s) => s.includes("Jobs 3") && s.includes("attached to stau start"), "the attached console");

    // The attached console's event stream must not hold the instance's stop open.
    instance.child.kill("SIGTERM");
    expect(await instance.exited()).toBe(0);
    expect(await pty.exited()).toBe(0);
    expect(pty.bufferType()).toBe("normal");
    expect(pty.raw()).toContain(`the instance (pid ${instance.child.pid}) stopped, and the console with it`);
  });
});

describe("stau dev attached, while the instance runs short chunks in batches", () => {
  it("lists in Running only the chunks the instance's threads run, the others sent with them as waiting for a thread", async () => {
    // Each chunk waits while the file `hold` is in the project: a barrier the test opens.
    const p = project({
      "jobs/gated.ts": `import { existsSync } from "node:fs";
import { defineJob } from "stau";
const hold = new URL("../hold", import.meta.url);
export default defineJob({
  chunkSize: 1,
  async selectWork() { return Array.from({ length: 12 }, (_, i) => i); },
  async run() { while (existsSync(hold)) await new Promise((resolve) => setTimeout(resolve, 5)); },
});
`,
    });
    const instance = startInstance(p.dir, []);
    running.push(instance);
    await instance.waitFor((e) => e.event === "instance:started", "stau start");
    // A first run of quick chunks: the instance learns they are short and sends the next ones in batches.
    const first = json(await stau(p.dir, ["trigger", "gated", "--json"])).run.id;
    await instance.waitFor((e) => e.event === "run:finished" && e.run === first, "the quick run");

    const pty = startPty(p.dir, ["dev"]);
    ptys.push(pty);
    await pty.waitFor((s) => s.includes("Jobs 1") && s.includes("attached to stau start"), "the attached console");
    p.write("hold", "");
    const held = json(await stau(p.dir, ["trigger", "gated", "--json"])).run.id;
    await pty.waitFor((s) => s.includes("Running 2 · workers 2/2 · 10 waiting for a thread"), "two chunks running, ten waiting for a thread");
    // Past a second the batches give back the chunks they have not begun (README): back in
    // line for a thread, still not ended.
    await pty.waitFor((s) => /gated\.\d+\s+([2-9]|\d\d)s/.test(s), "the running chunks' second second");
    await pty.waitFor((s) => s.includes("Running 2 · workers 2/2 · 10 waiting for a thread"), "the ten given back, still waiting for a thread");
    const status = json(await stau(p.dir, ["status", "--json"]));
    expect(status.instance.threads.running).toHaveLength(2);
    expect(status.instance.threads.waiting).toHaveLength(10);

    rmSync(join(p.dir, "hold"));
    await instance.waitFor((e) => e.event === "run:finished" && e.run === held, "the held run, let go");
    await pty.waitFor((s) => s.includes("Running 0 · workers 0/2"), "nothing running");
    pty.press("q");
    expect(await pty.exited()).toBe(0);
  });
});
