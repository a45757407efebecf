import { existsSync } from "node:fs";
import { basename, dirname, extname, join, relative, resolve } from "node:path";

/** Where a project keeps its parts. The one owner of the project layout. */
export interface ProjectPaths {
  readonly root: string;
  readonly jobsDir: string;
  /** The schedule file, or null when the project has none. */
  readonly scheduleFile: string | null;
  readonly dataDir: string;
}

/** Extensions loaded without a build step: a job file and the schedule file end in one of them. */
const CODE_EXTENSIONS = [".ts", ".mts", ".js", ".mjs"];
const SCHEDULE_NAMES = CODE_EXTENSIONS.map((ext) => `stau.schedule${ext}`);

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

/**
 * The job a file directly in jobs/ is, or null for a helper: files starting with `_`,
 * declaration files and other extensions are helpers that jobs import, as is anything
 * in a subfolder (the caller looks only at jobs/ itself). The name is not checked here.
 */
export function jobNameOf(fileName: string): string | null {
  const ext = extname(fileName);
  if (!CODE_EXTENSIONS.includes(ext) || fileName.startsWith("_") || fileName.endsWith(".d.ts")) return null;
  return fileName.slice(0, -ext.length);
}

/** Whether `file` (absolute) is a job file of the project. */
export function isJobFile(paths: ProjectPaths, file: string): boolean {
  return dirname(file) === paths.jobsDir && jobNameOf(basename(file)) !== null;
}

/** Whether `file` (absolute) is the project's schedule file, under any of its names. */
export function isScheduleFile(paths: ProjectPaths, file: string): boolean {
  return dirname(file) === paths.root && SCHEDULE_NAMES.includes(basename(file));
}
