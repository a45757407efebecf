// The public API a project imports from "stau".
export { defineJob, defineSchedule, NonRetryableError } from "./config/define.js";
export type { JobConfig, JobContext, Dependency, ScheduleEntry, WorkId, Kwargs } from "./config/types.js";
export type { Duration } from "./config/duration.js";
