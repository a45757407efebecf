// The guardian process (see guardian.ts). It learns the process groups of running
// programs on stdin ("+<pgid>" / "-<pgid>" lines); when stdin ends, stau is gone, and
// every group still listed is ended: SIGTERM, then SIGKILL after the grace.
const groups = new Set<number>();
const GRACE_MS = Number(process.argv[2] ?? 2_000);

// Signals meant for stau (a terminal's Ctrl+C, a supervisor's SIGTERM) do not end the
// guardian: stau drains its programs itself, and the guardian is for when it cannot.
for (const signal of ["SIGINT", "SIGTERM", "SIGHUP"] as const) process.on(signal, () => {});

let rest = "";
process.stdin.setEncoding("utf8");
process.stdin.on("data", (data: string) => {
  const lines = (rest + data).split("\n");
  rest = lines.pop()!;
  for (const line of lines) {
    const pgid = Number(line.slice(1));
    if (!Number.isInteger(pgid) || pgid <= 0) continue;
    if (line.startsWith("+")) groups.add(pgid);
    else groups.delete(pgid);
  }
});

const signalAll = (signal: NodeJS.Signals) => {
  for (const pgid of groups) {
    try {
      process.kill(-pgid, signal);
    } catch {
      groups.delete(pgid); // nothing of it is left
    }
  }
};

process.stdin.on("end", () => {
  signalAll("SIGTERM");
  if (groups.size === 0) process.exit(0);
  setTimeout(() => {
    signalAll("SIGKILL");
    process.exit(0);
  }, GRACE_MS);
});
