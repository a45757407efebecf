// Per unit and UTC day: min, max, mean and number of clean readings. These small files
// are what dashboards and anomaly_scores read instead of the half-hourly readings.
import { defineJob, NonRetryableError } from "stau";
import { listUnitIds, paths, readJson, toUnitIds, writeJsonAtomic, type CleanFile, type DailyStatsFile, type DayStats } from "./lib/warehouse.js";

export default defineJob({
  chunkSize: 25,
  dependencies: [{ job: "clean_measurements", maxLag: "1h" }],
  reads: ["measurements_clean"],
  writes: ["daily_stats"],

  async selectWork() {
    return listUnitIds();
  },

  async run({ workIds, progress, signal }) {
    const units = toUnitIds(workIds);
    let dayCount = 0;
    for (const [index, id] of units.entries()) {
      signal.throwIfAborted();
      const clean = await readJson<CleanFile>(paths.clean(id));
      if (!clean) throw new NonRetryableError(`${paths.clean(id)} is missing: no clean readings for unit ${id}`);

      // Readings are in time order, so each day's readings are consecutive.
      const days: DayStats[] = [];
      for (const { ts, value } of clean.readings) {
        const day = ts.slice(0, 10); // ISO timestamps in UTC start with the day
        let current = days.at(-1);
        if (current?.day !== day) {
          current = { day, min: value, max: value, mean: 0, count: 0 };
          days.push(current);
        }
        current.min = Math.min(current.min, value);
        current.max = Math.max(current.max, value);
        current.mean += value; // a running sum until the division below
        current.count += 1;
      }
      for (const day of days) day.mean = Math.round((day.mean / day.count) * 1000) / 1000;

      const stats: DailyStatsFile = { unit: id, sensorType: clean.sensorType, days };
      await writeJsonAtomic(paths.dailyStats(id), stats);
      dayCount += days.length;
      progress(index + 1, units.length); // the console's progress bar for this chunk
    }
    // console.* inside a job goes to this chunk's log, not onto the terminal.
    console.log(`units ${units[0]}–${units.at(-1)}: ${dayCount} unit-days summarised`);
  },
});
