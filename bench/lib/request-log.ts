import { Database } from "bun:sqlite";
import { existsSync } from "node:fs";
import { join } from "node:path";

/** Counts the rows ipward wrote to `<dataDir>/ipward.db` (read after it has stopped), or null without a database. */
export function countLoggedRequests(dataDir: string): number | null {
  const path = join(dataDir, "ipward.db");
  if (!existsSync(path)) return null;
  const db = new Database(path);
  try {
    return (db.query("SELECT count(*) AS n FROM request_log").get() as { n: number }).n;
  } finally {
    db.close();
  }
}
