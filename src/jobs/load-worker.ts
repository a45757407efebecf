// Entry of the throw-away worker that reads job configs and the schedule. Job code is
// imported here, never in the main thread; only plain descriptions travel back.
import { parentPort, workerData } from "node:worker_threads";
import { describeConfig, type DescribedConfig } from "../config/described.js";
import { importModule, locateError, warmUp } from "./import-module.js";

export interface LoadRequest {
  readonly files: readonly string[];
}

export type LoadResult =
  | { readonly file: string; readonly ok: true; readonly config: DescribedConfig }
  | {
      readonly file: string;
      readonly ok: false;
      readonly message: string;
      /** The file the error is in, when it is a helper the job imports. */
      readonly errorFile?: string;
      readonly line?: number;
      readonly column?: number;
    };

async function loadOne(file: string): Promise<LoadResult> {
  try {
    const module = await importModule(file);
    return { file, ok: true, config: describeConfig(module.default) };
  } catch (error) {
    const { file: errorFile, ...where } = locateError(error, file);
    return { file, ok: false, errorFile, ...where };
  }
}

// Console output of job modules at import time must not reach the terminal.
for (const method of ["log", "info", "warn", "error", "debug", "trace"] as const) console[method] = () => {};

const load = async (request: LoadRequest) => parentPort!.postMessage(await Promise.all(request.files.map(loadOne)));
const request = workerData as LoadRequest | null;
if (request) {
  await load(request);
} else {
  // A warm spare (hot reload): the loader is set up now, the files come when a save does.
  warmUp();
  parentPort!.once("message", (next: LoadRequest) => void load(next));
}
