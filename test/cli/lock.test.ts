import { mkdirSync, utimesSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { projectFactory, show, WORKERS } from "../helpers/cli.js";
import { startInstance } from "../helpers/instance.js";
import { json, stau } from "../helpers/project.js";

// Whether the holder of a data directory's lock lives is decided by what the dead
// cannot fake (its control socket answering, or a lock it keeps touching while it
// starts), never by "some process has this pid".

const project = projectFactory();
const lockOf = (dir: string) => join(dir, "data", "stau.lock");
const writeLock = (dir: string, content: object, ageMs = 0) => {
  mkdirSync(join(dir, "data"), { recursive: true });
  writeFileSync(lockOf(dir), JSON.stringify(content));
  const at = new Date(Date.now() - ageMs);
  utimesSync(lockOf(dir), at, at);
};

describe("taking over a stale lock", () => {
  it("takes over a lock naming a live process that is not stau, on another host", async () => {
    const p = project();
    p.useFixtures("succeeds");
    // pid 1 is alive (it is this container's init), and the hostname is another machine's.
    writeLock(p.dir, { id: "old", pid: 1, hostname: "a-container-long-gone", startedAt: 0, command: "start" });
    const result = await stau(p.dir, ["run", "succeeds", "--json", ...WORKERS]);
    expect(result.code, show(result)).toBe(0);
    expect(json(result).run.status).toBe("done");
  });

  it("takes over the lock of a holder that died while it started, once it stopped touching it", async () => {
    const p = project();
    p.useFixtures("succeeds");
    writeLock(p.dir, { id: "old", pid: 1, hostname: "vm", startedAt: 0, command: "start", serving: false }, 60_000);
    const result = await stau(p.dir, ["run", "succeeds", "--json", ...WORKERS]);
    expect(result.code, show(result)).toBe(0);
  });

  it("refuses while a holder that is starting keeps touching its lock", async () => {
    const p = project();
    p.useFixtures("succeeds");
    writeLock(p.dir, { id: "old", pid: 1, hostname: "vm", startedAt: 0, command: "start", serving: false });
    const result = await stau(p.dir, ["run", "succeeds", "--json", ...WORKERS]);
    expect(result.code, show(result)).toBe(2);
    expect(result.stderr).toMatch(/in use by stau start \(pid 1 on vm\)/);
  });

  it("refuses beside a live instance, even a stopped one, and takes over at once after kill -9", async () => {
    const p = project();
    p.useFixtures("succeeds");
    const holder = startInstance(p.dir);
    await holder.waitFor((e) => e.event === "instance:started", "start");
    holder.child.kill("SIGSTOP");
    try {
      const refused = await stau(p.dir, ["run", "succeeds", "--json", ...WORKERS]);
      expect(refused.code, show(refused)).toBe(2);
      expect(refused.stderr).toContain(`pid ${holder.child.pid}`);
    } finally {
      holder.child.kill("SIGKILL");
    }
    await holder.exited();
    // The socket no longer answers: no waiting for the lock to age.
    const after = await stau(p.dir, ["run", "succeeds", "--json", ...WORKERS]);
    expect(after.code, show(after)).toBe(0);
  });
});
