// Baseline: how fast does graphile-worker drain a queue of no-op jobs?
// The queue is filled before the runner starts, so only fetch + execute +
// complete is timed, not schema migration or enqueueing.
import { randomBytes } from "node:crypto";
import { EventEmitter } from "node:events";
import pg from "pg";
import { Logger, makeWorkerUtils, run } from "graphile-worker";

// graphile-worker logs every completed job at info level; that console I/O
// would be measured as queue overhead. Keep only errors.
const logger = new Logger(() => (level, message) => {
  if (level === "error") console.error(`[graphile-worker] ${message}`);
});

export async function graphileThroughput({ connectionString, jobs, concurrency }) {
  // Otherwise the success count below never reaches `jobs` and this hangs.
  if (!(Number.isInteger(jobs) && jobs > 0)) throw new RangeError(`jobs must be a positive integer, got ${jobs}`);
  // A throwaway schema isolates runs from each other and from any real
  // graphile_worker schema in the same database.
  const schema = `graphile_bench_${randomBytes(6).toString("hex")}`;
  const options = { connectionString, schema, logger };
  // Connected up front so the drain check below costs no connect in the timing.
  const client = new pg.Client({ connectionString });
  await client.connect();
  let utils;
  let runner;
  try {
    utils = await makeWorkerUtils(options);
    await utils.migrate();
    // One addJobs call = one call of the add_jobs SQL function.
    await utils.addJobs(Array.from({ length: jobs }, () => ({ identifier: "noop", payload: {} })));
    await utils.release();
    utils = undefined;

    // Our own emitter, so no completion can fire before we are listening.
    const events = new EventEmitter();
    let succeeded = 0;
    const drained = new Promise((resolve, reject) => {
      events.on("job:success", () => ++succeeded === jobs && resolve());
      events.on("job:failed", ({ error }) => reject(error));
    });

    const start = performance.now();
    runner = await run({
      ...options,
      concurrency,
      // The docs advise a pool of max(10, concurrency + 2) so fetching and
      // completing jobs never queue for a connection.
      maxPoolSize: Math.max(10, concurrency + 2),
      noHandleSignals: true,
      events,
      taskList: { noop: async () => {} },
      parsedCronItems: [], // don't look for a ./crontab file
    });
    await Promise.race([
      drained,
      runner.promise.then(() => Promise.reject(new Error("graphile-worker stopped before the queue drained"))),
    ]);
    // job:success fires before the job's row is deleted, so stop the clock
    // only once the last deletes have landed.
    while ((await client.query(`SELECT EXISTS (SELECT 1 FROM "${schema}".jobs) AS p`)).rows[0].p) {
      await new Promise((r) => setTimeout(r, 2));
    }
    const elapsedMs = performance.now() - start;
    return { jobsPerSecond: (jobs * 1000) / elapsedMs, elapsedMs, jobs, concurrency };
  } finally {
    await runner?.stop().catch(() => {});
    await utils?.release().catch(() => {});
    try {
      await client.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`);
    } finally {
      await client.end();
    }
  }
}
