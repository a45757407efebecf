import { existsSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { expectNoStackTrace, projectFactory, show, WORKERS } from "../helpers/cli.js";
import { json, stau } from "../helpers/project.js";

const project = projectFactory();

function withSucceeds() {
  const p = project();
  p.useFixtures("succeeds");
  return p;
}

describe("usage errors", () => {
  it("refuses an unknown job in run with exit 2, naming it, and releases the data directory", async () => {
    const p = withSucceeds();
    const result = await stau(p.dir, ["run", "no_such_job", ...WORKERS]);
    expect(result.code, show(result)).toBe(2);
    expect(result.stderr).toContain("no_such_job");
    expect(result.stdout).toBe("");
    // Said before any instance starts: no event lines around the error.
    expect(result.stderr).not.toContain("stau started");
    expectNoStackTrace(result);
    expect(existsSync(join(p.dir, "data", "stau.lock"))).toBe(false);
    const ok = await stau(p.dir, ["run", "succeeds", "--json", ...WORKERS]);
    expect(ok.code, show(ok)).toBe(0);
    // The refused trigger left no run behind.
    expect(json<any[]>(await stau(p.dir, ["runs", "--json"])).map((r) => r.job)).toEqual(["succeeds"]);
  });

  it("refuses an unknown job in run --json, plan and graph with exit 2", async () => {
    const p = withSucceeds();
    for (const args of [["run", "no_such_job", "--json", ...WORKERS], ["plan", "no_such_job"], ["plan", "no_such_job", "--json"], ["graph", "no_such_job"]]) {
      const result = await stau(p.dir, args);
      expect(result.code, show(result)).toBe(2);
      expect(result.stderr, args.join(" ")).toContain("no_such_job");
      expect(result.stdout, args.join(" ")).toBe("");
      expectNoStackTrace(result);
    }
  });

  function withDuplicate() {
    const p = withSucceeds();
    p.write("jobs/dup.ts", `import { defineJob } from "stau";\nexport default defineJob({ async run() {} });\n`);
    p.write("jobs/dup.js", `import { defineJob } from "stau";\nexport default defineJob({ async run() {} });\n`);
    return p;
  }

  it("says a job name two files share is used by both, in plan, explain, graph and logs", async () => {
    const p = withDuplicate();
    for (const args of [["plan", "dup"], ["explain", "dup"], ["graph", "dup"], ["logs", "dup"]]) {
      const result = await stau(p.dir, args);
      expect(result.code, show(result)).toBe(2);
      expect(result.stderr, args.join(" ")).toContain("jobs/dup.ts");
      expect(result.stderr, args.join(" ")).toContain("jobs/dup.js");
      expect(result.stderr, args.join(" ")).not.toContain("unknown job");
      expectNoStackTrace(result);
    }
  });

  // The engine refuses the name (engine.ts trigger asks jobProblem, src/jobs/load.ts).
  it("says a job name two files share is used by both, in run", async () => {
    const p = withDuplicate();
    const result = await stau(p.dir, ["run", "dup", ...WORKERS]);
    expect(result.code, show(result)).toBe(2);
    expect(result.stderr).toContain("jobs/dup.ts");
    expect(result.stderr).toContain("jobs/dup.js");
    expect(result.stderr).not.toContain("unknown job");
    expectNoStackTrace(result);
  });

  it("suggests the nearest job name for a typo", async () => {
    const p = withSucceeds();
    for (const args of [["plan", "succeds"], ["explain", "succeds"], ["graph", "succeds"], ["logs", "succeds_"]]) {
      const result = await stau(p.dir, args);
      expect(result.code, show(result)).toBe(2);
      expect(result.stderr, args.join(" ")).toContain('did you mean "succeeds"?');
    }
  });

  it("refuses --kwargs that is not JSON, naming --kwargs", async () => {
    const p = withSucceeds();
    for (const args of [["run", "succeeds", "--kwargs", "{a:1}", ...WORKERS], ["plan", "succeeds", "--kwargs", "{a:1}"]]) {
      const result = await stau(p.dir, args);
      expect(result.code, show(result)).toBe(2);
      expect(result.stderr).toContain("--kwargs");
      expect(result.stderr).toContain("{a:1}");
      expectNoStackTrace(result);
    }
    expect(existsSync(join(p.dir, "data", "logs"))).toBe(false);
  });

  it("refuses --kwargs that is JSON but not an object", async () => {
    const p = withSucceeds();
    for (const value of ["[1,2]", "3", "null", '"text"']) {
      const result = await stau(p.dir, ["run", "succeeds", "--kwargs", value, ...WORKERS]);
      expect(result.code, show(result)).toBe(2);
      expect(result.stderr).toContain("--kwargs");
      expectNoStackTrace(result);
    }
  });

  it("refuses bad --work, --workers and --worker-memory values", async () => {
    const p = withSucceeds();
    const cases: [string[], string][] = [
      [["--work", "[1,"], "--work"],
      [["--work", "[{}]"], "--work"],
      [["--work", ","], "--work"],
      [["--work", "x,,y"], "x,,y"],
      [["--work", "1,2,"], "1,2,"],
      [["--workers", "0"], "--workers"],
      [["--workers", "two"], "--workers"],
      [["--worker-memory", "-5"], "--worker-memory"],
    ];
    for (const [flags, name] of cases) {
      const result = await stau(p.dir, ["run", "succeeds", ...flags]);
      expect(result.code, show(result)).toBe(2);
      expect(result.stderr, flags.join(" ")).toContain(name);
      expectNoStackTrace(result);
    }
  });

  it("refuses an unknown command and an unknown flag with exit 2", async () => {
    const p = withSucceeds();
    const command = await stau(p.dir, ["frobnicate"]);
    expect(command.code, show(command)).toBe(2);
    expect(command.stderr).toContain("frobnicate");
    const flag = await stau(p.dir, ["run", "succeeds", "--frobnicate"]);
    expect(flag.code, show(flag)).toBe(2);
    expect(flag.stderr).toContain("--frobnicate");
    const missing = await stau(p.dir, ["run"]);
    expect(missing.code, show(missing)).toBe(2);
    for (const r of [command, flag, missing]) expectNoStackTrace(r);
  });

  it("refuses a bad --format for graph and a bad --limit for runs", async () => {
    const p = withSucceeds();
    const format = await stau(p.dir, ["graph", "--format", "png"]);
    expect(format.code, show(format)).toBe(2);
    expect(format.stderr).toContain("png");
    const limit = await stau(p.dir, ["runs", "--limit", "0"]);
    expect(limit.code, show(limit)).toBe(2);
    expect(limit.stderr).toContain("--limit");
  });

  it("prints help and the version with exit 0", async () => {
    const p = withSucceeds();
    const help = await stau(p.dir, ["--help"]);
    expect(help.code, show(help)).toBe(0);
    for (const command of ["run", "plan", "graph", "validate", "runs", "logs", "init"]) expect(help.stdout).toContain(command);
    const version = await stau(p.dir, ["--version"]);
    expect(version.code, show(version)).toBe(0);
    expect(version.stdout.trim()).toMatch(/^\d+\.\d+\.\d+/);
  });
});
