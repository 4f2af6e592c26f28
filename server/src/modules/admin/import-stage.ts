/**
 * The rows of one household import while it is checked and written: a temporary table on a
 * connection of the import's own. The file is read once, its good rows go into the table in
 * batches; checks across rows (duplicate account numbers, two accounts in one room, one building
 * with two addresses) are queries over it; the write reads it back a page at a time. The process
 * holds a batch or a page, never the file: memory stays flat in the number of rows.
 *
 * MySQL/MariaDB: a TEMPORARY table lives on one connection, so the stage keeps a QueryRunner and the
 * write's transaction runs on it. SQLite (one connection): a TEMP table; its inserts go through
 * withTx like every other write, so they never land inside another request's open transaction.
 */
import type { DataSource, EntityManager, QueryRunner } from 'typeorm';
import type { AccountStatus, AccountUse } from '@heat-butler/shared';
import { driverOf, withTx } from '../../platform/db/data-source';
import type { HouseholdRow } from './households';

/** rows per INSERT into the stage (13 parameters each) */
const INSERT_BATCH = 500;

const COLUMNS = ['rowNo', 'accountNo', 'areaCode', 'buildingName', 'buildingAddress', 'unitNo', 'roomNo', 'ownerName', 'contactPhone', 'heatedArea', 'accountUse', 'accountStatus', 'arrears'];

export interface StagedBuilding {
  rowNo: number;
  areaCode: string;
  buildingName: string;
  buildingAddress: string;
}

export class ImportStage {
  /** good rows staged so far */
  count = 0;
  private pending: HouseholdRow[] = [];
  private flushing: Promise<void> = Promise.resolve();

  private constructor(
    private ds: DataSource,
    private qr: QueryRunner,
    private mysql: boolean,
    readonly table: string,
  ) {}

  static async open(ds: DataSource, jobId: number): Promise<ImportStage> {
    const mysql = driverOf(ds) === 'mysql';
    const qr = ds.createQueryRunner();
    await qr.connect();
    const table = `import_stage_${jobId}`;
    const text = (n: number) => (mysql ? `VARCHAR(${n}) NOT NULL` : 'TEXT NOT NULL');
    const cols = [
      `rowNo INTEGER NOT NULL PRIMARY KEY`,
      `accountNo ${text(20)}`,
      `areaCode ${text(16)}`,
      `buildingName ${text(50)}`,
      `buildingAddress ${text(200)}`,
      `unitNo ${text(10)}`,
      `roomNo ${text(10)}`,
      `ownerName ${text(32)}`,
      `contactPhone ${mysql ? 'VARCHAR(20)' : 'TEXT'} NULL`,
      `heatedArea INTEGER NOT NULL`,
      `accountUse ${text(16)}`,
      `accountStatus ${text(16)}`,
      `arrears TEXT NULL`,
    ].join(', ');
    try {
      // compared byte for byte, like the strings they were read as (no case folding, no padding rules)
      if (mysql) await qr.query(`CREATE TEMPORARY TABLE ${table} (${cols}) CHARACTER SET utf8mb4 COLLATE utf8mb4_bin`);
      else await withTx(ds, (em) => em.query(`CREATE TEMP TABLE ${table} (${cols})`));
    } catch (err) {
      await qr.release();
      throw err;
    }
    return new ImportStage(ds, qr, mysql, table);
  }

  /** Stage a good row (inserted in batches, one batch in flight while the next is read). */
  async add(row: HouseholdRow): Promise<void> {
    this.pending.push(row);
    this.count++;
    if (this.pending.length >= INSERT_BATCH) await this.flush();
  }

  private async flush(): Promise<void> {
    const batch = this.pending;
    this.pending = [];
    await this.flushing;
    if (!batch.length) return;
    this.flushing = this.insert(batch);
    this.flushing.catch(() => undefined); // awaited by the next flush or by done()
  }

  private async insert(rows: HouseholdRow[]): Promise<void> {
    const values: unknown[] = [];
    for (const r of rows) {
      values.push(r.row, r.accountNo, r.areaCode, r.buildingName, r.buildingAddress, r.unitNo, r.roomNo, r.ownerName, r.contactPhone, r.heatedArea, r.use, r.status);
      values.push(r.arrears.length ? JSON.stringify(r.arrears) : null);
    }
    const sql = `INSERT INTO ${this.table} (${COLUMNS.join(', ')}) VALUES ${rows.map(() => `(${COLUMNS.map(() => '?').join(', ')})`).join(', ')}`;
    await this.exec(sql, values);
  }

  /** A statement that writes (SQLite: through withTx, never inside another request's transaction). */
  private async exec(sql: string, values?: unknown[]): Promise<void> {
    if (this.mysql) await this.qr.query(sql, values);
    else await withTx(this.ds, (em) => em.query(sql, values));
  }

  /** Every row is in: the last batch written, and the indexes the checks use built. */
  async done(): Promise<void> {
    await this.flush();
    await this.flushing;
    const t = this.table;
    for (const [name, cols] of [
      ['acc', 'accountNo, rowNo'],
      ['room', 'areaCode, buildingName, unitNo, roomNo, rowNo'],
      ['bld', 'areaCode, buildingName, rowNo'],
    ] as const) {
      await this.exec(`CREATE INDEX ix_${t}_${name} ON ${t} (${cols})`);
    }
  }

  /** Rows whose account number an earlier row has, with that row. */
  async duplicateAccounts(limit: number): Promise<{ rowNo: number; accountNo: string; firstRow: number }[]> {
    const t = this.table;
    const rows = await this.qr.query(
      `SELECT s.rowNo AS rowNo, s.accountNo AS accountNo, g.firstRow AS firstRow
       FROM ${t} s JOIN (SELECT accountNo, MIN(rowNo) AS firstRow FROM ${t} GROUP BY accountNo HAVING COUNT(*) > 1) g ON g.accountNo = s.accountNo
       WHERE s.rowNo > g.firstRow ORDER BY s.rowNo LIMIT ?`,
      [limit],
    );
    return rows.map((r: any) => ({ rowNo: Number(r.rowNo), accountNo: String(r.accountNo), firstRow: Number(r.firstRow) }));
  }

  /** Rows in a room whose first row has another account number, with that row and its account. */
  async roomClashes(limit: number): Promise<{ rowNo: number; roomNo: string; firstRow: number; firstAccount: string }[]> {
    const t = this.table;
    const rows = await this.qr.query(
      `SELECT s.rowNo AS rowNo, s.roomNo AS roomNo, f.rowNo AS firstRow, f.accountNo AS firstAccount
       FROM ${t} s
       JOIN (SELECT areaCode, buildingName, unitNo, roomNo, MIN(rowNo) AS firstRow FROM ${t} GROUP BY areaCode, buildingName, unitNo, roomNo HAVING COUNT(*) > 1) g
         ON g.areaCode = s.areaCode AND g.buildingName = s.buildingName AND g.unitNo = s.unitNo AND g.roomNo = s.roomNo
       JOIN ${t} f ON f.rowNo = g.firstRow
       WHERE s.rowNo > g.firstRow AND s.accountNo <> f.accountNo ORDER BY s.rowNo LIMIT ?`,
      [limit],
    );
    return rows.map((r: any) => ({ rowNo: Number(r.rowNo), roomNo: String(r.roomNo), firstRow: Number(r.firstRow), firstAccount: String(r.firstAccount) }));
  }

  /** Rows giving their building another address than its first row does. */
  async addressClashes(limit: number): Promise<{ rowNo: number; buildingAddress: string; firstRow: number; firstAddress: string }[]> {
    const t = this.table;
    const rows = await this.qr.query(
      `SELECT s.rowNo AS rowNo, s.buildingAddress AS buildingAddress, f.rowNo AS firstRow, f.buildingAddress AS firstAddress
       FROM ${t} s
       JOIN (SELECT areaCode, buildingName, MIN(rowNo) AS firstRow FROM ${t} GROUP BY areaCode, buildingName) g ON g.areaCode = s.areaCode AND g.buildingName = s.buildingName
       JOIN ${t} f ON f.rowNo = g.firstRow
       WHERE s.buildingAddress <> f.buildingAddress ORDER BY s.rowNo LIMIT ?`,
      [limit],
    );
    return rows.map((r: any) => ({ rowNo: Number(r.rowNo), buildingAddress: String(r.buildingAddress), firstRow: Number(r.firstRow), firstAddress: String(r.firstAddress) }));
  }

  /** Each building of the file as its first row gives it, in file order. */
  async buildings(): Promise<StagedBuilding[]> {
    const t = this.table;
    const rows = await this.qr.query(
      `SELECT f.rowNo AS rowNo, f.areaCode AS areaCode, f.buildingName AS buildingName, f.buildingAddress AS buildingAddress
       FROM (SELECT MIN(rowNo) AS firstRow FROM ${t} GROUP BY areaCode, buildingName) g JOIN ${t} f ON f.rowNo = g.firstRow ORDER BY f.rowNo`,
    );
    return rows.map((r: any) => ({ rowNo: Number(r.rowNo), areaCode: String(r.areaCode), buildingName: String(r.buildingName), buildingAddress: String(r.buildingAddress) }));
  }

  /** Each unit of the file (area, building, unit). */
  async units(): Promise<{ areaCode: string; buildingName: string; unitNo: string }[]> {
    const rows = await this.qr.query(`SELECT DISTINCT areaCode, buildingName, unitNo FROM ${this.table}`);
    return rows.map((r: any) => ({ areaCode: String(r.areaCode), buildingName: String(r.buildingName), unitNo: String(r.unitNo) }));
  }

  /** The staged rows in file order, `size` at a time (inside the write's transaction: pass its manager). */
  async *pages(size: number, em?: EntityManager): AsyncGenerator<HouseholdRow[]> {
    const q = (sql: string, p: unknown[]) => (em ? em.query(sql, p) : this.qr.query(sql, p));
    let after = 0;
    for (;;) {
      const rows: any[] = await q(`SELECT ${COLUMNS.join(', ')} FROM ${this.table} WHERE rowNo > ? ORDER BY rowNo LIMIT ?`, [after, size]);
      if (!rows.length) return;
      after = Number(rows[rows.length - 1].rowNo);
      yield rows.map((r) => ({
        row: Number(r.rowNo),
        accountNo: String(r.accountNo),
        areaCode: String(r.areaCode),
        buildingName: String(r.buildingName),
        buildingAddress: String(r.buildingAddress),
        unitNo: String(r.unitNo),
        roomNo: String(r.roomNo),
        ownerName: String(r.ownerName),
        contactPhone: r.contactPhone === null || r.contactPhone === undefined ? null : String(r.contactPhone),
        heatedArea: Number(r.heatedArea),
        use: r.accountUse as AccountUse,
        status: r.accountStatus as AccountStatus,
        arrears: r.arrears ? JSON.parse(String(r.arrears)) : [],
      }));
    }
  }

  /** One transaction on the stage's connection (MySQL), or through withTx (SQLite). */
  transaction<T>(fn: (em: EntityManager) => Promise<T>): Promise<T> {
    return this.mysql ? this.qr.manager.transaction(fn) : withTx(this.ds, fn);
  }

  /** Drop the table and give the connection back (always; errors here are not the import's). */
  async close(): Promise<void> {
    try {
      await this.flushing.catch(() => undefined);
      await this.exec(this.mysql ? `DROP TEMPORARY TABLE IF EXISTS ${this.table}` : `DROP TABLE IF EXISTS ${this.table}`);
    } catch {
      /* the connection may be gone; a temporary table goes with it */
    } finally {
      await this.qr.release().catch(() => undefined);
    }
  }
}
