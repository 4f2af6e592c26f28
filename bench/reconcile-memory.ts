/**
 * Reconciliation memory against the number of differences: one trade bill of BENCH_ROWS payment
 * rows (default 1,000,000) reconciled twice against a ledger of the same size — once where every
 * row matches, once (another date, other order numbers) where nothing does, so every row becomes
 * a 长款 written to the database. Each run is timed in a fresh process with its peak RSS sampled.
 * Prints both figures and the ratios (goal: nothing-matched ≤ 300 MB peak RSS, ≤ 2× the
 * all-matched time).
 *
 *   TEST_DATABASE_URL=mariadb://root@127.0.0.1:3306 npx tsx --tsconfig server/tsconfig.json bench/reconcile-memory.ts
 *
 * BENCH_DB=sqlite for a temp SQLite file instead (default mariadb).
 */
import 'reflect-metadata';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { once } from 'node:events';
import { spawnSync } from 'node:child_process';

const ROWS = Number(process.env.BENCH_ROWS ?? 1_000_000);
const DB = process.env.BENCH_DB ?? 'mariadb';
if (DB === 'mariadb') process.env.TEST_DATABASE_URL ??= 'mariadb://root@127.0.0.1:3306';

import { createDataSource } from '../server/src/db';
import { createTestDatabase } from '../server/src/test-support/db';
import { createLogger } from '../server/src/platform/logger';
import { ReconciliationService } from '../server/src/modules/reconciliation/service';
import type { PaymentsService } from '../server/src/modules/payments/service';
import { LedgerQueries } from '../server/src/modules/payments/ledger-queries';
import type { CompanyService } from '../server/src/modules/company/service';
import type { PayClient } from '../server/src/wechat/pay';

const MATCHED_DATE = '2026-11-20';
const NONE_DATE = '2026-11-21';
const HEADER =
  '交易时间,公众账号ID,商户号,特约商户号,设备号,微信订单号,商户订单号,用户标识,交易类型,交易状态,付款银行,货币种类,应结订单金额,代金券金额,微信退款单号,商户退款单号,退款金额,充值券退款金额,退款类型,退款状态,商品名称,商户数据包,手续费,费率,订单金额,申请退款金额,费率备注';
const amountOf = (i: number) => 100_00 + (i % 5000) * 7;
const outTradeNo = (prefix: string, i: number) => prefix + String(i).padStart(22, '0');
const txId = (i: number) => '4200' + String(i).padStart(24, '0');
const yuan = (fen: number) => (fen / 100).toFixed(2);
const utc = (ms: number) => new Date(ms).toISOString().replace('T', ' ').replace('Z', '');
const mb = (b: number) => (b / 1024 / 1024).toFixed(0) + ' MB';

async function writeBill(file: string, date: string, prefix: string) {
  const out = fs.createWriteStream(file);
  const write = async (s: string) => {
    if (!out.write(s)) await once(out, 'drain');
  };
  await write('\uFEFF' + HEADER + '\r\n');
  let sum = 0;
  let fees = 0;
  for (let i = 0; i < ROWS; i++) {
    const a = amountOf(i);
    const fee = Math.round(a * 0.006);
    sum += a;
    fees += fee;
    const sec = Math.floor((i / ROWS) * 86_000);
    const t = `${date} ${String(Math.floor(sec / 3600)).padStart(2, '0')}:${String(Math.floor(sec / 60) % 60).padStart(2, '0')}:${String(sec % 60).padStart(2, '0')}`;
    const f = [t, 'wxbench', '1900000109', '0', '', txId(i), outTradeNo(prefix, i), 'o-bench', 'JSAPI', 'SUCCESS', 'OTHERS', 'CNY', yuan(a), '0.00', '0', '0', '0.00', '0.00', '', '', '2026—2027采暖季供热费', '', (fee / 100).toFixed(5), '0.60%', yuan(a), '0.00', ''];
    await write(f.map((v) => '`' + v).join(',') + '\r\n');
  }
  await write('总交易单数,应结订单总金额,退款总金额,充值券退款总金额,手续费总金额,订单总金额,申请退款总金额\r\n');
  await write([String(ROWS), yuan(sum), '0.00', '0.00', (fees / 100).toFixed(5), yuan(sum), '0.00'].map((v) => '`' + v).join(',') + '\r\n');
  out.end();
  await once(out, 'finish');
}

interface Result {
  secs: number;
  peak: number;
  before: number;
  discrepancies: number;
  matched: number;
}

function timed(date: string, file: string, env: Record<string, string>): Result {
  const prof = process.env.BENCH_CPU_PROF ? ['--cpu-prof', `--cpu-prof-dir=${process.env.BENCH_CPU_PROF}`] : [];
  const child = spawnSync(process.execPath, [...prof, ...process.execArgv, __filename], {
    stdio: ['ignore', 'pipe', 'inherit'],
    env: { ...process.env, ...env, BENCH_PHASE: 'reconcile', BENCH_DATE: date, BENCH_FILE: file },
  });
  if (child.status !== 0) throw new Error(`the timed run failed (${child.status ?? child.signal})`);
  return JSON.parse(child.stdout.toString().trim().split('\n').pop()!);
}

async function main() {
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'recon-mem-'));
  const db = await createTestDatabase();
  const sqlite = path.join(tmp, 'bench.sqlite');
  const ds = createDataSource({ url: db.url, sqlitePath: db.url ? undefined : sqlite, synchronize: true });
  await ds.initialize();
  try {
    const matchedBill = path.join(tmp, 'matched.csv');
    const noneBill = path.join(tmp, 'none.csv');
    await writeBill(matchedBill, MATCHED_DATE, 'HB');
    await writeBill(noneBill, NONE_DATE, 'ZZ');
    const t0 = performance.now();
    const dayStart = Date.parse(`${MATCHED_DATE}T00:00:00+08:00`);
    const CHUNK = 2000;
    for (let i = 0; i < ROWS; i += CHUNK) {
      const values: unknown[] = [];
      const rows: string[] = [];
      for (let j = i; j < Math.min(ROWS, i + CHUNK); j++) {
        rows.push('(?, ?, ?, ?, ?, ?, ?, ?, ?, ?)');
        values.push(`pay:${outTradeNo('HB', j)}`, 'payment', amountOf(j), j + 1, j + 1, j + 1, outTradeNo('HB', j), txId(j), utc(dayStart + Math.floor((j / ROWS) * 86_000_000)), utc(Date.now()));
      }
      await ds.query(`INSERT INTO ledger_entry (ref, kind, amountFen, orderId, billId, accountId, outTradeNo, transactionId, at, createdAt) VALUES ${rows.join(',')}`, values);
    }
    console.log(`${ROWS} rows per bill; ledger of ${ROWS} entries inserted in ${((performance.now() - t0) / 1000).toFixed(1)} s (${DB})`);
    await ds.destroy();
    const env = { BENCH_DB_URL: db.url ?? '', BENCH_SQLITE: sqlite, BENCH_TMP: tmp };
    const matched = timed(MATCHED_DATE, matchedBill, env);
    console.log(`all matched:     ${matched.secs.toFixed(2)} s, peak RSS ${mb(matched.peak)} (before ${mb(matched.before)}), matched ${matched.matched}, differences ${matched.discrepancies}`);
    const none = timed(NONE_DATE, noneBill, env);
    console.log(`nothing matched: ${none.secs.toFixed(2)} s, peak RSS ${mb(none.peak)} (before ${mb(none.before)}), matched ${none.matched}, differences ${none.discrepancies}`);
    console.log(`ratio: time ${(none.secs / matched.secs).toFixed(2)}× the all-matched run (goal ≤ 2×); peak RSS ${mb(none.peak)} (goal ≤ 300 MB)`);
    console.log(`cpus: ${os.cpus().length}, node ${process.version}, load average ${os.loadavg().map((l) => l.toFixed(1)).join(' ')}`);
  } finally {
    if (ds.isInitialized) await ds.destroy();
    await db.drop();
    fs.rmSync(tmp, { recursive: true, force: true });
  }
}

async function timedRun() {
  const url = process.env.BENCH_DB_URL || undefined;
  const ds = createDataSource({ url, sqlitePath: url ? undefined : process.env.BENCH_SQLITE });
  await ds.initialize();
  const file = process.env.BENCH_FILE!;
  const unused = () => {
    throw new Error('not used: no order is pending');
  };
  const recon = new ReconciliationService({
    ds,
    pay: new Proxy({}, { get: () => unused }) as PayClient,
    payments: new Proxy({ ledgerQueries: new LedgerQueries(ds) }, { get: (t, k) => (k === 'ledgerQueries' ? t.ledgerQueries : unused) }) as unknown as PaymentsService,
    company: new Proxy({}, { get: () => unused }) as unknown as CompanyService,
    log: createLogger('warn'),
    clock: () => new Date(),
    billDir: process.env.BENCH_TMP!,
  });
  (global as any).gc?.();
  const before = process.memoryUsage().rss;
  let peak = before;
  const sampler = setInterval(() => (peak = Math.max(peak, process.memoryUsage().rss)), 20);
  const t0 = performance.now();
  const out = await recon.reconcile(process.env.BENCH_DATE!, fs.createReadStream(file, { highWaterMark: 1 << 20 }), fs.statSync(file).size);
  const secs = (performance.now() - t0) / 1000;
  clearInterval(sampler);
  peak = Math.max(peak, process.memoryUsage().rss, process.resourceUsage().maxRSS * 1024);
  await ds.destroy();
  console.log(JSON.stringify({ secs, peak, before, discrepancies: out.discrepancies, matched: out.classes.matched }));
}

(process.env.BENCH_PHASE === 'reconcile' ? timedRun() : main()).catch((err) => {
  console.error(err);
  process.exit(1);
});
