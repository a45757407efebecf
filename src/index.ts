// The public API a project imports from "stau".
export { defineJob, defineSchedule, defineConfig, NonRetryableError } from "./config/define.js";
export type { StauConfig, NotifyRule, NotifyEvent } from "./config/project-config.js";
export type { JobConfig, JobContext, Dependency, ScheduleEntry, WorkId, Kwargs } from "./config/types.js";
export type { Duration } from "./config/duration.js";
