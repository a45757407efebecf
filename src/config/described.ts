/**
 * A job's default export as it crosses from the loading worker to the main thread.
 * Functions cannot be cloned, so the worker replaces them by their field names and
 * lists every value that is not plain data; validation then reports both.
 */
export interface DescribedConfig {
  /** The config with functions and non-plain values left out. */
  readonly plain: unknown;
  /** Dotted paths of the fields that held functions (`run`, `selectWork`, …). */
  readonly functions: readonly string[];
  /** Values that are neither plain data nor functions: class instances, symbols, … */
  readonly nonPlain: readonly { path: string; received: string }[];
}

function kindOf(value: unknown): string {
  if (typeof value === "symbol") return "a symbol";
  if (typeof value === "bigint") return "a bigint";
  if (value instanceof Date) return "a Date";
  if (value instanceof RegExp) return "a RegExp";
  if (value instanceof Map) return "a Map";
  if (value instanceof Set) return "a Set";
  if (typeof value === "number" && !Number.isFinite(value)) return String(value);
  const ctor = (value as object)?.constructor?.name;
  return ctor ? `an instance of ${ctor}` : "a non-plain object";
}

function isPlainObject(value: object): boolean {
  const proto = Object.getPrototypeOf(value);
  return proto === Object.prototype || proto === null;
}

/** Runs where the config was imported (the loading worker). */
export function describeConfig(config: unknown): DescribedConfig {
  const functions: string[] = [];
  const nonPlain: { path: string; received: string }[] = [];
  const walk = (value: unknown, path: string): unknown => {
    if (typeof value === "function") {
      functions.push(path);
      return undefined;
    }
    if (value === null || typeof value === "string" || typeof value === "boolean") return value;
    if (typeof value === "number") {
      if (Number.isFinite(value)) return value;
      nonPlain.push({ path, received: kindOf(value) });
      return undefined;
    }
    if (typeof value === "undefined") return undefined;
    if (Array.isArray(value)) return value.map((item, i) => walk(item, path ? `${path}.${i}` : String(i)));
    if (typeof value === "object" && isPlainObject(value)) {
      const out: Record<string, unknown> = {};
      for (const [key, item] of Object.entries(value)) {
        const described = walk(item, path ? `${path}.${key}` : key);
        if (described !== undefined) out[key] = described;
      }
      return out;
    }
    nonPlain.push({ path, received: kindOf(value) });
    return undefined;
  };
  return { plain: walk(config, ""), functions, nonPlain };
}
