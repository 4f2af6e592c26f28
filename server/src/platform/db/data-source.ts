import 'reflect-metadata';
import path from 'node:path';
import fs from 'node:fs';
import { DataSource, type EntityManager, type SelectQueryBuilder, type ObjectLiteral } from 'typeorm';
import { TimestampsFromAppClock } from './timestamps';
import { migrations as mysqlMigrations } from './migrations/mysql';
import { migrations as sqliteMigrations } from './migrations/sqlite';
import { discard, QuietTypeOrmLogger } from './limits';
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
      supportBigNumbers: true,
      bigNumberStrings: true,
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

/** SELECT … FOR UPDATE on MySQL/MariaDB; nothing on SQLite (writers are serialised by withTx). */
export function forUpdate<T extends ObjectLiteral>(qb: SelectQueryBuilder<T>, onLocked?: 'nowait' | 'skip_locked'): SelectQueryBuilder<T> {
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
 * raw, as from getRawMany().
 */
export async function rawQuery<T = Record<string, any>>(
  ds: DataSource,
  shape: string,
  build: () => { getQueryAndParameters(): [string, unknown[]] },
  params: unknown[],
): Promise<T[]> {
  let byShape = builtSql.get(ds);
  if (!byShape) builtSql.set(ds, (byShape = new Map()));
  const sql = byShape.get(shape);
  if (sql !== undefined) return ds.query(sql, params);
  const [built, values] = build().getQueryAndParameters();
  if (values.length === params.length && values.every((v, i) => v === params[i])) byShape.set(shape, built);
  return ds.query(built, values);
}
const builtSql = new WeakMap<DataSource, Map<string, string>>();

/**
 * A bulk write (hundreds of rows in one statement) as a prepared statement on MySQL/MariaDB: the
 * values go in the binary protocol, so the client escapes nothing into a statement of hundreds of
 * kilobytes and the server parses each shape once per connection (mysql2 keeps it prepared), not on
 * every call. SQLite: `em.query`. Values are written as given: no transformers, numbers as numbers
 * (exact up to 2^53), objects already serialised. Same client-side time limit as every query.
 * Only for statements of a fixed shape (a full batch): each distinct SQL stays prepared on every
 * pooled connection, and the server caps prepared statements (max_prepared_stmt_count).
 */
export async function executeBulk(em: EntityManager, sql: string, params: unknown[]): Promise<void> {
  if (driverOf(em) !== 'mysql' || !em.queryRunner) {
    await em.query(sql, params);
    return;
  }
  const conn = await em.queryRunner.connect();
  // the client-side limit TypeORM gives its own queries (set by installDbLimits)
  const opts = em.connection.driver.options as { enableQueryTimeout?: boolean; maxQueryExecutionTime?: number };
  const timeout = opts.enableQueryTimeout ? opts.maxQueryExecutionTime : undefined;
  await new Promise<void>((resolve, reject) =>
    conn.execute({ sql, timeout }, params, (err: (Error & { code?: string }) | null) => {
      if (!err) return resolve();
      // as for TypeORM's queries (installDbLimits): a statement the client gave up on leaves its connection mid-command
      if (err.code === 'PROTOCOL_SEQUENCE_TIMEOUT') discard(conn);
      reject(err);
    }),
  );
}

/** Is this error a unique-key violation (duplicate entry)? Both drivers. */
export function isUniqueViolation(err: unknown): boolean {
  const e: any = (err as any)?.driverError ?? err;
  return e?.code === 'ER_DUP_ENTRY' || e?.errno === 1062 || /UNIQUE constraint failed/.test(String(e?.message));
}

/**
 * INSERT one row without reading it back (TypeORM re-selects generated defaults after a plain
 * insert; hot paths don't need them). Returns the new id.
 */
export async function insertRow<T extends ObjectLiteral>(em: EntityManager, entity: new () => T, values: Partial<T>): Promise<number> {
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
 * (`conflict`: that key's columns, for SQLite). Bulk paths (the household import): on MySQL/MariaDB
 * the statement is built here, each value prepared as TypeORM would (transformers, JSON, dates),
 * without the query builder's per-parameter bookkeeping, which costs more than the database at
 * thousands of rows; SQLite goes through the query builder. Every row has the keys of the first.
 */
export async function upsertRows<T extends ObjectLiteral>(
  em: EntityManager,
  entity: new () => T,
  rows: Partial<T>[],
  update: (keyof T & string)[],
  conflict: (keyof T & string)[],
): Promise<void> {
  if (!rows.length) return;
  if (driverOf(em) !== 'mysql') {
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
  const driver = em.connection.driver;
  const meta = em.connection.getMetadata(entity);
  const columns = Object.keys(rows[0]!).map((p) => {
    const c = meta.findColumnWithPropertyName(p);
    if (!c) throw new Error(`${meta.name} has no column ${p}`);
    return c;
  });
  const names = new Map(columns.map((c) => [c.propertyName, driver.escape(c.databaseName)]));
  const tuple = `(${columns.map(() => '?').join(', ')})`;
  const params: unknown[] = [];
  for (const r of rows) for (const c of columns) params.push(driver.preparePersistentValue((r as any)[c.propertyName], c));
  const set = update.map((p) => {
    const n = names.get(p);
    if (!n) throw new Error(`upsertRows: ${p} is not among the rows' columns`);
    return `${n} = VALUES(${n})`;
  });
  await em.query(
    `INSERT INTO ${driver.escape(meta.tableName)} (${[...names.values()].join(', ')}) VALUES ${rows.map(() => tuple).join(', ')} ON DUPLICATE KEY UPDATE ${set.join(', ')}`,
    params,
  );
}

/**
 * UPDATE many rows by id in one statement: `common` for all of them, and per row the values in
 * `rows[i].set`, written as CASE expressions over the ids. `where` narrows it further (e.g. a
 * state guard); returns the number of rows changed.
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
  const esc = (c: string) => em.connection.driver.escape(c);
  const params: Record<string, unknown> = { ...(where?.params ?? {}) };
  const set: Record<string, unknown> = { ...common };
  rows.forEach((r, i) => (params[`u_id_${i}`] = r.id));
  for (const col of Object.keys(rows[0]!.set)) {
    const whens = rows.map((r, i) => {
      params[`u_${col}_${i}`] = r.set[col];
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
