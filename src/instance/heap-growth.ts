import { setFlagsFromString } from "node:v8";

// The instance that orchestrates holds every chunk of its active runs in memory, and a
// run of a million chunks turns over a new record per chunk at each claim and result.
// V8 lets its old space grow to several times what its last full collection kept before
// it collects again (up to four times on a machine with much memory): at a million
// chunks that was ~2 GB at the peak against ~0.5 GB live. Growing it by half instead
// (V8's --heap-growing-percent, read at each collection) halved the peak with no loss of
// speed on runs of 20,000 to 1,000,000 chunks (BENCHMARKS.md, "fourth pass"). It must
// hold from the start: the limit the big run meets is set by the collections during
// its own resolution.

const GROWING_PERCENT = 50;

/** Holds V8's heap growth close to what is live while an instance runs; returns a stop that puts V8's own back. */
export function holdHeapCloseToLive(): () => void {
  setFlagsFromString(`--heap-growing-percent=${GROWING_PERCENT}`);
  // 0 is V8's default: its own factor, from the heap's size and the machine's memory.
  return () => setFlagsFromString("--heap-growing-percent=0");
}
