// Helpers shared by the example jobs. Files in jobs/lib/ are not jobs: stau only loads
// files directly in jobs/, and editing a helper reloads every job that imports it.
import { mkdir, readFile, rename, writeFile } from "node:fs/promises";
import path from "node:path";
import { threadId } from "node:worker_threads";
import { NonRetryableError, type WorkId } from "stau";

// ---------------------------------------------------------------------------------
// Paths. stau runs job code with the project root as cwd, so the warehouse sits in
// data/ next to stau's own store (and is git-ignored with it). Computed on each call
// so a test that changes cwd gets its own warehouse.
// ---------------------------------------------------------------------------------

export function warehousePath(...parts: string[]): string {
  return path.join(process.cwd(), "data", "warehouse", ...parts);
}

export const paths = {
  units: () => warehousePath("units.json"),
  raw: (unit: number) => warehousePath("raw", `${unit}.json`),
  clean: (unit: number) => warehousePath("clean", `${unit}.json`),
  dailyStats: (unit: number) => warehousePath("daily_stats", `${unit}.json`),
  anomalies: (unit: number) => warehousePath("anomalies", `${unit}.json`),
  report: (isoWeek: string) => warehousePath("reports", `weekly-${isoWeek}.md`),
};

// ---------------------------------------------------------------------------------
// Files. Chunks of the same job run in parallel worker threads and a chunk can be
// killed mid-write (timeout, cancel), so every write goes to a temp file first and is
// renamed into place: readers see the old file or the new one, never half of one.
// ---------------------------------------------------------------------------------

/** Parsed JSON of `file`, or undefined when the file does not exist. */
export async function readJson<T>(file: string): Promise<T | undefined> {
  let text: string;
  try {
    text = await readFile(file, "utf8");
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === "ENOENT") return undefined;
    throw error; // EACCES, EMFILE, …: possibly transient, so let stau retry it
  }
  try {
    return JSON.parse(text) as T;
  } catch (error) {
    // A corrupt file stays corrupt however often we retry.
    throw new NonRetryableError(`${file} is not valid JSON: ${(error as Error).message}`, { cause: error });
  }
}

export async function writeTextAtomic(file: string, text: string): Promise<void> {
  await mkdir(path.dirname(file), { recursive: true });
  const tmp = `${file}.${process.pid}-${threadId}.tmp`; // unique per worker thread
  await writeFile(tmp, text);
  await rename(tmp, file);
}

export function writeJsonAtomic(file: string, value: unknown): Promise<void> {
  return writeTextAtomic(file, JSON.stringify(value));
}

// ---------------------------------------------------------------------------------
// Deterministic randomness. Synthetic data comes from a seeded PRNG, seeded from what
// the value describes (unit, timestamp), so a re-run reproduces exactly the same
// readings and results can be compared between runs.
// ---------------------------------------------------------------------------------

/** mulberry32: a tiny, fast 32-bit PRNG returning numbers in [0, 1). */
export function seededRandom(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** A 32-bit seed from any parts (FNV-1a hash): seedFrom("raw", 17, "2025-01-01T00:00Z"). */
export function seedFrom(...parts: (string | number)[]): number {
  let hash = 0x811c9dc5;
  for (const char of parts.join("|")) {
    hash ^= char.charCodeAt(0);
    hash = Math.imul(hash, 0x01000193);
  }
  return hash >>> 0;
}

/** A standard normal sample (Box–Muller) from a uniform generator. */
export function gaussian(random: () => number): number {
  const u = 1 - random(); // (0, 1]: log(0) would be -Infinity
  return Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * random());
}

// ---------------------------------------------------------------------------------
// Units and days.
// ---------------------------------------------------------------------------------

export const UNIT_COUNT = 300;
export const SITES = ["copenhagen", "aarhus", "odense", "aalborg", "esbjerg"] as const;
export const DAY_MS = 24 * 60 * 60 * 1000;

export type SensorType = "temperature" | "humidity" | "pressure" | "co2";

/** How each sensor type behaves (for the generator) and what a plausible reading is (for cleaning). */
export const SENSORS: Record<SensorType, { unit: string; base: number; dailySwing: number; noise: number; weather: number; min: number; max: number }> = {
  temperature: { unit: "°C", base: 11, dailySwing: 4, noise: 0.4, weather: 1.5, min: -40, max: 60 },
  humidity: { unit: "%", base: 65, dailySwing: 10, noise: 2, weather: 4, min: 0, max: 100 },
  pressure: { unit: "hPa", base: 1013, dailySwing: 1.5, noise: 0.3, weather: 6, min: 870, max: 1085 },
  co2: { unit: "ppm", base: 430, dailySwing: 40, noise: 8, weather: 15, min: 300, max: 5000 },
};

export interface Unit {
  id: number;
  site: (typeof SITES)[number];
  sensorType: SensorType;
  installedAt: string; // YYYY-MM-DD
}

export interface Registry {
  generatedAt: string;
  units: Unit[];
}

export function readRegistry(): Promise<Registry | undefined> {
  return readJson<Registry>(paths.units());
}

/**
 * Every unit id, for `selectWork`: from the registry when it exists, else 1..UNIT_COUNT
 * (on a fresh checkout nothing has run yet, and planning must still work).
 */
export async function listUnitIds(): Promise<number[]> {
  const registry = await readRegistry();
  if (registry) return registry.units.map((unit) => unit.id);
  return Array.from({ length: UNIT_COUNT }, (_, i) => i + 1);
}

/**
 * A chunk's work IDs as unit numbers. IDs typed on the command line may arrive as
 * strings ("17"); anything that is not a positive integer is a caller's mistake that a
 * retry cannot fix.
 */
export function toUnitIds(workIds: WorkId[]): number[] {
  return workIds.map((id) => {
    const unit = Number(id);
    if (!Number.isInteger(unit) || unit < 1) throw new NonRetryableError(`work ID ${JSON.stringify(id)} is not a unit id (a positive integer)`);
    return unit;
  });
}

/** The UTC calendar day of a timestamp: "2025-01-31". */
export function dayOf(time: number | string | Date): string {
  return new Date(time).toISOString().slice(0, 10);
}

// ---------------------------------------------------------------------------------
// The shapes of the warehouse files, one per pipeline stage.
// ---------------------------------------------------------------------------------

/** A reading as the feed delivers it: usually a number, sometimes not. */
export type RawValue = number | string | null;

/** data/warehouse/raw/<unit>.json, written by ingest_measurements. */
export interface RawFile {
  unit: number;
  sensorType: SensorType;
  ingestedAt: string;
  readings: { ts: string; value: RawValue }[];
}

/** data/warehouse/clean/<unit>.json, written by clean_measurements. */
export interface CleanFile {
  unit: number;
  sensorType: SensorType;
  readings: { ts: string; value: number }[];
  dropped: Record<string, number>; // reason → count
}

export interface DayStats {
  day: string;
  min: number;
  max: number;
  mean: number;
  count: number;
}

/** data/warehouse/daily_stats/<unit>.json, written by daily_stats. */
export interface DailyStatsFile {
  unit: number;
  sensorType: SensorType;
  days: DayStats[];
}

export interface DayScore {
  day: string;
  mean: number;
  /** Standard deviations from the unit's recent history; null without enough history. */
  z: number | null;
  anomaly: boolean;
}

/** data/warehouse/anomalies/<unit>.json, written by anomaly_scores. */
export interface AnomalyFile {
  unit: number;
  sensorType: SensorType;
  scoredAt: string;
  days: DayScore[];
}
