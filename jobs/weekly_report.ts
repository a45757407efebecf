// The Monday-morning report: the week's largest anomalies and a summary per site, as
// Markdown in data/warehouse/reports/weekly-<ISO week>.md, ready to paste into a chat.
import { defineJob, NonRetryableError } from "stau";
import { DAY_MS, SENSORS, dayOf, listUnitIds, paths, readJson, readRegistry, toUnitIds, writeTextAtomic, type AnomalyFile, type DayScore, type Unit } from "./lib/warehouse.js";

const TOP = 15; // anomalies listed in the report

export default defineJob({
  // Work IDs are all units, with no chunkSize: the report needs every unit's scores in
  // one place, so it is a single chunk. The IDs still matter, since they tell stau which
  // units' anomaly scores must be fresh before the report runs (and those are chunked
  // by anomaly_scores' own chunkSize).
  dependencies: [
    { job: "anomaly_scores", maxLag: "1d" },
    { job: "unit_registry", maxLag: "7d", allowMissingWorkIds: true },
  ],
  timeout: "2m",
  reads: ["anomaly_scores", "units"],
  writes: ["weekly_report"],

  async selectWork() {
    return listUnitIds();
  },

  async run({ workIds, log, progress, signal }) {
    const registry = await readRegistry();
    if (!registry) throw new NonRetryableError(`${paths.units()} is missing; run unit_registry first`);
    const unitsById = new Map(registry.units.map((unit) => [unit.id, unit]));

    // The seven days up to yesterday: on a Monday morning, that is last Monday–Sunday.
    const today = Math.floor(Date.now() / DAY_MS) * DAY_MS;
    const from = dayOf(today - 7 * DAY_MS);
    const to = dayOf(today - DAY_MS);
    const week = isoWeek(today - DAY_MS);

    const ids = toUnitIds(workIds);
    const scored: { unit: Unit; score: DayScore }[] = [];
    const missing: number[] = [];
    for (const [index, id] of ids.entries()) {
      signal.throwIfAborted();
      const file = await readJson<AnomalyFile>(paths.anomalies(id));
      const unit = unitsById.get(id);
      if (!file || !unit) {
        // One unit without scores should not hold back everyone's report: list it instead.
        missing.push(id);
        continue;
      }
      for (const score of file.days) {
        if (score.day >= from && score.day <= to && score.z !== null) scored.push({ unit, score });
      }
      progress(index + 1, ids.length);
    }
    if (missing.length > 0) console.warn(`no anomaly scores for unit(s) ${missing.join(", ")}`);

    const anomalies = scored.filter((row) => row.score.anomaly).sort((a, b) => Math.abs(b.score.z!) - Math.abs(a.score.z!));
    const lines = [
      `# Weekly sensor report — ${week}`,
      "",
      `${from} to ${to} (UTC) · ${ids.length} units · ${anomalies.length} anomalous unit-days · generated ${new Date().toISOString()}`,
      "",
      `## Top anomalies`,
      "",
      ...(anomalies.length === 0
        ? ["_No anomalies this week._"]
        : [
            "| Unit | Site | Sensor | Day | Daily mean | z |",
            "| ---: | --- | --- | --- | ---: | ---: |",
            ...anomalies.slice(0, TOP).map(({ unit, score }) =>
              `| ${unit.id} | ${unit.site} | ${unit.sensorType} | ${score.day} | ${score.mean.toFixed(1)} ${SENSORS[unit.sensorType].unit} | ${score.z!.toFixed(2)} |`,
            ),
          ]),
      "",
      "## Per site",
      "",
      "| Site | Units | Scored unit-days | Anomalous | Worst z |",
      "| --- | ---: | ---: | ---: | --- |",
      ...siteRows(scored),
      ...(missing.length > 0 ? ["", "## Units without scores", "", missing.join(", ")] : []),
      "",
    ];
    const file = paths.report(week);
    await writeTextAtomic(file, lines.join("\n"));
    log(`report written to ${file}: ${anomalies.length} anomalies, ${missing.length} units without scores`);
  },
});

function siteRows(scored: { unit: Unit; score: DayScore }[]): string[] {
  const sites = new Map<string, { units: Set<number>; days: number; anomalous: number; worst?: { unit: Unit; score: DayScore } }>();
  for (const row of scored) {
    const site = sites.get(row.unit.site) ?? { units: new Set(), days: 0, anomalous: 0 };
    sites.set(row.unit.site, site);
    site.units.add(row.unit.id);
    site.days += 1;
    if (row.score.anomaly) site.anomalous += 1;
    if (!site.worst || Math.abs(row.score.z!) > Math.abs(site.worst.score.z!)) site.worst = row;
  }
  return [...sites.entries()]
    .sort(([a], [b]) => a.localeCompare(b))
    .map(([name, site]) => {
      const worst = site.worst ? `${site.worst.score.z!.toFixed(2)} (unit ${site.worst.unit.id}, ${site.worst.score.day})` : "–";
      return `| ${name} | ${site.units.size} | ${site.days} | ${site.anomalous} | ${worst} |`;
    });
}

/** ISO 8601 week of a time, e.g. "2025-W03": weeks start on Monday and belong to the year of their Thursday. */
function isoWeek(time: number): string {
  const date = new Date(Math.floor(time / DAY_MS) * DAY_MS);
  const weekday = date.getUTCDay() || 7; // Monday 1 … Sunday 7
  date.setUTCDate(date.getUTCDate() + 4 - weekday); // that week's Thursday
  const year = date.getUTCFullYear();
  const week = Math.ceil(((date.getTime() - Date.UTC(year, 0, 1)) / DAY_MS + 1) / 7);
  return `${year}-W${String(week).padStart(2, "0")}`;
}
