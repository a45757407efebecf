import { existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { basename, join, resolve } from "node:path";
import { paint } from "../output.js";

const FILES: Record<string, string> = {
  "jobs/fetch_orders.ts": `import { defineJob } from "stau";
import { mkdir, writeFile } from "node:fs/promises";

// One job per file; the file name is the job name. This one writes one file per
// store ("work ID"), ten stores per chunk, so a run over 40 stores is 4 chunks.
export default defineJob({
  chunkSize: 10,
  retries: 2,
  retryDelay: "2s",
  timeout: "1m",
  writes: ["data/orders"],
  async selectWork() {
    return Array.from({ length: 40 }, (_, i) => i + 1);
  },
  async run({ workIds, log, progress }) {
    await mkdir("data/orders", { recursive: true });
    for (const [i, store] of workIds.entries()) {
      const orders = Array.from({ length: 5 }, (_, k) => ({ store, amount: (Number(store) * 7 + k * 13) % 100 }));
      await writeFile(\`data/orders/\${store}.json\`, JSON.stringify(orders));
      progress(i + 1, workIds.length);
    }
    log(\`fetched orders of \${workIds.length} stores\`);
  },
});
`,
  "jobs/daily_revenue.ts": `import { defineJob } from "stau";
import { readFile, writeFile } from "node:fs/promises";

// Needs fetch_orders no older than an hour: stau runs it first when it is stale.
export default defineJob({
  dependencies: [{ job: "fetch_orders", maxLag: "1h" }],
  reads: ["data/orders"],
  writes: ["data/revenue.json"],
  async selectWork() {
    return Array.from({ length: 40 }, (_, i) => i + 1);
  },
  async run({ workIds, log }) {
    let total = 0;
    for (const store of workIds) {
      const orders: { amount: number }[] = JSON.parse(await readFile(\`data/orders/\${store}.json\`, "utf8"));
      total += orders.reduce((sum, o) => sum + o.amount, 0);
    }
    await writeFile("data/revenue.json", JSON.stringify({ total, stores: workIds.length }));
    console.log(\`revenue over \${workIds.length} stores: \${total}\`);
  },
});
`,
  "stau.schedule.ts": `import { defineSchedule } from "stau";

export default defineSchedule([
  { id: "orders", job: "fetch_orders", every: "15m" },
  { id: "revenue", job: "daily_revenue", cron: "0 6 * * *" },
]);
`,
  ".gitignore": "node_modules/\ndata/\n",
  "tsconfig.json": JSON.stringify({ compilerOptions: { target: "ES2022", module: "NodeNext", moduleResolution: "NodeNext", strict: true, noEmit: true, skipLibCheck: true, types: ["node"] }, include: ["jobs", "stau.schedule.ts"] }, null, 2) + "\n",
};

/** `stau init [dir]`: scaffolds a project with two jobs and a schedule; never overwrites. */
export async function initCommand(dir: string | undefined): Promise<number> {
  const root = resolve(dir ?? ".");
  mkdirSync(join(root, "jobs"), { recursive: true });
  const created: string[] = [];
  const kept: string[] = [];
  const packageFile = join(root, "package.json");
  if (existsSync(packageFile)) {
    const pkg = JSON.parse(readFileSync(packageFile, "utf8"));
    if (!pkg.dependencies?.stau && !pkg.devDependencies?.stau) kept.push("package.json (add stau to its dependencies: npm install stau)");
    else kept.push("package.json");
  } else {
    const pkg = { name: basename(root).toLowerCase().replace(/[^a-z0-9-]/g, "-"), private: true, type: "module", scripts: { dev: "stau dev", start: "stau start --no-ui", validate: "stau validate" }, dependencies: { stau: "^0.1.0" } };
    writeFileSync(packageFile, JSON.stringify(pkg, null, 2) + "\n");
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
  out.write(`\nnext: ${dir ? `cd ${dir} && ` : ""}npm install, then\n  npx stau validate\n  npx stau plan daily_revenue\n  npx stau run daily_revenue\n`);
  return 0;
}
