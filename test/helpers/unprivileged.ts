import { spawn, spawnSync } from "node:child_process";
import { collect, STAU_BIN, type CliResult } from "./project.js";

// File modes do not stop root: a test of an unreadable folder or a read-only data
// directory run as root would pass or fail by accident. So as root the CLI runs as the
// `nobody` user, and every test first makes sure, with a real attempt as that user, that
// the condition it sets up really refuses access.

const AS = process.getuid?.() === 0 ? { uid: 65534, gid: 65534 } : {};

/** Runs the real CLI in `cwd` as a user file modes apply to. The project must be readable by it. */
export function stauUnprivileged(cwd: string, args: string[]): Promise<CliResult> {
  const child = spawn(process.execPath, [STAU_BIN, ...args], { cwd, env: { ...process.env, NO_COLOR: "1" }, stdio: ["ignore", "pipe", "pipe"], ...AS });
  return collect(child, 50_000);
}

/** Whether that user is refused: `write` tries to create a file in `dir`, `list` to list it. */
export function refused(dir: string, attempt: "write" | "list"): boolean {
  const code = attempt === "write" ? `require("fs").writeFileSync(require("path").join(${JSON.stringify(dir)}, ".probe"), "")` : `require("fs").readdirSync(${JSON.stringify(dir)})`;
  const result = spawnSync(process.execPath, ["-e", code], { stdio: "ignore", ...AS });
  return result.status !== 0;
}
