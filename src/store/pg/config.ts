import { UsageError } from "../../errors.js";

/** Where a shared store lives: a PostgreSQL URL and the schema of stau's tables in it. */
export interface DatabaseConfig {
  readonly url: string;
  readonly schema: string;
}

export interface DatabaseFlags {
  databaseUrl?: string;
  databaseSchema?: string;
}

export const DEFAULT_SCHEMA = "stau";

/** The shared store asked for by flags or environment, or null for the embedded store. */
export function databaseConfig(flags: DatabaseFlags): DatabaseConfig | null {
  const url = flags.databaseUrl ?? process.env.STAU_DATABASE_URL;
  if (!url) return null;
  if (!/^postgres(ql)?:\/\//.test(url)) {
    throw new UsageError(`${flags.databaseUrl ? "--database-url" : "STAU_DATABASE_URL"} must be a postgres:// URL, received ${JSON.stringify(redactUrl(url))}`);
  }
  const schema = flags.databaseSchema ?? process.env.STAU_DATABASE_SCHEMA ?? DEFAULT_SCHEMA;
  if (!/^[a-z_][a-z0-9_]{0,62}$/.test(schema)) {
    throw new UsageError(`${flags.databaseSchema ? "--database-schema" : "STAU_DATABASE_SCHEMA"} must be a lowercase SQL name (letters, digits, _), received ${JSON.stringify(schema)}`);
  }
  return { url, schema };
}

/** The URL without its password, for messages. */
export function redactUrl(url: string): string {
  try {
    const parsed = new URL(url);
    if (parsed.password) parsed.password = "***";
    return parsed.toString();
  } catch {
    return url.replace(/:[^:@/]*@/, ":***@");
  }
}
