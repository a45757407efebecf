import { mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { createServer } from "node:net";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { projectFactory, show, WORKERS } from "../helpers/cli.js";
import { stau } from "../helpers/project.js";

// Faults that used to hang stau or blame it: each now fails what depends on it, with a
// clear message, and nothing else.

const project = projectFactory();

describe("what cannot be had fails early and clearly", () => {
  it("refuses a --health-port in use before taking the data directory, and one that is no port", async () => {
    const p = project();
    p.useFixtures("succeeds");
    const busy = createServer();
    await new Promise<void>((resolve) => busy.listen(0, "127.0.0.1", resolve));
    const port = (busy.address() as { port: number }).port;
    try {
      const result = await stau(p.dir, ["start", "--no-ui", "--health-port", String(port), ...WORKERS]);
      expect(result.code, show(result)).toBe(2);
      expect(result.stderr).toContain(`--health-port ${port}: 127.0.0.1:${port} is in use by another program`);
      expect(result.stderr).not.toMatch(/bug in stau/);
    } finally {
      busy.close();
    }
    // Nothing was taken: the data directory is free for the next command.
    const run = await stau(p.dir, ["run", "succeeds", "--json", ...WORKERS]);
    expect(run.code, show(run)).toBe(0);

    const bad = await stau(p.dir, ["start", "--no-ui", "--health-port", "70000", ...WORKERS]);
    expect(bad.code, show(bad)).toBe(2);
    expect(bad.stderr).toContain("--health-port must be a TCP port (1–65535), received 70000");
  });
});

describe("a damaged freshness file met while recording a result", () => {
  it("does not hang the run: the chunk is done, the file is named once, and the next run runs the job again", async () => {
    const p = project();
    p.useFixtures("succeeds");
    mkdirSync(join(p.dir, "data", "freshness"), { recursive: true });
    writeFileSync(join(p.dir, "data", "freshness", "succeeds.json"), "{ not json");
    const first = await stau(p.dir, ["run", "succeeds", ...WORKERS]);
    expect(first.code, show(first)).toBe(0);
    expect(first.stdout).toMatch(/run \S+ of succeeds done/);
    expect(first.stderr).toMatch(/freshness not recorded: .*freshness\/succeeds\.json is not valid JSON/);
    // The damaged file is left as it was, for a person to look at.
    expect(readFileSync(join(p.dir, "data", "freshness", "succeeds.json"), "utf8")).toBe("{ not json");
  });
});
