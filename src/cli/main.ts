// First: it keeps the NODE_ENV the user started stau with, before the console changes it.
import "../exec/job-env.js";
import { Command, CommanderError, Option } from "commander";
import { reportError } from "./output.js";

// The CLI is thin: flags become options, each command's module is imported only when
// that command runs (so `stau --help` stays fast), and this is the only place that exits.

const workers = () => new Option("--workers <n>", "worker threads (default: number of CPUs)");
const memory = () => new Option("--worker-memory <mb>", "heap limit of each worker thread in MB (default 4096)");
const data = () => new Option("--data <dir>", "data directory (default: $STAU_DATA_DIR or ./data)");
const databaseUrl = () => new Option("--database-url <url>", "share a PostgreSQL store with other stau instances (default: $STAU_DATABASE_URL)");
const databaseSchema = () => new Option("--database-schema <name>", "schema of stau's tables in that database (default: $STAU_DATABASE_SCHEMA or stau)");

// Commander passes positional arguments first, then the flags object.
function action(command: (...args: any[]) => Promise<number>) {
  return async (...args: unknown[]) => {
    process.exitCode = await command(...args);
  };
}

export function buildProgram(): Command {
  const program = new Command("stau")
    .description("Jobs as files, run as chunks in parallel, remembered and shown live.")
    .version(process.env.npm_package_version ?? "0.1.0", "-v, --version")
    .showHelpAfterError("(run stau --help for usage)")
    .exitOverride()
    // Every command but init acts on the project found upward from here (README, "Commands");
    // resolved once, before the command opens anything, so outside a project nothing is created.
    .hook("preAction", async (_program, command) => {
      if (command.name() !== "init") (await import("./runtime.js")).enterProject();
    });

  program
    .command("run <job>")
    .description("run a job with its dependencies in this process; exit 0 done, 1 failed")
    .option("--kwargs <json>", "arguments of the run as a JSON object")
    .option("--work <ids>", "work IDs: 1,2,3 or a JSON array")
    .option("--json", "print the finished run as JSON")
    .option("--quiet", "on a terminal, show only the progress, not the job's log lines")
    .addOption(workers())
    .addOption(memory())
    .addOption(data())
    .addOption(databaseUrl())
    .addOption(databaseSchema())
    .action(action(async (job: string, flags) => (await import("./commands/run.js")).runCommand(job, flags)));

  program
    .command("plan <job>")
    .description("show what a run would do and why, without running anything")
    .option("--kwargs <json>", "arguments of the run as a JSON object")
    .option("--work <ids>", "work IDs: 1,2,3 or a JSON array")
    .option("--json", "print the plan as JSON")
    .addOption(data())
    .addOption(databaseUrl())
    .addOption(databaseSchema())
    .action(action(async (job: string, flags) => (await import("./commands/plan.js")).planCommand(job, flags)));

  program
    .command("graph [job]")
    .description("the dependency graph of one job or of all")
    .addOption(new Option("--format <format>", "output format").choices(["text", "dot", "mermaid"]).default("text"))
    .action(action(async (job: string | undefined, flags) => (await import("./commands/graph.js")).graphCommand(job, flags)));

  program
    .command("validate")
    .description("load every job and the schedule; exit 1 on any error")
    .option("--json", "print the result as JSON")
    .option("--strict", "lineage warnings fail too (exit 1)")
    .action(action(async (flags) => (await import("./commands/validate.js")).validateCommand(flags)));

  program
    .command("runs")
    .description("recent runs, newest first")
    .option("--json", "print as JSON")
    .option("--limit <n>", "how many runs (default 20)")
    .addOption(data())
    .addOption(databaseUrl())
    .addOption(databaseSchema())
    .action(action(async (flags) => (await import("./commands/runs.js")).runsCommand(flags)));

  program
    .command("show <run>")
    .description("everything about one run: trigger, kwargs, work IDs, git commit, timings, each chunk with its error; <run> is a run id, or a job name for its newest run")
    .option("--json", "print as JSON")
    .addOption(data())
    .addOption(databaseUrl())
    .addOption(databaseSchema())
    .action(action(async (run: string, flags) => (await import("./commands/show.js")).showCommand(run, flags)));

  program
    .command("logs <job>")
    .description("log lines of a job's chunks in its newest run (or --run)")
    .option("--run <id>", "a specific run")
    .option("-f, --follow", "keep printing new lines")
    .option("--tail <n>", "lines per chunk attempt (default 200)")
    .addOption(data())
    .addOption(databaseUrl())
    .addOption(databaseSchema())
    .action(action(async (job: string, flags) => (await import("./commands/logs.js")).logsCommand(job, flags)));

  program
    .command("dev")
    .description("the live console, the scheduler and the pool in one process; reloads job files as you save them")
    .option("--no-ui", "headless: one log line per event on stdout")
    .addOption(new Option("--log-format <format>", "with --no-ui: json, or pretty (default on a terminal)").choices(["json", "pretty"]))
    .option("--drain-timeout <duration>", "how long running chunks may finish when quitting (default 30s)")
    .addOption(workers())
    .addOption(memory())
    .addOption(data())
    .addOption(databaseUrl())
    .addOption(databaseSchema())
    .action(action(async (flags) => (await import("./commands/dev.js")).devCommand(flags)));

  program
    .command("start")
    .description("run in production: fire the schedule, run what it resolves, take orders on the control socket")
    .option("--ui", "show the console (on a terminal); headless otherwise")
    .option("--no-ui", "headless: one log line per event on stdout (the default)")
    .addOption(new Option("--log-format <format>", "json, or pretty (default on a terminal)").choices(["json", "pretty"]))
    .option("--health-port <port>", "answer GET /healthz and GET /metrics (Prometheus) on 127.0.0.1:<port>")
    .option("--drain-timeout <duration>", "how long running chunks may finish on SIGTERM/SIGINT (default 30s)")
    .addOption(workers())
    .addOption(memory())
    .addOption(data())
    .addOption(databaseUrl())
    .addOption(databaseSchema())
    .action(action(async (flags) => (await import("./commands/start.js")).startCommand(flags)));

  program
    .command("trigger <job>")
    .description("start a run on the running instance")
    .option("--kwargs <json>", "arguments of the run as a JSON object")
    .option("--work <ids>", "work IDs: 1,2,3 or a JSON array")
    .option("--json", "print the run as JSON")
    .addOption(data())
    .addOption(databaseUrl())
    .addOption(databaseSchema())
    .action(action(async (job: string, flags) => (await import("./commands/act.js")).triggerCommand(job, flags)));

  program
    .command("prune")
    .description("remove finished runs older than a duration, with their chunks and logs (never active runs, never freshness)")
    .requiredOption("--older-than <duration>", "runs that finished more than this long ago, e.g. 90d")
    .option("--dry-run", "only count what would go")
    .option("--json", "print the counts as JSON")
    .addOption(data())
    .addOption(databaseUrl())
    .addOption(databaseSchema())
    .action(action(async (flags) => (await import("./commands/prune.js")).pruneCommand(flags)));

  program
    .command("backfill <job>")
    .description("one run per value of a range, passed as kwargs[KEY]; resumable: values already done are skipped")
    .requiredOption("--range <KEY=FROM..TO>", "dates (YYYY-MM-DD) or integers, both ends included")
    .option("--step <step>", "between values: days for dates (1d, 7d), a whole number for integers (default 1)")
    .option("--max-active <n>", "at most this many runs at once (default 1)")
    .option("--kwargs <json>", "more arguments for every run, as a JSON object")
    .option("--json", "print every value's run and status as JSON")
    .addOption(workers())
    .addOption(data())
    .addOption(databaseUrl())
    .addOption(databaseSchema())
    .action(action(async (job: string, flags) => (await import("./commands/backfill.js")).backfillCommand(job, flags)));

  for (const [name, description, fn] of [
    ["retry", "run a finished run's failed and upstream_failed chunks again", "retryCommand"],
    ["cancel", "cancel a run: queued chunks are dropped, running ones stopped", "cancelCommand"],
    ["rerun", "a new run with the same job, kwargs and work IDs", "rerunCommand"],
  ] as const) {
    program
      .command(`${name} <run>`)
      .description(`${description} (on the running instance); <run> is a run id, or a job name for its newest run`)
      .option("--json", "print the result as JSON")
      .addOption(data())
    .addOption(databaseUrl())
    .addOption(databaseSchema())
      .action(action(async (run: string, flags) => (await import("./commands/act.js"))[fn](run, flags)));
  }

  program
    .command("status")
    .description("what the running instance is doing")
    .option("--json", "print as JSON")
    .addOption(data())
    .addOption(databaseUrl())
    .addOption(databaseSchema())
    .action(action(async (flags) => (await import("./commands/act.js")).statusCommand(flags)));

  program
    .command("schedule")
    .description("the schedule with next fire times; --simulate lists every fire in a window (DST, catch-up)")
    .option("--simulate <duration>", "list every fire from now over this long, as if stau started now (e.g. 7d)")
    .option("--json", "print as JSON")
    .addOption(data())
    .addOption(databaseUrl())
    .addOption(databaseSchema())
    .action(action(async (flags) => (await import("./commands/schedule.js")).scheduleCommand(flags)));

  program
    .command("explain <job>")
    .description("why a job is or is not running now")
    .option("--kwargs <json>", "judge dependencies for a trigger with these arguments")
    .option("--work <ids>", "judge dependencies on these work IDs instead of selectWork's")
    .option("--json", "print as JSON")
    .addOption(data())
    .addOption(databaseUrl())
    .addOption(databaseSchema())
    .action(action(async (job: string, flags) => (await import("./commands/explain.js")).explainCommand(job, flags)));

  program
    .command("repro <chunk>")
    .description("write a script that re-runs one chunk of history as it ran, for node --inspect-brk")
    .option("--attempt <n>", "which attempt's number to pass (default: the last)")
    .option("--out <file>", "where to write the script (default: data/repro/<chunk>.<attempt>.mjs)")
    .addOption(data())
    .addOption(databaseUrl())
    .addOption(databaseSchema())
    .action(action(async (chunk: string, flags) => (await import("./commands/repro.js")).reproCommand(chunk, flags)));

  program
    .command("init [dir]")
    .description("scaffold a project: jobs/, a schedule, package.json")
    .action(action(async (dir: string | undefined) => (await import("./commands/init.js")).initCommand(dir)));

  return program;
}

export async function main(argv: string[]): Promise<void> {
  // `stau logs x | head` closes the pipe early; that is the reader being done, not an error.
  process.stdout.on("error", (error: NodeJS.ErrnoException) => {
    if (error.code === "EPIPE") process.exit(process.exitCode ?? 0);
    throw error;
  });
  try {
    await buildProgram().parseAsync(argv);
  } catch (error) {
    if (error instanceof CommanderError) {
      // Commander has printed its message already; --help and --version are not errors.
      process.exitCode = error.exitCode === 0 ? 0 : 2;
    } else {
      process.exitCode = reportError(error);
    }
  }
}
