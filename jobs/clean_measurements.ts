// Drops the readings no analysis should see: missing values, text where a number should
// be, the vendor's -9999 sentinel and values outside what the sensor type can measure.
// What was dropped, and why, is kept in the file and logged: a sudden rise in one reason
// is often the first sign of a broken device.
import { defineJob, NonRetryableError } from "stau";
import { SENSORS, listUnitIds, paths, readJson, toUnitIds, writeJsonAtomic, type CleanFile, type RawFile, type RawValue } from "./lib/warehouse.js";

const SENTINEL = -9999;

export default defineJob({
  chunkSize: 50,
  dependencies: [
    // Hourly schedules should see readings at most an hour old.
    { job: "ingest_measurements", maxLag: "1h" },
  ],
  reads: ["measurements_raw"],
  writes: ["measurements_clean"],

  async selectWork() {
    return listUnitIds();
  },

  async run({ workIds, log, progress, signal }) {
    const units = toUnitIds(workIds);
    const droppedInChunk: Record<string, number> = {};
    let kept = 0;
    for (const [index, id] of units.entries()) {
      signal.throwIfAborted();
      const raw = await readJson<RawFile>(paths.raw(id));
      // ingest_measurements ran for these units just before us; if the file is not
      // there, something is wrong upstream and retrying this chunk will not fix it.
      if (!raw) throw new NonRetryableError(`${paths.raw(id)} is missing: no raw readings for unit ${id}`);

      const { min, max } = SENSORS[raw.sensorType];
      const clean: CleanFile = { unit: id, sensorType: raw.sensorType, readings: [], dropped: {} };
      for (const { ts, value } of raw.readings) {
        const reason = whyInvalid(value, min, max);
        if (reason) {
          clean.dropped[reason] = (clean.dropped[reason] ?? 0) + 1;
          droppedInChunk[reason] = (droppedInChunk[reason] ?? 0) + 1;
        } else {
          clean.readings.push({ ts, value: value as number });
        }
      }
      kept += clean.readings.length;
      await writeJsonAtomic(paths.clean(id), clean);
      progress(index + 1, units.length);
    }
    const dropped = Object.entries(droppedInChunk).map(([reason, count]) => `${reason} ${count}`).join(", ");
    log(`units ${units[0]}–${units.at(-1)}: kept ${kept} readings, dropped ${dropped || "none"}`);
  },
});

/** Why a raw value cannot be used, or undefined when it can. */
function whyInvalid(value: RawValue, min: number, max: number): string | undefined {
  if (value === null) return "missing";
  if (typeof value !== "number" || !Number.isFinite(value)) return "not a number"; // "NaN", "ERR:E42", …
  if (value === SENTINEL) return "sentinel";
  if (value < min || value > max) return "out of range";
  return undefined;
}
