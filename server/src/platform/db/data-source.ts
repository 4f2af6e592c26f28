import 'reflect-metadata';
import path from 'node:path';
import fs from 'node:fs';
import {
  DataSource,
  QueryFailedError,
  type EntityManager,
  type EntityMetadata,
  type EntitySubscriberInterface,
  type SelectQueryBuilder,
  type ObjectLiteral,
} from 'typeorm';
import type { ColumnMetadata } from 'typeorm/metadata/ColumnMetadata';
import { insertStamped, TimestampsFromAppClock } from './timestamps';
import { migrations as mysqlMigrations } from './migrations/mysql';
import { migrations as sqliteMigrations } from './migrations/sqlite';
import { dbLimitError, discard, QuietTypeOrmLogger } from './limits';
import type { Logger } from '../logger';

export type Driver = 'mysql' | 'sqlite';

export interface DbOptions {
  /** mysql://… ; undefined = embedded SQLite */
  url?: string;
  sqlitePath?: string;
  poolSize?: number;
  /** tests only: build the schema from the entities instead of migrations */
  synchronize?: boolean;
  logging?: boolean;
  /** where slow-query and driver warnings go (never with SQL parameters) */
  log?: Logger;
}

/** The committed migrations of a driver, listed in migrations/<driver>/index.ts (kept by db:generate). */
export function migrationsFor(driver: Driver): Function[] {
  return driver === 'mysql' ? mysqlMigrations : sqliteMigrations;
}

/**
 * The one DataSource factory: MySQL/MariaDB through mysql2, or embedded SQLite (better-sqlite3).
 * The entities come from the caller (server/src/db.ts lists every module's): the platform knows no module.
 */
export function createDataSource(opts: DbOptions, entities: Function[]): DataSource {
  const common = {
    entities,
    synchronize: opts.synchronize ?? false,
    logging: opts.logging ?? false,
    // TypeORM's console logger prints slow/failed statements with their parameters
    ...(opts.logging ? {} : { logger: new QuietTypeOrmLogger(opts.log) }),
    migrationsTableName: 'schema_migrations',
    subscribers: [TimestampsFromAppClock],
  };
  if (opts.url) {
    return new DataSource({
      ...common,
      // mariadb:// selects TypeORM's MariaDB dialect (it reads MariaDB's column defaults right)
      type: /^mariadb:/.test(opts.url) ? 'mariadb' : 'mysql',
      url: mysqlUrl(opts.url),
      timezone: 'Z',
      charset: 'utf8mb4_unicode_ci',
      // BIGINT (fen, COUNT) as an exact JS number, as SQLite gives it; a string only past 2^53,
      // which no amount reaches. As strings, every one went through a 64-bit Long and its
      // toString(): 48 of them in a resident's bill list
      supportBigNumbers: true,
      bigNumberStrings: false,
      poolSize: opts.poolSize ?? 20,
      migrations: migrationsFor('mysql'),
      extra: { connectionLimit: opts.poolSize ?? 20, waitForConnections: true },
    });
  }
  const file = opts.sqlitePath ?? ':memory:';
  if (file !== ':memory:') fs.mkdirSync(path.dirname(file), { recursive: true });
  return new DataSource({
    ...common,
    type: 'better-sqlite3',
    database: file,
    migrations: migrationsFor('sqlite'),
    prepareDatabase: (db: any) => {
      db.pragma('journal_mode = WAL');
      db.pragma('busy_timeout = 5000');
      db.pragma('foreign_keys = ON');
    },
  });
}

/** mysql2 speaks both; it only understands the mysql:// scheme. */
export function mysqlUrl(url: string): string {
  return url.replace(/^mariadb:/, 'mysql:');
}

export function driverOf(ds: DataSource | EntityManager): Driver {
  const type = ('connection' in ds ? ds.connection : ds).options.type;
  return type === 'mysql' || type === 'mariadb' ? 'mysql' : 'sqlite';
}

// SQLite has one connection and no row locks: serialise transactions in-process.
const sqliteQueues = new WeakMap<DataSource, Promise<unknown>>();

/**
 * Run `fn` in a transaction. On MySQL each call gets its own connection; on SQLite calls are
 * queued so two transactions never interleave on the single connection.
 */
export async function withTx<T>(ds: DataSource, fn: (em: EntityManager) => Promise<T>): Promise<T> {
  if (driverOf(ds) === 'mysql') return ds.transaction(fn);
  const prev = sqliteQueues.get(ds) ?? Promise.resolve();
  const run = prev.catch(() => undefined).then(() => ds.transaction(fn));
  sqliteQueues.set(ds, run);
  return run;
}

/**
 * SELECT … FOR UPDATE on MySQL/MariaDB; nothing on SQLite (writers are serialised by withTx).
 * No ORDER BY without a LIMIT: sort the locked rows in code. To skip a sort, MariaDB may read a
 * lookup by a secondary key (`outTradeNo IN (…) ORDER BY id`) as a scan of the whole primary key
 * when its statistics are stale (a table just filled), and a locking scan locks every row it
 * reads: one batch of payment notifications held every order of the table. The rows are locked
 * in the order of the key the lookup uses, the same for every caller.
 */
export function forUpdate<T extends ObjectLiteral>(qb: SelectQueryBuilder<T>, onLocked?: 'nowait' | 'skip_locked'): SelectQueryBuilder<T> {
  if (Object.keys(qb.expressionMap.orderBys).length && qb.expressionMap.limit === undefined && qb.expressionMap.take === undefined)
    throw new Error('forUpdate: ORDER BY without LIMIT can lock a whole table (sort the rows in code)');
  if (driverOf(qb.connection.manager) !== 'mysql') return qb;
  qb.setLock('pessimistic_write');
  if (onLocked) qb.setOnLocked(onLocked);
  return qb;
}

/**
 * Run a query builder's SQL, built once per `shape` and reused with new parameters: on the busiest
 * reads (the resident's bill list) building the SQL was most of TypeORM's CPU time. `build` makes
 * the builder for these parameters; `params` are the values of its placeholders in the order they
 * appear (an `IN (:...ids)` list counts as its items, and its length belongs in `shape`). The SQL
 * is kept only when the builder's placeholders are exactly `params` in that order: a driver that
 * writes a value into the SQL itself (SQLite inlines numbers) builds it every time. Rows come back
 * raw, as from getRawMany(). On MySQL/MariaDB each shape is a statement prepared on every pooled
 * connection it runs on (readRows): keep shapes few (an IN list's length in `shape` multiplies them;
 * the server caps prepared statements at max_prepared_stmt_count).
 */
export function rawQuery<T = Record<string, any>>(
  ds: DataSource,
  shape: string,
  build: () => { getQueryAndParameters(): [string, unknown[]] },
  params: unknown[],
): Promise<T[]> {
  let byShape = builtSql.get(ds);
  if (!byShape) builtSql.set(ds, (byShape = new Map()));
  const sql = byShape.get(shape);
  if (sql !== undefined) return readRows(ds, sql, params);
  let built: string;
  let values: unknown[];
  try {
    [built, values] = build().getQueryAndParameters();
  } catch (err) {
    return Promise.reject(err);
  }
  if (values.length === params.length && values.every((v, i) => v === params[i])) byShape.set(shape, built);
  return readRows(ds, built, values);
}
const builtSql = new WeakMap<DataSource, Map<string, string>>();

/**
 * A read outside any transaction. On MySQL/MariaDB straight on a pooled mysql2 connection: TypeORM's
 * `ds.query` makes a query runner, a promise wrapper and a captured stack per statement, and waits
 * on its subscribers twice, ~30 µs of CPU on the resident's bill list, more than building its
 * answer. As a prepared statement (mysql2 keeps it per connection; rawQuery's SQL has a fixed
 * shape per `shape`): the server parses the bill list's 1.2 KB join once per connection instead of
 * on every request (its CPU per request 385 → 289 µs, measured by bench:bills); the rows read the
 * same as the text protocol's (raw-query.test.ts). Kept as TypeORM does it: the pool's acquire
 * limit (installDbLimits), the client-side statement limit, the connection discarded when that
 * limit gives up on it, a statement over the limit logged as slow, failures as QueryFailedError.
 * Afterquery subscribers don't see these reads.
 */
function readRows<T>(ds: DataSource, sql: string, params: unknown[]): Promise<T[]> {
  if (driverOf(ds) !== 'mysql') return ds.query(sql, params);
  const pool = (ds.driver as unknown as { pool: { getConnection(cb: (err: Error | null, conn?: any) => void): void } }).pool;
  // one promise from the pool's callback to the statement's answer (a bill list request awaited two)
  return new Promise<T[]>((resolve, reject) =>
    pool.getConnection((acquireErr, conn) => {
      if (acquireErr || !conn) return reject(acquireErr);
      const started = Date.now();
      executeThen(ds, conn, sql, params, (err, rows) => {
        // (a connection discarded by executeThen() has left the pool: its release is a no-op)
        conn.release();
        const ms = Date.now() - started;
        const limit = queryLimitMs(ds);
        if (limit && ms > limit) ds.logger.logQuerySlow(ms, sql, params);
        if (err) reject(new QueryFailedError(sql, params, err));
        else resolve(rows as T[]);
      });
    }),
  );
}

/** The client-side limit TypeORM gives its own statements (set by installDbLimits), if any. */
function queryLimitMs(ds: DataSource): number | undefined {
  const opts = ds.driver.options as { enableQueryTimeout?: boolean; maxQueryExecutionTime?: number };
  return opts.enableQueryTimeout ? opts.maxQueryExecutionTime : undefined;
}

/** executeThen() as a promise (bulk writes). */
function execute(ds: DataSource, conn: any, sql: string, params: unknown[]): Promise<unknown> {
  return new Promise((resolve, reject) => executeThen(ds, conn, sql, params, (err, rows) => (err ? reject(err) : resolve(rows))));
}

/**
 * One prepared statement on a mysql2 connection under that limit (mysql2 prepares each SQL once per
 * connection). A statement the client gave up on leaves its connection mid-command: it is
 * destroyed, never reused (as installDbLimits does for TypeORM's), and fails as mysql2's own
 * per-command `timeout` would (PROTOCOL_SEQUENCE_TIMEOUT). The limit is this timer, not that
 * option: mysql2 takes it only in execute's options-object form, which it copies with two object
 * spreads into an object every later step reads slowly, some 4 % of the BFF's CPU on the bill list
 * (a CPU profile of bench:bills: `execute` itself 0.06 % with the SQL as a string). `cb` is called
 * once: the error, or the rows.
 */
function executeThen(ds: DataSource, conn: any, sql: string, params: unknown[], cb: (err: Error | null, rows?: unknown) => void): void {
  const limit = queryLimitMs(ds);
  let settled = false;
  const timer = limit
    ? setTimeout(() => {
        settled = true;
        discard(conn);
        cb(dbLimitError('PROTOCOL_SEQUENCE_TIMEOUT', 'Query inactivity timeout'));
      }, limit)
    : undefined;
  const done = (err: Error | null, rows?: unknown) => {
    // (after the limit: the error of the connection destroyed above, or a late answer)
    if (settled) return;
    settled = true;
    clearTimeout(timer);
    cb(err, rows);
  };
  try {
    conn.execute(sql, params, done);
  } catch (err) {
    // refused before sending (an undefined parameter): the connection is fine
    done(err as Error);
  }
}

/**
 * A bulk write (hundreds of rows in one statement) of one job, as a prepared statement on
 * MySQL/MariaDB: the values go in the binary protocol, so the client escapes nothing into a
 * statement of hundreds of kilobytes, and the server parses it once per connection (mysql2 keeps it
 * prepared), not on every call. SQLite: `em.query`. Values are written as given: no transformers,
 * numbers as numbers (exact up to 2^53), objects already serialised. Same client-side time limit as
 * every query.
 *
 * What is the same for every row of the job (a reconciliation run's day, run and time) is written
 * into the SQL once with `sqlLiteral`, not sent with each row: a million differences are 5 million
 * parameters fewer to encode and send (node's CPU writing 300,000 differences 1.7 → 1.2 s). The
 * SQL is then the job's own, so `close()` unprepares it on every connection it ran on when the job
 * is done; else each job would leave one statement prepared per pooled connection, up to the
 * server's max_prepared_stmt_count.
 */
export class BulkStatement {
  /** mysql2 connections this statement was prepared on */
  private readonly prepared = new Set<any>();
  private closed = false;

  constructor(readonly sql: string) {}

  async run(em: EntityManager, params: unknown[]): Promise<void> {
    // (after close, a write still under way, as one of a failed run's, is sent unprepared)
    if (driverOf(em) !== 'mysql' || !em.queryRunner || this.closed) {
      await em.query(this.sql, params);
      return;
    }
    const conn = await em.queryRunner.connect();
    this.prepared.add(conn);
    await execute(em.connection, conn, this.sql, params);
  }

  /** Unprepare it everywhere (queued behind whatever each connection is doing; a closed one took it along). */
  close(): void {
    this.closed = true;
    for (const conn of this.prepared) if (!conn.stream?.destroyed && !conn._closing && !conn._fatalError) conn.unprepare(this.sql);
    this.prepared.clear();
  }
}

/**
 * A constant written into SQL: a whole number, a date or instant (UTC, milliseconds: what both
 * drivers read back as the instant), or a string of letters, digits and `-:. _`. Anything else is
 * refused: this is not an escaper, values from outside go in parameters.
 */
export function sqlLiteral(v: number | string | Date): string {
  if (typeof v === 'number' && Number.isSafeInteger(v)) return String(v);
  const iso = v instanceof Date && !Number.isNaN(v.getTime()) ? v.toISOString() : '';
  // (years 0000–9999 only: toISOString writes others as ±YYYYYY)
  if (/^\d{4}-/.test(iso)) return `'${iso.slice(0, 23).replace('T', ' ')}'`;
  if (typeof v === 'string' && /^[\w\-:. ]*$/.test(v)) return `'${v}'`;
  throw new Error(`not a plain SQL constant: ${String(v).slice(0, 40)}`);
}

/** Is this error a unique-key violation (duplicate entry)? Both drivers. */
export function isUniqueViolation(err: unknown): boolean {
  const e: any = (err as any)?.driverError ?? err;
  return e?.code === 'ER_DUP_ENTRY' || e?.errno === 1062 || /UNIQUE constraint failed/.test(String(e?.message));
}

/**
 * Writes built here on MySQL/MariaDB, not by TypeORM's query builders: at a few dozen rows the
 * builders' per-parameter bookkeeping (named parameters, then replaced by `?` over the whole SQL)
 * cost more CPU than the database spent on the statement (a credited payment notification's batch).
 * Each value is prepared as TypeORM prepares it (transformers, JSON, dates), and the one subscriber,
 * TimestampsFromAppClock, is applied by the same rule (insertStamped, updatedAt). An entity this
 * doesn't cover (embedded, version, discriminator, generated uuid or spatial columns, entity
 * listeners, another subscriber that hears its writes, as the company cache) and SQLite go through
 * the query builder. afterQuery subscribers (the connection limits) see these statements as any.
 */
function direct(em: EntityManager, entity: Function): EntityMetadata | null {
  if (driverOf(em) !== 'mysql') return null;
  const meta = em.connection.getMetadata(entity);
  let ok = directOk.get(meta);
  if (ok === undefined) {
    const driver = em.connection.driver;
    ok =
      em.connection.subscribers.every((s) => s instanceof TimestampsFromAppClock || !hearsWrites(s, meta)) &&
      !meta.embeddeds.length &&
      !meta.versionColumn &&
      !meta.discriminatorColumn &&
      !meta.beforeInsertListeners.length &&
      !meta.afterInsertListeners.length &&
      !meta.beforeUpdateListeners.length &&
      !meta.afterUpdateListeners.length &&
      !meta.columns.some((c) => (c.isGenerated && c.generationStrategy === 'uuid') || driver.spatialTypes.includes(c.type as any));
    directOk.set(meta, ok);
  }
  return ok ? meta : null;
}
const directOk = new WeakMap<EntityMetadata, boolean>();

/** Does this subscriber listen to inserts or updates of the entity (e.g. the company cache)? */
function hearsWrites(s: EntitySubscriberInterface, meta: EntityMetadata): boolean {
  if (!s.beforeInsert && !s.afterInsert && !s.beforeUpdate && !s.afterUpdate) return false;
  const target = s.listenTo?.();
  return !target || target === meta.target || (typeof target === 'function' && typeof meta.target === 'function' && meta.target.prototype instanceof target);
}

function columnOf(meta: EntityMetadata, property: string): ColumnMetadata {
  const c = meta.findColumnWithPropertyName(property);
  if (!c) throw new Error(`${meta.name} has no column ${property}`);
  return c;
}

/**
 * `INSERT INTO t (…) VALUES (…), (…)` with `?` placeholders: the columns any row sets (a row that
 * leaves one out writes DEFAULT), and the creation/update dates from the app's clock.
 */
function insertSql(em: EntityManager, meta: EntityMetadata, rows: Record<string, unknown>[]): { sql: string; params: unknown[]; columns: ColumnMetadata[] } {
  const driver = em.connection.driver;
  const props = new Set<string>();
  for (const r of rows) for (const k of Object.keys(r)) if (r[k] !== undefined) props.add(k);
  const stamped = insertStamped(meta);
  for (const c of stamped) props.add(c.propertyName);
  const columns = [...props].map((p) => columnOf(meta, p));
  const now = new Date();
  const params: unknown[] = [];
  const tuples = rows.map((r) => {
    const values = columns.map((c) => {
      let v = r[c.propertyName];
      if (v === undefined && stamped.includes(c)) v = now;
      if (typeof v === 'function') return String(v());
      v = driver.preparePersistentValue(v, c);
      if (v === undefined) return 'DEFAULT';
      params.push(v);
      return '?';
    });
    return `(${values.join(', ')})`;
  });
  const names = columns.map((c) => driver.escape(c.databaseName)).join(', ');
  return { sql: `INSERT INTO ${driver.escape(meta.tableName)} (${names}) VALUES ${tuples.join(', ')}`, params, columns };
}

/**
 * INSERT one row without reading it back (TypeORM re-selects generated defaults after a plain
 * insert; hot paths don't need them). Returns the new id.
 */
export async function insertRow<T extends ObjectLiteral>(em: EntityManager, entity: new () => T, values: Partial<T>): Promise<number> {
  const meta = direct(em, entity);
  if (meta) {
    const { sql, params } = insertSql(em, meta, [values]);
    const res: { insertId: number } = await em.query(sql, params);
    return Number(res.insertId);
  }
  const res = await em
    .createQueryBuilder()
    .insert()
    .into(entity)
    .values(values as any)
    .updateEntity(false)
    .execute();
  const raw: any = res.raw;
  return Number(raw?.insertId ?? res.identifiers[0]?.id ?? (typeof raw === 'number' ? raw : NaN));
}

/** INSERT many rows in one statement (no read-back). */
export async function insertRows<T extends ObjectLiteral>(em: EntityManager, entity: new () => T, rows: Partial<T>[]): Promise<void> {
  if (!rows.length) return;
  const meta = direct(em, entity);
  if (meta) {
    const { sql, params } = insertSql(em, meta, rows);
    await em.query(sql, params);
    return;
  }
  await em
    .createQueryBuilder()
    .insert()
    .into(entity)
    .values(rows as any[])
    .updateEntity(false)
    .execute();
}

/**
 * INSERT many rows in one statement, updating `update` of the row a unique key already has
 * (`conflict`: that key's columns, for SQLite), and its update date by the app's clock (named or
 * not: left out, MariaDB's ON UPDATE would stamp the database server's). Bulk paths (the
 * household import).
 */
export async function upsertRows<T extends ObjectLiteral>(
  em: EntityManager,
  entity: new () => T,
  rows: Partial<T>[],
  named: (keyof T & string)[],
  conflict: (keyof T & string)[],
): Promise<void> {
  if (!rows.length) return;
  const stamp = em.connection.getMetadata(entity).updateDateColumn?.propertyName as (keyof T & string) | undefined;
  const update = stamp && !named.includes(stamp) ? [...named, stamp] : named;
  const meta = direct(em, entity);
  if (!meta) {
    await em
      .createQueryBuilder()
      .insert()
      .into(entity)
      .values(rows as any[])
      .orUpdate(update, conflict)
      .updateEntity(false)
      .execute();
    return;
  }
  const { sql, params, columns } = insertSql(em, meta, rows);
  const set = update.map((p) => {
    const c = columns.find((col) => col.propertyName === p);
    if (!c) throw new Error(`upsertRows: ${p} is not among the rows' columns`);
    const n = em.connection.driver.escape(c.databaseName);
    return `${n} = VALUES(${n})`;
  });
  await em.query(`${sql} ON DUPLICATE KEY UPDATE ${set.join(', ')}`, params);
}

/**
 * UPDATE many rows by id in one statement: `common` for all of them, and per row the values in
 * `rows[i].set`, written as CASE expressions over the ids. `where` narrows it further (e.g. a
 * state guard, with `:name` parameters); returns the number of rows changed. The update date is
 * the app's clock unless set here.
 */
export async function updateByIds<T extends ObjectLiteral>(
  em: EntityManager,
  entity: new () => T,
  rows: { id: number; set: Record<string, unknown> }[],
  common: Record<string, unknown> = {},
  where?: { sql: string; params: Record<string, unknown> },
  /** per column, an expression around the CASE (e.g. add to the current value) */
  wrap: Record<string, (caseExpr: string) => string> = {},
): Promise<number> {
  if (!rows.length) return 0;
  const meta = direct(em, entity);
  if (meta) {
    const driver = em.connection.driver;
    const esc = (c: string) => driver.escape(c);
    const params: unknown[] = [];
    const assignments: string[] = [];
    const value = (c: ColumnMetadata, v: unknown) => {
      if (typeof v === 'function') return String(v());
      params.push(driver.preparePersistentValue(v, c));
      return '?';
    };
    const stamp = meta.updateDateColumn;
    for (const p of Object.keys(common)) {
      const c = columnOf(meta, p);
      assignments.push(`${esc(c.databaseName)} = ${value(c, common[p])}`);
    }
    for (const p of Object.keys(rows[0]!.set)) {
      const c = columnOf(meta, p);
      const expr = `CASE ${esc('id')} ${rows.map((r) => `WHEN ${value(meta.primaryColumns[0]!, r.id)} THEN ${value(c, r.set[p])}`).join(' ')} END`;
      assignments.push(`${esc(c.databaseName)} = ${wrap[p] ? wrap[p](expr) : expr}`);
    }
    if (stamp && !(stamp.propertyName in common) && !(stamp.propertyName in rows[0]!.set))
      assignments.push(`${esc(stamp.databaseName)} = ${value(stamp, new Date())}`);
    let sql = `UPDATE ${esc(meta.tableName)} SET ${assignments.join(', ')} WHERE ${esc('id')} IN (${rows.map(() => '?').join(', ')})`;
    params.push(...rows.map((r) => r.id));
    if (where) {
      const [w, wParams] = driver.escapeQueryWithParameters(where.sql, where.params);
      sql += ` AND (${w})`;
      params.push(...wParams);
    }
    const res: { affectedRows: number } = await em.query(sql, params);
    return res.affectedRows;
  }
  const esc = (c: string) => em.connection.driver.escape(c);
  const params: Record<string, unknown> = { ...(where?.params ?? {}) };
  const set: Record<string, unknown> = { ...common };
  rows.forEach((r, i) => (params[`u_id_${i}`] = r.id));
  const metadata = em.connection.getMetadata(entity);
  for (const col of Object.keys(rows[0]!.set)) {
    // the values as the builder prepares those of set() (JSON, dates, transformers)
    const column = columnOf(metadata, col);
    const whens = rows.map((r, i) => {
      params[`u_${col}_${i}`] = em.connection.driver.preparePersistentValue(r.set[col], column);
      return `WHEN :u_id_${i} THEN :u_${col}_${i}`;
    });
    const expr = `CASE ${esc('id')} ${whens.join(' ')} END`;
    set[col] = () => (wrap[col] ? wrap[col](expr) : expr);
  }
  const qb = em
    .createQueryBuilder()
    .update(entity)
    .set(set as any)
    .where(`${esc('id')} IN (:...u_ids)`, { u_ids: rows.map((r) => r.id) });
  if (where) qb.andWhere(where.sql);
  const res = await qb.setParameters(params).execute();
  return res.affected ?? 0;
}

/**
 * Apply the pending migrations, one instance at a time: on MySQL/MariaDB under a named lock
 * (GET_LOCK), so instances started together (a rolling deploy) don't run the same migration
 * twice; the ones that waited then find nothing left to do. SQLite has one process anyway.
 */
export async function runMigrationsLocked(ds: DataSource, waitSeconds = 600): Promise<{ name: string }[]> {
  if (driverOf(ds) !== 'mysql') return ds.runMigrations({ transaction: 'each' });
  const qr = ds.createQueryRunner();
  await qr.connect();
  try {
    const [row] = await qr.query(`SELECT GET_LOCK('heat_butler_migrations', ${Math.floor(waitSeconds)}) AS got`);
    if (Number(row?.got) !== 1) throw new Error(`another instance has been migrating for ${waitSeconds} s (lock heat_butler_migrations)`);
    try {
      return await ds.runMigrations({ transaction: 'each' });
    } finally {
      await qr.query(`SELECT RELEASE_LOCK('heat_butler_migrations')`).catch(() => undefined);
    }
  } finally {
    await qr.release();
  }
}
