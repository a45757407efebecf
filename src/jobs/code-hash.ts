import { createHash } from "node:crypto";
import { readFileSync, statSync } from "node:fs";
import { dirname, extname, join, relative, resolve } from "node:path";
import type { JobSpec } from "../config/spec.js";

// Code-aware freshness (README "Code-aware freshness"): a content hash of a job's file
// and of the local files it imports, recorded with each success, so a dependency with
// `codeAware: true` counts a success only if it ran the code there is now. Read from the
// files' text, never by importing them (job code runs in worker threads only), and with
// no git: an uncommitted edit counts as much as a commit.

/** Relative specifiers in import/export statements, dynamic import() and require(). */
const SPECIFIERS = [
  /\b(?:import|export)\s[^;"'`]*?\bfrom\s*["'](\.{1,2}\/[^"']+)["']/g,
  /\bimport\s*["'](\.{1,2}\/[^"']+)["']/g,
  /\b(?:import|require)\s*\(\s*["'](\.{1,2}\/[^"']+)["']\s*\)/g,
];

const SCRIPT = new Set([".ts", ".mts", ".cts", ".tsx", ".js", ".mjs", ".cjs", ".jsx"]);

/**
 * The hash of `file` and every local module it imports, directly or not. Paths enter
 * the hash relative to the job's folder, so copies of a project in different places
 * (several instances on one database) agree. Programs (.py, .sh, .R) hash their own file.
 */
export function codeHash(file: string): string {
  const known = remembered.get(file);
  if (known && known.stamps.every(unchanged)) return known.hash;
  const hash = createHash("sha256");
  const base = dirname(file);
  const seen = new Set<string>([file]);
  const queue = [file];
  const stamps: Stamp[] = [];
  for (let i = 0; i < queue.length; i++) {
    // Stamped before it is read: a change while it is read shows at the next look.
    const stamp = stampOf(queue[i]!);
    if (stamp) stamps.push(stamp);
    const text = readFileSync(queue[i]!, "utf8");
    hash.update(`${relative(base, queue[i]!)}\0${text}\0`);
    if (!SCRIPT.has(extname(queue[i]!))) continue;
    for (const pattern of SPECIFIERS) {
      for (const match of text.matchAll(pattern)) {
        const found = resolveLocal(dirname(queue[i]!), match[1]!);
        if (found !== null && !seen.has(found)) {
          seen.add(found);
          queue.push(found);
        }
      }
    }
  }
  const digest = hash.digest("hex").slice(0, 16);
  remember(file, stamps, digest);
  return digest;
}

/** A file a hash read, as the file system described it just before. */
interface Stamp {
  readonly path: string;
  readonly mtimeNs: bigint;
  readonly ctimeNs: bigint;
  readonly size: bigint;
  readonly ino: bigint;
}

/**
 * Hashes by job file, with what each read: every trigger hashes every job it reaches,
 * and reading, scanning and hashing a file again costs several times a stat of it (~60
 * against ~5 µs for a one-file job, a tenth of a one-chunk run's time on the main
 * thread). An import that resolved to no file, or to one that a new file would now
 * shadow, is looked at again once a file the hash read changes.
 */
const remembered = new Map<string, { readonly stamps: readonly Stamp[]; readonly hash: string }>();
const REMEMBERED_MAX = 10_000;

/**
 * A file changed this recently may change again within one tick of the file system's
 * clock, keeping its times and size: such a hash is not remembered (as git treats
 * "racily clean" entries), so an edit right after a run is never missed.
 */
const SETTLED_NS = 1_000_000_000n;

function stampOf(path: string): Stamp | null {
  const stat = statSync(path, { bigint: true, throwIfNoEntry: false });
  return stat ? { path, mtimeNs: stat.mtimeNs, ctimeNs: stat.ctimeNs, size: stat.size, ino: stat.ino } : null;
}

function unchanged(stamp: Stamp): boolean {
  const now = stampOf(stamp.path);
  return now !== null && now.mtimeNs === stamp.mtimeNs && now.ctimeNs === stamp.ctimeNs && now.size === stamp.size && now.ino === stamp.ino;
}

function remember(file: string, stamps: readonly Stamp[], hash: string): void {
  const settledBefore = BigInt(Date.now()) * 1_000_000n - SETTLED_NS;
  if (!stamps.every((s) => s.mtimeNs < settledBefore && s.ctimeNs < settledBefore)) {
    remembered.delete(file);
    return;
  }
  if (remembered.size >= REMEMBERED_MAX) remembered.clear();
  remembered.set(file, { stamps, hash });
}

/**
 * The current code hash of every job `root` reaches through its dependencies (all jobs
 * when root is absent). A file that cannot be read has no hash: codeAware then counts
 * every success of it as run by other code, and the job runs, which reports the problem.
 */
export function codeHashes(jobs: ReadonlyMap<string, JobSpec>, root?: string): Map<string, string> {
  const names = root === undefined ? [...jobs.keys()] : reachable(jobs, root);
  const hashes = new Map<string, string>();
  for (const name of names) {
    const spec = jobs.get(name);
    if (!spec) continue;
    try {
      hashes.set(name, codeHash(spec.file));
    } catch {
      // unreadable now: no hash (see above)
    }
  }
  return hashes;
}

function reachable(jobs: ReadonlyMap<string, JobSpec>, root: string): string[] {
  const seen = new Set([root]);
  const queue = [root];
  for (let i = 0; i < queue.length; i++) {
    for (const dep of jobs.get(queue[i]!)?.dependencies ?? []) {
      if (!seen.has(dep.job)) {
        seen.add(dep.job);
        queue.push(dep.job);
      }
    }
  }
  return queue;
}

/** A relative specifier as Node and tsx resolve it: as written, `.js` meaning `.ts`, an added extension, an index file. */
function resolveLocal(from: string, specifier: string): string | null {
  const target = resolve(from, specifier);
  const ext = extname(target);
  const swapped = { ".js": [".ts", ".tsx"], ".mjs": [".mts"], ".cjs": [".cts"], ".jsx": [".tsx"] }[ext] ?? [];
  const stem = target.slice(0, target.length - ext.length);
  const candidates = [target, ...swapped.map((e) => stem + e), ...[".ts", ".tsx", ".mts", ".js", ".mjs"].map((e) => target + e), ...["index.ts", "index.js"].map((f) => join(target, f))];
  for (const candidate of candidates) {
    try {
      if (statSync(candidate).isFile()) return candidate;
    } catch {
      // not this one
    }
  }
  return null;
}
