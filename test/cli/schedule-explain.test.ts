import { describe, expect, it } from "vitest";
import { projectFactory, show } from "../helpers/cli.js";
import { json, stau } from "../helpers/project.js";

const project = projectFactory();

const SCHEDULE = `import { defineSchedule } from "stau";
export default defineSchedule([
  { id: "hourly", job: "consumes", cron: "0 * * * *" },
  { id: "nightly", job: "consumes", cron: "30 2 * * *", timezone: "Europe/Copenhagen", kwargs: { full: true } },
  { id: "off", job: "produces", every: "15m", enabled: false },
]);
`;

describe("stau schedule", () => {
  it("lists entries with their next fire, and simulates a window", async () => {
    const p = project({ "stau.schedule.ts": SCHEDULE });
    p.useFixtures("produces", "consumes");
    const listed = await stau(p.dir, ["schedule", "--json"]);
    expect(listed.code, show(listed)).toBe(0);
    const { entries } = json(listed);
    expect(entries.map((e: any) => e.id)).toEqual(["hourly", "nightly", "off"]);
    const hourly = entries[0];
    expect(new Date(hourly.next).getUTCMinutes()).toBe(0);
    expect(Date.parse(hourly.next) - Date.now()).toBeLessThanOrEqual(3_600_000);
    expect(entries[2].next).toBeNull();

    const simulated = json(await stau(p.dir, ["schedule", "--simulate", "1d", "--json"]));
    const fires = simulated.simulation.fires;
    expect(fires.filter((f: any) => f.entryId === "hourly")).toHaveLength(24);
    expect(fires.filter((f: any) => f.entryId === "nightly")).toHaveLength(1);
    expect(fires.some((f: any) => f.entryId === "off")).toBe(false);
  });

  it("reports a bad cron expression with the entry and exits 2", async () => {
    const p = project({ "stau.schedule.ts": `import { defineSchedule } from "stau";\nexport default defineSchedule([{ id: "bad", job: "produces", cron: "61 * * * *" }]);\n` });
    p.useFixtures("produces");
    const result = await stau(p.dir, ["schedule"]);
    expect(result.code, show(result)).toBe(2);
    expect(result.stdout + result.stderr).toContain("61 * * * *");
  });
});

describe("stau explain", () => {
  it("says what a job waits for: dependency freshness, schedule, never run", async () => {
    const p = project({ "stau.schedule.ts": SCHEDULE });
    p.useFixtures("produces", "consumes");
    const before = json(await stau(p.dir, ["explain", "consumes", "--json"]));
    expect(before).toMatchObject({ job: "consumes", broken: null, instance: null, runs: [], lastSuccess: null });
    expect(before.dependencies).toEqual([expect.objectContaining({ job: "produces", lastSuccess: null, fresh: false })]);
    expect(before.schedule.map((s: any) => s.entry)).toEqual(["hourly", "nightly"]);

    expect((await stau(p.dir, ["run", "consumes", "--workers", "2"])).code).toBe(0);
    const after = json(await stau(p.dir, ["explain", "consumes", "--json"]));
    expect(after.lastSuccess).not.toBeNull();
    const dep = after.dependencies[0];
    expect(dep.fresh).toBe(true);
    expect(Date.parse(dep.freshUntil)).toBeGreaterThan(Date.now());

    const text = await stau(p.dir, ["explain", "consumes"]);
    expect(text.stdout).toContain("fresh until");
    expect(text.stdout).toContain("no stau instance orchestrates");
  });

  it("says a broken job is broken, with file and line", async () => {
    const p = project();
    p.useFixtures("syntax_error");
    const report = json(await stau(p.dir, ["explain", "syntax_error", "--json"]));
    expect(report.broken.join("\n")).toMatch(/jobs\/syntax_error\.ts:\d+/);
  });
});
