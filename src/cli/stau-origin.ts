import { existsSync, readFileSync } from "node:fs";
import { basename, dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";

/** What `stau init` needs to know about the stau it is part of. */
export interface Origin {
  /** How the new project depends on stau: a version range, or where this stau came from. */
  readonly spec: string;
  /** The tarball or folder `spec` points at, when it does not exist (any more). */
  readonly missing: string | null;
  /** The TypeScript and Node types stau itself is built with, so the scaffold type-checks alike. */
  readonly devDependencies: Record<string, string>;
}

interface OwnPackage {
  version: string;
  devDependencies?: Record<string, string>;
}

/** Used when stau's own package.json does not list them (it always should). */
const DEV_DEFAULTS: Record<string, string> = { typescript: "^5.9.3", "@types/node": "^20.19.0" };

/**
 * npm's list of dependencies whose install scripts may run (npm 11 warns about the others
 * after every install; later versions skip them). esbuild (under tsx) checks its binary,
 * as stau's own package.json allows. stau's `prepare` only builds a checkout: npm counts
 * it for a file: dependency and, for a folder, would rebuild that checkout's dist/ under
 * whatever runs from it, while what stau runs from is built already. A file: source is
 * matched by its exact spec, not by name.
 */
export function allowScripts(spec: string): Record<string, boolean> {
  return spec.startsWith("file:") ? { esbuild: true, [spec]: false } : { esbuild: true };
}

/**
 * Where this stau was installed from, so the new project installs the same one. stau is
 * not always on a registry: a newcomer runs it from a tarball made by `npm pack` (through
 * npx) or from a checkout, and a range like "^0.1.0" would make the project's
 * `npm install` fail. The robust witness is npm's own record of the install: the lockfile
 * beside the node_modules/ holding this package (npx's cache folder, a project, …) keeps
 * what it was resolved from, relative to that folder, whatever the cache path is.
 */
export function stauOrigin(): Origin {
  const ownRoot = packageRoot();
  const own = JSON.parse(readFileSync(join(ownRoot, "package.json"), "utf8")) as OwnPackage;
  const devDependencies = Object.fromEntries(Object.entries(DEV_DEFAULTS).map(([name, range]) => [name, own.devDependencies?.[name] ?? range]));
  const fileSpec = (path: string): Origin => ({ spec: `file:${path}`, missing: existsSync(path) ? null : path, devDependencies });

  // Node resolves symlinks, so a folder linked into node_modules (`npm install ../stau`,
  // npx of a folder) is seen at its real place: a checkout, not an installed copy.
  if (basename(dirname(ownRoot)) !== "node_modules") return fileSpec(ownRoot);
  const installRoot = dirname(dirname(ownRoot));
  const resolved = lockedResolved(installRoot, own.version);
  if (resolved === null || isRegistryTarball(resolved)) return { spec: `^${own.version}`, missing: null, devDependencies };
  if (resolved.startsWith("file:")) return fileSpec(resolve(installRoot, resolved.slice("file:".length)));
  return { spec: resolved, missing: null, devDependencies }; // a git URL or another tarball URL works as a spec as is
}

/** The folder of stau's package.json, found upward from this file (in dist/, or src/ under a test runner). */
function packageRoot(): string {
  for (let dir = dirname(fileURLToPath(import.meta.url)); ; dir = dirname(dir)) {
    const file = join(dir, "package.json");
    if (existsSync(file) && (JSON.parse(readFileSync(file, "utf8")) as { name?: string }).name === "stau") return dir;
    if (dirname(dir) === dir) throw new Error(`stau's package.json not found above ${fileURLToPath(import.meta.url)}`);
  }
}

/**
 * What npm recorded this stau as resolved from, or null when it recorded nothing (npx
 * leaves a registry's URL out; a global install keeps no lockfile). The hidden lockfile
 * in node_modules/ is tried first: npm keeps it in step with what is installed, while
 * package-lock.json may be older. An entry of another version is of another install.
 */
function lockedResolved(installRoot: string, version: string): string | null {
  for (const name of ["node_modules/.package-lock.json", "npm-shrinkwrap.json", "package-lock.json"]) {
    let entry: { version?: string; resolved?: string } | undefined;
    try {
      entry = JSON.parse(readFileSync(join(installRoot, name), "utf8")).packages?.["node_modules/stau"];
    } catch {
      continue; // absent or unreadable: the next witness may know
    }
    if (entry?.version === version) return entry.resolved ?? null;
  }
  return null;
}

/** A registry's tarball URL (…/stau/-/stau-0.1.0.tgz): the project depends on the version range. */
function isRegistryTarball(resolved: string): boolean {
  return /^https?:\/\/.+\/stau\/-\/stau-[^/]+\.tgz$/.test(resolved);
}
