import { execFileSync } from "node:child_process";
import { describe, expect, it } from "vitest";
import { projectFactory, show, until } from "../helpers/cli.js";
import { startInstance, instancesKilledAfterEach } from "../helpers/instance.js";
import { json, stau } from "../helpers/project.js";

const project = projectFactory();
const running = instancesKilledAfterEach();

// Each version is new text, so the TypeScript loader cannot answer it from its cache:
// it transforms the file (with an esbuild process) in the thread that imports it. The job
// file is imported by the loading thread of a reload; the module its run imports, only
// by the pool thread that runs it (and that thread is replaced at the next reload).
const job = (version: number) => `import { defineJob } from "stau";
export default defineJob({ async run() { const { value } = await import("../lib/at-run-time.ts"); return value + ${version}; } });
`;
const atRunTime = (version: number) => `export const value: number = ${version};\n`;

/** The direct children of a process, with their state letter (Z: exited, never reaped). */
function children(pid: number): { pid: number; state: string; command: string }[] {
  let out = "";
  try {
    out = execFileSync("ps", ["-o", "pid=,stat=,comm=", "--ppid", String(pid)], { encoding: "utf8" });
  } catch {
    return []; // ps exits 1 when there are none
  }
  return out
    .trim()
    .split("\n")
    .filter(Boolean)
    .map((line) => {
      const [child, state, ...command] = line.trim().split(/\s+/);
      return { pid: Number(child), state: state!, command: command.join(" ") };
    });
}

describe("stau dev hot reload and its child processes", () => {
  it("leaves no zombie process behind after reloads of changed files and runs of their new code", async () => {
    const p = project();
    p.write("jobs/edited.ts", job(0));
    p.write("lib/at-run-time.ts", atRunTime(0));
    const dev = startInstance(p.dir, [], {}, "dev");
    running.push(dev);
    await dev.waitFor((e) => e.event === "instance:started", "start");
    for (let version = 1; version <= 5; version++) {
      const reloads = dev.events.filter((e) => e.event === "registry:reloaded").length;
      p.write("jobs/edited.ts", job(version));
      await dev.waitFor((e) => e.event === "registry:reloaded" && dev.events.filter((x) => x.event === "registry:reloaded").length > reloads, `reload ${version}`);
      p.write("lib/at-run-time.ts", atRunTime(version));
      const triggered = await stau(p.dir, ["trigger", "edited", "--json"]);
      expect(triggered.code, show(triggered)).toBe(0);
      const id = json(triggered).run.id;
      const finished = await dev.waitFor((e) => e.event === "run:finished" && e.run === id, `run after reload ${version}`);
      expect(finished.status).toBe("done");
    }
    // An esbuild process ends soon after the thread that started it; a zombie stays for good.
    const pid = dev.child.pid!;
    await until(() => children(pid).every((child) => child.state[0] !== "Z"), `no zombie children; now ${JSON.stringify(children(pid))}`, 10_000).catch((error) => {
      expect.fail(String(error));
    });
    expect(children(pid).filter((child) => child.state[0] === "Z")).toEqual([]);
  });
});

describe("stau dev killed", () => {
  const alive = (of: number) => {
    try {
      process.kill(of, 0);
      return true;
    } catch {
      return false;
    }
  };

  // A save whose import holds the spare that takes it (a next spare starts meanwhile),
  // then stau is killed: every loading process and its esbuild end.
  const killedWhileLoading = async (held: string) => {
    const p = project();
    p.write("jobs/edited.ts", job(0));
    const dev = startInstance(p.dir, [], {}, "dev");
    running.push(dev);
    await dev.waitFor((e) => e.event === "instance:started", "start");
    const pid = dev.child.pid!;
    const loaders = () => children(pid).filter((child) => child.command === "node" && child.state[0] !== "Z");
    await until(() => loaders().length === 1 && children(loaders()[0]!.pid).some((child) => child.command === "esbuild"), "the spare loading process and its esbuild");
    p.write("jobs/held.ts", held);
    await until(() => loaders().length === 2, "the loading process and the next spare");
    const left = [...loaders().map((loader) => loader.pid), ...loaders().flatMap((loader) => children(loader.pid).map((child) => child.pid))];
    process.kill(pid, "SIGKILL");
    await dev.exited();
    await until(() => !left.some(alive), `the loading processes and their esbuild to end; alive: ${left.filter(alive)}`, 10_000);
  };

  it("leaves no loading process or esbuild behind, even one waiting on a job file's import", async () => {
    await killedWhileLoading(`await new Promise((resolve) => setTimeout(resolve, 60_000));\nexport default { async run() {} };\n`);
  });

  it("leaves no loading process behind whose job file loops at import", async () => {
    // Its main thread never gets to hear that stau is gone.
    await killedWhileLoading(`for (;;) {}\nexport default { async run() {} };\n`);
  });
});
