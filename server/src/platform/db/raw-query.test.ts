/**
 * rawQuery reuses a query builder's SQL: on every driver — SQLite here always (the embedded
 * database of `npm start`), MariaDB too when TEST_DATABASE_URL is set — each call must get the rows
 * of its own parameters, never those of the call that built the SQL. (SQLite writes numbers into
 * the SQL itself: reusing that SQL gave every resident the first one's bills.)
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { DataSource } from 'typeorm';
import { createDataSource } from '../../db';
import { createTestDatabase, statementCounts, type TestDatabase } from '../../test-support/db';
import { BulkStatement, rawQuery, sqlLiteral, withTx } from './data-source';
import { rawDatetime } from './columns';

let db: TestDatabase | undefined;
const sources: [string, DataSource][] = [];

beforeAll(async () => {
  sources.push(['sqlite', createDataSource({ sqlitePath: ':memory:' })]);
  if (process.env.TEST_DATABASE_URL) {
    db = await createTestDatabase();
    sources.push(['mariadb', createDataSource({ url: db.url, sqlitePath: ':memory:' })]);
  }
  for (const [, ds] of sources) await ds.initialize();
});
afterAll(async () => {
  for (const [, ds] of sources) await ds.destroy();
  await db?.drop();
});

const NUMBERS = '(SELECT 1 AS n UNION ALL SELECT 2 UNION ALL SELECT 3 UNION ALL SELECT 4)';

describe('rawQuery', () => {
  it('gives each call the rows of its own parameters, one at a time and at once', async () => {
    for (const [driver, ds] of sources) {
      const above = (min: number, text: string) =>
        rawQuery<{ n: number }>(
          ds,
          'numbers above',
          () =>
            ds.createQueryBuilder().select('x.n', 'n').from(NUMBERS, 'x').where('x.n > :min', { min }).andWhere(':text IS NOT NULL', { text }).orderBy('x.n'),
          [min, text],
        ).then((rows) => rows.map((r) => Number(r.n)));
      const among = (ids: number[]) =>
        rawQuery<{ n: number }>(
          ds,
          `numbers among ${ids.length}`,
          () => ds.createQueryBuilder().select('x.n', 'n').from(NUMBERS, 'x').where('x.n IN (:...ids)', { ids }).orderBy('x.n'),
          ids,
        ).then((rows) => rows.map((r) => Number(r.n)));
      for (let i = 0; i < 2; i++) {
        expect(await above(3, 'a'), driver).toEqual([4]);
        expect(await above(1, 'b'), driver).toEqual([2, 3, 4]);
        expect(await among([1, 4]), driver).toEqual([1, 4]);
        expect(await among([2, 3]), driver).toEqual([2, 3]);
      }
      expect(await Promise.all([above(0, 'c'), above(2, 'd'), among([3, 1]), among([4, 2])]), driver).toEqual([
        [1, 2, 3, 4],
        [3, 4],
        [1, 3],
        [2, 4],
      ]);
    }
  });

  it('reads each type as a query through TypeORM reads it (MariaDB: a prepared statement, binary rows)', async () => {
    for (const [driver, ds] of sources) {
      await ds.query(
        'CREATE TABLE type_probe (id INTEGER PRIMARY KEY, fen BIGINT, area DECIMAL(10,2), at DATETIME(3) NULL, day VARCHAR(10), body TEXT, flag BOOLEAN, note VARCHAR(20) NULL)',
      );
      await ds.query('INSERT INTO type_probe VALUES (?, ?, ?, ?, ?, ?, ?, ?), (?, ?, ?, ?, ?, ?, ?, ?)', [
        ...[1, 9_007_199_254_740_991, '88.50', '2026-11-28 16:05:09.123', '2026-11-29', JSON.stringify([{ label: '基本热费', amountFen: 202_000 }]), 1, null],
        ...[2, -1, '0.00', null, '2026-11-30', '[]', 0, '备注'],
      ]);
      const sql = 'SELECT id, fen, area, at, day, body, flag, note FROM type_probe WHERE id >= ? ORDER BY id';
      const viaTypeOrm = await ds.query(sql, [1]);
      const viaRaw = await rawQuery(ds, 'type probe', () => ({ getQueryAndParameters: () => [sql, [1]] as [string, unknown[]] }), [1]);
      expect(
        viaRaw.map((r) => ({ ...r })),
        driver,
      ).toEqual(viaTypeOrm.map((r: object) => ({ ...r })));
      // and what the bill list makes of them: the instant, the number, the JSON
      expect(rawDatetime(viaRaw[0]!.at).toISOString(), driver).toBe('2026-11-28T16:05:09.123Z');
      expect(Number(viaRaw[0]!.fen), driver).toBe(9_007_199_254_740_991);
      expect(JSON.parse(viaRaw[0]!.body), driver).toEqual([{ label: '基本热费', amountFen: 202_000 }]);
      await ds.query('DROP TABLE type_probe');
    }
  });
});

describe('BulkStatement', () => {
  it('writes every value as given, with its constants, in a transaction, the same SQL again and again', async () => {
    for (const [driver, ds] of sources) {
      await ds.query('CREATE TABLE bulk_probe (id INTEGER PRIMARY KEY, label VARCHAR(100), fen BIGINT, note TEXT, day VARCHAR(10), at DATETIME(6))');
      const values = (base: number) => [
        [base + 1, '它\'s \\ "引号" 𠮷', -9_007_199_254_740_991, JSON.stringify({ a: [1, '二'], b: null })],
        [base + 2, '', 0, null],
        [base + 3, 'line\nbreak\ttab', 123_456_789_012, "'; DROP TABLE bulk_probe; --"],
      ];
      const at = new Date('2026-11-29T16:20:01.234Z');
      const row = `(?, ?, ?, ?, ${sqlLiteral('2026-11-28')}, ${sqlLiteral(at)})`;
      const statement = new BulkStatement(`INSERT INTO bulk_probe (id, label, fen, note, day, at) VALUES ${[row, row, row].join(', ')}`);
      for (const base of [0, 10]) await withTx(ds, (em) => statement.run(em, values(base).flat()));
      // a failed transaction leaves nothing behind (a duplicate id)
      await expect(
        withTx(ds, async (em) => {
          await statement.run(em, values(20).flat());
          await statement.run(em, values(20).flat());
        }),
      ).rejects.toThrow();
      statement.close();
      const rows: { id: number; label: string; fen: string | number; note: string | null; day: string; at: Date | string }[] = await ds.query(
        'SELECT id, label, fen, note, day, at FROM bulk_probe ORDER BY id',
      );
      expect(
        rows.map((r) => [Number(r.id), r.label, Number(r.fen), r.note]),
        driver,
      ).toEqual([...values(0), ...values(10)]);
      // the constants: the day as written, the instant as the same instant on both drivers
      expect(new Set(rows.map((r) => `${r.day} ${rawDatetime(r.at).toISOString()}`)), driver).toEqual(new Set(['2026-11-28 2026-11-29T16:20:01.234Z']));
      await ds.query('DROP TABLE bulk_probe');
    }
  });

  it.runIf(process.env.TEST_DATABASE_URL)('is prepared once per connection and unprepared there by close()', async () => {
    // one pooled connection: every statement below, SHOW STATUS too, runs on it
    const ds = createDataSource({ url: db!.url, sqlitePath: ':memory:', poolSize: 1 });
    await ds.initialize();
    try {
      await ds.query('CREATE TABLE bulk_once (id INTEGER PRIMARY KEY, at DATETIME(6))');
      const counts = () => statementCounts(ds);
      const statement = new BulkStatement(`INSERT INTO bulk_once (id, at) VALUES (?, ${sqlLiteral(new Date())}), (?, ${sqlLiteral(new Date())})`);
      const before = await counts();
      for (const id of [1, 3, 5]) await withTx(ds, (em) => statement.run(em, [id, id + 1]));
      const ran = await counts();
      expect(ran.Com_stmt_prepare - before.Com_stmt_prepare).toBe(1);
      expect(ran.Com_stmt_close - before.Com_stmt_close).toBe(0);
      statement.close();
      const closed = await counts();
      expect(closed.Com_stmt_close - ran.Com_stmt_close).toBe(1);
      // a second close has nothing left to close; a write after it (one of a failed job's) is not prepared again
      statement.close();
      await withTx(ds, (em) => statement.run(em, [7, 8]));
      const after = await counts();
      expect([after.Com_stmt_prepare, after.Com_stmt_close]).toEqual([closed.Com_stmt_prepare, closed.Com_stmt_close]);
      expect(Number((await ds.query('SELECT COUNT(*) AS n FROM bulk_once'))[0].n)).toBe(8);
    } finally {
      await ds.destroy();
    }
  });
});

describe('sqlLiteral', () => {
  it('writes whole numbers, instants and plain words, and refuses anything an escaper would be needed for', () => {
    expect(sqlLiteral(42)).toBe('42');
    expect(sqlLiteral('2026-11-28')).toBe("'2026-11-28'");
    expect(sqlLiteral('open')).toBe("'open'");
    expect(sqlLiteral(new Date('2026-11-29T16:20:01.234Z'))).toBe("'2026-11-29 16:20:01.234'");
    for (const bad of ["it's", 'a\\b', '"x"', '账单', 'a;b', 1.5, Number.NaN, 2 ** 60, new Date(Number.NaN), new Date('+010000-01-01T00:00:00Z')])
      expect(() => sqlLiteral(bad as never), String(bad)).toThrow(/not a plain SQL constant/);
  });
});
