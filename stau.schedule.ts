// When the example pipeline runs. Each trigger also runs whatever the job depends on
// that is older than the dependency's maxLag, so the hourly entry keeps ingest and
// cleaning fresh without entries of their own.
import { defineSchedule } from "stau";

export default defineSchedule([
  // The registry changes rarely; refresh it four times a day.
  { id: "registry", job: "unit_registry", every: "6h" },
  // Ingest → clean → daily stats, five past every hour.
  { id: "hourly-stats", job: "daily_stats", cron: "5 * * * *" },
  // Anomaly scores every two hours, after that hour's stats.
  { id: "anomalies", job: "anomaly_scores", cron: "15 */2 * * *" },
  // The weekly report on Monday at 07:00 Copenhagen time, summer or winter.
  { id: "weekly-report", job: "weekly_report", cron: "0 7 * * 1", timezone: "Europe/Copenhagen" },
]);
