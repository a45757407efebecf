import { parse, TomlError } from "smol-toml";
import type { Problem } from "../config/problem.js";

// A program keeps its config in its own file, in a comment block of TOML in the style of
// Python's inline script metadata (PEP 723), which Python, R and bash all read as a
// comment:
//
//   # /// stau
//   # chunkSize = 25
//   # ///
//
// Other PEP 723 blocks (`# /// script` for uv's dependencies) are left alone.

export type ConfigBlock =
  | {
      readonly ok: true;
      /** The parsed TOML ({} for a file without a block: every field has a default). */
      readonly config: Record<string, unknown>;
      /** The file line of each field (`dependencies.0.maxLag` → 9), for problems. */
      readonly lines: ReadonlyMap<string, number>;
    }
  | { readonly ok: false; readonly problems: readonly Omit<Problem, "file">[] };

const OPEN = /^# \/\/\/ stau\s*$/;
const CLOSE = /^# \/\/\/\s*$/;
const ANY_OPEN = /^# \/\/\/ [A-Za-z0-9-]+\s*$/;

/** Reads the `# /// stau` block of a program's text. */
export function readConfigBlock(text: string): ConfigBlock {
  const lines = text.split(/\r?\n/);
  const opens = lines.flatMap((line, i) => (OPEN.test(line) ? [i] : []));
  if (opens.length === 0) return { ok: true, config: {}, lines: new Map() };
  if (opens.length > 1) {
    return { ok: false, problems: opens.slice(1).map((i) => ({ field: "", line: i + 1, message: `a second "# /// stau" block (the first is on line ${opens[0]! + 1}); keep one` })) };
  }
  const first = opens[0]! + 1;
  const body: string[] = [];
  for (let i = first; i < lines.length; i++) {
    const line = lines[i]!;
    if (CLOSE.test(line)) return parseBlock(body, first + 1);
    // PEP 723: inside a block every line is "#" or "# …"; anything else means the close was forgotten.
    if (line !== "#" && !line.startsWith("# ")) break;
    if (ANY_OPEN.test(line)) break;
    body.push(line.slice(2));
  }
  return { ok: false, problems: [{ field: "", line: first, message: `the "# /// stau" block is not closed: end it with a line "# ///" (every line between starts with "# ")` }] };
}

/** `body` is the block's TOML, its first line being line `firstLine` of the file. */
function parseBlock(body: readonly string[], firstLine: number): ConfigBlock {
  let config: Record<string, unknown>;
  try {
    config = parse(body.join("\n")) as Record<string, unknown>;
  } catch (error) {
    if (!(error instanceof TomlError)) throw error;
    const message = error.message.replace(/^Invalid TOML document: /, "").split("\n")[0]!;
    return { ok: false, problems: [{ field: "", line: firstLine + error.line - 1, message: `invalid TOML in the "# /// stau" block: ${message}` }] };
  }
  return { ok: true, config: plainDates(config) as Record<string, unknown>, lines: tomlFieldLines(body, firstLine) };
}

/** TOML dates become strings, so validation says "expected a duration" of them like of any other wrong value. */
function plainDates(value: unknown): unknown {
  if (value instanceof Date) return value.toISOString();
  if (Array.isArray(value)) return value.map(plainDates);
  if (value && typeof value === "object") return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, plainDates(v)]));
  return value;
}

/**
 * The line of each key, table and array-of-tables entry in the block. Like
 * config/field-lines.ts it is a scanner, not a parser: keys inside a multi-line array
 * or inline table have no line of their own, and a problem there names the line of the
 * key that holds them.
 */
function tomlFieldLines(body: readonly string[], firstLine: number): Map<string, number> {
  const lines = new Map<string, number>();
  const counts = new Map<string, number>();
  let table = "";
  body.forEach((raw, i) => {
    const line = firstLine + i;
    const text = raw.trim();
    const arrayTable = /^\[\[\s*([^\]]+?)\s*\]\]/.exec(text);
    const plainTable = arrayTable ? null : /^\[\s*([^\]]+?)\s*\]/.exec(text);
    if (arrayTable) {
      const name = keyPath(arrayTable[1]!);
      const index = counts.get(name) ?? 0;
      counts.set(name, index + 1);
      table = `${name}.${index}`;
      if (!lines.has(name)) lines.set(name, line);
      lines.set(table, line);
    } else if (plainTable) {
      table = keyPath(plainTable[1]!);
      lines.set(table, line);
    } else {
      const key = /^((?:[A-Za-z0-9_-]+|"[^"]*"|'[^']*')(?:\s*\.\s*(?:[A-Za-z0-9_-]+|"[^"]*"|'[^']*'))*)\s*=/.exec(text);
      if (key) lines.set(table ? `${table}.${keyPath(key[1]!)}` : keyPath(key[1]!), line);
    }
  });
  return lines;
}

/** `a . "b.c"` → `a.b.c`, as field paths are written. */
function keyPath(key: string): string {
  return (key.match(/"[^"]*"|'[^']*'|[^.\s]+/g) ?? []).map((part) => part.replace(/^["']|["']$/g, "")).join(".");
}
