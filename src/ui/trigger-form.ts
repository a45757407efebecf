import type { Kwargs, WorkId } from "../config/types.js";
import type { TriggerOptions } from "../console/contract.js";
import type { TriggerForm } from "./state.js";

// The `T` form: two text fields, kwargs as JSON and work IDs as `1,2,3` or a JSON array,
// read the way `stau trigger --kwargs/--work` reads them (src/cli/args.ts), so what
// works on the command line works here. Pure: the reducer calls these.

type Parsed<T> = { readonly ok: true; readonly value: T } | { readonly ok: false; readonly error: string };

export function emptyForm(job: string): TriggerForm {
  return { job, kwargs: "", workIds: "", field: "kwargs", errors: { kwargs: null, workIds: null } };
}

const shown = (value: unknown) => (Array.isArray(value) ? "an array" : value === null ? "null" : typeof value === "string" ? `a string (${JSON.stringify(value)})` : `${typeof value} ${JSON.stringify(value)}`);

/** Empty is `{}`; anything else must be a JSON object. */
export function parseKwargsField(text: string): Parsed<Kwargs> {
  const trimmed = text.trim();
  if (trimmed === "") return { ok: true, value: {} };
  let value: unknown;
  try {
    value = JSON.parse(trimmed);
  } catch (error) {
    return { ok: false, error: `not valid JSON (${(error as Error).message}); write an object like {"days": 7}` };
  }
  if (typeof value !== "object" || value === null || Array.isArray(value)) return { ok: false, error: `must be a JSON object like {"days": 7}, received ${shown(value)}` };
  return { ok: true, value: value as Kwargs };
}

/**
 * Empty lets the job's selectWork decide (null). `[...]` is a JSON array of strings and
 * numbers; otherwise IDs separated by commas, where IDs that look like numbers are
 * numbers, as a selectWork would return them.
 */
export function parseWorkIdsField(text: string): Parsed<WorkId[] | null> {
  const trimmed = text.trim();
  if (trimmed === "") return { ok: true, value: null };
  if (trimmed.startsWith("[")) {
    let value: unknown;
    try {
      value = JSON.parse(trimmed);
    } catch (error) {
      return { ok: false, error: `not a valid JSON array (${(error as Error).message}); write 1,2,3 or ["a","b"]` };
    }
    if (!Array.isArray(value)) return { ok: false, error: `must be a JSON array, received ${shown(value)}` };
    const bad = value.findIndex((id) => !(typeof id === "string" || (typeof id === "number" && Number.isFinite(id))));
    if (bad >= 0) return { ok: false, error: `item ${bad + 1} of ${value.length} is ${shown(value[bad])}: work IDs are strings or numbers` };
    return { ok: true, value: value as WorkId[] };
  }
  const ids = trimmed.split(",").map((s) => s.trim());
  // An empty item is a typo (`1,,2`, a trailing comma), not an ID to drop quietly.
  const empty = ids.indexOf("");
  if (empty >= 0) return { ok: false, error: `item ${empty + 1} of ${ids.length} is empty; separate IDs with single commas: 1,2,3` };
  return { ok: true, value: ids.map((id) => (/^-?\d+(\.\d+)?$/.test(id) ? Number(id) : id)) };
}

/** The options the form asks for, or the form again with every field's error. */
export function checkForm(form: TriggerForm): { readonly options: TriggerOptions } | { readonly form: TriggerForm } {
  const kwargs = parseKwargsField(form.kwargs);
  const workIds = parseWorkIdsField(form.workIds);
  if (kwargs.ok && workIds.ok) return { options: { kwargs: kwargs.value, workIds: workIds.value } };
  const errors = { kwargs: kwargs.ok ? null : kwargs.error, workIds: workIds.ok ? null : workIds.error };
  // The cursor goes to the first field that is wrong.
  return { form: { ...form, errors, field: errors.kwargs ? "kwargs" : "workIds" } };
}

/** Typing clears the error of the field typed into: it speaks of a text no longer there. */
export function typeInto(form: TriggerForm, text: string): TriggerForm {
  return { ...form, [form.field]: form[form.field] + text, errors: { ...form.errors, [form.field]: null } };
}

export function eraseFrom(form: TriggerForm): TriggerForm {
  const value = form[form.field];
  return value === "" ? form : { ...form, [form.field]: value.slice(0, -1), errors: { ...form.errors, [form.field]: null } };
}

export function otherField(form: TriggerForm): TriggerForm {
  return { ...form, field: form.field === "kwargs" ? "workIds" : "kwargs" };
}

/** "kwargs {"days":7} · work IDs [1,2,3]", for the notice a trigger leaves. */
export function describeOptions(options: TriggerOptions | undefined): string {
  if (!options) return "";
  const parts = [];
  if (options.kwargs && Object.keys(options.kwargs).length > 0) parts.push(`kwargs ${JSON.stringify(options.kwargs)}`);
  if (options.workIds) parts.push(`${options.workIds.length} work ID(s)`);
  return parts.length > 0 ? ` with ${parts.join(" and ")}` : "";
}
