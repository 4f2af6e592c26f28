import crypto from 'node:crypto';
import mysql from 'mysql2/promise';
import type { DataSource } from 'typeorm';
import { mysqlUrl } from '../platform/db/data-source';

export interface TestDatabase {
  /** mysql://… for MariaDB, undefined for embedded SQLite (in memory) */
  url: string | undefined;
  drop(): Promise<void>;
}

/**
 * A database of its own for one test file: on MariaDB (TEST_DATABASE_URL set) a new database
 * named hb_t_<random>, dropped afterwards; otherwise an in-memory SQLite database.
 */
export async function createTestDatabase(): Promise<TestDatabase> {
  const server = process.env.TEST_DATABASE_URL;
  if (!server) return { url: undefined, drop: async () => {} };
  const name = `hb_t_${crypto.randomBytes(5).toString('hex')}`;
  const conn = await mysql.createConnection(mysqlUrl(server));
  await conn.query(`CREATE DATABASE \`${name}\` CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci`);
  await conn.end();
  const u = new URL(server);
  u.pathname = `/${name}`;
  return {
    url: u.toString(),
    async drop() {
      const c = await mysql.createConnection(mysqlUrl(server));
      await c.query(`DROP DATABASE IF EXISTS \`${name}\``);
      await c.end();
    },
  };
}

export const usingMariaDb = () => !!process.env.TEST_DATABASE_URL;

/**
 * MariaDB: how many statements this session has prepared and closed (COM_STMT_PREPARE /
 * COM_STMT_CLOSE, from SHOW SESSION STATUS). On a data source with a pool of one connection, that
 * connection's: what a prepared statement's life on it can be read from.
 */
export async function statementCounts(ds: DataSource): Promise<Record<'Com_stmt_prepare' | 'Com_stmt_close', number>> {
  const rows: { Variable_name: string; Value: string }[] = await ds.query("SHOW SESSION STATUS WHERE Variable_name IN ('Com_stmt_prepare', 'Com_stmt_close')");
  const value = (name: string) => Number(rows.find((r) => r.Variable_name === name)?.Value);
  return { Com_stmt_prepare: value('Com_stmt_prepare'), Com_stmt_close: value('Com_stmt_close') };
}
