import { readFileSync } from "node:fs";
import { dirname, extname, join } from "node:path";
import { ConfigError } from "../errors.js";
import type { LoadResult } from "./load-worker.js";

// Node (and tsx, which follows it) reads a `.ts` or `.js` file as CommonJS unless the
// nearest package.json says "type": "module". Job files use import/export, so in such a
// package every one of them fails, on Node 20.19+ with "Cannot require() ES Module … in
// a cycle", which points nowhere near the fix. A newcomer meets this after `npm init -y`
// (npm 11 writes "type": "commonjs") or with a hand-written package.json.

/** Whether a failure is what Node gives for import/export in a file it reads as CommonJS. */
function isCommonJsSymptom(failure: Extract<LoadResult, { ok: false }>): boolean {
  if (failure.errorCode === "ERR_REQUIRE_CYCLE_MODULE" || failure.errorCode === "ERR_REQUIRE_ESM") return true;
  return /^SyntaxError: (Cannot use import statement outside a module|Unexpected token 'export')/.test(failure.message);
}

/** Where a file's module type comes from: its nearest package.json and the type that says. */
interface PackageScope {
  /** The package.json that decides, or null when there is none above the file. */
  readonly packageJson: string | null;
  readonly type: string | undefined;
}

/**
 * A ConfigError (exit 2) when files failed to load only because their package is
 * CommonJS, naming them and the package.json to change; null otherwise. Checked after
 * loading, so a CommonJS project whose jobs are `.mts`/`.mjs` (or CommonJS `.js`) works.
 */
export function commonJsTrap(results: Iterable<LoadResult>, display: (file: string) => string): ConfigError | null {
  const trapped: { file: string; scope: PackageScope }[] = [];
  for (const result of results) {
    if (result.ok || !isCommonJsSymptom(result)) continue;
    const file = result.errorFile ?? result.file;
    if (readsAsCommonJs(file) && [".ts", ".js"].includes(extname(file))) trapped.push({ file, scope: packageScope(file) });
  }
  if (trapped.length === 0) return null;
  const names = trapped.map((t) => display(t.file));
  const listed = names.length > 3 ? `${names.slice(0, 3).join(", ")} and ${names.length - 3} more` : names.join(", ").replace(/, ([^,]+)$/, " and $1");
  const [uses, them] = names.length === 1 ? ["uses", "it"] : ["use", "them"];
  const { packageJson, type } = trapped[0]!.scope;
  const why = packageJson === null ? `there is no package.json above ${them}` : `${display(packageJson)} ${type === undefined ? `has no "type": "module"` : `says "type": ${JSON.stringify(type)}`}`;
  const fix = packageJson === null ? `create package.json with "type": "module" and stau in its dependencies (stau init writes one)` : `add "type": "module" to ${display(packageJson)} (stau init writes it so), or rename the files to .mts`;
  return new ConfigError(`${listed} ${uses} import/export, but Node loads ${them} as CommonJS: ${why}`, fix);
}

/** Whether Node reads `file` as CommonJS, by its extension and its package's type. */
export function readsAsCommonJs(file: string): boolean {
  const ext = extname(file);
  return ext === ".cjs" || ext === ".cts" || ([".ts", ".js"].includes(ext) && packageScope(file).type !== "module");
}

/** The package.json Node would consult for `file`'s module type: the nearest one above it. */
function packageScope(file: string): PackageScope {
  for (let dir = dirname(file); ; dir = dirname(dir)) {
    const packageJson = join(dir, "package.json");
    let text: string;
    try {
      text = readFileSync(packageJson, "utf8");
    } catch {
      if (dirname(dir) === dir) return { packageJson: null, type: undefined };
      continue; // none here: Node looks further up
    }
    try {
      const type = (JSON.parse(text) as { type?: unknown }).type;
      return { packageJson, type: typeof type === "string" ? type : undefined };
    } catch {
      return { packageJson, type: undefined }; // unparsable: Node fails on it too, but this is the one
    }
  }
}
