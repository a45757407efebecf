// Measures how long a fresh worker thread takes to import 200 TypeScript job files
// with each candidate runtime loader. Run once to choose the loader; the figures are
// recorded in BENCHMARKS.md ("TypeScript loader").
import { mkdtempSync, mkdirSync, writeFileSync, symlinkSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Worker } from "node:worker_threads";
import { performance } from "node:perf_hooks";
import { typedJobFile } from "./project.mjs";

const JOBS = 200;
const ROUNDS = 5;

function makeProject() {
  const dir = mkdtempSync(join(tmpdir(), "stau-loader-"));
  mkdirSync(join(dir, "jobs"));
  writeFileSync(join(dir, "package.json"), JSON.stringify({ name: "p", type: "module" }));
  mkdirSync(join(dir, "node_modules", "stau"), { recursive: true });
  writeFileSync(join(dir, "node_modules", "stau", "package.json"),
    JSON.stringify({ name: "stau", type: "module", exports: "./index.js" }));
  writeFileSync(join(dir, "node_modules", "stau", "index.js"),
    "export const defineJob = (c) => c;\n");
  for (let i = 0; i < JOBS; i++) {
    writeFileSync(join(dir, "jobs", `job_${i}.ts`), typedJobFile(i));
  }
  return dir;
}

const workerSource = {
  tsx: `
    const { workerData, parentPort } = require("node:worker_threads");
    (async () => {
      const { register } = await import(${JSON.stringify(import.meta.resolve("tsx/esm/api"))});
      register();
      await Promise.all(workerData.files.map((f) => import(require("node:url").pathToFileURL(f).href)));
      parentPort.postMessage("done");
    })();`,
  jiti: `
    const { workerData, parentPort } = require("node:worker_threads");
    (async () => {
      const { createJiti } = await import(${JSON.stringify(import.meta.resolve("jiti"))});
      const jiti = createJiti(workerData.parent, { fsCache: workerData.cache, moduleCache: false });
      await Promise.all(workerData.files.map((f) => jiti.import(f, { default: true })));
      parentPort.postMessage("done");
    })();`,
};

function loadOnce(kind, dir, cache) {
  const files = Array.from({ length: JOBS }, (_, i) => join(dir, "jobs", `job_${i}.ts`));
  const start = performance.now();
  return new Promise((resolve, reject) => {
    const w = new Worker(workerSource[kind], {
      eval: true,
      workerData: { files, parent: join(dir, "jobs", "x.js"), cache },
    });
    w.once("message", () => { resolve(performance.now() - start); w.terminate(); });
    w.once("error", reject);
  });
}

const median = (xs) => xs.sort((a, b) => a - b)[Math.floor(xs.length / 2)];
for (const [kind, cache] of [["tsx", false], ["jiti", false], ["jiti", true]]) {
  const times = [];
  for (let r = 0; r < ROUNDS; r++) times.push(await loadOnce(kind, makeProject(), cache));
  // A warm round: same project again (jiti's fs cache, OS page cache).
  const dir = makeProject();
  await loadOnce(kind, dir, cache);
  const warm = await loadOnce(kind, dir, cache);
  console.log(`${kind}${cache ? " (fsCache)" : ""}: cold median ${median(times).toFixed(0)} ms, warm ${warm.toFixed(0)} ms`);
}
