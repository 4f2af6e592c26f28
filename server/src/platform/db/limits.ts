import type { DataSource, Logger as TypeOrmLogger } from 'typeorm';
import type { Logger } from '../logger';

/**
 * How long the BFF waits for MySQL/MariaDB, so that database trouble (a locked table, a killed
 * connection, a server that stops answering) makes requests fail in seconds instead of hanging.
 */
export interface DbLimits {
  /** waiting for a free pool connection (or a new one to connect) */
  acquireTimeoutMs: number;
  /** one statement, enforced by the server (MariaDB max_statement_time / MySQL max_execution_time) */
  queryTimeoutMs: number;
  /** row locks (innodb_lock_wait_timeout) and table/metadata locks (lock_wait_timeout), whole seconds */
  lockWaitSeconds: number;
}

/** The client gives the server this much longer than its own statement limit before it gives up. */
const CLIENT_GRACE_MS = 2_000;

/**
 * Put limits on a MySQL/MariaDB DataSource (after initialize, and after migrations, which may
 * legitimately take long): every connection handed out by the pool gets the session limits once,
 * acquiring a connection fails after `acquireTimeoutMs`, and a statement the server doesn't answer
 * within its limit + 2 s fails on the client, whose connection is then thrown away (it is still
 * mid-command). A no-op on SQLite (one embedded connection, busy_timeout).
 */
export function installDbLimits(ds: DataSource, limits: DbLimits, log?: Logger): void {
  if (ds.options.type !== 'mysql' && ds.options.type !== 'mariadb') return;
  const driver: any = ds.driver;
  const pool = driver.pool;
  if (!pool || pool.__hbLimits) return;
  pool.__hbLimits = true;

  // client-side backstop per query (TypeORM passes it to mysql2 as the query's `timeout`)
  Object.assign(driver.options, { enableQueryTimeout: true, maxQueryExecutionTime: limits.queryTimeoutMs + CLIENT_GRACE_MS });

  const getConnection = pool.getConnection.bind(pool);
  pool.getConnection = (cb: (err: Error | null, conn?: any) => void) => {
    let settled = false;
    const finish = (err: Error | null, conn?: any) => {
      if (settled) {
        // the caller gave up; hand the late connection straight back
        conn?.release();
        return;
      }
      settled = true;
      clearTimeout(timer);
      cb(err, conn);
    };
    const timer = setTimeout(() => {
      settled = true;
      cb(dbLimitError('DB_ACQUIRE_TIMEOUT', `no database connection within ${limits.acquireTimeoutMs} ms`));
    }, limits.acquireTimeoutMs);
    getConnection((err: Error | null, conn?: any) => {
      if (err || !conn) return finish(err);
      if (conn.__hbSession) return finish(null, conn);
      // a new connection: its session limits first (one round trip, once per connection)
      const sql = sessionLimitsSql(conn._isMariaDB ?? ds.options.type === 'mariadb', limits);
      conn.query({ sql, timeout: limits.acquireTimeoutMs }, (e: any) => {
        if (e && (e.fatal || e.code === 'PROTOCOL_SEQUENCE_TIMEOUT')) {
          discard(conn);
          return finish(e);
        }
        // a server without one of the variables: still usable, and said once per connection
        if (e) log?.warn({ error: { code: e.code, errno: e.errno } }, 'could not set database session limits');
        conn.__hbSession = true;
        finish(null, conn);
      });
    });
  };

  // a statement abandoned by the client leaves its connection mid-command: never reuse it
  (ds.subscribers as any[]).push({
    afterQuery(event: { success: boolean; error?: any; queryRunner: any }) {
      if (event.success || event.error?.code !== 'PROTOCOL_SEQUENCE_TIMEOUT') return;
      const conn = event.queryRunner?.databaseConnection;
      if (conn) discard(conn);
    },
  });
}

export function sessionLimitsSql(mariadb: boolean, limits: DbLimits): string {
  const lock = Math.max(1, Math.ceil(limits.lockWaitSeconds));
  const statement = mariadb ? `max_statement_time = ${(limits.queryTimeoutMs / 1000).toFixed(3)}` : `max_execution_time = ${Math.ceil(limits.queryTimeoutMs)}`;
  return `SET SESSION ${statement}, innodb_lock_wait_timeout = ${lock}, lock_wait_timeout = ${lock}`;
}

/**
 * A connection left mid-command (its statement abandoned by the client) is never reused: out of the
 * pool and closed at once (mysql2's destroy() only half-closes, waiting for the server).
 */
export function discard(conn: any): void {
  conn.destroy?.();
  conn.stream?.destroy?.();
}

/** An error with a code the API's error mapping knows (platform/errors.ts): a database limit reached. */
export function dbLimitError(code: string, message: string): Error {
  return Object.assign(new Error(message), { code });
}

/**
 * TypeORM's own logger prints slow and failed queries with their parameters to the console
 * (slow queries even with `logging: false`). This one drops statements and parameters and
 * passes only what matters to our log.
 */
export class QuietTypeOrmLogger implements TypeOrmLogger {
  constructor(private readonly out?: Logger) {}
  logQuery(): void {}
  logQueryError(): void {}
  logQuerySlow(time: number): void {
    this.out?.warn({ ms: time }, 'slow database query');
  }
  logSchemaBuild(): void {}
  logMigration(message: string): void {
    this.out?.debug({ migration: message }, 'migration');
  }
  log(level: 'log' | 'info' | 'warn', message: unknown): void {
    if (level === 'warn') this.out?.warn({ message: String(message).slice(0, 200) }, 'database driver');
  }
}
