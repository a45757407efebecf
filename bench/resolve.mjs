// Resolving a trigger over a large DAG: the pure resolver alone.
import { performance } from "node:perf_hooks";
import { resolve } from "../dist/graph/resolve.js";
import { median } from "./project.mjs";

const SIZES = [50, 100, 250, 1000, null];

/** 500 jobs in 10 layers; each job needs 3 jobs of the layer below; the root needs all of layer 1. */
function largeDag() {
  const layers = [["root"]];
  // 1 + 8 × 55 + 59 = 500 jobs.
  for (let depth = 1; depth < 10; depth++) layers.push(Array.from({ length: depth === 9 ? 59 : 55 }, (_, i) => `j${depth}_${i}`));
  const jobs = new Map();
  layers.forEach((layer, depth) => {
    layer.forEach((name, i) => {
      const below = layers[depth + 1] ?? [];
      const deps = depth === 0 ? below : below.length ? [0, 1, 2].map((k) => below[(i + k * 17) % below.length]) : [];
      jobs.set(name, {
        name, file: `/bench/jobs/${name}.ts`, chunkSize: SIZES[(depth + i) % SIZES.length], retries: 0, retryDelayMs: 5000,
        timeoutMs: null, allowConcurrentRuns: false, reads: [], writes: [], hasSelectWork: true,
        dependencies: [...new Set(deps)].map((job) => ({ job, maxLagMs: 3_600_000, allowMissingWorkIds: false, kwargs: {}, unique: false })),
      });
    });
  });
  return jobs;
}

export async function resolveLarge(rounds = 5) {
  const jobs = largeDag();
  const workIds = Array.from({ length: 10_000 }, (_, i) => i);
  // Everything stale, and each ID asked: every job succeeded a moment ago on IDs outside
  // W (its newest success is recent) and never on one of W. The most work; a job that
  // never ran, or not within maxLag, is stale on every ID without asking each.
  const now = Date.now();
  const freshness = { lastSuccess: (_job, _key, workId) => (workId === null ? now : undefined) };
  const times = [];
  let chunks = 0;
  for (let r = 0; r < rounds; r++) {
    const start = performance.now();
    const plan = resolve({ jobs, job: "root", kwargs: {}, workIds, now, freshness });
    times.push(performance.now() - start);
    chunks = plan.chunks.length;
  }
  return { name: "resolve_large_ms", value: median(times), unit: "ms", baseline: null, ratio: null, detail: `${jobs.size} jobs, ${chunks} chunks` };
}
