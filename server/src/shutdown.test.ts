/**
 * Graceful shutdown, as a client sees it when the BFF gets SIGTERM under load: requests already
 * in flight are answered, new connections are refused, WebSockets are closed with 1012 "service
 * restart" (the client reconnects elsewhere), the scheduled job it claimed runs to its end and
 * gives its lease back, and the process exits 0 once all of that is done.
 */
import { afterAll, beforeAll, expect, it, vi } from 'vitest';
import mysql from 'mysql2/promise';
import { WebSocket } from 'ws';
import { childBffEnv, exited, type ChildBffEnv } from './test-support/child-bff';
import { mysqlUrl } from './platform/db/data-source';
import { usingMariaDb } from './test-support/db';

let env: ChildBffEnv;

beforeAll(async () => {
  env = await childBffEnv();
}, 60_000);
afterAll(async () => env?.close());

// requests are held in flight by a table lock taken from outside, which needs a database server
it.skipIf(!usingMariaDb())(
  'SIGTERM under load: in-flight requests answered, new connections refused, sockets told to reconnect, the claimed job finished, exit 0',
  async () => {
    // the upload-retention job ticks every 200 ms, so one is claimed and running when the signal comes
    const child = await env.start({ DB_LOCK_WAIT_SECONDS: '20', SHUTDOWN_GRACE_MS: '15000', JOB_POLL_MS: '100', JOB_EVERY_MS: '{"upload-retention":200}' });
    const token = await env.loginResident('shutdown-watcher');
    const accounts = () => env.call('GET', '/api/v1/accounts', { token });
    expect((await accounts()).status).toBe(200);

    const ws = new WebSocket(`${env.url.replace(/^http/, 'ws')}/api/v1/ws?token=${token}`);
    const wsClosed = new Promise<{ code: number; reason: string }>((resolve) => ws.once('close', (code, reason) => resolve({ code, reason: String(reason) })));
    await new Promise((resolve, reject) => {
      ws.once('message', resolve);
      ws.once('error', reject);
    });

    // load: requests that wait inside the BFF on a table locked from outside
    const root = await mysql.createConnection(mysqlUrl(env.db.url!));
    const look = await mysql.createConnection(mysqlUrl(env.db.url!));
    const lease = async () =>
      ((await look.query("SELECT owner, lastStartedAt, lastFinishedAt, lastError FROM job_lease WHERE name = 'upload-retention'")) as any)[0][0];
    // requests wait on the binding table (their sessions are cached since the first request), the
    // retention job on the upload table
    await root.query('LOCK TABLES `binding` WRITE, `upload` WRITE');
    // in flight: their answers also say the connection won't be reused (Connection: close)
    const heldAccounts = async () => {
      const res = await fetch(`${env.url}/api/v1/accounts`, { headers: { Authorization: `Bearer ${token}` } });
      return { status: res.status, connection: res.headers.get('connection'), body: await res.json() };
    };
    let inFlight: Promise<{ status: number; connection: string | null }[]>;
    let signalledAt = 0;
    let claimed: any;
    try {
      inFlight = Promise.all(Array.from({ length: 8 }, heldAccounts));
      // all 8 have reached the BFF and wait on the locked table (a pool of 20: each holds a connection)
      await vi.waitFor(
        async () => {
          const [rows]: any = await look.query(
            "SELECT COUNT(*) AS n FROM information_schema.PROCESSLIST WHERE DB = DATABASE() AND ID <> CONNECTION_ID() AND INFO LIKE '%`binding`%'",
          );
          if (Number(rows[0].n) < 8) throw new Error(`${rows[0].n} of 8 requests wait on the locked table`);
        },
        { timeout: 30_000, interval: 100 },
      );
      // the job is running, held by the lock (polled: on a busy machine the first tick can take seconds)
      claimed = await vi.waitFor(
        async () => {
          const row = await lease();
          if (!row?.owner) throw new Error('the retention job has not claimed its lease yet');
          return row;
        },
        { timeout: 30_000, interval: 100 },
      );
      expect(claimed.owner).toEqual(expect.any(String));
      signalledAt = Date.now();
      child.kill('SIGTERM');
      // the listener closes as soon as the signal is handled: a new connection is then refused,
      // never accepted and left waiting (answered only before that)
      let fresh = '';
      for (const stopAt = Date.now() + 5_000; Date.now() < stopAt; await new Promise((r) => setTimeout(r, 50))) {
        fresh = await fetch(`${env.url}/healthz`, { signal: AbortSignal.timeout(2_000) }).then(
          (r) => `answered ${r.status}`,
          (e) => e?.cause?.code ?? e?.name ?? String(e),
        );
        if (fresh !== 'answered 200') break;
      }
      // refused, or reset when it had reached the listener's backlog (or a kept-alive socket) just as
      // it closed: either way answered at once, never accepted and left waiting (a TimeoutError)
      expect(['ECONNREFUSED', 'ECONNRESET', 'UND_ERR_SOCKET']).toContain(fresh);
      expect(child.exitCode).toBeNull(); // still finishing the requests in flight
      await new Promise((r) => setTimeout(r, 500));
    } finally {
      await root.query('UNLOCK TABLES');
      await root.end();
    }
    const answers = await inFlight!;
    expect(answers.map((a) => a.status)).toEqual(Array(8).fill(200));
    expect(answers.map((a) => a.connection)).toEqual(Array(8).fill('close'));
    expect(await wsClosed).toEqual({ code: 1012, reason: 'server restarting' });
    expect(await exited(child)).toBe(0);
    const ms = Date.now() - signalledAt;
    // the run in progress ended normally after the lock went, and gave its lease back
    const released = await lease();
    await look.end();
    expect(released.owner).toBeNull();
    expect(released.lastError).toBeNull();
    expect(released.lastStartedAt).toEqual(claimed.lastStartedAt); // the same run, no new one after the signal
    expect(released.lastFinishedAt.getTime()).toBeGreaterThan(released.lastStartedAt.getTime());
    expect(env.output()).not.toContain('upload-retention failed');
    // the lock is released ~1 s after the signal; then nothing is left to wait for
    expect(ms).toBeLessThan(6_000);
    expect(env.output()).toContain('"msg":"shut down"');
    console.info(`SIGTERM: 8 requests in flight answered 200 after the lock was released; exited 0 ${ms} ms after the signal`);
  },
  300_000,
);
