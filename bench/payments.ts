/**
 * Payments benchmark: prints figures and ratios, asserts nothing.
 *
 *   npm run bench:payments
 *   (= npx tsx --tsconfig server/tsconfig.json bench/payments.ts)
 *
 * Needs MariaDB (TEST_DATABASE_URL, default mariadb://root@127.0.0.1:3306). A database
 * hb_t_<random> is created for the run and dropped at the end (test-support createTestDatabase).
 *
 * 1. WeChat Pay notifications verified (RSA signature), decrypted (AES-256-GCM) and credited on
 *    MariaDB per second: N pending orders are inserted directly, one signed + encrypted
 *    TRANSACTION.SUCCESS notification per order is pre-built by the sandbox, then they are POSTed
 *    to /api/v1/wechat/pay/notify with CONCURRENCY requests in flight. Goal ≥ 1,000/s on 2 cores.
 * 2. GET /api/v1/bills (resident with 3 bound accounts) under autocannon at 50 connections, versus
 *    a bare Koa + mysql2 handler running one equivalent SQL query. Goal: BFF ≥ 70% of bare.
 *
 * Load generators run off the server's event loop (notify client: worker thread; autocannon: child
 * process).
 * Knobs: BENCH_N (orders, default 2000), BENCH_CONCURRENCY (32), BENCH_SECONDS (10).
 */
import { spawn } from 'node:child_process';
import crypto from 'node:crypto';
import { once } from 'node:events';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { Worker } from 'node:worker_threads';
import Koa from 'koa';
import mysql from 'mysql2/promise';

process.env.TEST_DATABASE_URL ??= 'mariadb://root@127.0.0.1:3306';

import { startTestApp } from '../server/src/test-support/app';
import { mysqlUrl } from '../server/src/platform/db/data-source';
import { DEMO } from '../server/src/demo/seed';
import { Bill } from '../server/src/modules/billing/entities';
import { PaymentOrder } from '../server/src/modules/payments/entities';

const N = Number(process.env.BENCH_N ?? 2000);
const CONCURRENCY = Number(process.env.BENCH_CONCURRENCY ?? 32);
const SECONDS = Number(process.env.BENCH_SECONDS ?? 10);
const CONNECTIONS = 50;

/** Run plain-JS `code` in a worker thread (own event loop, own core); resolves with what it posts. */
function inWorker<T>(code: string, workerData: unknown): Promise<T> {
  return new Promise((resolve, reject) => {
    const w = new Worker(code, { eval: true, workerData });
    w.once('message', resolve);
    w.once('error', reject);
    w.once('exit', (c) => c && reject(new Error(`worker exited ${c}`)));
  });
}

/** Worker: POST every {body, headers} with `concurrency` in flight; statuses and latencies back. */
const NOTIFY_CLIENT = `
const { parentPort, workerData: { url, items, concurrency } } = require('node:worker_threads');
(async () => {
  const statuses = {}, lat = new Array(items.length);
  let next = 0;
  const t0 = performance.now();
  await Promise.all(Array.from({ length: concurrency }, async () => {
    while (next < items.length) {
      const i = next++, s = performance.now();
      const res = await fetch(url, { method: 'POST', headers: items[i].headers, body: items[i].body });
      await res.arrayBuffer();
      lat[i] = performance.now() - s;
      statuses[res.status] = (statuses[res.status] ?? 0) + 1;
    }
  }));
  parentPort.postMessage({ ms: performance.now() - t0, statuses, lat });
})();`;

/** autocannon's CLI in a child process (in a worker thread it hands back raw histograms). */
interface Cannon { rps: number; p50: number; p99: number; total: number; non2xx: number; errors: number; timeouts: number }
async function cannon(url: string, headers: Record<string, string> = {}): Promise<Cannon> {
  const args = [require.resolve('autocannon/autocannon.js'), '-j', '-c', String(CONNECTIONS), '-d', String(SECONDS)];
  for (const [k, v] of Object.entries(headers)) args.push('-H', `${k}=${v}`);
  const child = spawn(process.execPath, [...args, url], { stdio: ['ignore', 'pipe', 'inherit'] });
  let out = '';
  child.stdout.on('data', (d) => (out += d));
  await once(child, 'exit');
  const r = JSON.parse(out);
  return { rps: r.requests.average, p50: r.latency.p50, p99: r.latency.p99, total: r.requests.total, non2xx: r.non2xx, errors: r.errors, timeouts: r.timeouts };
}

const pct = (sorted: number[], p: number) => sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]!;
const fmt = (n: number, d = 0) => n.toLocaleString('en-US', { maximumFractionDigits: d, minimumFractionDigits: d });

async function main() {
  console.log(`starting BFF (MariaDB, demo seed)…`);
  const t = await startTestApp({ seedDemo: true });
  const bare = { close: async () => {} };
  try {
    const { services, ds, config } = t;

    // ---- set-up: a resident with 3 bound demo accounts (measurement 2; also the orders' payer) --
    const token = await t.loginResident('bench-user');
    for (const a of DEMO.accounts.slice(0, 3)) {
      const r = await t.call('POST', '/api/v1/accounts/bind', { token, body: { accountNo: a.accountNo, ownerName: a.ownerName } });
      if (r.status !== 201) throw new Error(`bind ${a.accountNo}: ${r.status} ${JSON.stringify(r.body)}`);
    }
    const [resident] = await ds.query('SELECT id, openid FROM resident ORDER BY id DESC LIMIT 1');

    // ---- set-up: N unpaid bills (216 demo accounts per season: add seasons 2030-2031, …) -------
    const bills: Bill[] = [];
    for (let y = 2030; bills.length < N; y++) {
      const code = `${y}-${y + 1}`;
      await services.billing.createSeason({
        code, startDate: `${y}-11-01`, endDate: `${y + 1}-04-01`, dueDate: `${y}-12-31`,
        tariffs: { residential: 2700, commercial: 3800 }, baseFeeRatioBp: 3000,
      });
      await services.billing.issueBills(code);
      const season = await services.billing.seasonByCode(code);
      bills.push(...(await ds.getRepository(Bill).find({ where: { seasonId: season.id, status: 'unpaid' }, order: { id: 'ASC' } })));
    }
    bills.length = N;

    // ---- set-up: one pending order per bill, inserted directly (no prepay round-trip) ---------
    const expiresAt = new Date(Date.now() + 3600_000);
    const orders = bills.map((b, i) => ({
      outTradeNo: `BENCH${Date.now()}${String(i).padStart(6, '0')}`, billId: b.id, accountId: b.accountId,
      residentId: resident.id, openid: 'o-bench', description: 'bench', amountFen: b.chargeFen, discountFen: 0,
      lateFeeFen: 0, status: 'pending' as const, pendingKey: null, payParams: null, transactionId: null, expiresAt,
      paidAt: null, creditedBy: null, duplicate: false, refundedFen: 0,
    }));
    for (let i = 0; i < orders.length; i += 500) await ds.getRepository(PaymentOrder).insert(orders.slice(i, i + 500) as any);

    // ---- set-up: pre-build every signed + encrypted notification (not timed) ------------------
    const sandbox = t.sandbox!.state;
    const items = orders.map((o) => {
      const txId = '42' + crypto.randomInt(1e9).toString().padStart(9, '0') + Date.now().toString().slice(-8) + crypto.randomInt(1e9).toString().padStart(9, '0');
      return sandbox.buildNotification({
        eventType: 'TRANSACTION.SUCCESS',
        plaintext: {
          mchid: config.WXPAY_MCHID, appid: config.WECHAT_APPID, out_trade_no: o.outTradeNo, transaction_id: txId.slice(0, 28),
          trade_type: 'JSAPI', trade_state: 'SUCCESS', trade_state_desc: '支付成功', bank_type: 'OTHERS', attach: '',
          success_time: new Date().toISOString(), payer: { openid: 'o-bench' },
          amount: { total: o.amountFen, payer_total: o.amountFen, currency: 'CNY', payer_currency: 'CNY' },
        },
      });
    });
    const ledgerCount = async () => Number((await ds.query('SELECT COUNT(*) AS n FROM ledger_entry'))[0].n);
    const ledgerBefore = await ledgerCount();
    // statements the server received (global 'Questions'), to show SQL round-trips per request
    const questions = async () => Number((await ds.query("SHOW GLOBAL STATUS LIKE 'Questions'"))[0].Value);
    let q0 = await questions();

    // ---- measurement 1: notifications/s ------------------------------------------------------
    console.log(`posting ${N} notifications, ${CONCURRENCY} in flight…`);
    const m1 = await inWorker<{ ms: number; statuses: Record<string, number>; lat: number[] }>(NOTIFY_CLIENT, {
      url: `${t.url}/api/v1/wechat/pay/notify`, items, concurrency: CONCURRENCY,
    });
    const notifySql = ((await questions()) - q0) / N;
    const credited = (await ledgerCount()) - ledgerBefore;
    const lat = m1.lat.sort((a, b) => a - b);
    const notify = { rate: N / (m1.ms / 1000), p50: pct(lat, 50), p99: pct(lat, 99), ok: m1.statuses['204'] ?? 0 };
    console.log(`  ${fmt(notify.rate)}/s  p50 ${fmt(notify.p50, 1)} ms  p99 ${fmt(notify.p99, 1)} ms  statuses ${JSON.stringify(m1.statuses)}  ledger +${credited}`);

    // ---- measurement 2a: GET /api/v1/bills through the BFF ---------------------------------------
    const list = await t.call('GET', '/api/v1/bills', { token });
    console.log(`GET /api/v1/bills: ${list.status}, ${list.body?.items?.length} bills, ${JSON.stringify(list.body).length} bytes; autocannon ${CONNECTIONS} conns × ${SECONDS}s…`);
    q0 = await questions();
    const bff = await cannon(`${t.url}/api/v1/bills`, { authorization: `Bearer ${token}` });
    const bffSql = ((await questions()) - q0) / bff.total;

    // ---- measurement 2b: bare Koa + mysql2, one query for the same rows -------------------------
    // Same database, same pool size as the BFF. No auth, no zod, no TypeORM, no view-building
    // (quotes, address): just the resident's bound accounts' bills with season and account.
    const pool = mysql.createPool({ uri: mysqlUrl(t.db.url!), connectionLimit: config.DB_POOL_SIZE });
    const SQL = `SELECT b.*, s.code AS season, s.dueDate, s.tariffs, s.discountBp, s.discountUntil, s.lateFeeDailyBp,
        s.lateFeeCapBp, s.endDate, a.accountNo, a.roomNo, a.buildingId, a.unitId
      FROM binding bd JOIN bill b ON b.accountId = bd.accountId JOIN season s ON s.id = b.seasonId
      JOIN account a ON a.id = b.accountId
      WHERE bd.residentId = ? AND bd.unboundAt IS NULL ORDER BY b.status DESC, s.code, a.accountNo`;
    const app = new Koa();
    app.use(async (ctx) => {
      const [rows] = await pool.query(SQL, [resident.id]);
      ctx.body = { items: rows };
    });
    const server = http.createServer(app.callback());
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    bare.close = async () => {
      server.closeAllConnections();
      await new Promise((r) => server.close(r));
      await pool.end();
    };
    const bareUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}/`;
    const bareRes = await (await fetch(bareUrl)).text();
    console.log(`bare handler: ${JSON.parse(bareRes).items.length} rows, ${bareRes.length} bytes; autocannon…`);
    q0 = await questions();
    const raw = await cannon(bareUrl);
    const rawSql = ((await questions()) - q0) / raw.total;

    // ---- summary --------------------------------------------------------------------------------
    const ratio = bff.rps / raw.rps;
    const rows: [string, string, string][] = [
      ['notifications credited / s', fmt(notify.rate), '≥ 1,000'],
      ['  notify p50 / p99 (ms)', `${fmt(notify.p50, 1)} / ${fmt(notify.p99, 1)}`, ''],
      ['  SQL statements / notification', fmt(notifySql, 1), ''],
      ['  204 answers / ledger rows', `${notify.ok} / ${credited} of ${N}`, `${N} / ${N}`],
      ['GET /bills BFF req/s', fmt(bff.rps), ''],
      ['  BFF p50 / p99 (ms)', `${bff.p50} / ${bff.p99}`, ''],
      ['  BFF SQL statements / request', fmt(bffSql, 1), ''],
      ['  BFF non-2xx / errors', `${bff.non2xx} / ${bff.errors + bff.timeouts}`, '0 / 0'],
      ['bare Koa+mysql2 req/s', fmt(raw.rps), ''],
      ['  bare p50 / p99 (ms)', `${raw.p50} / ${raw.p99}`, ''],
      ['  bare SQL statements / request', fmt(rawSql, 1), ''],
      ['BFF / bare', `${fmt(ratio * 100, 1)}%`, '≥ 70%'],
    ];
    console.log(`\nsummary (${process.platform}, node ${process.version}, ${(await import('node:os')).cpus().length} cpus, N=${N}, c=${CONCURRENCY}, ${CONNECTIONS} conns × ${SECONDS}s)`);
    for (const [k, v, goal] of [['measure', 'value', 'goal'], ...rows]) console.log(`${k.padEnd(30)} ${v.padStart(22)}   ${goal}`);
  } finally {
    await bare.close();
    await t.close(); // also drops the database
  }
}

main().then(
  () => process.exit(0),
  (err) => {
    console.error(err);
    process.exit(1);
  },
);
