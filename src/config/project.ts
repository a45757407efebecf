import { existsSync, statSync } from "node:fs";
import { basename, dirname, extname, join, relative, resolve, sep } from "node:path";

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
/** Extensions of programs that are jobs themselves, run as processes (see src/programs/). */
const PROGRAM_EXTENSIONS = [".py", ".sh", ".R"];

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

/**
 * The project `from` is in: the nearest folder at or above it that holds `jobs/` or a
 * schedule file, as git and npm find theirs, so a command run in `jobs/` or a subfolder
 * acts on its project rather than on an empty one of its own. Null outside any project.
 */
export function findProjectRoot(from: string): string | null {
  for (let dir = resolve(from); ; dir = dirname(dir)) {
    if (isProjectRoot(dir)) return dir;
    if (dirname(dir) === dir) return null;
  }
}

function isProjectRoot(dir: string): boolean {
  // A folder we may not look into is not a project we could run, so it does not stop the search.
  const isDirectory = (path: string) => {
    try {
      return statSync(path, { throwIfNoEntry: false })?.isDirectory() ?? false;
    } catch {
      return false;
    }
  };
  return isDirectory(join(dir, "jobs")) || SCHEDULE_NAMES.some((name) => existsSync(join(dir, name)));
}

/** A path as users see it in messages: relative to the project root. */
export function displayPath(paths: ProjectPaths, file: string): string {
  const rel = relative(paths.root, file);
  return rel.startsWith("..") ? file : rel;
}

/**
 * The job a file directly in jobs/ is, or null for a helper: files starting with `_`,
 * declaration files and other extensions are helpers that jobs import, as is anything
 * in a subfolder (the caller looks only at jobs/ itself). Code files and programs
 * (`.py`, `.sh`, `.R`) are jobs. The name is not checked here.
 */
export function jobNameOf(fileName: string): string | null {
  const ext = extname(fileName);
  if (!(CODE_EXTENSIONS.includes(ext) || isProgramFile(fileName)) || fileName.startsWith("_") || fileName.startsWith(".") || fileName.endsWith(".d.ts")) return null;
  return fileName.slice(0, -ext.length);
}

/** Whether a job file is a program (run as a process) rather than a module stau imports. */
export function isProgramFile(file: string): boolean {
  return PROGRAM_EXTENSIONS.includes(extname(file));
}

/** What a job may import besides code files: a change to one of these is a helper change. */
const HELPER_EXTENSIONS = [...CODE_EXTENSIONS, ".cts", ".cjs", ".tsx", ".jsx", ".json"];

/**
 * Whether `file` (absolute, in jobs/) is a helper: code or JSON that a job may import,
 * so a change to it reloads every job. Hidden files and folders (swap files, Emacs
 * locks) and other names (`x.ts~` backups, `4913` probes, `x.ts.tmp` and
 * `x.ts___jb_tmp___` temp files that editors write while saving) are not.
 */
export function isHelperFile(paths: ProjectPaths, file: string): boolean {
  const inJobs = relative(paths.jobsDir, file);
  if (inJobs.startsWith("..") || isJobFile(paths, file)) return false;
  return !inJobs.split(sep).some((part) => part.startsWith(".")) && HELPER_EXTENSIONS.includes(extname(file));
}

/** Whether `file` (absolute) is a job file of the project. */
export function isJobFile(paths: ProjectPaths, file: string): boolean {
  return dirname(file) === paths.jobsDir && jobNameOf(basename(file)) !== null;
}

/** Whether `file` (absolute) is the project's schedule file, under any of its names. */
export function isScheduleFile(paths: ProjectPaths, file: string): boolean {
  return dirname(file) === paths.root && SCHEDULE_NAMES.includes(basename(file));
}
