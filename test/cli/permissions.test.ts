import { chmodSync, mkdirSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { expectNoStackTrace, projectFactory, show, WORKERS } from "../helpers/cli.js";
import { json, stau } from "../helpers/project.js";
import { refused, stauUnprivileged } from "../helpers/unprivileged.js";

const project = projectFactory();

/** A project the unprivileged user can read (temp directories are private to their owner). */
function readableProject() {
  const p = project();
  p.useFixtures("succeeds");
  chmodSync(p.dir, 0o755);
  return p;
}

// Conditions a user causes and fixes: each is named (path, what is wrong, what to do)
// and exits 2, never "this looks like a bug in stau".
describe("file-system conditions", () => {
  it("refuses a read-only data directory, naming it, and still reads from it", async (ctx) => {
    const p = readableProject();
    const data = join(p.dir, "data");
    mkdirSync(data, { mode: 0o555 });
    chmodSync(data, 0o555);
    // Only where file modes stop the user the CLI runs as (see test/helpers/unprivileged.ts).
    if (!refused(data, "write")) return ctx.skip();

    const result = await stauUnprivileged(p.dir, ["run", "succeeds", ...WORKERS]);
    expect(result.code, show(result)).toBe(2);
    expect(result.stderr).toContain(data);
    expect(result.stderr).toMatch(/permission denied|read-only/);
    expect(result.stderr).not.toContain("bug in stau");
    expectNoStackTrace(result);

    const runs = await stauUnprivileged(p.dir, ["runs", "--json"]);
    expect(runs.code, show(runs)).toBe(0);
    expect(json(runs)).toEqual([]);
  });

  it("refuses a data directory it cannot create, naming it", async (ctx) => {
    const p = readableProject();
    const parent = join(p.dir, "locked");
    mkdirSync(parent, { mode: 0o555 });
    chmodSync(parent, 0o555);
    if (!refused(parent, "write")) return ctx.skip();

    const result = await stauUnprivileged(p.dir, ["run", "succeeds", "--data", "locked/data", ...WORKERS]);
    expect(result.code, show(result)).toBe(2);
    expect(result.stderr).toContain(join(parent, "data"));
    expect(result.stderr).toContain("permission denied");
    expect(result.stderr).not.toContain("bug in stau");
    expectNoStackTrace(result);
  });

  it("refuses a data directory whose path runs through a file (ENOTDIR), naming it", async () => {
    const p = project();
    p.useFixtures("succeeds");
    p.write("not-a-dir", "a file where a directory belongs\n");
    for (const args of [["run", "succeeds", "--data", "not-a-dir/data", ...WORKERS], ["run", "succeeds", "--data", "not-a-dir", ...WORKERS], ["runs", "--data", "not-a-dir"]]) {
      const result = await stau(p.dir, args);
      expect(result.code, show(result)).toBe(2);
      expect(result.stderr, args.join(" ")).toContain(join(p.dir, "not-a-dir"));
      expect(result.stderr, args.join(" ")).toContain("not a directory");
      expect(result.stderr).not.toContain("bug in stau");
      expectNoStackTrace(result);
    }
  });

  it("refuses an unreadable jobs/ folder, naming it", async (ctx) => {
    const p = readableProject();
    const jobs = join(p.dir, "jobs");
    chmodSync(jobs, 0o000);
    if (!refused(jobs, "list")) return ctx.skip();
    // The data directory is writable, so only jobs/ is in the way.
    mkdirSync(join(p.dir, "data"));
    chmodSync(join(p.dir, "data"), 0o777);

    for (const args of [["validate"], ["run", "succeeds", ...WORKERS], ["plan", "succeeds"]]) {
      const result = await stauUnprivileged(p.dir, args);
      expect(result.code, show(result)).toBe(2);
      expect(result.stderr, args.join(" ")).toContain(jobs);
      expect(result.stderr, args.join(" ")).toContain("permission denied");
      expect(result.stderr).not.toContain("bug in stau");
      expectNoStackTrace(result);
    }
    chmodSync(jobs, 0o755);
  });
});
