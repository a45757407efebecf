import { readFileSync, rmSync, symlinkSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { projectFactory, show } from "../helpers/cli.js";
import { startInstance, instancesKilledAfterEach, type RunningStau } from "../helpers/instance.js";
import { json, stau } from "../helpers/project.js";

const project = projectFactory();
const running = instancesKilledAfterEach();

const versioned = (version: string) => `import { defineJob } from "stau";
import { writeFileSync } from "node:fs";
export default defineJob({ run() { writeFileSync("version.txt", ${JSON.stringify(version)}); } });
`;

async function runAndWait(instance: RunningStau, dir: string, job: string) {
  const triggered = await stau(dir, ["trigger", job, "--json"]);
  expect(triggered.code, show(triggered)).toBe(0);
  const id = json(triggered).run.id;
  return instance.waitFor((e) => e.event === "run:finished" && e.run === id, `run of ${job}`);
}

describe("stau dev hot reload (headless)", () => {
  it("runs new code after a save, marks a broken file and recovers when it is fixed", async () => {
    const p = project();
    p.write("jobs/versioned.ts", versioned("v1"));
    const dev = startInstance(p.dir, [], {}, "dev");
    running.push(dev);
    await dev.waitFor((e) => e.event === "instance:started", "start");
    expect((await runAndWait(dev, p.dir, "versioned")).status).toBe("done");
    expect(readFileSync(join(p.dir, "version.txt"), "utf8")).toBe("v1");

    p.write("jobs/versioned.ts", versioned("v2"));
    await dev.waitFor((e) => e.event === "registry:reloaded" && e.files.some((f: string) => f.endsWith("versioned.ts")), "the reload");
    expect((await runAndWait(dev, p.dir, "versioned")).status).toBe("done");
    expect(readFileSync(join(p.dir, "version.txt"), "utf8")).toBe("v2");

    const reloads = () => dev.events.filter((e) => e.event === "registry:reloaded").length;
    p.write("jobs/versioned.ts", `import { defineJob } from "stau";\nexport default defineJob({ run() { const x = ; } });\n`);
    const broken = await dev.waitFor((e) => e.event === "registry:reloaded" && e.broken.includes("versioned"), "the broken reload");
    expect(broken.level).toBe("warn");
    const failed = await runAndWait(dev, p.dir, "versioned");
    expect(failed.status).toBe("failed");

    // The same content saved again (an editor's atomic save) is not a reload. A save of
    // another file afterwards is: once its reload is in, the first save has been seen too
    // (the watcher reports changes in order, coalesced ones in one reload), so the wait
    // ends on an event instead of a guessed time.
    const before = reloads();
    p.write("jobs/versioned.ts", `import { defineJob } from "stau";\nexport default defineJob({ run() { const x = ; } });\n`);
    p.write("jobs/marker.ts", versioned("marker"));
    const later = await dev.waitFor((e) => e.event === "registry:reloaded" && e.files.some((f: string) => f.endsWith("marker.ts")), "the reload of the later save");
    expect(later.files.filter((f: string) => f.endsWith("versioned.ts"))).toEqual([]);
    expect(reloads()).toBe(before + 1);

    p.write("jobs/versioned.ts", versioned("v3"));
    await dev.waitFor((e) => e.event === "registry:reloaded" && e.broken.length === 0 && dev.events.indexOf(e) > dev.events.indexOf(broken), "the fixed reload");
    expect((await runAndWait(dev, p.dir, "versioned")).status).toBe("done");
    expect(readFileSync(join(p.dir, "version.txt"), "utf8")).toBe("v3");
  });

  it("picks up added and deleted job files", async () => {
    const p = project();
    p.write("jobs/first.ts", versioned("first"));
    const dev = startInstance(p.dir, [], {}, "dev");
    running.push(dev);
    await dev.waitFor((e) => e.event === "instance:started", "start");
    p.write("jobs/added.ts", versioned("added"));
    await dev.waitFor((e) => e.event === "registry:reloaded" && e.files.some((f: string) => f.endsWith("added.ts")), "the added file");
    expect((await runAndWait(dev, p.dir, "added")).status).toBe("done");

    rmSync(join(p.dir, "jobs", "added.ts"));
    await dev.waitFor((e) => e.event === "registry:reloaded" && dev.events.filter((x) => x.event === "registry:reloaded").length >= 2, "the deletion");
    const gone = await stau(p.dir, ["trigger", "added"]);
    expect(gone.code, show(gone)).toBe(2);
    expect(gone.stderr).toContain("unknown job");
  });

  it("sees a job file that is a link to nothing come and go, and a linked job's target go and come back", async () => {
    const p = project();
    p.write("jobs/first.ts", versioned("first"));
    p.write("shared/linked.ts", versioned("linked"));
    const dev = startInstance(p.dir, [], {}, "dev");
    running.push(dev);
    await dev.waitFor((e) => e.event === "instance:started", "start");
    let reloads = 0;
    const nextReloadOf = async (name: string) => {
      const seen = reloads;
      let count = 0;
      await dev.waitFor((e) => e.event === "registry:reloaded" && ++count > seen && e.files.some((f: string) => f.endsWith(`/${name}`)), `the reload of ${name}`);
      reloads = count;
    };
    const triggerError = async (job: string) => {
      const result = await stau(p.dir, ["trigger", job]);
      expect(result.code, show(result)).toBe(2);
      return result.stderr;
    };

    symlinkSync(join(p.dir, "shared", "nothing.ts"), join(p.dir, "jobs", "dangling.ts"));
    await nextReloadOf("dangling.ts");
    expect(await triggerError("dangling")).toContain(`jobs/dangling.ts: is a link to ${join(p.dir, "shared", "nothing.ts")}, which does not exist`);
    rmSync(join(p.dir, "jobs", "dangling.ts"));
    await nextReloadOf("dangling.ts");
    expect(await triggerError("dangling")).toContain("unknown job");

    symlinkSync(join(p.dir, "shared", "linked.ts"), join(p.dir, "jobs", "linked.ts"));
    await nextReloadOf("linked.ts");
    expect((await runAndWait(dev, p.dir, "linked")).status).toBe("done");
    rmSync(join(p.dir, "shared", "linked.ts"));
    await nextReloadOf("linked.ts");
    expect(await triggerError("linked")).toContain("jobs/linked.ts: is a link to");
    // Nothing in jobs/ changes when the target comes back outside it: stau watches where the link points.
    p.write("shared/linked.ts", versioned("back"));
    await nextReloadOf("linked.ts");
    expect((await runAndWait(dev, p.dir, "linked")).status).toBe("done");
    expect(readFileSync(join(p.dir, "version.txt"), "utf8")).toBe("back");

    // A link to a job file in jobs/ itself: follows its edits, and its target going and coming back leaves that file watched.
    symlinkSync(join(p.dir, "jobs", "first.ts"), join(p.dir, "jobs", "alias.ts"));
    await nextReloadOf("alias.ts");
    rmSync(join(p.dir, "jobs", "first.ts"));
    await nextReloadOf("alias.ts");
    expect(await triggerError("alias")).toContain("jobs/alias.ts: is a link to");
    p.write("jobs/first.ts", versioned("first again"));
    await nextReloadOf("alias.ts");
    // An edit of the file is an edit of the job linked to it too.
    p.write("jobs/first.ts", versioned("first, edited"));
    await nextReloadOf("alias.ts");
    expect((await runAndWait(dev, p.dir, "alias")).status).toBe("done");
    expect(readFileSync(join(p.dir, "version.txt"), "utf8")).toBe("first, edited");
    p.write("jobs/first.ts", versioned("first, edited again"));
    await nextReloadOf("first.ts");
    expect((await runAndWait(dev, p.dir, "first")).status).toBe("done");
    expect(readFileSync(join(p.dir, "version.txt"), "utf8")).toBe("first, edited again");
  });

  it("reloads every job when a helper they import changes", async () => {
    const p = project();
    p.write("jobs/lib/version.ts", `export const version = "h1";\n`);
    p.write("jobs/uses_helper.ts", `import { defineJob } from "stau";
import { writeFileSync } from "node:fs";
import { version } from "./lib/version.js";
export default defineJob({ run() { writeFileSync("version.txt", version); } });
`);
    const dev = startInstance(p.dir, [], {}, "dev");
    running.push(dev);
    await dev.waitFor((e) => e.event === "instance:started", "start");
    await runAndWait(dev, p.dir, "uses_helper");
    expect(readFileSync(join(p.dir, "version.txt"), "utf8")).toBe("h1");
    p.write("jobs/lib/version.ts", `export const version = "h2";\n`);
    await dev.waitFor((e) => e.event === "registry:reloaded", "the helper reload");
    await runAndWait(dev, p.dir, "uses_helper");
    expect(readFileSync(join(p.dir, "version.txt"), "utf8")).toBe("h2");
  });

  it("takes an editor's swap, backup, lock and temp files for nothing, not for a helper change", async () => {
    const p = project();
    p.write("jobs/lib/version.ts", `export const version = "h1";\n`);
    p.write("jobs/first.ts", versioned("first"));
    const dev = startInstance(p.dir, [], {}, "dev");
    running.push(dev);
    await dev.waitFor((e) => e.event === "instance:started", "start");
    // What vim, emacs, JetBrains editors and others write beside a file while saving it.
    for (const litter of [".first.ts.swp", "first.ts~", "4913", "first.ts.tmp", "first.ts___jb_tmp___", "lib/.#version.ts", ".hidden/x.ts"]) {
      p.write(`jobs/${litter}`, "not code at all {{{");
    }
    // A later save of a job file is reported after them: its reload carries only itself.
    p.write("jobs/marker.ts", versioned("marker"));
    const reload = await dev.waitFor((e) => e.event === "registry:reloaded" && e.files.some((f: string) => f.endsWith("marker.ts")), "the marker's reload");
    expect(reload.files.map((f: string) => f.split("/").pop())).toEqual(["marker.ts"]);
    expect(dev.events.filter((e) => e.event === "registry:reloaded" && e.files.some((f: string) => f.includes("helper changed")))).toEqual([]);
    expect(reload.broken).toEqual([]);
  });
});
