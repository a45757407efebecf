import { readdirSync, readlinkSync, statSync, type Dirent } from "node:fs";
import { join } from "node:path";
import type { Problem } from "../config/problem.js";
import { jobNameOf } from "../config/project.js";
import { JOB_NAME } from "../config/schema.js";
import { ConfigError, fileSystemError } from "../errors.js";

export interface JobFile {
  readonly name: string;
  readonly file: string;
}

/**
 * The job files directly in `jobs/` (a link to a file counts as the file). Files
 * starting with `_`, other extensions and everything in subfolders are helpers, not
 * jobs. Bad names and names used twice (`a.ts` beside `a.js`) are problems, reported
 * with every file involved, and so is a link to nothing (its target was moved).
 */
export function discoverJobs(jobsDir: string, display: (file: string) => string): { files: JobFile[]; problems: Problem[] } {
  let entries: Dirent[];
  try {
    // The listing's types say which entries are files: no stat per file (500 of them at each reload).
    entries = readdirSync(jobsDir, { withFileTypes: true }).sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === "ENOENT") return { files: [], problems: [] };
    throw unreadable(error, jobsDir, "the jobs folder");
  }
  const byName = new Map<string, string[]>();
  const problems: Problem[] = [];
  for (const entry of entries) {
    const name = jobNameOf(entry.name);
    if (name === null) continue;
    const file = join(jobsDir, entry.name);
    const kind = kindOf(entry, file);
    if (kind === "dangling link") {
      problems.push({ file: display(file), field: "", message: `is a link to ${linkTarget(file)}, which does not exist; point the link at the job's file, or remove it` });
      continue;
    }
    if (kind !== "file") continue;
    if (!JOB_NAME.test(name)) {
      problems.push({ file: display(file), field: "", message: `job name ${JSON.stringify(name)} may use only letters, digits, _ and -; rename the file` });
      continue;
    }
    byName.set(name, [...(byName.get(name) ?? []), file]);
  }
  const files: JobFile[] = [];
  for (const [name, paths] of byName) {
    if (paths.length > 1) {
      for (const file of paths) {
        problems.push({ file: display(file), field: "", message: `job name ${JSON.stringify(name)} is used by ${paths.map(display).join(" and ")}; keep one` });
      }
      continue;
    }
    files.push({ name, file: paths[0]! });
  }
  return { files, problems };
}

/** What an entry of the listing is: a file (or a link to one), a link to nothing, or something else (a folder, a pipe). */
function kindOf(entry: Dirent, file: string): "file" | "dangling link" | "other" {
  if (!entry.isSymbolicLink()) return entry.isFile() ? "file" : "other";
  try {
    return statSync(file).isFile() ? "file" : "other";
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === "ENOENT") return "dangling link";
    throw unreadable(error, file, "a file in the jobs folder");
  }
}

function linkTarget(link: string): string {
  try {
    return readlinkSync(link);
  } catch {
    // Gone since the listing.
    return "a file";
  }
}

/** The jobs folder (or a file in it) cannot be read: a ConfigError naming it, for permissions and the like. */
function unreadable(error: unknown, path: string, what: string): unknown {
  const denied = ["EACCES", "EPERM"].includes((error as NodeJS.ErrnoException).code ?? "");
  const condition = fileSystemError(error, { what, hint: denied ? `make it readable by the user running stau (chmod u+rX ${path})` : undefined });
  return condition ? new ConfigError(condition.message, condition.hint, error) : error;
}
