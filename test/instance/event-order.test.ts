import { describe, expect, it } from "vitest";
import { projectFactory } from "../helpers/cli.js";
import { instancesKilledAfterEach, startInstance } from "../helpers/instance.js";
import { json, stau } from "../helpers/project.js";

// The log tells a run's story in the order it happened: the run is queued and started
// before any of its chunks starts, a chunk starts after the chunks it needs are done,
// and the run finishes after its last chunk. On the embedded store a run's trigger, its
// resolution and the first claim may share one write to disk, and a result shares one
// with its consequences; the order in which they are announced must not change with it.

const project = projectFactory();
const instances = instancesKilledAfterEach();

const EXTRACT = `import { defineJob } from "stau";
export default defineJob({ chunkSize: 1, async selectWork() { return [1, 2, 3]; }, run() {} });
`;
const REPORT = `import { defineJob } from "stau";
export default defineJob({ dependencies: [{ job: "extract", maxLag: "0s" }], run() {} });
`;

describe("the order of a run's events", () => {
  it("is queued, started, each chunk after the chunks it needs, finished: run after run", async () => {
    const p = project({ "jobs/extract.ts": EXTRACT, "jobs/report.ts": REPORT });
    const instance = startInstance(p.dir);
    instances.push(instance);
    await instance.waitFor((e) => e.event === "instance:started", "the instance to start");
    const runs: string[] = [];
    for (let i = 0; i < 8; i++) {
      const id = json(await stau(p.dir, ["trigger", i % 2 ? "report" : "extract", "--json"])).run.id;
      runs.push(id);
      await instance.waitFor((e) => e.event === "run:finished" && e.run === id, `run ${id} to end`);
    }
    for (const id of runs) {
      const story = instance.events.filter((e) => e.run === id).map((e) => (e.chunk ? `${e.event} ${e.chunk.slice(id.length + 1)}` : e.event));
      const at = (line: string) => {
        expect(story, story.join("\n")).toContain(line);
        return story.indexOf(line);
      };
      const chunks = story.filter((line) => line.startsWith("chunk:started")).map((line) => line.split(" ")[1]!);
      // An extract run has its three chunks; a report run its report chunk after the extract it needs.
      const reports = chunks.filter((c) => c.startsWith("report")).length;
      expect([chunks.length, reports], story.join("\n")).toEqual(runs.indexOf(id) % 2 ? [2, 1] : [3, 0]);
      expect(at("run:queued")).toBe(0);
      expect(at("run:started")).toBe(1);
      for (const chunk of chunks) {
        expect(at(`chunk:started ${chunk}`)).toBeLessThan(at(`chunk:done ${chunk}`));
        expect(at(`chunk:done ${chunk}`)).toBeLessThan(at("run:finished"));
        // report needs every extract chunk of its run.
        if (chunk.startsWith("report")) for (const need of chunks.filter((c) => c.startsWith("extract"))) expect(at(`chunk:done ${need}`)).toBeLessThan(at(`chunk:started ${chunk}`));
      }
      expect(at("run:finished")).toBe(story.length - 1);
    }
  });
});
