import { existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { basename, join, resolve } from "node:path";
import { ConfigError, errorMessage } from "../../errors.js";
import { paint, printWarning } from "../output.js";
import { allowScripts, stauOrigin, type Origin } from "../stau-origin.js";

// The scaffold reads like the README's "A job": config next to code, `log` and `progress`
// from the context. Its jobs write to output/, never to data/ (stau's own store).
const FILES: Record<string, string> = {
  "jobs/fetch_orders.ts": `// jobs/fetch_orders.ts — the file name is the job name
import { mkdir, writeFile } from "node:fs/promises";
import { defineJob } from "stau";

// Each store is a work ID: a run over 40 stores, ten per chunk, is 4 chunks in parallel.
export default defineJob({
  chunkSize: 10,                  // work IDs per chunk
  retries: 2,                     // extra attempts on a retryable error
  retryDelay: "2s",               // first backoff, doubled each attempt
  timeout: "1m",                  // per chunk
  writes: ["output/orders"],      // documentation and lineage
  async selectWork() {            // the work IDs of a run of this job
    return Array.from({ length: 40 }, (_, i) => i + 1);
  },
  async run({ workIds, log, progress }) {
    // Jobs run with the project root as their working directory.
    await mkdir("output/orders", { recursive: true });
    for (const [i, store] of workIds.entries()) {
      const orders = Array.from({ length: 5 }, (_, k) => ({ store, amount: (Number(store) * 7 + k * 13) % 100 }));
      await writeFile(\`output/orders/\${store}.json\`, JSON.stringify(orders));
      progress(i + 1, workIds.length);
    }
    log(\`fetched orders of \${workIds.length} stores\`);
  },
});
`,
  "jobs/daily_revenue.ts": `// jobs/daily_revenue.ts
import { mkdir, readFile, writeFile } from "node:fs/promises";
import { defineJob } from "stau";

export default defineJob({
  dependencies: [
    { job: "fetch_orders", maxLag: "1h" },  // stau runs fetch_orders first on the stores where it is older
  ],
  reads: ["output/orders"],
  writes: ["output/revenue.json"],
  async selectWork() {
    return Array.from({ length: 40 }, (_, i) => i + 1);
  },
  async run({ workIds, log }) {
    let total = 0;
    for (const store of workIds) {
      const orders: { amount: number }[] = JSON.parse(await readFile(\`output/orders/\${store}.json\`, "utf8"));
      total += orders.reduce((sum, o) => sum + o.amount, 0);
    }
    await mkdir("output", { recursive: true });
    await writeFile("output/revenue.json", JSON.stringify({ total, stores: workIds.length }));
    log(\`revenue over \${workIds.length} stores: \${total}\`);
  },
});
`,
  "stau.schedule.ts": `// stau.schedule.ts — when jobs run; \`stau start\` fires it, \`stau schedule\` lists it
import { defineSchedule } from "stau";

export default defineSchedule([
  { id: "orders", job: "fetch_orders", every: "15m" },
  { id: "revenue", job: "daily_revenue", cron: "0 6 * * *" },
]);
`,
  ".gitignore": "node_modules/\ndata/\noutput/\n",
  "tsconfig.json": JSON.stringify({ compilerOptions: { target: "ES2022", module: "NodeNext", moduleResolution: "NodeNext", strict: true, noEmit: true, skipLibCheck: true, types: ["node"] }, include: ["jobs", "stau.schedule.ts"] }, null, 2) + "\n",
};

/** `stau init [dir]`: scaffolds a project with two jobs and a schedule; never overwrites. */
export async function initCommand(dir: string | undefined): Promise<number> {
  const root = resolve(dir ?? ".");
  const origin = stauOrigin();
  const packageFile = join(root, "package.json");
  const existing = existsSync(packageFile) ? readPackage(packageFile) : null;
  mkdirSync(join(root, "jobs"), { recursive: true });
  const created: string[] = [];
  const kept: string[] = [];
  if (existing) kept.push("package.json");
  else {
    writeFileSync(packageFile, JSON.stringify(newPackage(root, origin), null, 2) + "\n");
    created.push("package.json");
  }
  for (const [name, text] of Object.entries(FILES)) {
    const file = join(root, name);
    if (existsSync(file)) kept.push(name);
    else {
      writeFileSync(file, text);
      created.push(name);
    }
  }
  const out = process.stdout;
  for (const name of created) out.write(`${paint("green", "created", out)} ${name}\n`);
  for (const name of kept) out.write(`${paint("dim", "kept   ", out)} ${name}\n`);
  if (!existing) out.write(`\npackage.json depends on "stau": "${origin.spec}", the stau this init came from\n`);
  for (const step of existing ? missingFrom(existing, origin) : []) printWarning(`package.json was kept: ${step}`);
  if (origin.missing) {
    printWarning(`stau was installed from ${origin.missing}, which is not there any more: point "stau" in package.json at a stau tarball (npm pack in a checkout of stau makes one)`);
  }
  out.write(`\nnext: ${dir ? `cd ${dir} && ` : ""}npm install, then\n  npx stau validate\n  npx stau plan daily_revenue\n  npx stau run daily_revenue\n  npx tsc --noEmit\n`);
  return 0;
}

interface PackageJson {
  type?: unknown;
  dependencies?: Record<string, string>;
  devDependencies?: Record<string, string>;
}

function newPackage(root: string, origin: Origin): object {
  return {
    name: basename(root).toLowerCase().replace(/[^a-z0-9-]/g, "-"),
    private: true,
    type: "module",
    scripts: { dev: "stau dev", start: "stau start --no-ui", validate: "stau validate", typecheck: "tsc --noEmit" },
    dependencies: { stau: origin.spec },
    devDependencies: origin.devDependencies,
    allowScripts: allowScripts(origin.spec),
  };
}

/** An existing package.json, read before anything is created, so a broken one stops init with nothing written. */
function readPackage(file: string): PackageJson {
  try {
    return JSON.parse(readFileSync(file, "utf8")) as PackageJson;
  } catch (error) {
    throw new ConfigError(`cannot read ${file}: ${errorMessage(error)}`, "fix it (or move it away) and run stau init again; init never overwrites it", error);
  }
}

/**
 * What a kept package.json lacks for the scaffold to work, each as what to do. Without
 * "type": "module" Node reads the jobs as CommonJS and none of them loads (npm 11's
 * `npm init -y` writes "type": "commonjs").
 */
function missingFrom(pkg: PackageJson, origin: Origin): string[] {
  const has = (name: string) => pkg.dependencies?.[name] !== undefined || pkg.devDependencies?.[name] !== undefined;
  const steps: string[] = [];
  if (pkg.type !== "module") steps.push(`set "type": "module" in it (the jobs use import/export, so Node must read them as ES modules)`);
  if (!has("stau")) steps.push(`add stau to its dependencies: npm install stau@${origin.spec}`);
  const dev = Object.entries(origin.devDependencies).filter(([name]) => !has(name));
  if (dev.length > 0) steps.push(`add what \`npx tsc --noEmit\` needs: npm install --save-dev ${dev.map(([name, range]) => `${name}@${range}`).join(" ")}`);
  return steps;
}
