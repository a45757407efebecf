import { readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { chunkOf, filesIn, projectFactory, show, WORKERS } from "../helpers/cli.js";
import { json, startStau, stau } from "../helpers/project.js";

const project = projectFactory();
// `stau logs` writes a line as the console does: local time, `[job.N#attempt]` (the chunk without its run id), level, text.
const CLOCK = "\\d{2}:\\d{2}:\\d{2}";
const tag = (chunkId: string, attempt: number) => `[${chunkId.slice(chunkId.indexOf(".") + 1)}#${attempt}]`;
const escape = (text: string) => text.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
const ISO = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/;

describe("stau logs", () => {
  it("prints the lines a job wrote, tagged with chunk and attempt", async () => {
    const p = project();
    p.useFixtures("succeeds");
    const run = await stau(p.dir, ["run", "succeeds", "--json", ...WORKERS]);
    expect(run.code, show(run)).toBe(0);
    const chunkId = chunkOf(json(run), "succeeds").id;

    const logs = await stau(p.dir, ["logs", "succeeds"]);
    expect(logs.code, show(logs)).toBe(0);
    const lines = logs.stdout.trim().split("\n");
    expect(lines.find((l) => l.includes("succeeds: hello from console.log"))).toBeDefined();
    expect(lines.find((l) => l.includes("succeeds: hello from ctx.log"))).toBeDefined();
    expect(lines.find((l) => l.includes("succeeds: done with 0 work IDs"))).toBeDefined();
    for (const line of lines) expect(line, line).toMatch(new RegExp(`^${CLOCK} ${escape(tag(chunkId, 1))} `));
  });

  it("follows a running run with -f until Ctrl+C, then exits 130 as an interrupted command does (it ends with the run otherwise)", async () => {
    const p = project({
      "jobs/waits.ts": `import { defineJob } from "stau";
export default defineJob({
  async run({ log, signal }) {
    log("hello from ctx.log");
    await new Promise((resolve) => signal.addEventListener("abort", resolve));
  },
});
`,
    });
    const running = startStau(p.dir, ["run", "waits", ...WORKERS]);
    const child = await (async () => {
      // The run's first line is in its log file once `stau logs` prints it.
      for (;;) {
        const follow = startStau(p.dir, ["logs", "waits", "-f"]);
        const first = await new Promise<string>((resolve) => {
          let out = "";
          follow.stdout!.on("data", (data: Buffer) => {
            out += data.toString();
            if (out.includes("hello from ctx.log")) resolve(out);
          });
          follow.on("exit", () => resolve(out));
        });
        if (first.includes("hello from ctx.log")) return follow;
      }
    })();
    const exited = new Promise<number | null>((resolve) => child.on("exit", (code) => resolve(code)));
    child.kill("SIGINT");
    expect(await exited).toBe(130);
    running.kill("SIGKILL");
  });

  it("never lets a job's console output reach stau run's stdout or stderr", async () => {
    const p = project();
    p.useFixtures("succeeds", "throws");
    for (const args of [["run", "succeeds", "--json"], ["run", "throws"]]) {
      const result = await stau(p.dir, [...args, ...WORKERS]);
      expect(result.code, show(result)).not.toBeNull();
      expect(result.stdout + result.stderr, show(result)).not.toContain("hello from");
      expect(result.stdout + result.stderr, show(result)).not.toContain("attempt 1 starting");
    }
  });

  it("captures console.table and console.count in the chunk's log", async () => {
    const p = project();
    p.useFixtures("console_dir");
    const run = await stau(p.dir, ["run", "console_dir", ...WORKERS]);
    expect(run.code, show(run)).toBe(0);
    expect(run.stdout + run.stderr).not.toContain("console.table");
    expect(run.stdout + run.stderr).not.toContain("via console.count");
    const logs = await stau(p.dir, ["logs", "console_dir"]);
    expect(logs.stdout).toContain("'console.table'");
    expect(logs.stdout).toContain("via console.count: 1");
  });

  // console.dir writes to the worker's stdout unless captured; it must reach the chunk log.
  it("keeps console.dir out of stau run's output and in the chunk's log", async () => {
    const p = project();
    p.useFixtures("console_dir");
    const run = await stau(p.dir, ["run", "console_dir", "--json", ...WORKERS]);
    expect(run.stdout + run.stderr).not.toContain("console.dir");
    expect(json(run).run.status).toBe("done");
    const logs = await stau(p.dir, ["logs", "console_dir"]);
    expect(logs.stdout).toContain("console.dir");
  });

  it("keeps one log file per attempt of a failing chunk", async () => {
    const p = project();
    p.useFixtures("throws");
    const run = await stau(p.dir, ["run", "throws", "--json", ...WORKERS]);
    expect(run.code, show(run)).toBe(1);
    const chunkId = chunkOf(json(run), "throws").id;

    const files = filesIn(join(p.dir, "data", "logs", "throws"));
    expect(files).toHaveLength(3);
    for (const attempt of [1, 2, 3]) {
      const file = files.find((f) => f.endsWith(`.${attempt}.log`));
      expect(file, files.join(", ")).toBeDefined();
      expect(readFileSync(join(p.dir, "data", "logs", "throws", file!), "utf8")).toContain(`throws: attempt ${attempt} starting`);
    }

    const logs = await stau(p.dir, ["logs", "throws"]);
    expect(logs.code, show(logs)).toBe(0);
    for (const attempt of [1, 2, 3]) {
      expect(logs.stdout).toMatch(new RegExp(`^${CLOCK} ${escape(tag(chunkId, attempt))} .*throws: attempt ${attempt} starting$`, "m"));
    }
  });

  it("shows logs of a given --run, and says so when a job has no runs", async () => {
    const p = project();
    p.useFixtures("flaky", "succeeds");
    const first = json(await stau(p.dir, ["run", "flaky", "--json", ...WORKERS]));
    const second = await stau(p.dir, ["run", "flaky", "--json", ...WORKERS]);
    expect(second.code, show(second)).toBe(0);

    const logs = await stau(p.dir, ["logs", "flaky", "--run", first.run.id]);
    expect(logs.code, show(logs)).toBe(0);
    const tags = logs.stdout.trim().split("\n").map((l) => l.split(" ")[1]);
    expect(new Set(tags)).toEqual(new Set([tag(first.chunks[0].id, 1), tag(first.chunks[0].id, 2)]));

    const none = await stau(p.dir, ["logs", "succeeds"]);
    expect(none.code, show(none)).toBe(0);
    expect(none.stdout).toMatch(/no runs of succeeds/);

    const unknownRun = await stau(p.dir, ["logs", "flaky", "--run", "r-does-not-exist"]);
    expect(unknownRun.code, show(unknownRun)).toBe(2);
    expect(unknownRun.stderr).toContain("r-does-not-exist");
  });

  it("keeps a retried attempt's error and stack in its log, though the retry succeeded", async () => {
    const p = project();
    p.useFixtures("flaky");
    const run = await stau(p.dir, ["run", "flaky", "--json", ...WORKERS]);
    expect(run.code, show(run)).toBe(0);
    const chunk = chunkOf(json(run), "flaky");
    expect(chunk).toMatchObject({ status: "done", attempts: 2, error: null });

    const logs = await stau(p.dir, ["logs", "flaky"]);
    expect(logs.code, show(logs)).toBe(0);
    const first = logs.stdout.split("\n").filter((l) => l.includes(` ${tag(chunk.id, 1)} `));
    const failed = first.findIndex((l) => /error +\[stau\] attempt 1 failed \(error\): flaky first attempt$/.test(l));
    expect(failed, logs.stdout).toBeGreaterThan(0);
    expect(first[failed - 1]).toContain("flaky: attempt 1");
    expect(first.slice(failed + 1).some((l) => /error +at .*flaky\.ts:\d+/.test(l)), logs.stdout).toBe(true);
    const second = logs.stdout.split("\n").filter((l) => l.includes(` ${tag(chunk.id, 2)} `));
    expect(second.join("\n")).toContain("flaky: attempt 2");
    expect(second.join("\n")).not.toContain("failed");
  });

  it("captures every line of a chatty chunk and tails them in stau logs", async () => {
    const p = project();
    p.useFixtures("chatty");
    const run = await stau(p.dir, ["run", "chatty", "--json", ...WORKERS]);
    expect(run.code, show(run)).toBe(0);
    const files = filesIn(join(p.dir, "data", "logs", "chatty"));
    expect(files).toHaveLength(1);
    const text = readFileSync(join(p.dir, "data", "logs", "chatty", files[0]!), "utf8");
    const lines = text.trim().split("\n");
    expect(lines).toHaveLength(2000);
    expect(lines[0]).toContain("line 1 x");
    expect(lines[1999]).toContain("line 2000 x");
    expect(text).not.toContain("log cap");

    const tail = await stau(p.dir, ["logs", "chatty"]);
    expect(tail.code, show(tail)).toBe(0);
    const shown = tail.stdout.trim().split("\n");
    expect(shown).toHaveLength(200);
    expect(shown[199]).toContain("line 2000 x");

    const all = await stau(p.dir, ["logs", "chatty", "--tail", "5000"]);
    expect(all.stdout.trim().split("\n")).toHaveLength(2000);
  });

  it("caps a chunk's log and says so", async () => {
    const p = project();
    p.useFixtures("chatty");
    // 30,000 lines of ~100 bytes: about 3 MiB, well past the 1 MiB cap.
    const run = await stau(p.dir, ["run", "chatty", "--json", "--kwargs", '{"lines":30000,"width":60}', ...WORKERS]);
    expect(run.code, show(run)).toBe(0);
    expect(json(run).run.status).toBe("done");
    const files = filesIn(join(p.dir, "data", "logs", "chatty"));
    expect(files).toHaveLength(1);
    const text = readFileSync(join(p.dir, "data", "logs", "chatty", files[0]!), "utf8");
    expect(text).toContain("log cap");
    expect(text).not.toContain("line 30000 ");
    expect(text).toContain("line 1 x");
    expect(text.split("\n").filter((l) => l.includes("log cap"))).toHaveLength(1);
    expect(text.trim().split("\n").at(-1)).toContain("log cap");
    // The job's text is capped at 1 MiB; timestamps and levels come on top of it.
    expect(Buffer.byteLength(text)).toBeLessThan(2 * 1024 * 1024);
  });
});

describe("stau runs", () => {
  it("lists runs newest first with exactly the contract's keys", async () => {
    const p = project();
    p.useFixtures("succeeds", "throws");
    const empty = await stau(p.dir, ["runs", "--json"]);
    expect(empty.code, show(empty)).toBe(0);
    expect(json(empty)).toEqual([]);

    const ok = json(await stau(p.dir, ["run", "succeeds", "--json", ...WORKERS]));
    const bad = json(await stau(p.dir, ["run", "throws", "--json", ...WORKERS]));

    const result = await stau(p.dir, ["runs", "--json"]);
    expect(result.code, show(result)).toBe(0);
    const runs = json<any[]>(result);
    expect(runs.map((r) => r.id)).toEqual([bad.run.id, ok.run.id]);
    for (const run of runs) {
      expect(Object.keys(run).sort()).toEqual(["chunks", "createdAt", "finishedAt", "id", "interrupted", "job", "states", "status", "trigger"]);
      expect(Object.keys(run.chunks).sort()).toEqual(["done", "failed", "queued", "running"]);
      expect(run.createdAt).toMatch(ISO);
      expect(run.finishedAt).toMatch(ISO);
      expect(Date.parse(run.finishedAt)).toBeGreaterThanOrEqual(Date.parse(run.createdAt));
      expect(run.trigger).toBe("cli");
    }
    expect(runs[0]).toMatchObject({ job: "throws", status: "failed", chunks: { done: 0, running: 0, queued: 0, failed: 1 } });
    expect(runs[1]).toMatchObject({ job: "succeeds", status: "done", chunks: { done: 1, running: 0, queued: 0, failed: 0 } });
    expect(Date.parse(runs[0].createdAt)).toBeGreaterThanOrEqual(Date.parse(runs[1].createdAt));

    const limited = await stau(p.dir, ["runs", "--json", "--limit", "1"]);
    expect(json<any[]>(limited).map((r) => r.id)).toEqual([bad.run.id]);

    const text = await stau(p.dir, ["runs"]);
    expect(text.code, show(text)).toBe(0);
    expect(text.stdout.indexOf(bad.run.id)).toBeLessThan(text.stdout.indexOf(ok.run.id));
    expect(text.stdout.indexOf(bad.run.id)).toBeGreaterThanOrEqual(0);
  });

  it("tells chunks that failed from chunks that never ran: the text names upstream_failed ones apart, the JSON adds each state's count", async () => {
    const p = project({
      "jobs/source.ts": `import { defineJob } from "stau";
export default defineJob({ chunkSize: 1, selectWork: () => [1, 2], run({ workIds }) { if (workIds[0] === 2) throw new Error("no data for 2"); } });
`,
      "jobs/report.ts": `import { defineJob } from "stau";
export default defineJob({ chunkSize: 1, selectWork: () => [1, 2], dependencies: [{ job: "source", maxLag: "1h" }], run() {} });
`,
    });
    const run = await stau(p.dir, ["run", "report", "--json", ...WORKERS]);
    expect(run.code, show(run)).toBe(1);
    const [listed] = json<any[]>(await stau(p.dir, ["runs", "--json"]));
    // The bucket the contract names stays as it was; `states` says which is which.
    expect(listed.chunks).toEqual({ done: 2, running: 0, queued: 0, failed: 2 });
    expect(listed.states).toEqual({ done: 2, failed: 1, upstream_failed: 1 });
    const text = await stau(p.dir, ["runs"]);
    expect(text.stdout).toContain("done 2 running 0 queued 0 failed 1 upstream_failed 1\n");
  });

  it("counts upstream_failed chunks as failed", async () => {
    const p = project();
    p.useFixtures("succeeds", "throws", "needs_throws");
    const run = json(await stau(p.dir, ["run", "needs_throws", "--json", ...WORKERS]));
    const [listed] = json<any[]>(await stau(p.dir, ["runs", "--json"]));
    expect(listed.id).toBe(run.run.id);
    expect(listed.chunks).toEqual({ done: 1, running: 0, queued: 0, failed: 2 });
  });
});
