import type { ProjectPaths } from "../config/project.js";
import type { JobSpec } from "../config/spec.js";
import type { Kwargs, WorkId } from "../config/types.js";
import { ExecPool } from "../exec/pool.js";

/**
 * The work IDs a trigger of `spec` would cover: `given` when the user typed some, else
 * the job's selectWork (job code, so it runs in a worker thread), else none. Shared by
 * `stau plan` and `stau explain` so both look at the run a trigger would make.
 */
export async function selectedWork(paths: ProjectPaths, spec: JobSpec, kwargs: Kwargs, given: WorkId[] | null): Promise<WorkId[] | null> {
  if (given !== null || !spec.hasSelectWork) return given;
  const pool = new ExecPool({ workers: 1, dataDir: paths.dataDir });
  try {
    return await pool.selectWork(spec, kwargs);
  } finally {
    await pool.close();
  }
}
