// How a chunk record lives in a row: its JSON in `record`, with the fields queries
// filter on in columns beside it, which are the truth (state, owner, token, attempts).

/** A chunk row as one record: the JSON, with the columns laid over it. */
export const chunkRecord = (c: string) => `${c}.record || jsonb_build_object('state', ${c}.state, 'owner', ${c}.owner, 'token', ${c}.token, 'attempts', ${c}.attempts)`;

/** The fields of a patch that live in their own columns are kept out of the JSON. */
export const recordPart = (patch: string) => `(${patch} - 'state' - 'owner' - 'token' - 'attempts')`;

type Column = "state" | "owner" | "token" | "attempts";

/**
 * The SET list that applies a patch (a jsonb expression) to chunk row `c` as it
 * stands: fields the patch names change, the others stay. The one way a computed
 * patch reaches a row; `store` gives what only the store decides (a claim's token and
 * attempt count).
 */
export function applyPatch(c: string, patch: string, store: Partial<Record<Column, string>> = {}): string {
  const columns: Record<Column, string> = {
    state: `coalesce(${patch}->>'state', ${c}.state)`,
    owner: `CASE WHEN ${patch} ? 'owner' THEN ${patch}->>'owner' ELSE ${c}.owner END`,
    token: `CASE WHEN ${patch} ? 'token' THEN ${patch}->>'token' ELSE ${c}.token END`,
    attempts: `coalesce((${patch}->>'attempts')::int, ${c}.attempts)`,
    ...store,
  };
  return [`record = ${c}.record || ${recordPart(patch)}`, ...Object.entries(columns).map(([column, value]) => `${column} = ${value}`)].join(", ");
}
