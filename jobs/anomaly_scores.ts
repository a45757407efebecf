// Scores each complete day of each unit: how many standard deviations the day's mean
// lies from the unit's recent history (a z-score). |z| ≥ 3 is flagged as an anomaly.
//
// This is the pipeline's flaky job, on purpose: it "fetches features" from a store that
// times out on about one attempt in five, so you can watch stau retry a chunk (1s, 2s,
// 4s backoff) in the console. Pass kwargs { "failureRate": 0 } to switch that off.
import { defineJob, NonRetryableError } from "stau";
import { dayOf, listUnitIds, paths, readJson, toUnitIds, writeJsonAtomic, type AnomalyFile, type DailyStatsFile, type DayScore, type DayStats } from "./lib/warehouse.js";

const THRESHOLD = 3; // |z| at which a day counts as anomalous
const MIN_HISTORY = 7; // days of history needed before a day is scored: fewer give noisy baselines
const HISTORY_DAYS = 28; // how far back the baseline reaches

export default defineJob<{ failureRate?: number }>({
  chunkSize: 100,
  dependencies: [{ job: "daily_stats", maxLag: "2h" }],
  retries: 3, // a timeout is worth retrying…
  retryDelay: "1s", // …after 1s, then 2s, then 4s
  reads: ["daily_stats", "feature_store"],
  writes: ["anomaly_scores"],

  async selectWork() {
    return listUnitIds();
  },

  async run({ workIds, kwargs, log, progress, signal, attempt }) {
    const failureRate = kwargs.failureRate ?? 0.2;
    if (typeof failureRate !== "number" || failureRate < 0 || failureRate > 1) {
      throw new NonRetryableError(`kwarg failureRate must be a number from 0 to 1, received ${JSON.stringify(failureRate)}`);
    }
    // The simulated flaky upstream. Math.random here only decides *whether* this attempt
    // fails; the data itself stays deterministic. A plain Error is retryable.
    if (Math.random() < failureRate) throw new Error("feature store timed out (simulated)");
    if (attempt > 1) log(`feature store answered on attempt ${attempt}`);

    // Today is still filling up; a partial day's mean would look like an anomaly.
    const today = dayOf(Date.now());
    const units = toUnitIds(workIds);
    let flagged = 0;
    for (const [index, id] of units.entries()) {
      signal.throwIfAborted();
      const stats = await readJson<DailyStatsFile>(paths.dailyStats(id));
      // daily_stats just ran for this unit. A missing file is a real data problem (a
      // unit that never reported, a wrong path) that no retry can fix: fail right away.
      if (!stats) throw new NonRetryableError(`${paths.dailyStats(id)} is missing: no daily stats for unit ${id}`);

      const days = score(stats.days.filter((day) => day.day < today));
      const file: AnomalyFile = { unit: id, sensorType: stats.sensorType, scoredAt: new Date().toISOString(), days };
      await writeJsonAtomic(paths.anomalies(id), file);
      flagged += days.filter((day) => day.anomaly).length;
      progress(index + 1, units.length);
    }
    log(`units ${units[0]}–${units.at(-1)}: ${flagged} anomalous unit-days`);
  },
});

/** z-scores of each day's mean against the preceding normal days. */
function score(days: DayStats[]): DayScore[] {
  const baseline: number[] = []; // means of earlier days that were not anomalous
  return days.map(({ day, mean }) => {
    let z: number | null = null;
    if (baseline.length >= MIN_HISTORY) {
      const recent = baseline.slice(-HISTORY_DAYS);
      const mu = recent.reduce((sum, x) => sum + x, 0) / recent.length;
      const sd = Math.sqrt(recent.reduce((sum, x) => sum + (x - mu) ** 2, 0) / (recent.length - 1));
      z = sd === 0 ? 0 : Math.round(((mean - mu) / sd) * 100) / 100;
    }
    const anomaly = z !== null && Math.abs(z) >= THRESHOLD;
    // An anomalous day stays out of the baseline, so it cannot mask the next one.
    if (!anomaly) baseline.push(mean);
    return { day, mean, z, anomaly };
  });
}
