import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createDataSource } from '../../db';
import { createTestDatabase, type TestDatabase } from '../../test-support/db';
import type { DataSource } from 'typeorm';

let db: TestDatabase;
let ds: DataSource;

beforeAll(async () => {
  db = await createTestDatabase();
  ds = createDataSource({ url: db.url, sqlitePath: ':memory:' });
  await ds.initialize();
});
afterAll(async () => {
  await ds?.destroy();
  await db?.drop();
});

describe('committed migrations', () => {
  it('apply on a fresh database and leave nothing for the entities to add', async () => {
    const applied = await ds.runMigrations({ transaction: 'each' });
    expect(applied.length).toBeGreaterThan(0);
    const pending = await ds.driver.createSchemaBuilder().log();
    // if this fails: run `npm run db:generate -- <Name>` and commit the files
    expect(pending.upQueries.map((q) => q.query)).toEqual([]);
  });

  it('can be rolled back and applied again', async () => {
    const n = (await ds.query('SELECT COUNT(*) AS n FROM schema_migrations'))[0].n;
    for (let i = 0; i < Number(n); i++) await ds.undoLastMigration({ transaction: 'each' });
    expect(await ds.runMigrations({ transaction: 'each' })).toHaveLength(Number(n));
  });
});
