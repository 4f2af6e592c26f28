/**
 * Database trouble must not hang requests: with a table locked, connections killed or the pool
 * exhausted, requests answer 503 DB_UNAVAILABLE within the configured limits and /readyz turns
 * red; when the trouble ends, requests succeed again without a restart.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import mysql from 'mysql2/promise';
import { startTestApp, type TestApp } from '../test-support/app';
import { mysqlUrl } from './db/data-source';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import BetterSqlite3 from 'better-sqlite3';
import { createTestDatabase, usingMariaDb, type TestDatabase } from '../test-support/db';
import { startHost, type Host } from '../host';
import { createLogger } from './logger';

const LIMITS = { DB_ACQUIRE_TIMEOUT_MS: 1_000, DB_QUERY_TIMEOUT_MS: 3_000, DB_LOCK_WAIT_SECONDS: 1, READY_TIMEOUT_MS: 500, DB_POOL_SIZE: 4 };

async function timed<T>(fn: () => Promise<T>): Promise<{ ms: number; value: T }> {
  const started = performance.now();
  const value = await fn();
  return { ms: Math.round(performance.now() - started), value };
}

describe.skipIf(!usingMariaDb())('database faults (MariaDB only: embedded SQLite has no server to lock or kill)', () => {
  let t: TestApp;
  let root: mysql.Connection;
  let token: string;
  let dbName: string;

  beforeAll(async () => {
    // the demo company: the bill list reads its rules
    t = await startTestApp({ config: LIMITS, seedDemo: true });
    dbName = new URL(t.db.url!).pathname.slice(1);
    root = await mysql.createConnection(mysqlUrl(t.db.url!));
    token = await t.loginResident('fault-watcher');
  });
  afterAll(async () => {
    await root?.end().catch(() => undefined);
    await t?.close();
  });

  const accounts = () => t.call('GET', '/api/v1/accounts', { token });
  // the bill list reads straight from the driver's pool (rawQuery), not through TypeORM
  const bills = () => t.call('GET', '/api/v1/bills', { token });

  /** until `fn` answers 200, at most `withinMs`; returns how long it took */
  async function recovers(fn: () => Promise<{ status: number }>, withinMs: number): Promise<number> {
    const started = performance.now();
    for (;;) {
      const res = await fn();
      if (res.status === 200) return Math.round(performance.now() - started);
      expect([503]).toContain(res.status);
      if (performance.now() - started > withinMs) throw new Error(`no recovery within ${withinMs} ms (last ${res.status})`);
      await new Promise((r) => setTimeout(r, 100));
    }
  }

  it('gives every pooled connection the session limits', async () => {
    const [row] = await t.ds.query('SELECT @@max_statement_time AS st, @@innodb_lock_wait_timeout AS iw, @@lock_wait_timeout AS lw');
    expect(Number(row.st)).toBe(3);
    expect(Number(row.iw)).toBe(1);
    expect(Number(row.lw)).toBe(1);
  });

  it('a locked table: logged-in requests answer 503 DB_UNAVAILABLE within the lock wait, /readyz is red, both recover on unlock', async () => {
    expect((await accounts()).status).toBe(200);
    expect((await t.call('GET', '/readyz')).status).toBe(200);

    // the session table (/readyz reads it) and the binding table (the account list reads it: the
    // session itself is cached since the first request)
    await root.query('LOCK TABLES `session` WRITE, `binding` WRITE');
    try {
      const [reqs, ready] = await Promise.all([Promise.all([accounts, bills, bills].map((read) => timed(read))), timed(() => t.call('GET', '/readyz'))]);
      for (const r of reqs) {
        expect(r.value.status).toBe(503);
        expect(r.value.body.error.code).toBe('DB_UNAVAILABLE');
        expect(r.value.body.error.message).toBe('系统维护中，请稍后再试');
        expect(r.value.headers.get('retry-after')).toBe('5');
        // lock wait 1 s, with room for a busy machine
        expect(r.ms).toBeLessThan(4_000);
      }
      expect(ready.value.status).toBe(503);
      expect(ready.value.body).toEqual({ ok: false, db: 'timeout' });
      expect(ready.ms).toBeLessThan(2_000);
      // liveness is not readiness: the process itself is fine
      expect((await t.call('GET', '/healthz')).status).toBe(200);
      console.info(`locked table: requests answered 503 in ${reqs.map((r) => r.ms).join('/')} ms, /readyz red in ${ready.ms} ms`);
    } finally {
      await root.query('UNLOCK TABLES');
    }
    const back = await recovers(accounts, 3_000);
    expect((await bills()).status).toBe(200);
    expect((await t.call('GET', '/readyz')).status).toBe(200);
    console.info(`locked table: recovered ${back} ms after unlock`);
  });

  it('a row held by another transaction: a write waiting on it answers 503 within the lock wait', async () => {
    const other = await t.loginResident('fault-writer');
    await root.query('START TRANSACTION');
    try {
      await root.query('SELECT id FROM `session` FOR UPDATE');
      const r = await timed(() => t.call('POST', '/api/v1/auth/logout', { token: other }));
      expect(r.value.status).toBe(503);
      expect(r.value.body.error.code).toBe('DB_UNAVAILABLE');
      expect(r.ms).toBeLessThan(4_000);
    } finally {
      await root.query('ROLLBACK');
    }
    expect((await t.call('POST', '/api/v1/auth/logout', { token: other })).status).toBeLessThan(300);
  });

  it('killed connections: requests never hang or answer 500, and recover without restart', async () => {
    // warm the pool, then kill every connection the BFF holds, idle or busy
    await Promise.all([accounts, accounts, accounts, bills, bills, bills].map((read) => read()));
    const kill = async () => {
      const [rows]: any = await root.query('SELECT ID AS id FROM information_schema.PROCESSLIST WHERE DB = ? AND ID <> CONNECTION_ID()', [dbName]);
      for (const { id } of rows) await root.query(`KILL ${Number(id)}`).catch(() => undefined);
      return rows.length as number;
    };
    expect(await kill()).toBeGreaterThan(0);
    // a burst right after, and requests killed mid-statement (waiting on a locked table)
    const burst = await Promise.all([accounts, bills, accounts, bills, accounts, bills].map((read) => timed(read)));
    await root.query('LOCK TABLES `binding` WRITE');
    let busy: Awaited<ReturnType<typeof timed<Awaited<ReturnType<typeof accounts>>>>>[];
    try {
      const inFlight = Promise.all([accounts, bills, bills].map((read) => timed(read)));
      await new Promise((r) => setTimeout(r, 300));
      expect(await kill()).toBeGreaterThan(0);
      busy = await inFlight;
    } finally {
      await root.query('UNLOCK TABLES');
    }
    for (const a of burst) expect([200, 503]).toContain(a.value.status);
    for (const a of busy) {
      expect(a.value.status).toBe(503);
      expect(a.value.body.error.code).toBe('DB_UNAVAILABLE');
      expect(a.ms).toBeLessThan(4_000);
    }
    const answers = [...burst, ...busy];
    const back = await recovers(accounts, 3_000);
    const after = await Promise.all([accounts, bills, accounts, bills, accounts, bills].map((read) => read()));
    expect(after.map((r) => r.status)).toEqual(Array(6).fill(200));
    expect((await t.call('GET', '/readyz')).status).toBe(200);
    console.info(`killed connections: burst answered ${answers.map((a) => a.value.status).join(',')}; recovered in ${back} ms`);
  });

  it('an exhausted pool: requests answer 503 within the acquire timeout, /readyz within its own', async () => {
    // occupy all 4 pool connections for ~2.5 s
    const sleepers = Promise.all(Array.from({ length: LIMITS.DB_POOL_SIZE }, () => t.ds.query('SELECT SLEEP(2.5)')));
    await new Promise((r) => setTimeout(r, 100));
    const [reqs, ready] = await Promise.all([Promise.all([accounts, bills].map((read) => timed(read))), timed(() => t.call('GET', '/readyz'))]);
    for (const req of reqs) {
      expect(req.value.status).toBe(503);
      expect(req.value.body.error.code).toBe('DB_UNAVAILABLE');
      expect(req.ms).toBeGreaterThanOrEqual(900);
      expect(req.ms).toBeLessThan(2_400);
    }
    expect(ready.value.status).toBe(503);
    expect(ready.ms).toBeLessThan(1_500);
    await sleepers;
    expect((await accounts()).status).toBe(200);
    expect((await bills()).status).toBe(200);
  });

  it('a statement running past DB_QUERY_TIMEOUT_MS is stopped by the server', async () => {
    const r = await timed(() => t.ds.query('SELECT SLEEP(10) AS s').catch((e) => e));
    expect(r.ms).toBeLessThan(5_000);
    expect((await accounts()).status).toBe(200);
  });
});

/**
 * A database that stops answering (a network partition, a frozen server): the BFF talks to
 * MariaDB through a TCP relay here that can freeze every byte, existing connections and new ones.
 */
class FreezableRelay {
  private server = net.createServer((client) => this.accept(client));
  private pairs = new Set<{ client: net.Socket; up: net.Socket | null }>();
  private waiting: (() => void)[] = [];
  frozen = false;
  port = 0;
  constructor(private target: { host: string; port: number }) {}

  async start(): Promise<void> {
    await new Promise<void>((r) => this.server.listen(0, '127.0.0.1', r));
    this.port = (this.server.address() as net.AddressInfo).port;
  }

  private accept(client: net.Socket): void {
    const pair = { client, up: null as net.Socket | null };
    this.pairs.add(pair);
    const cleanup = () => {
      client.destroy();
      pair.up?.destroy();
      this.pairs.delete(pair);
    };
    client.on('error', cleanup).on('close', cleanup);
    const connect = () => {
      if (client.destroyed) return;
      const up = net.connect(this.target.port, this.target.host);
      pair.up = up;
      up.on('error', cleanup).on('close', cleanup);
      client.on('data', (d) => up.write(d));
      up.on('data', (d) => client.write(d));
      if (this.frozen) this.pause(pair);
    };
    if (this.frozen) this.waiting.push(connect);
    else connect();
  }

  private pause(p: { client: net.Socket; up: net.Socket | null }): void {
    p.client.pause();
    p.up?.pause();
  }

  freeze(): void {
    this.frozen = true;
    for (const p of this.pairs) this.pause(p);
  }

  thaw(): void {
    this.frozen = false;
    for (const p of this.pairs) {
      p.client.resume();
      p.up?.resume();
    }
    for (const connect of this.waiting.splice(0)) connect();
  }

  async close(): Promise<void> {
    for (const p of this.pairs) {
      p.client.destroy();
      p.up?.destroy();
    }
    await new Promise<void>((r) => this.server.close(() => r()));
  }
}

describe.skipIf(!usingMariaDb())('a database that stops answering (MariaDB only)', () => {
  let db: TestDatabase;
  let relay: FreezableRelay;
  let host: Host;
  let token: string;
  const limits = { DB_ACQUIRE_TIMEOUT_MS: 1_000, DB_QUERY_TIMEOUT_MS: 1_000, DB_LOCK_WAIT_SECONDS: 1, READY_TIMEOUT_MS: 500, DB_POOL_SIZE: 4 };

  beforeAll(async () => {
    db = await createTestDatabase();
    const u = new URL(db.url!);
    relay = new FreezableRelay({ host: u.hostname, port: Number(u.port || 3306) });
    await relay.start();
    u.host = `127.0.0.1:${relay.port}`;
    host = await startHost({
      port: 0,
      sandbox: true,
      synchronize: true,
      seedDemo: true,
      outboxWorker: false,
      databaseUrl: u.toString(),
      logger: createLogger('silent'),
      config: limits,
    });
    const dev: any = await (
      await fetch(`${host.url}/sandbox/device/login`, { method: 'POST', headers: { 'Content-Type': 'application/json' }, body: '{"user":"frozen-watcher"}' })
    ).json();
    token = (
      (await (
        await fetch(`${host.url}/api/v1/auth/wechat`, {
          method: 'POST',
          headers: { 'Content-Type': 'application/json' },
          body: JSON.stringify({ code: dev.code }),
        })
      ).json()) as any
    ).token;
  });
  afterAll(async () => {
    relay?.thaw();
    await host?.close(1_000);
    await relay?.close();
    await db?.drop();
  });

  const read = (path: string) => async () => {
    const res = await fetch(`${host.url}${path}`, { headers: { Authorization: `Bearer ${token}` } });
    return { status: res.status, body: (await res.json()) as any };
  };
  const accounts = read('/api/v1/accounts');
  // through the driver's pool directly (rawQuery): its connections are discarded the same way
  const bills = read('/api/v1/bills');

  it('answers 503 within the statement limit + 2 s instead of waiting, /readyz red in 0.5 s, and recovers when it answers again', async () => {
    // warm the pool: idle connections the freeze will catch, and one more to come
    await Promise.all([accounts, bills, bills].map((r) => r()));
    expect((await accounts()).status).toBe(200);
    expect((await bills()).status).toBe(200);
    relay.freeze();
    const [reqs, ready] = await Promise.all([
      Promise.all([accounts, bills, accounts, bills, bills].map((r) => timed(r))),
      timed(() => fetch(`${host.url}/readyz`)),
    ]);
    for (const r of reqs) {
      expect(r.value.status).toBe(503);
      expect(r.value.body.error.code).toBe('DB_UNAVAILABLE');
      // statement 1 s + client grace 2 s; a new connection: the 1 s acquire limit
      expect(r.ms).toBeLessThan(4_500);
    }
    expect(ready.value.status).toBe(503);
    expect(ready.ms).toBeLessThan(1_500);
    // still frozen: later requests fail as fast, nothing piles up
    const later = [await timed(accounts), await timed(bills)];
    for (const again of later) {
      expect(again.value.status).toBe(503);
      expect(again.ms).toBeLessThan(4_500);
    }

    relay.thaw();
    const thawedAt = performance.now();
    for (;;) {
      const r = await accounts();
      if (r.status === 200) break;
      expect(r.status).toBe(503);
      if (performance.now() - thawedAt > 6_000) throw new Error('no recovery within 6 s of the database answering again');
      await new Promise((res) => setTimeout(res, 100));
    }
    const back = Math.round(performance.now() - thawedAt);
    expect((await Promise.all([accounts, bills, accounts, bills, accounts, bills].map((r) => r()))).map((r) => r.status)).toEqual(Array(6).fill(200));
    expect((await fetch(`${host.url}/readyz`)).status).toBe(200);
    console.info(
      `frozen database: requests answered 503 in ${reqs.map((r) => r.ms).join('/')} ms (then ${later.map((r) => r.ms).join('/')} ms), /readyz red in ${ready.ms} ms; recovered ${back} ms after it answered again`,
    );
  });
});

describe.skipIf(usingMariaDb())('a busy embedded database (SQLite only)', () => {
  let t: TestApp;
  let dir: string;
  let other: import('better-sqlite3').Database;

  beforeAll(async () => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'hb-busy-'));
    t = await startTestApp({ sqlitePath: path.join(dir, 'hb.sqlite') });
    other = new BetterSqlite3(path.join(dir, 'hb.sqlite'));
  });
  afterAll(async () => {
    other?.close();
    await t?.close();
    fs.rmSync(dir, { recursive: true, force: true });
  });

  it('a write blocked by another process past busy_timeout answers 503 DB_UNAVAILABLE, then succeeds', async () => {
    const token = await t.loginResident('busy-writer');
    other.exec('BEGIN IMMEDIATE');
    let r: Awaited<ReturnType<typeof timed<Awaited<ReturnType<TestApp['call']>>>>>;
    try {
      r = await timed(() => t.call('POST', '/api/v1/auth/logout', { token }));
    } finally {
      other.exec('ROLLBACK');
    }
    expect(r.value.status).toBe(503);
    expect(r.value.body.error.code).toBe('DB_UNAVAILABLE');
    expect(r.ms).toBeLessThan(8_000);
    expect((await t.call('POST', '/api/v1/auth/logout', { token })).status).toBeLessThan(300);
  });
});
