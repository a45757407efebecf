import { createHash } from "node:crypto";
import { readdir, readFile, readlink } from "node:fs/promises";
import { dirname, join, sep } from "node:path";
import { watch } from "chokidar";
import { isHelperFile, isJobFile, isScheduleFile, type ProjectPaths } from "../config/project.js";
import { JobLinks } from "./job-links.js";

export interface ProjectWatcher {
  /** Resolves once the initial scan is done: changes from then on are seen. */
  readonly ready: Promise<void>;
  close(): Promise<void>;
}


/**
 * Watches `jobs/` and the schedule file. Editors save atomically (write a temp file,
 * rename, sometimes unlink and create): events are debounced, and a file whose content
 * did not change is not reported, so one save is one reload. `changed` lists the job and
 * schedule files to import again, or is "all" when a helper that jobs import changed;
 * an editor's swap, backup and temp files change nothing (isHelperFile).
 */
export function watchProject(paths: ProjectPaths, onChange: (changed: ReadonlySet<string> | "all") => void, debounceMs = 50): ProjectWatcher {
  const hashes = new Map<string, string>();
  // jobs/ and the schedule file are watched by the root's watch already.
  const links = new JobLinks((file) => file.startsWith(paths.jobsDir + sep) || isScheduleFile(paths, file));
  let pending = new Set<string>();
  let helperChanged = false;
  let timer: NodeJS.Timeout | null = null;


  const flush = async () => {
    timer = null;
    const files = pending;
    const all = helperChanged;
    pending = new Set();
    helperChanged = false;
    const changed = new Set<string>();
    let helper = false;
    for (const file of files) {
      const hash = (await hashOf(file)) ?? "deleted";
      if (hashes.get(file) === hash) continue;
      hashes.set(file, hash);
      const job = isJobFile(paths, file);
      if (job) await links.learn(file, hash.startsWith(LINK_TO_NOTHING));
      if (job || isScheduleFile(paths, file)) changed.add(file);
      else if (isHelperFile(paths, file)) helper = true;
    }
    if (helper || all) onChange("all");
    else if (changed.size > 0) onChange(changed);
  };

  const onEvent = (event: string, file: string) => {
    if (event === "addDir") return;
    if (event === "unlinkDir") helperChanged = true;
    else pending.add(file);
    for (const link of links.linksTo(file)) pending.add(link);
    if (timer) clearTimeout(timer);
    timer = setTimeout(() => void flush(), debounceMs);
  };

  // Of the project root, only jobs/ (all of it) and the schedule file matter; not
  // node_modules/, not data/ (stau's own writes).
  const watcher = watch(paths.root, {
    ignoreInitial: true,
    ignored: (file: string) => dirname(file) === paths.root && file !== paths.jobsDir && !isScheduleFile(paths, file) && !links.leadsTo(file),
  });
  links.attach(watcher);
  watcher.on("all", onEvent);
  // chokidar reports no event for a job file that is a link to nothing (it cannot stat
  // it), made or removed; the folder's own "rename" says an entry came or went, whatever it is.
  watcher.on("raw", (event, name, details) => {
    if (event !== "rename" || !name || (details as { watchedPath?: string } | undefined)?.watchedPath !== paths.jobsDir) return;
    const file = join(paths.jobsDir, name);
    if (isJobFile(paths, file)) onEvent("raw", file);
  });
  // Know the current content, so a first save that changes nothing is ignored too.
  void (async () => {
    const entries = await readdir(paths.jobsDir, { recursive: true, withFileTypes: true }).catch(() => []);
    const known = entries.map((entry) => ({ file: join(entry.parentPath, entry.name), link: entry.isSymbolicLink() }));
    if (paths.scheduleFile) known.push({ file: paths.scheduleFile, link: false });
    for (const { file, link } of known) {
      if (hashes.has(file)) continue;
      const hash = await hashOf(file);
      if (!hash || hashes.has(file)) continue;
      hashes.set(file, hash);
      if (link && isJobFile(paths, file)) await links.learn(file, hash.startsWith(LINK_TO_NOTHING));
    }
  })();
  const ready = new Promise<void>((resolve) => watcher.once("ready", () => resolve()));
  return {
    ready,
    async close() {
      if (timer) clearTimeout(timer);
      await watcher.close();
    },
  };
}

const LINK_TO_NOTHING = "a link to nothing: ";

/** The content hash of a file, where a link to nothing points, or null when it is not there (deleted) or cannot be read. */
function hashOf(file: string): Promise<string | null> {
  return readFile(file).then(
    (data) => createHash("sha1").update(data).digest("hex"),
    // Only a missing file can be a link to nothing: a link to a file that cannot be read is not one.
    (error: NodeJS.ErrnoException) => (error.code === "ENOENT" ? readlink(file).then((target) => LINK_TO_NOTHING + target, () => null) : null),
  );
}
