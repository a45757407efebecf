import { readFileSync } from "node:fs";
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { projectFactory, show, until } from "../helpers/cli.js";
import { instancesKilledAfterEach, startInstance, type RunningStau } from "../helpers/instance.js";
import { schemasDroppedAfterAll, describePg, TEST_DATABASE_URL, testSchema } from "../helpers/pg.js";
import { json, stau } from "../helpers/project.js";

// Notifications from stau.config.ts: webhooks received by a local HTTP server, a
// command given the event on stdin, a webhook that never answers slowing nothing, and
// on a shared store each notification sent by one copy.

const project = projectFactory();
const instances = instancesKilledAfterEach();
const servers: Server[] = [];
const schemas = schemasDroppedAfterAll();

afterEach(async () => {
  for (const server of servers.splice(0)) {
    server.closeAllConnections();
    await new Promise((resolve) => server.close(resolve));
  }
});

/** A local receiver: every POST's JSON body, answered by `answer` (which may never answer). */
async function receiver(answer: (response: ServerResponse, body: any) => void = (response) => response.end("ok")): Promise<{ url: string; bodies: any[] }> {
  const bodies: any[] = [];
  const server = createServer((request: IncomingMessage, response) => {
    let text = "";
    request.on("data", (d) => (text += d));
    request.on("end", () => {
      const body = JSON.parse(text);
      bodies.push({ ...body, contentType: request.headers["content-type"], auth: request.headers.authorization });
      answer(response, body);
    });
  });
  servers.push(server);
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  return { url: `http://127.0.0.1:${(server.address() as { port: number }).port}/hook`, bodies };
}

const config = (rules: string) => `import { defineConfig } from "stau";\nexport default defineConfig({ notify: [${rules}] });\n`;

async function started(dir: string, env: Record<string, string> = {}): Promise<RunningStau> {
  const instance = startInstance(dir, [], env);
  instances.push(instance);
  await instance.waitFor((e) => e.event === "instance:started", "the instance to start");
  return instance;
}

describe("notifications", () => {
  it("POSTs a failed run to a webhook with the job, the error and a Slack-compatible text, and not a successful one", async () => {
    const hook = await receiver();
    const p = project();
    p.write("stau.config.ts", config(`{ on: "run:failed", webhook: ${JSON.stringify(hook.url)}, headers: { authorization: "Bearer t0ken" } }, { on: "run:done", jobs: ["throws"], webhook: ${JSON.stringify(hook.url)} }`));
    p.useFixtures("throws", "succeeds");
    const instance = await started(p.dir);
    const ok = json(await stau(p.dir, ["trigger", "succeeds", "--json"])).run.id;
    await instance.waitFor((e) => e.event === "run:finished" && e.run === ok, "the successful run to end");
    const failed = json(await stau(p.dir, ["trigger", "throws", "--json"])).run.id;
    await until(() => hook.bodies.length > 0, "the webhook to be called");
    // Deliveries go in the order events happen: the successful run, had it been sent, came first.
    expect(hook.bodies).toHaveLength(1);
    const [body] = hook.bodies;
    expect(body).toMatchObject({
      event: "run:failed",
      job: "throws",
      project: expect.any(String),
      run: { id: failed, job: "throws", status: "failed", trigger: "trigger" },
      chunk: { job: "throws", status: "failed", attempts: 3 },
      error: { kind: "error", message: "boom from throws", stack: expect.stringContaining("throws.ts") },
      contentType: "application/json",
      auth: "Bearer t0ken",
    });
    expect(body.text).toContain(`run ${failed} of *throws* failed`);
    expect(body.text).toContain("boom from throws");
    expect(Date.parse(body.time)).toBeGreaterThan(0);
  });

  it("a webhook that never answers slows no chunk, is retried after its timeout, and is logged, never fatal", async () => {
    const hook = await receiver(() => undefined);
    const p = project({ "stau.config.ts": config(`{ on: ["chunk:failed", "chunk:retrying"], webhook: ${JSON.stringify(hook.url)}, timeout: "300ms", retries: 1 }`) });
    p.useFixtures("throws", "succeeds");
    const instance = await started(p.dir);
    const failed = json(await stau(p.dir, ["trigger", "throws", "--json"])).run.id;
    await instance.waitFor((e) => e.event === "run:finished" && e.run === failed, "the failing run to end");
    // Three attempts failed, each notified; the receiver holds every request open.
    await until(() => hook.bodies.length >= 3, "three webhook calls");
    const ok = json(await stau(p.dir, ["trigger", "succeeds", "--json"])).run.id;
    const done = await instance.waitFor((e) => e.event === "run:finished" && e.run === ok, "the next run to end");
    expect(done.status).toBe("done");
    expect(hook.bodies.slice(0, 3).map((b) => b.event)).toEqual(["chunk:retrying", "chunk:retrying", "chunk:failed"]);
    const warning = await instance.waitFor((e) => e.event === "warning" && /notification chunk:\w+ to webhook http:\/\/127\.0\.0\.1:\d+ failed after 2 tries: .*(timeout|aborted)/i.test(e.message), "the failed delivery to be logged");
    expect(warning.message).not.toContain("/hook");
    expect((await stau(p.dir, ["status", "--json"])).code).toBe(0);
  });

  it("runs a command with the event's JSON on stdin", async () => {
    const p = project({
      "stau.config.ts": config(`{ on: "run:failed", command: "cat > notified.json" }`),
    });
    p.useFixtures("throws");
    const instance = await started(p.dir);
    const failed = json(await stau(p.dir, ["trigger", "throws", "--json"])).run.id;
    await instance.waitFor((e) => e.event === "run:finished" && e.run === failed, "the run to end");
    let body: any = null;
    await until(() => {
      try {
        body = JSON.parse(readFileSync(join(p.dir, "notified.json"), "utf8"));
        return true;
      } catch {
        return false;
      }
    }, "the command to write the event");
    expect(body).toMatchObject({ event: "run:failed", job: "throws", run: { id: failed }, error: { message: "boom from throws" } });
  });

  it("says a job is stale once its last success is older than its alertAfter", async () => {
    const hook = await receiver();
    const p = project({ "stau.config.ts": config(`{ on: "job:stale", webhook: ${JSON.stringify(hook.url)} }`) });
    p.write("jobs/nightly.ts", `import { defineJob } from "stau";\nexport default defineJob({ alertAfter: "1s", run() {} });\n`);
    const instance = await started(p.dir);
    const run = json(await stau(p.dir, ["trigger", "nightly", "--json"])).run.id;
    await instance.waitFor((e) => e.event === "run:finished" && e.run === run, "the run to end");
    // On a slow start the job may first be stale for never having succeeded: the one that counts names its success.
    await until(() => hook.bodies.some((b) => b.lastSuccess), "a job:stale notification since its success");
    const since = hook.bodies.find((b) => b.lastSuccess);
    expect(since).toMatchObject({ event: "job:stale", job: "nightly", alertAfterMs: 1000, lastSuccess: expect.any(String) });
    expect(since.text).toContain("*nightly* is stale");
  });

  it("refuses to start with an invalid stau.config.ts, naming the field; stau validate reports it", async () => {
    const p = project({ "stau.config.ts": config(`{ on: "run:exploded", webhook: "ftp://x" }`) });
    p.useFixtures("succeeds");
    const start = await stau(p.dir, ["start", "--no-ui", "--workers", "1"]);
    expect(start.code, show(start)).toBe(2);
    expect(start.stderr).toContain("stau.config.ts");
    expect(start.stderr).toMatch(/notify\.0\.on: /);
    expect(start.stderr).toMatch(/notify\.0\.webhook: .*http/);
    const validate = await stau(p.dir, ["validate", "--json"]);
    expect(validate.code, show(validate)).toBe(1);
    expect(json(validate).config).toMatchObject({ ok: false, error: expect.stringContaining("notify.0.on") });
  });
});

describePg("notifications on a shared store", () => {
  it("are sent by one copy: a failed run once, each failed attempt once", async () => {
    const hook = await receiver();
    const schema = testSchema("notify");
    schemas.push(schema);
    const p = project({ "stau.config.ts": config(`{ on: ["run:failed", "chunk:failed"], webhook: ${JSON.stringify(hook.url)} }`) });
    p.useFixtures("throws");
    const env = { STAU_DATABASE_URL: TEST_DATABASE_URL!, STAU_DATABASE_SCHEMA: schema };
    const first = await started(p.dir, env);
    await first.waitFor((e) => e.event === "instance:orchestrating", "the first copy to orchestrate");
    await started(p.dir, env);
    const runs: string[] = [];
    for (let i = 0; i < 2; i++) runs.push(json(await stau(p.dir, ["trigger", "throws", "--json"], { env })).run.id);
    await until(() => runs.every((id) => hook.bodies.some((b) => b.event === "run:failed" && b.run.id === id)), "both runs' notifications");
    // The second run's notification came after the first's: a duplicate of the first would have too.
    const second = hook.bodies.findIndex((b) => b.event === "run:failed" && b.run.id === runs[1]);
    const before = hook.bodies.slice(0, second + 1);
    expect(before.filter((b) => b.event === "run:failed" && b.run.id === runs[0])).toHaveLength(1);
    expect(before.filter((b) => b.event === "chunk:failed" && b.run.id === runs[0])).toHaveLength(1);
  });
});
