import { mkdirSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { projectFactory, show } from "../helpers/cli.js";
import { startInstance, instancesKilledAfterEach, type RunningStau } from "../helpers/instance.js";
import { json, stau } from "../helpers/project.js";

// Data-arrival triggers: a schedule entry with `onFiles` fires when matching files appear
// or change, with their paths in kwargs.files — once per content, remembered across
// restarts, and for files that arrived while stau was down, on start.

const project = projectFactory();
const running = instancesKilledAfterEach();

const FILES = {
  "jobs/ingest.ts": `import { defineJob } from "stau";
import { mkdirSync, writeFileSync } from "node:fs";
export default defineJob<{ files: string[] }>({
  async run({ kwargs, runId }) {
    mkdirSync("out", { recursive: true });
    writeFileSync("out/" + runId + ".json", JSON.stringify(kwargs.files));
  },
});
`,
  "stau.schedule.ts": `import { defineSchedule } from "stau";
export default defineSchedule([{ id: "inbox", job: "ingest", onFiles: "inbox/*.csv" }]);
`,
};

/** The files each run was given, in the order the runs happened. */
const fired = (dir: string, runIds: string[]) => runIds.map((id) => JSON.parse(readFileSync(join(dir, "out", `${id}.json`), "utf8")) as string[]);

async function firesOf(instance: RunningStau, count: number): Promise<string[]> {
  await instance.waitFor(() => instance.events.filter((e) => e.event === "run:finished" && e.job === "ingest").length >= count, `${count} run(s) of ingest`);
  return instance.events.filter((e) => e.event === "schedule:fired" && e.entryId === "inbox").map((e) => e.runId);
}

describe("onFiles schedule entries", () => {
  it("fire once per new content, with the paths, and on start for files that arrived while stau was down", async () => {
    const p = project(FILES);
    mkdirSync(join(p.dir, "inbox"));
    let instance = startInstance(p.dir, []);
    running.push(instance);
    await instance.waitFor((e) => e.event === "instance:started", "stau start");

    writeFileSync(join(p.dir, "inbox", "a.csv"), "1,2\n");
    writeFileSync(join(p.dir, "inbox", "notes.txt"), "not a csv\n");
    let runs = await firesOf(instance, 1);
    expect(fired(p.dir, runs)).toEqual([["inbox/a.csv"]]);

    // The same bytes again are not new; a changed file and a new one are, in one run.
    writeFileSync(join(p.dir, "inbox", "a.csv"), "1,2\n");
    writeFileSync(join(p.dir, "inbox", "b.csv"), "3,4\n");
    runs = await firesOf(instance, 2);
    expect(fired(p.dir, runs)[1]).toEqual(["inbox/b.csv"]);
    writeFileSync(join(p.dir, "inbox", "a.csv"), "1,2,changed\n");
    runs = await firesOf(instance, 3);
    expect(fired(p.dir, runs)[2]).toEqual(["inbox/a.csv"]);

    instance.child.kill("SIGTERM");
    expect(await instance.exited()).toBe(0);
    writeFileSync(join(p.dir, "inbox", "c.csv"), "5,6\n");
    instance = startInstance(p.dir, []);
    running.push(instance);
    runs = await firesOf(instance, 1);
    expect(fired(p.dir, runs)).toEqual([["inbox/c.csv"]]);
    expect(readdirSync(join(p.dir, "out"))).toHaveLength(4);

    const schedule = await stau(p.dir, ["schedule"]);
    expect(schedule.code, show(schedule)).toBe(0);
    expect(schedule.stdout).toContain("on files inbox/*.csv");
    expect(schedule.stdout).toContain("for   inbox/c.csv");
    expect(json(await stau(p.dir, ["schedule", "--json"])).entries[0]).toMatchObject({ id: "inbox", onFiles: "inbox/*.csv", lastFiles: ["inbox/c.csv"] });
    const explain = await stau(p.dir, ["explain", "ingest"]);
    expect(explain.stdout).toContain("fires when files matching inbox/*.csv appear or change");
    expect(explain.stdout).toContain("for inbox/c.csv");
  });

  it("refuses an entry with onFiles and a cron, or a glob outside the project", async () => {
    const p = project({
      ...FILES,
      "stau.schedule.ts": `import { defineSchedule } from "stau";
export default defineSchedule([
  { id: "both", job: "ingest", onFiles: "inbox/*.csv", cron: "* * * * *" },
  { id: "outside", job: "ingest", onFiles: "../elsewhere/*.csv" },
]);
`,
    });
    const result = await stau(p.dir, ["validate"]);
    expect(result.code, show(result)).toBe(1);
    expect(result.stdout).toContain('entry "both": needs exactly one of cron, every and onFiles');
    expect(result.stdout).toContain('entry "outside": expected a glob relative to the project root');
  });
});
