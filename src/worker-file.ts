import { fileURLToPath } from "node:url";

/**
 * The compiled file of a worker entry. Worker threads run plain JavaScript, so when
 * stau's own sources run under a TypeScript runner (the test suite), point at the
 * build output in dist/ instead of the .ts next to the caller.
 */
export function workerFile(relativeToCaller: string, callerUrl: string): string {
  const path = fileURLToPath(new URL(relativeToCaller, callerUrl));
  return callerUrl.endsWith(".ts") ? path.replace(/\/src\//, "/dist/") : path;
}
