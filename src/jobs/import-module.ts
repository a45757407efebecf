import { pathToFileURL } from "node:url";
import { register } from "tsx/esm/api";

// Job code is only ever imported inside worker threads (SPEC §4). Each thread
// registers the TypeScript loader once; hot reload starts fresh threads instead of
// re-importing in place, so nothing here needs cache busting.

let registered = false;

export async function importModule(file: string): Promise<Record<string, unknown>> {
  if (!registered) {
    process.setSourceMapsEnabled(true);
    register();
    registered = true;
  }
  return (await import(pathToFileURL(file).href)) as Record<string, unknown>;
}

/** Where in `file` an import-time error happened: syntax errors and top-level throws. */
export function locateError(error: unknown, file: string): { message: string; line?: number; column?: number } {
  const raw = error instanceof Error ? error.message : String(error);
  // esbuild (under tsx) reports syntax errors as "<file>:<line>:<col>: ERROR: <text>".
  const syntax = raw.match(/:(\d+):(\d+): ERROR: (.+)/);
  if (syntax) return { message: `syntax error: ${syntax[3]}`, line: Number(syntax[1]), column: Number(syntax[2]) };
  const stack = error instanceof Error ? (error.stack ?? "") : "";
  const escaped = file.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
  const frame = stack.match(new RegExp(`${escaped}:(\\d+):(\\d+)`));
  const name = error instanceof Error && error.name !== "Error" ? `${error.name}: ` : "";
  return { message: `${name}${raw}`, line: frame ? Number(frame[1]) : undefined, column: frame ? Number(frame[2]) : undefined };
}
