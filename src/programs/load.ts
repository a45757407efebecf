import { readFileSync } from "node:fs";
import { extname } from "node:path";
import { withLines } from "../config/field-lines.js";
import type { Problem } from "../config/problem.js";
import type { JobSpec } from "../config/spec.js";
import { validateProgram } from "../config/validate.js";
import { readConfigBlock } from "./config-block.js";

/**
 * The command that runs a program file. Python is `python3` unless `STAU_PYTHON` names
 * another (a virtualenv's python); bash and Rscript are found on the PATH.
 */
export function programArgv(file: string): string[] {
  const ext = extname(file);
  if (ext === ".py") return [process.env.STAU_PYTHON || "python3", file];
  if (ext === ".R") return ["Rscript", file];
  return ["bash", file];
}

/**
 * A program job from its file: its config block read and validated, every problem with
 * its line. Only the text is read: no program runs to load it, so this is done in the
 * main thread, and on every reload (it costs a file read).
 */
export function loadProgram(name: string, file: string, displayFile: string): { ok: true; value: JobSpec } | { ok: false; problems: Problem[] } {
  let text: string;
  try {
    text = readFileSync(file, "utf8");
  } catch (error) {
    return { ok: false, problems: [{ file: displayFile, field: "", message: `cannot be read: ${(error as Error).message}` }] };
  }
  const block = readConfigBlock(text);
  if (!block.ok) return { ok: false, problems: block.problems.map((p) => ({ file: displayFile, ...p })) };
  const validated = validateProgram(name, file, displayFile, block.config, programArgv(file));
  return validated.ok ? validated : { ok: false, problems: withLines(validated.problems, block.lines) };
}
