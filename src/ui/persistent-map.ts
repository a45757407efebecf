// The console holds every chunk of the runs it shows (20,000 or 100,000 for one big
// run), and a batch of events changes a few hundred of them ten times a second. Copying
// the map per batch cost more than everything else the console did (6 ms a copy on a
// busy machine). This map is persistent at the cost of the change only: one Map is
// shared by every version, the newest owns it, and an older version keeps what its
// newer one overwrote. Reading an older version moves the Map back to it first (Baker's
// "rerooting"), so every version stays correct, and the console, which only ever reads
// its newest state, never pays for that. The price: a version kept alive keeps every
// change made since it (each version's undo points to the newer one), so nothing that
// lives long may hold an old state (App.tsx, console-store.ts).

type Undo<K, V> = { readonly newer: PersistentMap<K, V>; readonly entries: [K, V | undefined][] };

export class PersistentMap<K, V> implements ReadonlyMap<K, V> {
  #shared: { map: Map<K, V>; current: PersistentMap<K, V> };
  /** Null while this version owns the map; else how to turn its newer version back into this one. */
  #undo: Undo<K, V> | null = null;

  private constructor(shared: { map: Map<K, V>; current: PersistentMap<K, V> } | null, map?: Map<K, V>) {
    this.#shared = shared ?? { map: map ?? new Map(), current: this };
  }

  static of<K, V>(entries?: Iterable<readonly [K, V]>): PersistentMap<K, V> {
    return new PersistentMap<K, V>(null, new Map(entries));
  }

  /**
   * A new version with `changes` applied (undefined deletes); this one is left as it was.
   * `before`, when given, gets each changed key's value in this version, in the order of `changes`.
   */
  with(changes: Iterable<readonly [K, V | undefined]>, before?: (V | undefined)[]): PersistentMap<K, V> {
    const map = this.#own();
    const undo: [K, V | undefined][] = [];
    for (const [key, value] of changes) {
      const was = map.get(key);
      undo.push([key, was]);
      before?.push(was);
      if (value === undefined) map.delete(key);
      else map.set(key, value);
    }
    if (undo.length === 0) return this;
    const next = new PersistentMap<K, V>(this.#shared);
    this.#undo = { newer: next, entries: undo.reverse() };
    this.#shared.current = next;
    return next;
  }

  get size(): number {
    return this.#own().size;
  }
  get(key: K): V | undefined {
    return this.#own().get(key);
  }
  has(key: K): boolean {
    return this.#own().has(key);
  }
  forEach(fn: (value: V, key: K, map: ReadonlyMap<K, V>) => void): void {
    for (const [key, value] of this.#own()) fn(value, key, this);
  }
  entries(): MapIterator<[K, V]> {
    return this.#own().entries();
  }
  keys(): MapIterator<K> {
    return this.#own().keys();
  }
  values(): MapIterator<V> {
    return this.#own().values();
  }
  [Symbol.iterator](): MapIterator<[K, V]> {
    return this.entries();
  }

  /** The shared map, moved back to this version first if a newer one owns it. */
  #own(): Map<K, V> {
    const shared = this.#shared;
    if (shared.current === this) return shared.map;
    // The versions from this one to the owner, oldest first; undone newest first.
    const path: PersistentMap<K, V>[] = [];
    for (let at: PersistentMap<K, V> = this; at !== shared.current; at = at.#undo!.newer) path.push(at);
    for (let i = path.length - 1; i >= 0; i--) {
      const older = path[i];
      const { newer, entries } = older.#undo!;
      const redo: [K, V | undefined][] = [];
      for (const [key, value] of entries) {
        redo.push([key, shared.map.get(key)]);
        if (value === undefined) shared.map.delete(key);
        else shared.map.set(key, value);
      }
      newer.#undo = { newer: older, entries: redo.reverse() };
      older.#undo = null;
      shared.current = older;
    }
    return shared.map;
  }
}
