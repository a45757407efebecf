// The launcher process (see launcher.ts): starts programs for stau and relays what they
// print and how they end, one JSON line each way. When its stdin ends, stau is gone, by
// a normal close or by kill -9: every program still running is ended with everything it
// started (SIGTERM, then SIGKILL after the grace), and the launcher exits.
import { startProcess, type ProgramProcess } from "./process.js";
import type { LauncherReply, LauncherRequest } from "./launcher.js";

const GRACE_MS = Number(process.argv[2] ?? 2_000);
const running = new Map<number, ProgramProcess>();
let stauGone = false;
const send = (reply: LauncherReply) => {
  if (!stauGone) process.stdout.write(JSON.stringify(reply) + "\n");
};
// Once stau is gone nobody reads: a write to the closed pipe must not end the launcher before its programs.
process.stdout.on("error", () => (stauGone = true));

// Signals meant for stau (a terminal's Ctrl+C, a supervisor's SIGTERM) do not end the
// launcher: stau stops its programs itself, and the launcher is there for when it cannot.
for (const signal of ["SIGINT", "SIGTERM", "SIGHUP"] as const) process.on(signal, () => {});

function handle(request: LauncherRequest): void {
  if (request.t === "stop") return running.get(request.id)?.stop(request.graceMs);
  const { id } = request;
  // The launcher was started with the environment every program starts from; a request adds the protocol's variables.
  const program = startProcess(request.argv, { cwd: request.cwd, env: { ...(process.env as Record<string, string>), ...request.env }, onLines: (stream, lines) => send({ t: "lines", id, stream, lines }) });
  running.set(id, program);
  send({ t: "started", id, pgid: program.pgid ?? null });
  void program.ended.then((end) => {
    running.delete(id);
    send({ t: "end", id, end });
  });
}

let rest = "";
process.stdin.setEncoding("utf8");
process.stdin.on("data", (data: string) => {
  const lines = (rest + data).split("\n");
  rest = lines.pop()!;
  for (const line of lines) if (line) handle(JSON.parse(line) as LauncherRequest);
});
process.stdin.on("end", () => {
  stauGone = true;
  for (const program of running.values()) program.stop(GRACE_MS);
  void Promise.all([...running.values()].map((p) => p.ended)).then(() => process.exit(0));
});
