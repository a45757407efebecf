import type { ChildProcess } from "node:child_process";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { chunkOf, expectNoStackTrace, filesIn, projectFactory, show, until, WORKERS } from "../helpers/cli.js";
import { collect, json, startStau, stau } from "../helpers/project.js";

/** What a started child has written to stderr since the first call (which attaches the listener). */
const stderrSeen = new WeakMap<ChildProcess, string>();
function stderrOf(child: ChildProcess): string {
  if (!stderrSeen.has(child)) {
    stderrSeen.set(child, "");
    child.stderr!.on("data", (d) => stderrSeen.set(child, stderrSeen.get(child)! + d));
  }
  return stderrSeen.get(child)!;
}

const project = projectFactory();

// Every failure must still end the process: `stau()` rejects when it does not exit in time.
const EXIT_WITHIN = { timeoutMs: 30_000 };

async function runFailing(fixtures: string[], job: string, extra: string[] = [], options = EXIT_WITHIN) {
  const p = project();
  p.useFixtures(...fixtures);
  const result = await stau(p.dir, ["run", job, "--json", ...WORKERS, ...extra], options);
  return { p, result, out: json(result) };
}

describe("stau run: failures", () => {
  it("fails a job that always throws after all its attempts, with exit 1", async () => {
    const { result, out } = await runFailing(["throws"], "throws");
    expect(result.code, show(result)).toBe(1);
    expect(out.run).toMatchObject({ job: "throws", status: "failed" });
    const chunk = chunkOf(out, "throws");
    expect(chunk).toMatchObject({ status: "failed", attempts: 3 });
    expect(Object.keys(chunk.error).sort()).toEqual(["kind", "message"]);
    expect(chunk.error.kind).toBe("error");
    expect(chunk.error.message).toContain("boom from throws");
  });

  it("retries a flaky job and finishes done on the second attempt", async () => {
    const { result, out } = await runFailing(["flaky"], "flaky");
    expect(result.code, show(result)).toBe(0);
    expect(out.run.status).toBe("done");
    expect(chunkOf(out, "flaky")).toMatchObject({ status: "done", attempts: 2, error: null });
  });

  it("does not retry a NonRetryableError", async () => {
    const { result, out } = await runFailing(["non_retryable"], "non_retryable");
    expect(result.code, show(result)).toBe(1);
    expect(out.run.status).toBe("failed");
    const chunk = chunkOf(out, "non_retryable");
    expect(chunk).toMatchObject({ status: "failed", attempts: 1 });
    expect(chunk.error.kind).toBe("error");
    expect(chunk.error.message).toContain("bad input");
  });

  it("times out a chunk that never finishes, and the process still exits", async () => {
    // timeout "500ms" plus a short abort grace: the whole run ends well within 10s.
    const { result, out } = await runFailing(["hangs"], "hangs", [], { timeoutMs: 10_000 });
    expect(result.code, show(result)).toBe(1);
    expect(out.run.status).toBe("failed");
    const chunk = chunkOf(out, "hangs");
    expect(chunk.status).toBe("failed");
    expect(chunk.error.kind).toBe("timeout");
  });

  it("fails a chunk whose job calls process.exit, naming process.exit", async () => {
    const { result, out } = await runFailing(["exits"], "exits");
    expect(result.code, show(result)).toBe(1);
    const chunk = chunkOf(out, "exits");
    expect(chunk.status).toBe("failed");
    expect(chunk.error.kind).toBe("error");
    expect(chunk.error.message).toContain("process.exit");
  });

  it("fails a chunk that runs out of worker memory, naming memory", async () => {
    const { result, out } = await runFailing(["oom"], "oom", ["--worker-memory", "64"]);
    expect(result.code, show(result)).toBe(1);
    const chunk = chunkOf(out, "oom");
    expect(chunk.status).toBe("failed");
    expect(chunk.error.kind).toBe("error");
    expect(chunk.error.message).toMatch(/memory/i);
  });

  it("fails a chunk whose job throws asynchronously outside run()", async () => {
    const { result, out } = await runFailing(["async_reject"], "async_reject");
    expect(result.code, show(result)).toBe(1);
    const chunk = chunkOf(out, "async_reject");
    expect(chunk.status).toBe("failed");
    expect(chunk.error.kind).toBe("error");
    expect(chunk.error.message).toContain("late async boom");
  });

  // One worker thread: the job's timer fires while another job's chunks run on that thread.
  it.each([
    ["rejects a promise", "void Promise.reject(new Error(\"late rejection from late_job\"))", "late rejection from late_job"],
    ["calls process.exit(0)", "process.exit(0)", "process.exit(0)"],
  ])("charges a job that %s 50 ms after its run() resolved with it, in its own log; other jobs' chunks on the thread finish", async (_what, stray, message) => {
    const p = project({
      "jobs/late_job.ts": `import { defineJob } from "stau";
export default defineJob({ async run() { setTimeout(() => { ${stray}; }, 50); } });
`,
      // Six chunks of 30 ms each: the late job's timer comes due while they run.
      "jobs/many.ts": `import { defineJob } from "stau";
export default defineJob({
  chunkSize: 1,
  dependencies: [{ job: "late_job", maxLag: "1h" }],
  async run({ workIds }) { await new Promise((r) => setTimeout(r, 30)); console.log("many ran", workIds[0]); },
});
`,
    });
    const result = await stau(p.dir, ["run", "many", "--json", "--workers", "1", "--work", "1,2,3,4,5,6"], EXIT_WITHIN);
    expect(result.code, show(result)).toBe(0);
    const out = json(result);
    expect(out.run.status).toBe("done");
    const many = out.chunks.filter((c: any) => c.job === "many");
    expect(many).toHaveLength(6);
    for (const chunk of many) expect(chunk, JSON.stringify(chunk)).toMatchObject({ status: "done", attempts: 1, error: null });
    expect(chunkOf(out, "late_job")).toMatchObject({ status: "done", attempts: 1 });

    const logs = await stau(p.dir, ["logs", "late_job"]);
    expect(logs.code, show(logs)).toBe(0);
    expect(logs.stdout).toContain(message);
    expect(logs.stdout).toMatch(/after this attempt had finished/);
    const manyLogs = await stau(p.dir, ["logs", "many"]);
    expect(manyLogs.stdout).not.toContain(message);
  });

  it("marks chunks that depend on a failed chunk upstream_failed; unrelated chunks finish", async () => {
    const { result, out } = await runFailing(["throws", "succeeds", "needs_throws"], "needs_throws");
    expect(result.code, show(result)).toBe(1);
    expect(out.run).toMatchObject({ job: "needs_throws", status: "failed" });
    expect(chunkOf(out, "throws")).toMatchObject({ status: "failed", attempts: 3, error: { kind: "error" } });
    expect(chunkOf(out, "succeeds")).toMatchObject({ status: "done", attempts: 1, error: null });
    const dependent = chunkOf(out, "needs_throws");
    expect(dependent.status).toBe("upstream_failed");
    expect(dependent.error.kind).toBe("upstream");
    expect(dependent.attempts).toBe(0);
  });

  it("marks only the chunks that need the failed IDs upstream_failed", async () => {
    // fails_on_3 fails on the chunk holding ID 3; the top job's chunk over 5,6 does not need it.
    const { result, out } = await (async () => {
      const p = project();
      p.write(
        "jobs/fails_on_3.ts",
        `import { defineJob, NonRetryableError } from "stau";
export default defineJob({ chunkSize: 2, async run({ workIds }) { if (workIds.includes(3)) throw new NonRetryableError("no 3"); } });
`,
      );
      p.write(
        "jobs/top.ts",
        `import { defineJob } from "stau";
export default defineJob({ chunkSize: 2, dependencies: [{ job: "fails_on_3", maxLag: "1h" }], async run() {} });
`,
      );
      const result = await stau(p.dir, ["run", "top", "--json", "--work", "1,2,3,4,5,6", ...WORKERS], EXIT_WITHIN);
      return { result, out: json(result) };
    })();
    expect(result.code, show(result)).toBe(1);
    const status = (job: string, ids: number[]) => out.chunks.find((c: any) => c.job === job && JSON.stringify(c.workIds) === JSON.stringify(ids))?.status;
    expect(status("fails_on_3", [1, 2])).toBe("done");
    expect(status("fails_on_3", [3, 4])).toBe("failed");
    expect(status("fails_on_3", [5, 6])).toBe("done");
    expect(status("top", [1, 2])).toBe("done");
    expect(status("top", [3, 4])).toBe("upstream_failed");
    expect(status("top", [5, 6])).toBe("done");
  });

  it("fails a job file with a syntax error as a load error naming file:line", async () => {
    const { result, out } = await runFailing(["syntax_error"], "syntax_error");
    expect(result.code, show(result)).toBe(1);
    expect(out.run.status).toBe("failed");
    const chunk = chunkOf(out, "syntax_error");
    expect(chunk.status).toBe("failed");
    expect(chunk.error.kind).toBe("load");
    expect(chunk.error.message).toContain("jobs/syntax_error.ts:5");
    expectNoStackTrace(result);
  });

  it("fails a job that imports a helper with a syntax error as a load error", async () => {
    const { result, out } = await runFailing(["imports_broken", "_syntax_helper"], "imports_broken");
    expect(result.code, show(result)).toBe(1);
    const chunk = chunkOf(out, "imports_broken");
    expect(chunk.status).toBe("failed");
    expect(chunk.error.kind).toBe("load");
    expect(chunk.error.message).toMatch(/syntax error/i);
  });

  // A syntax error in a helper is reported at the helper's file and line, not the job's.
  it("names the helper's file and line when an imported helper has a syntax error", async () => {
    const { out } = await runFailing(["imports_broken", "_syntax_helper"], "imports_broken");
    expect(chunkOf(out, "imports_broken").error.message).toContain("_syntax_helper.ts:3");
  });

  it("fails a job whose dependency has a syntax error as a load error, running nothing", async () => {
    const p = project();
    p.useFixtures("syntax_error", "produces");
    p.write(
      "jobs/needs_broken.ts",
      `import { defineJob } from "stau";
export default defineJob({ dependencies: [{ job: "syntax_error", maxLag: "1h" }, { job: "produces", maxLag: "1h" }], async run() {} });
`,
    );
    const result = await stau(p.dir, ["run", "needs_broken", "--json", ...WORKERS], EXIT_WITHIN);
    expect(result.code, show(result)).toBe(1);
    const out = json(result);
    expect(out.run.status).toBe("failed");
    const load = out.chunks.filter((c: any) => c.error?.kind === "load");
    expect(load.length, JSON.stringify(out.chunks)).toBeGreaterThanOrEqual(1);
    expect(load[0].error.message).toContain("jobs/syntax_error.ts:5");
    expect(out.chunks.some((c: any) => c.status === "done")).toBe(false);
  });

  it("fails a run whose graph has a cycle, naming the cycle", async () => {
    const p = project({
      "jobs/cyc_a.ts": `import { defineJob } from "stau";\nexport default defineJob({ dependencies: [{ job: "cyc_b", maxLag: "1h" }], async run() {} });\n`,
      "jobs/cyc_b.ts": `import { defineJob } from "stau";\nexport default defineJob({ dependencies: [{ job: "cyc_a", maxLag: "1h" }], async run() {} });\n`,
    });
    const result = await stau(p.dir, ["run", "cyc_a", "--json", ...WORKERS], EXIT_WITHIN);
    expect(result.code, show(result)).toBe(1);
    const out = json(result);
    expect(out.run.status).toBe("failed");
    const chunk = chunkOf(out, "cyc_a");
    expect(chunk.status).toBe("failed");
    expect(chunk.error.kind).toBe("load");
    expect(chunk.error.message).toContain("cyc_a → cyc_b → cyc_a");
  });

  it("fails a run whose selectWork throws, with its message", async () => {
    const p = project({
      "jobs/bad_select.ts": `import { defineJob } from "stau";\nexport default defineJob({ async selectWork() { throw new Error("select exploded"); }, async run() {} });\n`,
    });
    const result = await stau(p.dir, ["run", "bad_select", "--json", ...WORKERS], EXIT_WITHIN);
    expect(result.code, show(result)).toBe(1);
    const out = json(result);
    expect(out.run.status).toBe("failed");
    expect(chunkOf(out, "bad_select").status).toBe("failed");
    expect(chunkOf(out, "bad_select").error.message).toContain("select exploded");
  });

  it("runs a good job although another, unrelated job file is broken", async () => {
    const { result, out } = await runFailing(["succeeds", "syntax_error", "imports_broken", "_syntax_helper"], "succeeds");
    expect(result.code, show(result)).toBe(0);
    expect(out.run.status).toBe("done");
  });
});

describe("stau run: interrupts", () => {
  it("lets the running chunk finish on SIGINT, then exits 130", async () => {
    const p = project();
    p.useFixtures("sleeps");
    const child = startStau(p.dir, ["run", "sleeps", "--json", "--kwargs", '{"ms":3000}', ...WORKERS]);
    const done = collect(child, 30_000);
    await until(() => filesIn(join(p.dir, "data", "logs", "sleeps")).length > 0, "the sleeps chunk to start");
    child.kill("SIGINT");
    const result = await done;
    expect(result.code, show(result)).toBe(130);
    expect(chunkOf(json(result), "sleeps").status).toBe("done");
    expectNoStackTrace(result);
  });

  it("stops at once on a second SIGINT", async () => {
    const p = project();
    p.useFixtures("sleeps");
    const child = startStau(p.dir, ["run", "sleeps", "--json", "--kwargs", '{"ms":60000}', ...WORKERS]);
    // Well below the chunk's 60s sleep and the 30s drain: only the second Ctrl+C can end it in time.
    const done = collect(child, 20_000);
    stderrOf(child);
    await until(() => filesIn(join(p.dir, "data", "logs", "sleeps")).length > 0, "the sleeps chunk to start");
    child.kill("SIGINT");
    await until(() => /stopping/.test(stderrOf(child)), "stau to say it is stopping");
    child.kill("SIGINT");
    const result = await done;
    expect(result.code, show(result)).toBe(130);
  });
});
