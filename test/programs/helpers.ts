import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { until } from "../helpers/cli.js";
import type { TempProject } from "../helpers/project.js";

/**
 * Whether a process still runs. A killed process nobody has reaped yet (a zombie,
 * state Z) has ended: it runs no code and holds nothing but its table entry.
 */
export function alive(pid: number): boolean {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
    return stat.slice(stat.lastIndexOf(")") + 2)[0] !== "Z";
  } catch {
    return false;
  }
}

/** The pids a program wrote to `out/<name>` (one a line), once the file is there. */
export async function pidsIn(project: TempProject, name: string, count = 1): Promise<number[]> {
  const file = join(project.dir, "out", name);
  const read = () => (existsSync(file) ? readFileSync(file, "utf8").split("\n").filter(Boolean).map(Number) : []);
  await until(() => read().length >= count, `${count} pid(s) in out/${name}`);
  return read();
}

/** A bash job that starts a grandchild (`sleep`), says both pids, and then waits. */
export function hangingShell(config: string, options: { ignoreTerm?: boolean } = {}): string {
  return `# /// stau
${config
  .trim()
  .split("\n")
  .map((line) => `# ${line}`)
  .join("\n")}
# ///
${options.ignoreTerm ? "trap '' TERM\n" : ""}mkdir -p out
sleep 300 &
echo $$ >> out/pids
echo $! >> out/pids
echo "started"
sleep 301
`;
}
