import { existsSync } from "node:fs";
import { join } from "node:path";
import { formatProblem, type Problem } from "../config/problem.js";
import { displayPath, type ProjectPaths } from "../config/project.js";
import { EMPTY_CONFIG, validateProjectConfig, type ProjectConfigSpec } from "../config/project-config.js";
import { loadInWorker } from "./load.js";

const CONFIG_NAMES = [".ts", ".mts", ".js", ".mjs"].map((ext) => `stau.config${ext}`);

/** The project's `stau.config.*`, or null when it has none. */
export function configFileOf(paths: ProjectPaths): string | null {
  return CONFIG_NAMES.map((name) => join(paths.root, name)).find((file) => existsSync(file)) ?? null;
}

export interface LoadedConfig {
  /** The file's path for people, or null without one. */
  readonly file: string | null;
  /** The config; the defaults when there is no file or it has problems. */
  readonly config: ProjectConfigSpec;
  readonly problems: readonly Problem[];
}

/** Imports `stau.config.*` in a throw-away worker (as job files are: config code never runs in stau's main thread) and validates it. */
export async function loadProjectConfig(paths: ProjectPaths): Promise<LoadedConfig> {
  const file = configFileOf(paths);
  if (file === null) return { file: null, config: EMPTY_CONFIG, problems: [] };
  const display = displayPath(paths, file);
  const [result] = await loadInWorker([file]);
  if (!result!.ok) return { file: display, config: EMPTY_CONFIG, problems: [{ file: display, field: "", message: result!.message, line: result!.line, column: result!.column }] };
  const validated = validateProjectConfig(display, result!.config);
  return validated.ok ? { file: display, config: validated.value, problems: [] } : { file: display, config: EMPTY_CONFIG, problems: validated.problems };
}

/** Every problem of the config, one per line, for messages. */
export function configProblemText(loaded: LoadedConfig): string {
  return loaded.problems.map(formatProblem).join("\n");
}
