import { existsSync, readFileSync, statSync } from "node:fs";
import { dirname, join, resolve, sep } from "node:path";
import type { FSWatcher } from "chokidar";
import { gitState, type GitState } from "./git.js";

/**
 * The git state of jobs/ for each trigger, asking git again only after something it
 * depends on may have changed: a file under jobs/ (the dirty flag), or git's HEAD, index
 * or refs (the commit). Asking git is two processes, 30–100 ms per run on a busy machine:
 * most of a run's overhead, and all of a one-chunk run's wait behind a busy engine.
 *
 * Watching starts at the second trigger (a `stau run` triggers once and never pays for
 * it, nor loads chokidar); an answer is trusted only if git was asked after the watch
 * was ready. Calls made while git is being asked share the answer. A repository
 * created after the watch began (no .git then) ends the caching: from then on git is
 * asked every time, as before.
 */
export class GitWatch {
  /** Changes seen so far: an answer holds while no change came after it was asked for. */
  private changes = 0;
  private known: { readonly changes: number; readonly state: GitState } | null = null;
  private looking: Promise<GitState> | null = null;
  /** Null once started when watching could not begin: git is then asked every time. */
  private watcher: Promise<FSWatcher | null> | null = null;
  private ready = false;
  private caching = true;
  private reads = 0;

  constructor(private readonly jobsDir: string) {}

  read(): Promise<GitState> {
    if (this.caching && this.known?.changes === this.changes) return Promise.resolve(this.known.state);
    if (++this.reads > 1) this.watcher ??= this.watch().catch(() => ((this.caching = false), null));
    if (this.looking) return this.looking;
    const trusted = this.ready && this.caching;
    const asked = this.changes;
    this.looking = gitState(this.jobsDir).then((state) => {
      this.known = trusted ? { changes: asked, state } : null;
      return state;
    });
    void this.looking.finally(() => (this.looking = null));
    return this.looking;
  }

  private async watch(): Promise<FSWatcher> {
    const { watch } = await import("chokidar");
    const git = gitDirs(this.jobsDir);
    const watcher = git ? this.watchCheckout(watch, git) : this.watchForRepository(watch, dirname(this.jobsDir));
    watcher.on("ready", () => (this.ready = true));
    watcher.on("error", () => (this.caching = false));
    return watcher;
  }

  private watchCheckout(watch: Watch, git: { dir: string; common: string }): FSWatcher {
    // Objects and logs change with every fetch and gc, and never alone change the state.
    const noise = (file: string) => [git.dir, git.common].some((d) => file.startsWith(d + sep) && /^(objects|logs)([\\/]|$)/.test(file.slice(d.length + 1)));
    const watcher = watch([...new Set([this.jobsDir, git.dir, git.common])], { ignoreInitial: true, ignored: noise });
    watcher.on("all", () => this.changes++);
    return watcher;
  }

  /** Outside a checkout the state is "none" whatever jobs/ holds, until a repository is created in the project folder. */
  private watchForRepository(watch: Watch, root: string): FSWatcher {
    const watcher = watch(root, { ignoreInitial: true, depth: 0 });
    watcher.on("all", (_event, file) => {
      if (resolve(file) === join(root, ".git")) this.caching = false;
    });
    return watcher;
  }

  /** Resolves once changes from now on are seen (at once if nothing is watched yet): for tests. */
  async watching(): Promise<void> {
    if (!this.watcher) return;
    const watcher = await this.watcher;
    if (watcher && !this.ready) await new Promise<void>((resolve) => watcher.once("ready", () => resolve()));
  }

  async close(): Promise<void> {
    await (await this.watcher)?.close();
  }
}

type Watch = typeof import("chokidar").watch;

/** The git directory of the checkout holding `dir` (a worktree's own, and the shared one), or null. */
function gitDirs(dir: string): { dir: string; common: string } | null {
  for (let at = resolve(dir); ; at = dirname(at)) {
    const dotGit = join(at, ".git");
    if (existsSync(dotGit)) {
      // A worktree's .git is a file naming its git directory, which names the shared one.
      const own = statSync(dotGit).isDirectory() ? dotGit : resolve(at, readFileSync(dotGit, "utf8").replace(/^gitdir:\s*/, "").trim());
      const commonFile = join(own, "commondir");
      const common = existsSync(commonFile) ? resolve(own, readFileSync(commonFile, "utf8").trim()) : own;
      return { dir: own, common };
    }
    if (dirname(at) === at) return null;
  }
}
