// pg_chunk_throughput: no-op chunks per second drained by three stau instances sharing
// one PostgreSQL schema, beside graphile-worker draining as many no-op jobs with the
// same total concurrency on the same database. The database is STAU_BENCH_DATABASE_URL
// (default: the local postgres://postgres@127.0.0.1:5432/postgres); BENCH_CHUNKS,
// BENCH_INSTANCES and BENCH_WORKERS change the shape (see BENCHMARKS.md).
import { spawn } from "node:child_process";
import { randomBytes } from "node:crypto";
import { join } from "node:path";
import pg from "pg";
import { openOrders } from "../dist/store/open.js";
import { graphileThroughput } from "./graphile-baseline.mjs";
import { benchProject, median, REPO } from "./project.mjs";

const URL = process.env.STAU_BENCH_DATABASE_URL ?? "postgres://postgres@127.0.0.1:5432/postgres";
const INSTANCES = Number(process.env.BENCH_INSTANCES ?? 3);
const WORKERS_PER_INSTANCE = Number(process.env.BENCH_WORKERS ?? 2);
const CHUNKS = Number(process.env.BENCH_CHUNKS ?? 20_000);
const ROUNDS = 5;

const NOOP = `import { defineJob } from "stau";
export default defineJob({
  chunkSize: 1,
  async selectWork(kwargs) { return Array.from({ length: kwargs.n }, (_, i) => i); },
  run() {},
});`;

function startInstance(dir, schema) {
  const child = spawn(process.execPath, [join(REPO, "bin", "stau.js"), "start", "--no-ui", "--log-format", "json", "--workers", String(WORKERS_PER_INSTANCE)], {
    cwd: dir,
    env: { ...process.env, STAU_DATABASE_URL: URL, STAU_DATABASE_SCHEMA: schema },
    stdio: ["ignore", "pipe", "inherit"],
  });
  const started = new Promise((resolve, reject) => {
    let buffer = "";
    const onData = (data) => {
      buffer += data;
      if (!buffer.includes('"event":"instance:started"')) return;
      // From here on the instance's lines are drained unread, so a full pipe never stalls it.
      child.stdout.off("data", onData);
      child.stdout.resume();
      resolve();
    };
    child.stdout.on("data", onData);
    child.on("exit", (code) => reject(new Error(`a stau instance exited (${code}) before it started`)));
  });
  return { child, started };
}

async function stauRound() {
  const schema = `bench_${randomBytes(4).toString("hex")}`;
  const project = benchProject({ noop: NOOP });
  const instances = Array.from({ length: INSTANCES }, () => startInstance(project.dir, schema));
  const { orders, close } = await openOrders({ dataDir: join(project.dir, "data"), database: { url: URL, schema } });
  const watcher = new pg.Client({ connectionString: URL });
  await watcher.connect();
  try {
    await Promise.all(instances.map((c) => c.started));
    const t0 = performance.now();
    const { run } = await orders.call({ cmd: "trigger", job: "noop", kwargs: { n: CHUNKS } });
    for (;;) {
      const { rows } = await watcher.query(`SELECT status FROM "${schema}".runs WHERE id = $1`, [run.id]);
      if (rows[0]?.status === "done") break;
      if (rows[0]?.status === "failed") throw new Error("the benchmark run failed");
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
    return CHUNKS / ((performance.now() - t0) / 1000);
  } finally {
    for (const c of instances) c.child.kill("SIGKILL");
    await close();
    await watcher.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`);
    await watcher.end();
    project.remove();
  }
}

export async function pgChunkThroughput() {
  const stau = [];
  const graphile = [];
  // Alternating rounds, so drift on the machine hits both alike.
  for (let i = 0; i < ROUNDS; i++) {
    stau.push(await stauRound());
    graphile.push((await graphileThroughput({ connectionString: URL, jobs: CHUNKS, concurrency: INSTANCES * WORKERS_PER_INSTANCE })).jobsPerSecond);
  }
  const value = median(stau);
  const baseline = median(graphile);
  return {
    name: "pg_chunk_throughput",
    value,
    unit: "chunks/s",
    baseline,
    ratio: value / baseline,
    detail: `${CHUNKS} no-op chunks, ${INSTANCES} instances × ${WORKERS_PER_INSTANCE} workers vs graphile-worker concurrency ${INSTANCES * WORKERS_PER_INSTANCE}; median of ${ROUNDS}`,
  };
}
