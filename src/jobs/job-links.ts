import { readlink } from "node:fs/promises";
import { dirname, resolve, sep } from "node:path";

/** What JobLinks asks of the file watcher. */
export interface PathWatch {
  add(path: string): unknown;
  unwatch(path: string): unknown;
}

/**
 * The job files that are links, and where each points, for the watcher (watch.ts). A
 * change of the file a link points at is a change of the link's job, wherever that file
 * is. A link to nothing has its target watched, so that the file coming back is seen:
 * outside jobs/ nothing else watches it (inside, jobs/ is watched already, and unwatching
 * such a target later would stop that).
 */
export class JobLinks {
  /** Job file → the file it points at (resolved), for every job file that is a link. */
  private readonly targets = new Map<string, string>();
  /** The links whose target is not there. */
  private readonly dangling = new Set<string>();
  /** Targets watched here (of links to nothing, where nothing else watches them). */
  private readonly watched = new Set<string>();
  private watch: PathWatch | null = null;

  constructor(private readonly watchedAlready: (file: string) => boolean) {}

  /** The watcher that add() and unwatch() go to; targets learnt before it are watched now. */
  attach(watch: PathWatch): void {
    this.watch = watch;
    this.sync();
  }

  /** Reads whether job file `file` is a link now and where it points; `dangling`: what it points at is not there. */
  async learn(file: string, dangling: boolean): Promise<void> {
    const target = await readlink(file).then(
      (to) => resolve(dirname(file), to),
      () => null,
    );
    if (target === null) this.targets.delete(file);
    else this.targets.set(file, target);
    if (target !== null && dangling) this.dangling.add(file);
    else this.dangling.delete(file);
    this.sync();
  }

  /** The job files that are links to `file`. */
  linksTo(file: string): string[] {
    const links: string[] = [];
    for (const [link, target] of this.targets) if (target === file) links.push(link);
    return links;
  }

  /** Whether `path` is a watched target or a folder on the way to one (which the watcher must not skip). */
  leadsTo(path: string): boolean {
    for (const target of this.watched) if (target === path || target.startsWith(path + sep)) return true;
    return false;
  }

  private sync(): void {
    if (!this.watch) return;
    const wanted = new Set<string>();
    for (const link of this.dangling) {
      const target = this.targets.get(link)!;
      if (!this.watchedAlready(target)) wanted.add(target);
    }
    for (const target of this.watched) if (!wanted.has(target)) this.watch.unwatch(target);
    for (const target of wanted) if (!this.watched.has(target)) this.watch.add(target);
    this.watched.clear();
    for (const target of wanted) this.watched.add(target);
  }
}
