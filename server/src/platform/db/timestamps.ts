import { EventSubscriber, type EntityMetadata, type EntitySubscriberInterface, type InsertEvent, type UpdateEvent } from 'typeorm';
import type { ColumnMetadata } from 'typeorm/metadata/ColumnMetadata';

/** The columns an INSERT stamps with the app's clock when the row leaves them out. */
export function insertStamped(meta: EntityMetadata): ColumnMetadata[] {
  return meta.columns.filter((c) => c.isCreateDate || c.isUpdateDate);
}

/**
 * Creation and update times come from the application's clock, not the database server's
 * `CURRENT_TIMESTAMP`: every rule (SLA clocks, "today", deadlines) is evaluated against the app's
 * clock, so the rows it compares must carry the same time — also when the database server's clock
 * drifts, and in tests that run the app as if it were another day (HB_TEST_NOW). SQLite's default
 * also only has whole seconds.
 */
@EventSubscriber()
export class TimestampsFromAppClock implements EntitySubscriberInterface {
  beforeInsert(event: InsertEvent<any>): void {
    const row = event.entity as Record<string, unknown> | undefined;
    if (!row || typeof row !== 'object') return;
    const now = new Date();
    for (const c of insertStamped(event.metadata)) if (row[c.propertyName] === undefined) row[c.propertyName] = now;
  }

  beforeUpdate(event: UpdateEvent<any>): void {
    const row = event.entity as Record<string, unknown> | undefined;
    const col = event.metadata.updateDateColumn;
    if (!row || typeof row !== 'object' || !col) return;
    if (event.databaseEntity) {
      // save() of a loaded entity: a value the caller changed wins, otherwise now
      if (row[col.propertyName] === undefined || sameInstant(row[col.propertyName], event.databaseEntity[col.propertyName])) row[col.propertyName] = new Date();
    } else if (row[col.propertyName] === undefined) {
      // update(…, values): the values set, unless they name the column themselves
      row[col.propertyName] = new Date();
    }
  }
}

function sameInstant(a: unknown, b: unknown): boolean {
  return a instanceof Date && b instanceof Date ? a.getTime() === b.getTime() : a === b;
}
