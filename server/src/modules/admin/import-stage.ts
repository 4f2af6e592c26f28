/**
 * The rows of one household import while it is checked and written: a scratch table of the job's
 * own, import_stage_<jobId>. The file is read once, its good rows go into the table in batches;
 * checks across rows (duplicate account numbers, two accounts in one room, one building with two
 * addresses) are queries over it; the write reads it back a page at a time. The process holds a
 * batch or a page, never the file: memory stays flat in the number of rows.
 *
 * MySQL/MariaDB: a plain table, not TEMPORARY (MySQL 8 cannot refer to a TEMPORARY table twice in
 * one query, and the checks join the table with itself); dropped when the job ends, or by
 * failStale() after a crash (dropStage). SQLite: a TEMP table (gone with the connection). Writes go
 * through withTx on SQLite like every other write, so they never land inside another request's
 * open transaction.
 */
import type { DataSource, EntityManager } from 'typeorm';
import type { AccountStatus, AccountUse } from '@heat-butler/shared';
import { driverOf, withTx } from '../../platform/db/data-source';
import type { HouseholdRow } from './households';

/** rows per INSERT into the stage (13 parameters each; SQLite: under its 32,766 variables) */
const INSERT_BATCH = { mysql: 2000, sqlite: 500 };

const COLUMNS = [
  'rowNo',
  'accountNo',
  'areaCode',
  'buildingName',
  'buildingAddress',
  'unitNo',
  'roomNo',
  'ownerName',
  'contactPhone',
  'heatedArea',
  'accountUse',
  'accountStatus',
  'arrears',
];

/** the indexes the checks across rows use (built once every row is in) */
const INDEXES = [
  ['acc', 'accountNo, rowNo'],
  ['room', 'areaCode, buildingName, unitNo, roomNo, rowNo'],
  ['bld', 'areaCode, buildingName, rowNo'],
] as const;

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
    readonly mysql: boolean,
    readonly table: string,
    private jobId: number,
    /** MySQL/MariaDB: a MyISAM table with its indexes declared (disabled while loading) */
    private myisam = false,
  ) {}

  static async open(ds: DataSource, jobId: number): Promise<ImportStage> {
    const mysql = driverOf(ds) === 'mysql';
    const table = stageTable(jobId);
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
    if (mysql) {
      await ds.query(`DROP TABLE IF EXISTS ${table}, ${unitMapTable(jobId)}`);
      // compared byte for byte, like the strings they were read as (no case folding, no padding rules).
      // MyISAM: scratch rows need no transactions or redo log, and load several times faster than
      // InnoDB; where a server refuses MyISAM (disabled_storage_engines), InnoDB.
      // Its indexes are declared up front and disabled while loading (DISABLE KEYS), then built in
      // one sorting pass (ENABLE KEYS, done()); InnoDB builds them after the load (CREATE INDEX).
      const create = (engine: string, indexes: string) =>
        ds.query(`CREATE TABLE ${table} (${cols}${indexes}) ENGINE=${engine} CHARACTER SET utf8mb4 COLLATE utf8mb4_bin`);
      const myisam = await create('MyISAM', INDEXES.map(([name, c]) => `, INDEX ix_${table}_${name} (${c})`).join('')).then(
        () => true,
        async () => {
          await ds.query(`DROP TABLE IF EXISTS ${table}`);
          await create('InnoDB', '');
          return false;
        },
      );
      // (a server that quietly substitutes its default engine keeps the declared indexes up to date: correct, if slower)
      if (myisam) await ds.query(`ALTER TABLE ${table} DISABLE KEYS`);
      return new ImportStage(ds, mysql, table, jobId, myisam);
    } else {
      await withTx(ds, (em) => em.query(`CREATE TEMP TABLE ${table} (${cols})`));
    }
    return new ImportStage(ds, mysql, table, jobId);
  }

  /** Stage a good row (inserted in batches, one batch in flight while the next is read). */
  async add(row: HouseholdRow): Promise<void> {
    this.pending.push(row);
    this.count++;
    if (this.pending.length >= INSERT_BATCH[this.mysql ? 'mysql' : 'sqlite']) await this.flush();
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
      values.push(
        r.row,
        r.accountNo,
        r.areaCode,
        r.buildingName,
        r.buildingAddress,
        r.unitNo,
        r.roomNo,
        r.ownerName,
        r.contactPhone,
        r.heatedArea,
        r.use,
        r.status,
      );
      values.push(r.arrears.length ? JSON.stringify(r.arrears) : null);
    }
    const sql = `INSERT INTO ${this.table} (${COLUMNS.join(', ')}) VALUES ${rows.map(() => `(${COLUMNS.map(() => '?').join(', ')})`).join(', ')}`;
    await this.exec(sql, values);
  }

  /** A statement that writes (SQLite: through withTx, never inside another request's transaction). */
  private async exec(sql: string, values?: unknown[]): Promise<void> {
    if (this.mysql) await this.ds.query(sql, values);
    else await withTx(this.ds, (em) => em.query(sql, values));
  }

  /** Every row is in: the last batch written, and the indexes the checks use built. */
  async done(): Promise<void> {
    await this.flush();
    await this.flushing;
    const t = this.table;
    if (this.myisam) await this.exec(`ALTER TABLE ${t} ENABLE KEYS`);
    else for (const [name, cols] of INDEXES) await this.exec(`CREATE INDEX ix_${t}_${name} ON ${t} (${cols})`);
    // the unit ids mapUnits() fills in the write's transaction (created before it: a transaction
    // can't read a table created after its snapshot, and DDL inside it would commit it)
    if (this.mysql)
      await this.exec(
        `CREATE TABLE ${unitMapTable(this.jobId)} (areaCode VARCHAR(16) NOT NULL, buildingName VARCHAR(50) NOT NULL, unitNo VARCHAR(10) NOT NULL,
           areaId INTEGER NOT NULL, buildingId INTEGER NOT NULL, unitId INTEGER NOT NULL, PRIMARY KEY (areaCode, buildingName, unitNo))
         ENGINE=InnoDB CHARACTER SET utf8mb4 COLLATE utf8mb4_bin`,
      );
  }

  /**
   * Does any group of rows by `columns` have more than one row? Asked before each check across rows
   * that lists them: along the check's index that is one scan (300,000 rows: 0.1 s). The listing
   * itself reads the file's rows in order and stops at its limit, which is quick when there are
   * repeats; when there are none, MariaDB ran its grouped subquery once per row of the file (a
   * "lateral derived" plan: 2.7 s and 5.6 s for the two checks at 300,000 rows).
   */
  private async anyRepeated(columns: string): Promise<boolean> {
    const rows = await this.ds.query(`SELECT 1 AS one FROM ${this.table} GROUP BY ${columns} HAVING COUNT(*) > 1 LIMIT 1`);
    return rows.length > 0;
  }

  /** Rows whose account number an earlier row has, with that row. */
  async duplicateAccounts(limit: number): Promise<{ rowNo: number; accountNo: string; firstRow: number }[]> {
    if (!(await this.anyRepeated('accountNo'))) return [];
    const t = this.table;
    const rows = await this.ds.query(
      `SELECT s.rowNo AS rowNo, s.accountNo AS accountNo, g.firstRow AS firstRow
       FROM ${t} s JOIN (SELECT accountNo, MIN(rowNo) AS firstRow FROM ${t} GROUP BY accountNo HAVING COUNT(*) > 1) g ON g.accountNo = s.accountNo
       WHERE s.rowNo > g.firstRow ORDER BY s.rowNo LIMIT ?`,
      [limit],
    );
    return rows.map((r: any) => ({ rowNo: Number(r.rowNo), accountNo: String(r.accountNo), firstRow: Number(r.firstRow) }));
  }

  /** Rows in a room whose first row has another account number, with that row and its account. */
  async roomClashes(limit: number): Promise<{ rowNo: number; roomNo: string; firstRow: number; firstAccount: string }[]> {
    if (!(await this.anyRepeated('areaCode, buildingName, unitNo, roomNo'))) return [];
    const t = this.table;
    const rows = await this.ds.query(
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

  /** Rows giving their building another address than its first row does (only buildings given two addresses are joined). */
  async addressClashes(limit: number): Promise<{ rowNo: number; buildingAddress: string; firstRow: number; firstAddress: string }[]> {
    const t = this.table;
    const rows = await this.ds.query(
      `SELECT s.rowNo AS rowNo, s.buildingAddress AS buildingAddress, f.rowNo AS firstRow, f.buildingAddress AS firstAddress
       FROM (SELECT areaCode, buildingName, MIN(rowNo) AS firstRow FROM ${t} GROUP BY areaCode, buildingName
             HAVING MIN(buildingAddress) <> MAX(buildingAddress)) g
       JOIN ${t} s ON s.areaCode = g.areaCode AND s.buildingName = g.buildingName
       JOIN ${t} f ON f.rowNo = g.firstRow
       WHERE s.buildingAddress <> f.buildingAddress ORDER BY s.rowNo LIMIT ?`,
      [limit],
    );
    return rows.map((r: any) => ({
      rowNo: Number(r.rowNo),
      buildingAddress: String(r.buildingAddress),
      firstRow: Number(r.firstRow),
      firstAddress: String(r.firstAddress),
    }));
  }

  /** Each building of the file as its first row gives it, in file order. */
  async buildings(): Promise<StagedBuilding[]> {
    const t = this.table;
    const rows = await this.ds.query(
      `SELECT f.rowNo AS rowNo, f.areaCode AS areaCode, f.buildingName AS buildingName, f.buildingAddress AS buildingAddress
       FROM (SELECT MIN(rowNo) AS firstRow FROM ${t} GROUP BY areaCode, buildingName) g JOIN ${t} f ON f.rowNo = g.firstRow ORDER BY f.rowNo`,
    );
    return rows.map((r: any) => ({
      rowNo: Number(r.rowNo),
      areaCode: String(r.areaCode),
      buildingName: String(r.buildingName),
      buildingAddress: String(r.buildingAddress),
    }));
  }

  /** Each unit of the file (area, building, unit). */
  async units(): Promise<{ areaCode: string; buildingName: string; unitNo: string }[]> {
    const rows = await this.ds.query(`SELECT DISTINCT areaCode, buildingName, unitNo FROM ${this.table}`);
    return rows.map((r: any) => ({ areaCode: String(r.areaCode), buildingName: String(r.buildingName), unitNo: String(r.unitNo) }));
  }

  /** The staged rows in file order, `size` at a time (inside the write's transaction: pass its manager). */
  async *pages(size: number, em?: EntityManager, where = '1 = 1'): AsyncGenerator<HouseholdRow[]> {
    const q = (sql: string, p: unknown[]) => (em ? em.query(sql, p) : this.ds.query(sql, p));
    let after = 0;
    for (;;) {
      const rows: any[] = await q(`SELECT ${COLUMNS.join(', ')} FROM ${this.table} WHERE rowNo > ? AND ${where} ORDER BY rowNo LIMIT ?`, [after, size]);
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

  /**
   * MySQL/MariaDB, inside the write's transaction: the ids of each unit of the file (area code,
   * building, unit as the rows give them, matched byte for byte as the write's lookups did), in a
   * second scratch table, so that the accounts can be written from the stage with one
   * INSERT … SELECT per page instead of travelling through the process.
   */
  async mapUnits(em: EntityManager, units: { areaCode: string; buildingName: string; unitNo: string; areaId: number; buildingId: number; unitId: number }[]) {
    const m = unitMapTable(this.jobId);
    for (let i = 0; i < units.length; i += 2000) {
      const part = units.slice(i, i + 2000);
      await em.query(
        `INSERT INTO ${m} (areaCode, buildingName, unitNo, areaId, buildingId, unitId) VALUES ${part.map(() => '(?, ?, ?, ?, ?, ?)').join(', ')}`,
        part.flatMap((u) => [u.areaCode, u.buildingName, u.unitNo, u.areaId, u.buildingId, u.unitId]),
      );
    }
  }

  /**
   * The staged rows with rowNo in (after, upTo] as account rows (rowNo, accountNo, areaId,
   * buildingId, unitId, roomNo, ownerName, contactPhone, heatedArea, use, status): a SELECT for
   * AccountsService.upsertAccountsFrom (after mapUnits).
   */
  accountSource(after: number, upTo: number): { sql: string; params: unknown[] } {
    return {
      sql: `SELECT s.rowNo AS rowNo, s.accountNo AS accountNo, m.areaId AS areaId, m.buildingId AS buildingId, m.unitId AS unitId, s.roomNo AS roomNo,
              s.ownerName AS ownerName, s.contactPhone AS contactPhone, s.heatedArea AS heatedArea, s.accountUse AS accountUse, s.accountStatus AS accountStatus
            FROM ${this.table} s JOIN ${unitMapTable(this.jobId)} m ON m.areaCode = s.areaCode AND m.buildingName = s.buildingName AND m.unitNo = s.unitNo
            WHERE s.rowNo > ? AND s.rowNo <= ?`,
      params: [after, upTo],
    };
  }

  /** The highest staged row number (0: none). */
  async lastRow(em?: EntityManager): Promise<number> {
    const rows = await (em ?? this.ds.manager).query(`SELECT MAX(rowNo) AS m FROM ${this.table}`);
    return Number(rows[0]?.m ?? 0);
  }

  /** The staged rows with arrears, in file order, `size` at a time. */
  async *arrearsPages(size: number, em?: EntityManager): AsyncGenerator<HouseholdRow[]> {
    yield* this.pages(size, em, 'arrears IS NOT NULL');
  }

  /** Drop the tables (always; an error here is not the import's: failStale() drops them later). */
  async close(): Promise<void> {
    await this.flushing.catch(() => undefined);
    await this.exec(`DROP TABLE IF EXISTS ${this.table}`).catch(() => undefined);
    if (this.mysql) await this.exec(`DROP TABLE IF EXISTS ${unitMapTable(this.jobId)}`).catch(() => undefined);
  }
}

const stageTable = (jobId: number) => `import_stage_${Math.trunc(jobId)}`;
const unitMapTable = (jobId: number) => `import_stage_${Math.trunc(jobId)}_units`;

/** The stage a crashed job left behind (MySQL/MariaDB; SQLite's TEMP table went with its process). */
export async function dropStage(ds: DataSource, jobId: number): Promise<void> {
  if (driverOf(ds) === 'mysql') await ds.query(`DROP TABLE IF EXISTS ${stageTable(jobId)}, ${unitMapTable(jobId)}`);
}
