/**
 * A test app that cannot start leaves no database behind: it is dropped before the error reaches
 * the test (a host that could not listen once left its database on the CI machine). The port it is
 * given is already taken, as happened in that run.
 */
import net from 'node:net';
import mysql from 'mysql2/promise';
import { expect, it, vi } from 'vitest';
import { startTestApp } from './app';
import type { TestDatabase } from './db';
import { mysqlUrl } from '../platform/db/data-source';

const created: TestDatabase[] = [];
vi.mock('./db', async (importOriginal) => {
  const original = await importOriginal<typeof import('./db')>();
  return {
    ...original,
    createTestDatabase: async () => {
      const db = await original.createTestDatabase();
      created.push(db);
      return db;
    },
  };
});

it('a test app that cannot listen drops its database', async () => {
  const taken = net.createServer();
  await new Promise<void>((r) => taken.listen(0, '127.0.0.1', r));
  const port = (taken.address() as net.AddressInfo).port;
  try {
    await expect(startTestApp({ port })).rejects.toMatchObject({ code: 'EADDRINUSE' });
  } finally {
    await new Promise<void>((r) => taken.close(() => r()));
  }
  expect(created).toHaveLength(1);
  const db = created[0]!;
  if (db.url) {
    // the server still there, the database gone
    const conn = await mysql.createConnection(mysqlUrl(process.env.TEST_DATABASE_URL!));
    try {
      const [rows] = await conn.query('SELECT schema_name FROM information_schema.schemata WHERE schema_name = ?', [new URL(db.url).pathname.slice(1)]);
      expect(rows).toEqual([]);
    } finally {
      await conn.end();
    }
  }
}, 60_000);
