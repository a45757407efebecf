import { existsSync } from "node:fs";
import { join, relative, resolve } from "node:path";

/** Where a project keeps its parts. The one owner of the project layout. */
export interface ProjectPaths {
  readonly root: string;
  readonly jobsDir: string;
  /** The schedule file, or null when the project has none. */
  readonly scheduleFile: string | null;
  readonly dataDir: string;
}

const SCHEDULE_NAMES = ["stau.schedule.ts", "stau.schedule.mts", "stau.schedule.js", "stau.schedule.mjs"];

export function projectPaths(root: string, dataDir?: string): ProjectPaths {
  const absRoot = resolve(root);
  const scheduleFile = SCHEDULE_NAMES.map((name) => join(absRoot, name)).find((file) => existsSync(file)) ?? null;
  return {
    root: absRoot,
    jobsDir: join(absRoot, "jobs"),
    scheduleFile,
    dataDir: resolve(absRoot, dataDir ?? process.env.STAU_DATA_DIR ?? "data"),
  };
}

/** A path as users see it in messages: relative to the project root. */
export function displayPath(paths: ProjectPaths, file: string): string {
  const rel = relative(paths.root, file);
  return rel.startsWith("..") ? file : rel;
}
