/**
 * insertRows, insertRow, upsertRows and updateByIds build their SQL themselves on MySQL/MariaDB
 * (TypeORM's builders cost more CPU than the statement at a few dozen rows). They must write
 * exactly what the query builder writes: every column kind (JSON, simple-json, money with its
 * transformer, booleans, instants, NULL, DEFAULT for what a row leaves out), the creation and
 * update dates from the app's clock (TimestampsFromAppClock), and an entity another subscriber
 * listens to must still reach that subscriber. Each helper runs on SQLite (the query builder) and,
 * with TEST_DATABASE_URL, on MariaDB (built here), against the query builder on the same database.
 */
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { Column, CreateDateColumn, Entity, PrimaryGeneratedColumn, UpdateDateColumn, type DataSource, type EntityManager } from 'typeorm';
import { createTestDatabase, type TestDatabase } from '../../test-support/db';
import { refuseStampsFromDatabaseClock } from '../../test-support/clock-stamps';
import { instant, money } from './columns';
import { createDataSource, forUpdate, insertRow, insertRows, updateByIds, upsertRows, withTx } from './data-source';

@Entity('write_probe')
class WriteProbe {
  @PrimaryGeneratedColumn({ type: 'int' })
  id: number;

  @Column({ type: 'varchar', length: 32, unique: true })
  code: string;

  @Column({ type: 'varchar', length: 64, default: 'fresh' })
  label: string;

  @Column(money({ default: 0 }))
  fen: number;

  @Column({ type: 'boolean', default: false })
  flagged: boolean;

  @Column({ type: 'simple-json', nullable: true })
  data: Record<string, unknown> | null;

  @Column(instant({ nullable: true }))
  at: Date | null;

  @CreateDateColumn(instant())
  createdAt: Date;

  @UpdateDateColumn(instant())
  updatedAt: Date;
}

/** the same table shape, heard by a subscriber: its writes must reach it */
@Entity('heard_probe')
class HeardProbe {
  @PrimaryGeneratedColumn({ type: 'int' })
  id: number;

  @Column({ type: 'varchar', length: 32 })
  code: string;
}

let db: TestDatabase | undefined;
const sources: [string, DataSource][] = [];
const heard: string[] = [];

beforeAll(async () => {
  const make = (url?: string) => createDataSource({ url, sqlitePath: ':memory:', synchronize: true }, [WriteProbe, HeardProbe]);
  sources.push(['sqlite', make()]);
  if (process.env.TEST_DATABASE_URL) {
    db = await createTestDatabase();
    sources.push(['mariadb', make(db.url)]);
  }
  for (const [, ds] of sources) {
    await ds.initialize();
    refuseStampsFromDatabaseClock(ds);
    (ds.subscribers as unknown as object[]).push({
      listenTo: () => HeardProbe,
      afterInsert: (e: { entity: HeardProbe }) => heard.push(e.entity.code),
    });
  }
});
afterAll(async () => {
  for (const [, ds] of sources) await ds.destroy();
  await db?.drop();
});
afterEach(() => {
  vi.useRealTimers();
});

const APP_NOW = new Date('2031-02-03T04:05:06.789Z');
const LATER = new Date('2031-02-04T00:00:00.123Z');

/** rows as the entity reads them, by code */
async function read(ds: DataSource, codes: string[]): Promise<Omit<WriteProbe, 'id'>[]> {
  const rows = await ds.getRepository(WriteProbe).find({ order: { code: 'ASC' } });
  return rows.filter((r) => codes.includes(r.code)).map(({ id: _id, ...r }) => r);
}

/** the query builder's own INSERT, the reference */
function builderInsert(em: EntityManager, rows: Partial<WriteProbe>[]) {
  return em
    .createQueryBuilder()
    .insert()
    .into(WriteProbe)
    .values(rows as any[])
    .updateEntity(false)
    .execute();
}

const sample = (p: string): Partial<WriteProbe>[] => [
  {
    code: `${p}1`,
    label: '供热 "引号" \\ 𠮷',
    fen: 9_007_199_254_740_991,
    flagged: true,
    data: { a: [1, '二'], b: null },
    at: new Date('2030-12-31T15:59:59.999Z'),
  },
  // leaves label, fen, flagged and at out: DEFAULT, and NULL for the nullable instant
  { code: `${p}2`, data: null },
  { code: `${p}3`, label: "'; DROP TABLE write_probe; --", fen: -1, flagged: false, data: { 账号: 'HB-0001' } },
];

describe('direct writes', () => {
  it('insertRows and insertRow write what the query builder writes, stamped with the app clock', async () => {
    for (const [driver, ds] of sources) {
      vi.useFakeTimers({ toFake: ['Date'], now: APP_NOW });
      await withTx(ds, (em) => builderInsert(em, sample('b')));
      await withTx(ds, (em) => insertRows(em, WriteProbe, sample('r')));
      const ids = await withTx(ds, async (em) => Promise.all(sample('o').map((r) => insertRow(em, WriteProbe, r))));
      expect(new Set(ids).size, driver).toBe(3);
      expect(
        ids.every((id) => Number.isInteger(id) && id > 0),
        driver,
      ).toBe(true);

      const reference = await read(ds, ['b1', 'b2', 'b3']);
      expect(reference[1], driver).toMatchObject({ label: 'fresh', fen: 0, flagged: false, data: null, at: null });
      for (const p of ['r', 'o']) {
        const rows = await read(ds, [`${p}1`, `${p}2`, `${p}3`]);
        expect(
          rows.map((r) => ({ ...r, code: r.code.slice(1) })),
          `${driver} ${p}`,
        ).toEqual(reference.map((r) => ({ ...r, code: r.code.slice(1) })));
        for (const r of rows) {
          expect(r.createdAt.toISOString(), driver).toBe(APP_NOW.toISOString());
          expect(r.updatedAt.toISOString(), driver).toBe(APP_NOW.toISOString());
        }
      }
      const [byId] = await ds.query(`SELECT code FROM write_probe WHERE id = ${ids[0]}`);
      expect(byId.code, driver).toBe('o1');
    }
  });

  it('updateByIds sets common and per-row values, narrows by its condition and stamps the update date', async () => {
    for (const [driver, ds] of sources) {
      vi.useFakeTimers({ toFake: ['Date'], now: APP_NOW });
      await withTx(ds, (em) => insertRows(em, WriteProbe, sample('u')));
      const rows = await ds.getRepository(WriteProbe).find({ order: { code: 'ASC' } });
      const [u1, u2, u3] = ['u1', 'u2', 'u3'].map((c) => rows.find((r) => r.code === c)!);
      vi.setSystemTime(LATER);
      const changed = await withTx(ds, (em) =>
        updateByIds(
          em,
          WriteProbe,
          [
            { id: u1!.id, set: { fen: 5, at: new Date('2031-01-01T00:00:00.5Z'), data: { x: 1 } } },
            { id: u2!.id, set: { fen: 7, at: null, data: null } },
            { id: u3!.id, set: { fen: 9, at: null, data: { y: '三' } } },
          ],
          { flagged: true, label: '已更新' },
          // u3 is not flagged: the condition leaves it alone
          { sql: 'label <> :keep', params: { keep: "'; DROP TABLE write_probe; --" } },
          { fen: (expr) => `fen + ${expr}` },
        ),
      );
      expect(changed, driver).toBe(2);
      const after = await read(ds, ['u1', 'u2', 'u3']);
      expect(
        after.map((r) => [r.code, r.label, r.fen, r.flagged, r.data, r.at?.toISOString() ?? null]),
        driver,
      ).toEqual([
        ['u1', '已更新', 9_007_199_254_740_991 + 5, true, { x: 1 }, '2031-01-01T00:00:00.500Z'],
        ['u2', '已更新', 7, true, null, null],
        ['u3', "'; DROP TABLE write_probe; --", -1, false, { 账号: 'HB-0001' }, null],
      ]);
      expect(
        after.map((r) => r.updatedAt.toISOString()),
        driver,
      ).toEqual([LATER.toISOString(), LATER.toISOString(), APP_NOW.toISOString()]);
      expect(
        after.map((r) => r.createdAt.toISOString()),
        driver,
      ).toEqual([APP_NOW, APP_NOW, APP_NOW].map((d) => d.toISOString()));
    }
  });

  it('upsertRows inserts new rows and updates only the named columns of existing ones, and their update date by the app clock', async () => {
    for (const [driver, ds] of sources) {
      vi.useFakeTimers({ toFake: ['Date'], now: APP_NOW });
      await withTx(ds, (em) => insertRows(em, WriteProbe, [{ code: 'p1', label: 'old', fen: 1 }]));
      const later = new Date(APP_NOW.getTime() + 3_600_000);
      vi.setSystemTime(later);
      await withTx(ds, (em) =>
        upsertRows(
          em,
          WriteProbe,
          [
            { code: 'p1', label: 'new', fen: 2 },
            { code: 'p2', label: 'added', fen: 3 },
          ],
          ['label'],
          ['code'],
        ),
      );
      const rows = await read(ds, ['p1', 'p2']);
      expect(
        rows.map((r) => [r.code, r.label, r.fen, r.createdAt.toISOString(), r.updatedAt.toISOString()]),
        driver,
      ).toEqual([
        ['p1', 'new', 1, APP_NOW.toISOString(), later.toISOString()],
        ['p2', 'added', 3, later.toISOString(), later.toISOString()],
      ]);
    }
  });

  it('in tests, a statement that changes a stamped table without setting its update date is refused (the database would stamp its own clock)', async () => {
    for (const [driver, ds] of sources) {
      const q = (s: string) => ds.driver.escape(s);
      await expect(ds.query(`UPDATE ${q('write_probe')} SET ${q('label')} = ? WHERE ${q('code')} = ?`, ['x', 'nobody']), driver).rejects.toThrow(
        /write_probe: .*updatedAt/,
      );
      await expect(
        ds.query(`UPDATE ${q('write_probe')} SET ${q('label')} = ?, ${q('updatedAt')} = ? WHERE ${q('code')} = ?`, ['x', '2031-02-03 04:05:06.789', 'nobody']),
        driver,
      ).resolves.toBeDefined();
    }
  });

  it('an entity a subscriber listens to still reaches the subscriber', async () => {
    for (const [driver, ds] of sources) {
      heard.length = 0;
      await withTx(ds, (em) => insertRows(em, HeardProbe, [{ code: `${driver}-a` }, { code: `${driver}-b` }]));
      await withTx(ds, (em) => insertRow(em, HeardProbe, { code: `${driver}-c` }));
      expect(heard, driver).toEqual([`${driver}-a`, `${driver}-b`, `${driver}-c`]);
    }
  });
});

describe('forUpdate', () => {
  it('refuses ORDER BY without LIMIT (a locking read MariaDB may turn into a scan of the whole table)', () => {
    for (const [driver, ds] of sources) {
      const qb = () => ds.createQueryBuilder(WriteProbe, 'w').where('w.code IN (:...codes)', { codes: ['a', 'b'] });
      expect(() => forUpdate(qb().orderBy('w.id', 'ASC')), driver).toThrow(/ORDER BY without LIMIT/);
      expect(() => forUpdate(qb()), driver).not.toThrow();
      expect(() => forUpdate(qb().orderBy('w.id', 'ASC').limit(10), 'skip_locked'), driver).not.toThrow();
      expect(() => forUpdate(qb().orderBy('w.id', 'ASC').take(10)), driver).not.toThrow();
    }
  });
});
