import pg from "pg";

/**
 * Before any test: when STAU_TEST_DATABASE_URL is set (as `.ci/run` sets it), the
 * database must answer, or the whole run fails here with the reason, loudly, instead
 * of the PostgreSQL tests failing one by one or, worse, being skipped.
 */
export default async function checkTestDatabase(): Promise<void> {
  const url = process.env.STAU_TEST_DATABASE_URL;
  if (!url) {
    process.stderr.write("STAU_TEST_DATABASE_URL is not set: the PostgreSQL tests are skipped (bash .ci/run sets it)\n");
    return;
  }
  const client = new pg.Client({ connectionString: url, connectionTimeoutMillis: 5_000 });
  try {
    await client.connect();
    await client.query("SELECT 1");
  } catch (error) {
    throw new Error(`STAU_TEST_DATABASE_URL is set, but PostgreSQL at ${url.replace(/:[^:@/]*@/, ":***@")} cannot be used: ${error instanceof Error ? error.message : String(error)}`);
  } finally {
    await client.end().catch(() => undefined);
  }
}
