import { createRequire } from "node:module";
import { dirname, join } from "node:path";
import { pathToFileURL } from "node:url";

// Ink composes every frame from scratch: each line of text is split into styled cells
// again (ANSI tokenizing) and each cell measured, though most lines did not change
// since the last frame — that was half of a console frame's time. Ink keeps these
// results in caches, but a fresh set per frame. Here the frames share one set, so only
// lines that changed are tokenized. Ink offers no option for it: its output class is
// reached by file, and left alone when it is not shaped as expected.

/**
 * Cache entries kept across frames; past this many (text that changes, like clocks) they
 * start over. A screen holds about a hundred lines, a line's cells ~10 KB: a few MB at most.
 */
const MAX_ENTRIES = 1000;

interface OutputCaches {
  readonly widths: Map<string, number>;
  readonly blockWidths: Map<string, number>;
  readonly styledChars: Map<string, unknown>;
}
interface OutputClass {
  new (size: { width: number; height: number }): { caches: OutputCaches };
  prototype: { get(this: { caches: OutputCaches }): unknown };
}

let shared: Promise<boolean> | null = null;

/** Makes Ink's frames share their caches; true when done (once per process), false when Ink is not as expected. */
export function shareInkCaches(): Promise<boolean> {
  return (shared ??= patch().catch(() => false));
}

async function patch(): Promise<boolean> {
  const entry = createRequire(import.meta.url).resolve("ink");
  const { default: Output } = (await import(pathToFileURL(join(dirname(entry), "output.js")).href)) as { default: OutputClass };
  const probe = new Output({ width: 0, height: 0 });
  const caches = probe.caches;
  const shaped = typeof Output.prototype.get === "function" && caches && [caches.widths, caches.blockWidths, caches.styledChars].every((map) => map instanceof Map);
  if (!shaped) return false;
  const NewCaches = caches.constructor as new () => OutputCaches;
  let current = caches;
  const get = Output.prototype.get;
  Output.prototype.get = function (this: { caches: OutputCaches }) {
    if (current.styledChars.size + current.widths.size + current.blockWidths.size > MAX_ENTRIES) current = new NewCaches();
    this.caches = current;
    return get.call(this);
  };
  return true;
}
