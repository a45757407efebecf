// `npm run bench`: measures stau beside its baselines in one run on this machine and
// prints a table, or with --json one object { results: [{ name, value, unit, baseline, ratio }] }.
// Method and latest figures: BENCHMARKS.md.
import { coldStart } from "./cold-start.mjs";
import { consoleFrames } from "./console.mjs";
import { consoleBusy } from "./console-busy.mjs";
import { consoleMemory } from "./console-memory.mjs";
import { consoleFirstFrame } from "./console-first-frame.mjs";
import { pgChunkThroughput } from "./pg-throughput.mjs";
import { programChunkOverhead } from "./programs.mjs";
import { chunkLatency, chunkThroughput, runOverheadVsBree } from "./engine.mjs";
import { runFairness, waitingRunThroughput } from "./fairness.mjs";
import { heatmapFrames } from "./heatmap.mjs";
import { historyQuery } from "./history.mjs";
import { millionChunks } from "./million.mjs";
import { reload } from "./reload.mjs";
import { resolveLarge } from "./resolve.mjs";
import { storeGrowth } from "./store-growth.mjs";
import { transitionCostGrowth } from "./store.mjs";

const json = process.argv.includes("--json");
const only = process.argv.find((a) => a.startsWith("--only="))?.slice(7).split(",");

const suites = [
  ["chunk_throughput", () => chunkThroughput()],
  ["chunk_throughput_100k", () => chunkThroughput(100_000, 2, 3, "chunk_throughput_100k")],
  ["chunk_latency_ms", () => chunkLatency()],
  ["run_overhead_vs_bree", () => runOverheadVsBree()],
  ["run_fairness_ms", () => runFairness()],
  ["waiting_run_throughput", () => waitingRunThroughput()],
  ["transition_cost_growth", () => transitionCostGrowth()],
  ["resolve_large_ms", () => resolveLarge()],
  ["chunk_memory_bytes", () => millionChunks()],
  ["cold_start", () => coldStart()],
  ["reload", () => reload()],
  ["history_query", () => historyQuery()],
  ["store_growth", () => storeGrowth()],
  ["console_first_frame", () => consoleFirstFrame()],
  ["console", () => consoleFrames()],
  ["console_busy_cpu", () => consoleBusy()],
  ["console_memory_bytes", () => consoleMemory()],
  ["heatmap", () => heatmapFrames()],
  ["pg_chunk_throughput", () => pgChunkThroughput()],
  ["program_chunk_overhead", () => programChunkOverhead()],
];

const results = [];
for (const [name, measure] of suites) {
  if (only && !only.some((o) => name.startsWith(o))) continue;
  if (!json) process.stderr.write(`measuring ${name}…\n`);
  results.push(...[await measure()].flat());
}

const round = (x) => (x === null ? null : Math.abs(x) >= 100 ? Math.round(x) : Math.round(x * 1000) / 1000);
if (json) {
  process.stdout.write(JSON.stringify({ results: results.map(({ name, value, unit, baseline, ratio }) => ({ name, value: round(value), unit, baseline: round(baseline), ratio: round(ratio) })) }) + "\n");
} else {
  const rows = results.map((r) => [r.name, `${round(r.value)} ${r.unit}`, r.baseline === null ? "—" : String(round(r.baseline)), r.ratio === null ? "—" : String(round(r.ratio)), r.detail ?? ""]);
  const header = ["result", "value", "baseline", "ratio", "note"];
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((row) => row[i].length)));
  for (const row of [header, ...rows]) process.stdout.write(row.map((cell, i) => cell.padEnd(widths[i])).join("  ").trimEnd() + "\n");
}
// Worker pools and Bree leave handles behind; the measurements are done.
process.exit(0);
