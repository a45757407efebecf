import { randomBytes } from "node:crypto";
import pg from "pg";
import { afterAll, describe } from "vitest";

/**
 * PostgreSQL for the shared-store tests. `bash .ci/run` sets STAU_TEST_DATABASE_URL
 * (and fails before the tests when the database is unreachable); on a machine without
 * it these tests are reported as skipped, with the reason in their name.
 */
export const TEST_DATABASE_URL = process.env.STAU_TEST_DATABASE_URL ?? null;

export function describePg(name: string, body: () => void): void {
  if (TEST_DATABASE_URL) describe(name, body);
  else describe.skip(`${name} (skipped: STAU_TEST_DATABASE_URL is not set; bash .ci/run sets it)`, body);
}

/** A fresh schema name per test file (and per use), so files run side by side on one database. */
export function testSchema(prefix: string): string {
  return `t_${prefix}_${randomBytes(4).toString("hex")}`;
}

/** A list for the schemas a test file makes: each is dropped after the file's tests. */
export function schemasDroppedAfterAll(): string[] {
  const schemas: string[] = [];
  afterAll(async () => {
    if (TEST_DATABASE_URL) for (const schema of schemas) await dropSchema(schema);
  });
  return schemas;
}

export async function dropSchema(schema: string): Promise<void> {
  const client = new pg.Client({ connectionString: TEST_DATABASE_URL! });
  await client.connect();
  try {
    await client.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`);
  } finally {
    await client.end();
  }
}

/** One query on the test database, for assertions on what the store wrote. */
export async function query<T extends pg.QueryResultRow = any>(sql: string, params: unknown[] = []): Promise<T[]> {
  const client = new pg.Client({ connectionString: TEST_DATABASE_URL! });
  await client.connect();
  try {
    return (await client.query<T>(sql, params)).rows;
  } finally {
    await client.end();
  }
}
