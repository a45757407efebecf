import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { AttemptLogs } from "../../src/exec/log-capture.js";
import { logFile } from "../../src/store/logs.js";

// Attempt logs on real files: closing the logs (the pool closing) waits for every log
// that is being written, also one closed just before.

const dirs: string[] = [];
afterEach(() => dirs.splice(0).forEach((dir) => rmSync(dir, { recursive: true, force: true })));

describe("attempt logs", () => {
  it("close() waits for the log of an attempt that ended just before it: its failure is on disk", async () => {
    const dataDir = mkdtempSync(join(tmpdir(), "stau-logs-"));
    dirs.push(dataDir);
    const logs = new AttemptLogs(dataDir);
    // A chunk cancelled before it began: settled with its failure, its worker never logged.
    logs.start("says", "says.2", 1);
    logs.settled("says.2", 1, false, { kind: "cancelled", error: { message: "cancelled before it began", stack: null } });
    await logs.close();
    expect(readFileSync(logFile(dataDir, "says", "says.2", 1), "utf8")).toContain("[stau] attempt 1 cancelled: cancelled before it began");
  });
});
