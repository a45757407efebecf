import { PassThrough } from "node:stream";
import { describe, expect, test } from "vitest";
import { EventBus } from "../../src/events.js";
import { attachLogLines } from "../../src/headless/log-lines.js";
import type { ChunkRecord } from "../../src/store/records.js";

// The pretty lines of --no-ui: what an operator reads, with the console's clock.

const AT = new Date(2026, 0, 5, 9, 4, 7, 6).getTime();

const chunk = (extra: Partial<ChunkRecord>): ChunkRecord => ({
  id: "r1.score.0", runId: "r1", job: "score", kwargs: {}, kwargsKey: "{}", workIds: [1, 2], dependsOn: [], state: "failed",
  attempts: 1, error: null, startedAt: AT - 5000, finishedAt: AT, notBefore: null, owner: "me", token: null, ...extra,
});

/** The pretty lines written for `emit`'s events. */
async function pretty(emit: (events: EventBus) => void): Promise<string[]> {
  const events = new EventBus();
  const out = new PassThrough();
  let text = "";
  out.on("data", (data) => (text += data));
  const detach = attachLogLines(events, "pretty", out, () => AT);
  emit(events);
  detach();
  return text.trim().split("\n");
}

describe("pretty log lines", () => {
  test("an operator's cancel of a running chunk is a warning that says cancelled, not an ERROR that says failed", async () => {
    const error = { message: "cancelled by an operator", kind: "cancelled" as const };
    const [line] = await pretty((events) => events.emit("chunk:failed", { chunk: chunk({ state: "cancelled", error }), error, willRetry: false, durationMs: 800 }));
    expect(line).toBe("09:04:07.006 WARN  chunk r1.score.0 [1,2] cancelled (attempt 1): cancelled by an operator");
  });

  test("a real failure stays an error, and its retry time is on the same clock as the line", async () => {
    const error = { message: "feature store timed out\nafter 3 tries", kind: "error" as const };
    const [failed, retried] = await pretty((events) => {
      events.emit("chunk:failed", { chunk: chunk({ error }), error, willRetry: false, durationMs: 800 });
      events.emit("chunk:failed", { chunk: chunk({ state: "queued", error, notBefore: AT + 10_000 }), error, willRetry: true, durationMs: 800 });
    });
    expect(failed).toBe("09:04:07.006 ERROR chunk r1.score.0 [1,2] failed (attempt 1, error): feature store timed out");
    expect(retried).toMatch(/^09:04:07\.006 WARN  .* failed .* — retry at 09:04:17$/);
  });
});
