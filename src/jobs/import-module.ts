import { pathToFileURL } from "node:url";
import { register } from "tsx/esm/api";
import { watchChildProcesses } from "./child-processes.js";

// Job code is only ever imported outside stau's main thread: in worker threads and in
// hot reload's spare processes. Each registers the TypeScript loader once; hot reload
// imports in a fresh process and starts fresh pool threads instead of re-importing in
// place, so nothing here needs cache busting.

let registered = false;

/** Sets up the TypeScript loader for this thread (done by the first import otherwise). */
export function warmUp(): void {
  if (registered) return;
  process.setSourceMapsEnabled(true);
  register();
  // After the TypeScript loader: these hooks see its loads finish (child-process-hooks.ts).
  watchChildProcesses();
  registered = true;
}

export async function importModule(file: string): Promise<Record<string, unknown>> {
  warmUp();
  return (await import(pathToFileURL(file).href)) as Record<string, unknown>;
}

/**
 * Where an import-time error happened: syntax errors and top-level throws, in the job
 * file itself or in a helper it imports (then `file` names the helper).
 */
export function locateError(error: unknown, jobFile: string): { message: string; file?: string; line?: number; column?: number } {
  const raw = error instanceof Error ? error.message : String(error);
  // esbuild (under tsx) reports syntax errors as "<file>:<line>:<col>: ERROR: <text>".
  const syntax = raw.match(/(?:^|\n)(.+?):(\d+):(\d+): ERROR: (.+)/);
  if (syntax) {
    const file = syntax[1] === jobFile ? undefined : syntax[1];
    return { message: `syntax error: ${syntax[4]}`, file, line: Number(syntax[2]), column: Number(syntax[3]) };
  }
  const stack = error instanceof Error ? (error.stack ?? "") : "";
  const escaped = jobFile.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
  const frame = stack.match(new RegExp(`${escaped}:(\\d+):(\\d+)`));
  const name = error instanceof Error && error.name !== "Error" ? `${error.name}: ` : "";
  return { message: `${name}${raw}`, line: frame ? Number(frame[1]) : undefined, column: frame ? Number(frame[2]) : undefined };
}
