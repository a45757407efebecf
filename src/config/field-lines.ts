import type { Problem } from "./problem.js";

/**
 * The line of each field of a config literal in a job or schedule file: `chunkSize` → 4,
 * `dependencies.0.maxLag` → 9, `0.every` → 3 (entries of an array are numbered). The
 * config is checked on the value the file exports, which knows no lines; this reads the
 * file's text for the object or array literal after `export default` (inside
 * `defineJob(` / `defineSchedule(` when used) so a problem can say where to look.
 *
 * It is a scanner, not a parser: it follows brackets, strings, comments and template
 * literals, and names only literals that are written out. A field built at run time
 * (a spread, a computed key, a variable) has no line, and the problem names the file.
 */
export function fieldLines(source: string): Map<string, number> {
  const lines = new Map<string, number>();
  const start = source.search(/export\s+default\b/);
  if (start < 0) return lines;
  const scanner = new Scanner(source, start);
  // The frames of the brackets open around the scanner: a literal's path, or null inside code.
  const frames: Frame[] = [];
  let root = true;
  for (let token = scanner.next(); token; token = scanner.next()) {
    const frame = frames[frames.length - 1];
    const { text, line } = token;
    if (text === "{" || text === "[" || text === "(") {
      let path: string | null = null;
      if (root && text !== "(") {
        path = "";
        root = false;
        lines.set("", line);
      } else if (frame?.path != null && text !== "(") {
        if (frame.kind === "{" && frame.state === "value" && frame.key !== null) path = join(frame.path, frame.key);
        else if (frame.kind === "[" && frame.state === "value") path = join(frame.path, String(frame.index));
      }
      if (path !== null && frame?.kind === "[" && frame.state === "value") lines.set(path, line);
      if (frame) frame.state = "after";
      frames.push({ kind: text, path, state: text === "{" ? "key" : "value", key: null, index: 0 });
      continue;
    }
    if (text === "}" || text === "]" || text === ")") {
      frames.pop();
      if (frames.length === 0 && !root) break;
      continue;
    }
    // Before the exported literal only a call may come (`defineJob(`, `stau.defineJob<…>(`).
    if (root && !(token.kind === "name" || text === "." || text === "<" || text === ">")) break;
    if (!frame || frame.path === null) continue;
    if (text === ",") {
      if (frame.kind === "[") frame.index += 1;
      frame.state = frame.kind === "{" ? "key" : "value";
      frame.key = null;
      continue;
    }
    if (frame.kind === "{" && (frame.state === "key" || frame.state === "colon") && token.kind === "name") {
      // `key: value`, `"key": value`, `key(…) {…}`; in `async key(…)` the second name is the key.
      if (frame.key !== null) lines.delete(join(frame.path, frame.key));
      frame.key = token.value;
      frame.state = "colon";
      lines.set(join(frame.path, frame.key), line);
      continue;
    }
    if (frame.kind === "{" && frame.state === "colon") {
      frame.state = text === ":" ? "value" : "after";
      continue;
    }
    if (frame.kind === "[" && frame.state === "value") lines.set(join(frame.path, String(frame.index)), line);
    frame.state = "after";
  }
  return lines;
}

/** Problems of a config with the line of their field (or of the nearest enclosing one), where the source has it. */
export function withFieldLines(problems: readonly Problem[], source: string): Problem[] {
  return withLines(problems, fieldLines(source));
}

/** Problems with the line of their field (or of the nearest enclosing one) from a map of field lines, for any config format. */
export function withLines(problems: readonly Problem[], lines: ReadonlyMap<string, number>): Problem[] {
  return problems.map((problem) => (problem.line !== undefined || !problem.field ? problem : { ...problem, line: lineOf(lines, problem.field) }));
}

function lineOf(lines: ReadonlyMap<string, number>, field: string): number | undefined {
  for (let path = field; ; path = path.slice(0, Math.max(0, path.lastIndexOf(".")))) {
    const line = lines.get(path);
    if (line !== undefined || path === "") return line;
  }
}

interface Frame {
  readonly kind: "{" | "[" | "(";
  /** The field path of this literal ("" for the exported one), or null for code. */
  readonly path: string | null;
  /** Where in an entry the scanner is: its key, the colon, its value, or after it. */
  state: "key" | "colon" | "value" | "after";
  key: string | null;
  index: number;
}

const join = (path: string, key: string) => (path === "" ? key : `${path}.${key}`);

interface Token {
  readonly kind: "name" | "punct" | "other";
  readonly text: string;
  /** A name's name; a string's contents. */
  readonly value: string;
  readonly line: number;
}

/** Tokens of JavaScript/TypeScript text: names, strings (as names, for quoted keys), brackets and the rest. */
class Scanner {
  private line: number;
  /** Whether a `/` here starts a regular expression (after an operator) rather than dividing. */
  private regexAllowed = true;

  constructor(
    private readonly text: string,
    private at: number,
  ) {
    this.line = text.slice(0, at).split("\n").length;
  }

  next(): Token | null {
    this.skipSpaceAndComments();
    const { text } = this;
    if (this.at >= text.length) return null;
    const line = this.line;
    const c = text[this.at]!;
    if (c === '"' || c === "'") {
      const value = this.quoted(c);
      this.regexAllowed = false;
      return { kind: "name", text: c, value, line };
    }
    if (c === "`") {
      this.template();
      this.regexAllowed = false;
      return { kind: "other", text: "`", value: "", line };
    }
    const name = /^[A-Za-z_$][\w$]*|^\d[\w.]*/.exec(text.slice(this.at, this.at + 200));
    if (name) {
      this.at += name[0].length;
      this.regexAllowed = /^(return|typeof|case|in|of|new|delete|void|throw|yield|await)$/.test(name[0]);
      return { kind: /^\d/.test(name[0]) ? "other" : "name", text: name[0], value: name[0], line };
    }
    if (c === "/" && this.regexAllowed) {
      this.regex();
      this.regexAllowed = false;
      return { kind: "other", text: "/", value: "", line };
    }
    this.at += 1;
    this.regexAllowed = !(c === ")" || c === "]" || c === "}");
    return { kind: "punct", text: c, value: c, line };
  }

  private skipSpaceAndComments(): void {
    const { text } = this;
    while (this.at < text.length) {
      const c = text[this.at]!;
      if (c === "\n") this.line += 1;
      if (/\s/.test(c)) this.at += 1;
      else if (text.startsWith("//", this.at)) this.skipTo("\n", false);
      else if (text.startsWith("/*", this.at)) this.skipTo("*/", true);
      else return;
    }
  }

  private skipTo(end: string, past: boolean): void {
    const found = this.text.indexOf(end, this.at);
    const stop = found < 0 ? this.text.length : found + (past ? end.length : 0);
    this.countLines(this.at, stop);
    this.at = stop;
  }

  private countLines(from: number, to: number): void {
    for (let i = from; i < to; i++) if (this.text[i] === "\n") this.line += 1;
  }

  private quoted(quote: string): string {
    const begin = ++this.at;
    while (this.at < this.text.length && this.text[this.at] !== quote && this.text[this.at] !== "\n") this.at += this.text[this.at] === "\\" ? 2 : 1;
    const value = this.text.slice(begin, this.at);
    this.at += 1;
    return value;
  }

  /** Skips a template literal, and the code inside its `${ }` with its own brackets and strings. */
  private template(): void {
    const { text } = this;
    this.at += 1;
    while (this.at < text.length && text[this.at] !== "`") {
      if (text[this.at] === "\\") this.at += 2;
      else if (text.startsWith("${", this.at)) {
        this.at += 2;
        for (let depth = 1, token = this.next(); token && depth > 0; token = depth > 0 ? this.next() : null) {
          if (token.text === "{") depth += 1;
          else if (token.text === "}") depth -= 1;
        }
      } else {
        if (text[this.at] === "\n") this.line += 1;
        this.at += 1;
      }
    }
    this.at += 1;
  }

  private regex(): void {
    const { text } = this;
    let inClass = false;
    for (this.at += 1; this.at < text.length && text[this.at] !== "\n"; this.at += 1) {
      const c = text[this.at];
      if (c === "\\") this.at += 1;
      else if (c === "[") inClass = true;
      else if (c === "]") inClass = false;
      else if (c === "/" && !inClass) break;
    }
    this.at += 1;
    while (/[a-z]/.test(text[this.at] ?? "")) this.at += 1;
  }
}
