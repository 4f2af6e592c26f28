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

describe('ReconDayCounts', () => {
  const NAME = 'ReconDayCounts1795937251307';

  /** Reverted to just before ReconDayCounts, a day with differences written then, and the migrations run again. */
  async function countsAfterUpgrade(source: DataSource) {
    const applied = async () => (await source.query('SELECT name FROM schema_migrations')).map((r: { name: string }) => r.name);
    await source.runMigrations({ transaction: 'each' });
    while ((await applied()).includes(NAME)) await source.undoLastMigration({ transaction: 'each' });
    const q = (s: string) => source.driver.escape(s);
    await source.query(
      `INSERT INTO ${q('recon_day')} (${q('billDate')}, ${q('status')}, ${q('healed')}) VALUES ('2026-11-20', 'differences', '[]'), ('2026-11-21', 'balanced', '[]')`,
    );
    const rows = ['open', 'open', 'resolved'].map((status, i) => `('2026-11-20', 'pay:HB${i}', 'surplus', '${status}')`);
    await source.query(`INSERT INTO ${q('recon_discrepancy')} (${q('billDate')}, ${q('key')}, ${q('kind')}, ${q('status')}) VALUES ${rows.join(', ')}`);
    await source.runMigrations({ transaction: 'each' });
    return source.query(
      `SELECT ${q('billDate')}, ${q('openDiscrepancies')} AS open, ${q('totalDiscrepancies')} AS total FROM ${q('recon_day')} ORDER BY ${q('billDate')}`,
    );
  }

  it('counts the differences of the days reconciled before it, on this database and on SQLite', async () => {
    const sqlite = createDataSource({ sqlitePath: ':memory:' });
    await sqlite.initialize();
    try {
      for (const source of db.url ? [ds, sqlite] : [sqlite]) {
        const days = (await countsAfterUpgrade(source)).map((r: any) => [r.billDate, Number(r.open), Number(r.total)]);
        expect(days).toEqual([
          ['2026-11-20', 2, 3],
          ['2026-11-21', 0, 0],
        ]);
      }
    } finally {
      await sqlite.destroy();
    }
  });
});

describe('ReconDiscrepancyKey', () => {
  const NAME = 'ReconDiscrepancyKey1795957483854';

  it('keeps every difference written before it, now named by day and key, on this database and on SQLite', async () => {
    const sqlite = createDataSource({ sqlitePath: ':memory:' });
    await sqlite.initialize();
    try {
      for (const source of db.url ? [ds, sqlite] : [sqlite]) {
        const applied = async () => (await source.query('SELECT name FROM schema_migrations')).map((r: { name: string }) => r.name);
        await source.runMigrations({ transaction: 'each' });
        while ((await applied()).includes(NAME)) await source.undoLastMigration({ transaction: 'each' });
        const q = (s: string) => source.driver.escape(s);
        const cols = ['billDate', 'key', 'kind', 'status', 'note'].map(q).join(', ');
        await source.query(`DELETE FROM ${q('recon_discrepancy')}`); // what an earlier test left
        await source.query(
          `INSERT INTO ${q('recon_discrepancy')} (${cols}) VALUES ('2026-11-20', 'totals', 'totals', 'open', NULL), ('2026-11-20', 'pay:HB1', 'surplus', 'resolved', '已核实'), ('2026-11-21', 'totals', 'totals', 'open', NULL)`,
        );
        await source.runMigrations({ transaction: 'each' });
        const rows = await source.query(`SELECT ${cols} FROM ${q('recon_discrepancy')} ORDER BY ${q('billDate')}, ${q('key')}`);
        expect(rows.map((r: any) => [r.billDate, r.key, r.kind, r.status, r.note])).toEqual([
          ['2026-11-20', 'pay:HB1', 'surplus', 'resolved', '已核实'],
          ['2026-11-20', 'totals', 'totals', 'open', null],
          ['2026-11-21', 'totals', 'totals', 'open', null],
        ]);
        // the day and key are still unique: the same difference twice is refused
        await expect(source.query(`INSERT INTO ${q('recon_discrepancy')} (${cols}) VALUES ('2026-11-20', 'pay:HB1', 'surplus', 'open', NULL)`)).rejects.toThrow(
          /Duplicate entry|UNIQUE constraint failed/,
        );
        await source.query(`DELETE FROM ${q('recon_discrepancy')}`);
      }
    } finally {
      await sqlite.destroy();
    }
  });
});
