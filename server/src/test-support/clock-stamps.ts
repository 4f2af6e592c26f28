import type { DataSource } from 'typeorm';

/**
 * Tests only: every statement TypeORM sends that changes rows of a table with an update date
 * (`@UpdateDateColumn`) must set that column itself. MariaDB's `ON UPDATE CURRENT_TIMESTAMP` would
 * otherwise stamp the row with the database server's clock, not the app's (TimestampsFromAppClock:
 * SLA clocks and "today" are the app's, and tests run the app as if it were another day). A
 * statement that doesn't is refused before it reaches the database, naming the table, so the test
 * that ran it fails. Covers UPDATE … SET and INSERT … ON DUPLICATE KEY UPDATE / ON CONFLICT DO
 * UPDATE SET; statements sent straight to mysql2 (readRows, BulkStatement) are reads and inserts.
 */
export function refuseStampsFromDatabaseClock(ds: DataSource): void {
  const stampOf = new Map<string, string>();
  for (const meta of ds.entityMetadatas) if (meta.updateDateColumn) stampOf.set(meta.tableName, meta.updateDateColumn.databaseName);
  const check = (query: string) => {
    const sql = query.trim();
    let table: string | undefined;
    let set: string | undefined;
    // (the table may have an alias: UPDATE `recon_day` d SET …)
    const update = /^UPDATE\s+[`"]?(\w+)[`"]?(?:\s+(?:AS\s+)?(?!SET\b)\w+)?\s+SET\s+([\s\S]*)$/i.exec(sql);
    if (update) [, table, set] = update;
    else {
      const upsert = /^INSERT\s+INTO\s+[`"]?(\w+)[`"]?[\s\S]*?(?:ON\s+DUPLICATE\s+KEY\s+UPDATE|DO\s+UPDATE\s+SET)\s+([\s\S]*)$/i.exec(sql);
      if (upsert) [, table, set] = upsert;
    }
    const stamp = table && stampOf.get(table);
    if (!stamp || !set) return;
    // the column named as an assignment's target: `updatedAt` = …, "updatedAt" = …
    if (!new RegExp(`[\`"]?${stamp}[\`"]?\\s*=`).test(set))
      throw new Error(
        `${table}: this statement changes rows without setting ${stamp} by the app's clock (the database would stamp its own): ${sql.slice(0, 300)}`,
      );
  };
  (ds.subscribers as unknown as object[]).push({
    beforeQuery(event: { query: string }) {
      check(event.query);
    },
  });
}
