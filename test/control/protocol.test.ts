import { describe, expect, it } from "vitest";
import { databaseOrders, type CommandQueue } from "../../src/control/database-orders.js";
import { parseControlRequest, type ControlRequest, type ControlResponse } from "../../src/control/protocol.js";
import { UsageError } from "../../src/errors.js";

describe("parseControlRequest", () => {
  it("passes every well-formed request, leaving unknown fields out", () => {
    const requests: ControlRequest[] = [
      { cmd: "trigger", job: "a" },
      { cmd: "trigger", job: "a", kwargs: { window: "1d" }, workIds: [1, "b"], source: "cli" },
      { cmd: "trigger", job: "a", workIds: null },
      { cmd: "retry", run: "r1" },
      { cmd: "cancel", run: "r1" },
      { cmd: "rerun", run: "r1" },
      { cmd: "pause" },
      { cmd: "resume" },
      { cmd: "status" },
      { cmd: "status", runs: false },
    ];
    for (const request of requests) expect(parseControlRequest(JSON.parse(JSON.stringify(request)))).toEqual(request);
    expect(parseControlRequest({ cmd: "status", extra: 1 })).toEqual({ cmd: "status" });
  });

  it("refuses a field of the wrong type with a UsageError naming the field and the value", () => {
    const cases: [unknown, string][] = [
      [null, "received null"],
      [[1], "received [1]"],
      [{ cmd: "nope" }, 'cmd must be one of "trigger"'],
      [{}, "cmd must be"],
      [{ cmd: "trigger" }, "job must be a job name (a string), received nothing"],
      [{ cmd: "trigger", job: "" }, 'job must be a job name (a string), received ""'],
      [{ cmd: "trigger", job: "a", kwargs: "x=1" }, 'kwargs must be a JSON object, received "x=1"'],
      [{ cmd: "trigger", job: "a", kwargs: null }, "kwargs must be a JSON object, received null"],
      [{ cmd: "trigger", job: "a", workIds: "abc" }, 'workIds must be an array of strings and numbers, or null, received "abc"'],
      [{ cmd: "trigger", job: "a", workIds: [1, true] }, "workIds must be an array of strings and numbers, or null, received [1,true]"],
      [{ cmd: "trigger", job: "a", workIds: {} }, "workIds must be an array of strings and numbers, or null, received {}"],
      [{ cmd: "trigger", job: "a", source: "robot" }, 'source must be "cli", "console", "trigger", received "robot"'],
      [{ cmd: "retry" }, "run must be a run id (a string), received nothing"],
      [{ cmd: "cancel", run: 12 }, "run must be a run id (a string), received 12"],
      [{ cmd: "status", runs: true }, "runs must be false (or left out), received true"],
    ];
    for (const [value, message] of cases) {
      expect(() => parseControlRequest(value), JSON.stringify(value)).toThrow(UsageError);
      expect(() => parseControlRequest(value), JSON.stringify(value)).toThrow(message);
    }
  });

  it("refuses NaN and Infinity among work IDs", () => {
    expect(() => parseControlRequest({ cmd: "trigger", job: "a", workIds: [1, Number.NaN] })).toThrow("workIds");
    expect(() => parseControlRequest({ cmd: "trigger", job: "a", workIds: [Infinity] })).toThrow("workIds");
  });
});

/** A commands table in memory: rows as anything with access to the table may have written them. */
function memoryCommands(rows: unknown[]) {
  const answers = new Map<number, ControlResponse>();
  let taken = false;
  const queue: CommandQueue = {
    location: "memory",
    submit: async () => 0,
    take: async () => {
      if (taken) return [];
      taken = true;
      return rows.map((request, id) => ({ id, request: request as ControlRequest }));
    },
    answer: async (id, response) => void answers.set(id, response),
    withdraw: async () => false,
    answerOf: async () => null,
    anyoneAlive: async () => true,
    listen: async () => () => undefined,
  };
  return { queue, answers };
}

describe("orders through the commands table", () => {
  it("answers a row of the wrong shape with the error and never hands it on", async () => {
    const { queue, answers } = memoryCommands([{ cmd: "trigger", job: "a", workIds: "abc" }, { cmd: "status" }]);
    const handled: ControlRequest[] = [];
    const stop = await databaseOrders(queue).serve(async (request) => (handled.push(request), "ok"), { by: "test", warn: () => undefined });
    await stop();
    expect(handled).toEqual([{ cmd: "status" }]);
    expect(answers.get(0)).toEqual({ ok: false, error: expect.objectContaining({ exitCode: 2, message: expect.stringContaining('workIds must be an array of strings and numbers, or null, received "abc"') }) });
    expect(answers.get(1)).toEqual({ ok: true, result: "ok" });
  });
});
