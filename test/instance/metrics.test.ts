import { createServer } from "node:net";
import { join } from "node:path";
import parsePrometheus from "parse-prometheus-text-format";
import { describe, expect, it } from "vitest";
import { openOrders } from "../../src/store/open.js";
import { projectFactory, show } from "../helpers/cli.js";
import { instancesKilledAfterEach, startInstance, type RunningStau } from "../helpers/instance.js";
import { schemasDroppedAfterAll, describePg, TEST_DATABASE_URL, testSchema } from "../helpers/pg.js";
import { json, stau } from "../helpers/project.js";

// GET /metrics on --health-port, read by an independent parser of the Prometheus text
// format (not prom-client, which writes it).

const project = projectFactory();
const instances = instancesKilledAfterEach();
const schemas = schemasDroppedAfterAll();

/** A port nothing listens on now. */
async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as { port: number };
  await new Promise((resolve) => server.close(resolve));
  return port;
}

type Family = { name: string; type: string; metrics: { value?: string; labels?: Record<string, string>; buckets?: Record<string, string>; count?: string; sum?: string }[] };

/** The families parsed, and the text (the parser folds a histogram's labelled series into one: those are read from the lines). */
async function scrape(port: number): Promise<Map<string, Family> & { text: string }> {
  const response = await fetch(`http://127.0.0.1:${port}/metrics`);
  expect(response.status).toBe(200);
  expect(response.headers.get("content-type")).toMatch(/^text\/plain; version=0\.0\.4/);
  const text = await response.text();
  const families: Family[] = parsePrometheus(text);
  return Object.assign(new Map(families.map((f) => [f.name, f])), { text });
}

/** A sample line's value, read from the text as Prometheus writes it: `name{labels} value`. */
function line(text: string, name: string, labels: string): number | undefined {
  const found = text.split("\n").find((l) => l.startsWith(`${name}{`) && l.includes(labels));
  return found === undefined ? undefined : Number(found.slice(found.lastIndexOf(" ") + 1));
}

/** The value of the sample of `name` whose labels include `labels`. */
function sample(families: Map<string, Family>, name: string, labels: Record<string, string> = {}): number | undefined {
  const found = families.get(name)?.metrics.find((m) => Object.entries(labels).every(([k, v]) => m.labels?.[k] === v));
  return found?.value === undefined ? undefined : Number(found.value);
}

async function started(args: string[], env: Record<string, string> = {}, dir: string): Promise<RunningStau> {
  const instance = startInstance(dir, args, env);
  instances.push(instance);
  await instance.waitFor((e) => e.event === "instance:started", "the instance to start");
  return instance;
}

describe("GET /metrics", () => {
  it("serves the families of a stau instance: chunks finished per job and state, durations, workers, runs, last success, schedule", async () => {
    const p = project({ "stau.schedule.ts": `import { defineSchedule } from "stau";\nexport default defineSchedule([{ id: "every-second", job: "succeeds", cron: "* * * * * *" }]);\n` });
    p.useFixtures("succeeds", "throws");
    const port = await freePort();
    const instance = await started(["--health-port", String(port)], {}, p.dir);
    const failed = json(await stau(p.dir, ["trigger", "throws", "--json"])).run.id;
    await instance.waitFor((e) => e.event === "run:finished" && e.run === failed, "the throws run to end");
    // Two fires, so one overlaps or not: at least one run of the schedule ended.
    await instance.waitFor((e) => e.event === "run:finished" && e.job === "succeeds", "a scheduled run to end");

    const families = await scrape(port);
    expect(families.get("stau_chunks_finished_total")?.type).toBe("COUNTER");
    expect(sample(families, "stau_chunks_finished_total", { job: "throws", state: "retrying" })).toBe(2);
    expect(sample(families, "stau_chunks_finished_total", { job: "throws", state: "failed" })).toBe(1);
    expect(sample(families, "stau_chunks_finished_total", { job: "succeeds", state: "done" })).toBeGreaterThanOrEqual(1);

    expect(families.get("stau_chunk_duration_seconds")?.type).toBe("HISTOGRAM");
    expect(line(families.text, "stau_chunk_duration_seconds_count", 'job="throws"')).toBe(3);
    expect(line(families.text, "stau_chunk_duration_seconds_bucket", 'le="+Inf",job="throws"')).toBe(3);
    expect(line(families.text, "stau_chunk_duration_seconds_sum", 'job="throws"')).toBeGreaterThanOrEqual(0);

    expect(sample(families, "stau_workers_total")).toBe(2);
    expect(sample(families, "stau_workers_busy")).toBeGreaterThanOrEqual(0);
    expect(sample(families, "stau_runs_finished_total", { job: "throws", status: "failed" })).toBe(1);
    expect(sample(families, "stau_runs_finished_total", { job: "succeeds", status: "done" })).toBeGreaterThanOrEqual(1);
    expect(families.get("stau_chunks")?.type).toBe("GAUGE");
    expect(families.get("stau_chunks")!.metrics.map((m) => m.labels?.state).sort()).toEqual(["pending", "queued", "running"]);
    const lastSuccess = sample(families, "stau_job_last_success_timestamp_seconds", { job: "succeeds" })!;
    expect(lastSuccess * 1000).toBeGreaterThan(Date.now() - 60_000);
    expect(sample(families, "stau_job_last_success_timestamp_seconds", { job: "throws" })).toBeUndefined();
    expect(sample(families, "stau_schedule_fires_total", { entry: "every-second" })).toBeGreaterThanOrEqual(1);
    // Not a shared store: no copies to count.
    expect(families.has("stau_copies_alive")).toBe(false);
    // /healthz is unchanged beside it.
    expect((await fetch(`http://127.0.0.1:${port}/healthz`)).status).toBe(200);

    // Ticks of a paused schedule are skipped, counted by the kind the scheduler gave them.
    const { orders, close } = await openOrders({ dataDir: join(p.dir, "data"), database: null });
    await orders.call({ cmd: "pause" });
    await close();
    const skipped = await instance.waitFor((e) => e.event === "schedule:skipped", "a tick skipped while paused");
    expect(skipped).toMatchObject({ entryId: "every-second", kind: "paused" });
    expect(sample(await scrape(port), "stau_schedule_skips_total", { entry: "every-second", reason: "paused" })).toBeGreaterThanOrEqual(1);
  });
});

describePg("GET /metrics on a shared store", () => {
  it("each copy serves its own families; the orchestrating one also the run-level ones", async () => {
    const schema = testSchema("metrics");
    schemas.push(schema);
    const p = project();
    p.useFixtures("succeeds");
    const env = { STAU_DATABASE_URL: TEST_DATABASE_URL!, STAU_DATABASE_SCHEMA: schema };
    const [firstPort, secondPort] = [await freePort(), await freePort()];
    const first = await started(["--health-port", String(firstPort)], env, p.dir);
    await first.waitFor((e) => e.event === "instance:orchestrating", "the first copy to orchestrate");
    await started(["--health-port", String(secondPort)], env, p.dir);
    const trigger = await stau(p.dir, ["trigger", "succeeds", "--json"], { env });
    expect(trigger.code, show(trigger)).toBe(0);
    await first.waitFor((e) => e.event === "run:finished", "the run to end");

    const [leading, working] = [await scrape(firstPort), await scrape(secondPort)];
    expect(sample(leading, "stau_orchestrating")).toBe(1);
    expect(sample(working, "stau_orchestrating")).toBe(0);
    for (const families of [leading, working]) {
      expect(sample(families, "stau_copies_alive")).toBe(2);
      expect(sample(families, "stau_workers_total")).toBe(2);
    }
    expect(sample(leading, "stau_runs_finished_total", { job: "succeeds", status: "done" })).toBe(1);
    expect(working.has("stau_runs_finished_total")).toBe(false);
    expect(working.has("stau_chunks")).toBe(false);
    // The chunk ran on one of the two: counted once between them.
    const done = (families: Map<string, Family>) => sample(families, "stau_chunks_finished_total", { job: "succeeds", state: "done" }) ?? 0;
    expect(done(leading) + done(working)).toBe(1);
  });
});
