/**
 * Reconciliation benchmark: stream a trade bill of BENCH_ROWS payment rows (default 100,000) against
 * a ledger of the same size, all matched; print time, rows/s and memory. Asserts nothing.
 *
 *   npx tsx --tsconfig server/tsconfig.json bench/reconcile.ts
 *   BENCH_ROWS=1000000 BENCH_DB=mariadb npx tsx --tsconfig server/tsconfig.json bench/reconcile.ts
 *
 * BENCH_DB=sqlite (default, a temp file) or mariadb (TEST_DATABASE_URL, default
 * mariadb://root@127.0.0.1:3306; a database hb_t_<random> is created and dropped, kept with
 * BENCH_KEEP_DB=1). The bill file is written to a temp dir in WeChat's format (BOM, backticks,
 * CRLF, summary); the ledger rows are bulk-inserted. Then a fresh process (like the CLI or the
 * daily job) times only `reconcile()` of the file: streaming + batched ledger lookups + the 短款
 * pass; peak RSS is sampled every 20 ms and also read from process.resourceUsage().maxRSS.
 * Goal of the issue: 1,000,000 lines ≤ 10 s and ≤ 300 MB peak RSS on 2 cores (MariaDB).
 *
 * Figures (2 cores shared with other work, load average 2.6–3.5, node 20, MariaDB 10.11 with
 * its default 128 MB buffer pool, 2026-11-25):
 *   1M rows, MariaDB: 5.45 / 5.61 / 8.30 s (120–183k rows/s), peak RSS 224–269 MB of which
 *     ~140 MB is the process before the run; heap retained after GC 71–97 MB.
 *   100k rows: MariaDB 0.58 s, peak RSS 181 MB; SQLite 0.50 s.
 * Before (a Set of every ref seen, readline, hydrated entities): 100k in 2.6–3.8 s, 1M out of memory.
 * Where the time goes at 1M: parsing ~1.2–1.5 s, ledger lookups by ref (1000 per query, two in
 * flight) most of the rest, the paged 短款 scan of ids ~1 s.
 */
import 'reflect-metadata';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { once } from 'node:events';
import { spawnSync } from 'node:child_process';

const ROWS = Number(process.env.BENCH_ROWS ?? 100_000);
const DB = process.env.BENCH_DB ?? 'sqlite';
if (DB === 'mariadb') process.env.TEST_DATABASE_URL ??= 'mariadb://root@127.0.0.1:3306';

import { createDataSource } from '../server/src/db';
import { createTestDatabase } from '../server/src/test-support/db';
import { createLogger } from '../server/src/platform/logger';
import { ReconciliationService } from '../server/src/modules/reconciliation/service';
import type { PaymentsService } from '../server/src/modules/payments/service';
import { LedgerQueries } from '../server/src/modules/payments/ledger-queries';
import type { CompanyService } from '../server/src/modules/company/service';
import type { PayClient } from '../server/src/wechat/pay';

const BILL_DATE = '2026-11-20';
const HEADER =
  '交易时间,公众账号ID,商户号,特约商户号,设备号,微信订单号,商户订单号,用户标识,交易类型,交易状态,付款银行,货币种类,应结订单金额,代金券金额,微信退款单号,商户退款单号,退款金额,充值券退款金额,退款类型,退款状态,商品名称,商户数据包,手续费,费率,订单金额,申请退款金额,费率备注';
const amountOf = (i: number) => 100_00 + (i % 5000) * 7;
const outTradeNo = (i: number) => 'HB' + String(i).padStart(22, '0');
const txId = (i: number) => '4200' + String(i).padStart(24, '0');
const yuan = (fen: number) => (fen / 100).toFixed(2);
/** UTC 'YYYY-MM-DD HH:MM:SS.sss', how both drivers store instants */
const utc = (ms: number) => new Date(ms).toISOString().replace('T', ' ').replace('Z', '');
const mb = (b: number) => (b / 1024 / 1024).toFixed(0) + ' MB';

async function writeBill(file: string) {
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
    const t = `${BILL_DATE} ${String(Math.floor(sec / 3600)).padStart(2, '0')}:${String(Math.floor(sec / 60) % 60).padStart(2, '0')}:${String(sec % 60).padStart(2, '0')}`;
    const f = [t, 'wxbench', '1900000109', '0', '', txId(i), outTradeNo(i), 'o-bench', 'JSAPI', 'SUCCESS', 'OTHERS', 'CNY', yuan(a), '0.00', '0', '0', '0.00', '0.00', '', '', '2026—2027采暖季供热费', '', (fee / 100).toFixed(5), '0.60%', yuan(a), '0.00', ''];
    await write(f.map((v) => '`' + v).join(',') + '\r\n');
  }
  await write('总交易单数,应结订单总金额,退款总金额,充值券退款总金额,手续费总金额,订单总金额,申请退款总金额\r\n');
  await write([String(ROWS), yuan(sum), '0.00', '0.00', (fees / 100).toFixed(5), yuan(sum), '0.00'].map((v) => '`' + v).join(',') + '\r\n');
  out.end();
  await once(out, 'finish');
}

async function main() {
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'recon-bench-'));
  const db = await createTestDatabase();
  const ds = createDataSource({ url: db.url, sqlitePath: db.url ? undefined : path.join(tmp, 'bench.sqlite'), synchronize: true });
  await ds.initialize();
  try {
    const file = path.join(tmp, 'bill.csv');
    let t0 = performance.now();
    await writeBill(file);
    console.log(`bill: ${ROWS} rows, ${mb(fs.statSync(file).size)} written in ${((performance.now() - t0) / 1000).toFixed(1)} s`);

    t0 = performance.now();
    const dayStart = Date.parse(`${BILL_DATE}T00:00:00+08:00`);
    const CHUNK = 2000;
    for (let i = 0; i < ROWS; i += CHUNK) {
      const values: unknown[] = [];
      const rows: string[] = [];
      for (let j = i; j < Math.min(ROWS, i + CHUNK); j++) {
        rows.push('(?, ?, ?, ?, ?, ?, ?, ?, ?, ?)');
        values.push(`pay:${outTradeNo(j)}`, 'payment', amountOf(j), j + 1, j + 1, j + 1, outTradeNo(j), txId(j), utc(dayStart + Math.floor((j / ROWS) * 86_000_000)), utc(Date.now()));
      }
      await ds.query(
        `INSERT INTO ledger_entry (ref, kind, amountFen, orderId, billId, accountId, outTradeNo, transactionId, at, createdAt) VALUES ${rows.join(',')}`,
        values,
      );
    }
    console.log(`ledger: ${ROWS} entries inserted in ${((performance.now() - t0) / 1000).toFixed(1)} s (${DB})`);

    // the timed run happens in a fresh process, like the CLI or the daily job: its RSS is not
    // inflated by writing the bill and loading the ledger above
    await ds.destroy();
    const child = spawnSync(process.execPath, [...process.execArgv, __filename], {
      stdio: 'inherit',
      env: { ...process.env, BENCH_PHASE: 'reconcile', BENCH_DB_URL: db.url ?? '', BENCH_SQLITE: path.join(tmp, 'bench.sqlite'), BENCH_FILE: file, BENCH_TMP: tmp },
    });
    if (child.status !== 0) throw new Error(`the timed run failed (${child.status ?? child.signal})`);
  } finally {
    if (ds.isInitialized) await ds.destroy();
    if (process.env.BENCH_KEEP_DB) console.log('kept database', db.url);
    else await db.drop();
    fs.rmSync(tmp, { recursive: true, force: true });
  }
}

/** The timed part, in its own process: reconcile() of the bill file against the prepared ledger. */
async function timedRun() {
  const url = process.env.BENCH_DB_URL || undefined;
  const ds = createDataSource({ url, sqlitePath: url ? undefined : process.env.BENCH_SQLITE });
  await ds.initialize();
  const file = process.env.BENCH_FILE!;
  const unused = () => {
    throw new Error('not used by a matched bill');
  };
  const recon = new ReconciliationService({
    ds,
    pay: new Proxy({}, { get: () => unused }) as PayClient,
    // a matched bill only reads the ledger
    payments: new Proxy({ ledgerQueries: new LedgerQueries(ds) }, { get: (t, k) => (k === 'ledgerQueries' ? t.ledgerQueries : unused) }) as unknown as PaymentsService,
    company: new Proxy({}, { get: () => unused }) as unknown as CompanyService,
    log: createLogger('warn'),
    clock: () => new Date(),
    billDir: process.env.BENCH_TMP!,
  });
  (global as any).gc?.();
  const rssBefore = process.memoryUsage().rss;
  const heapBefore = process.memoryUsage().heapUsed;
  let peak = rssBefore;
  const sampler = setInterval(() => (peak = Math.max(peak, process.memoryUsage().rss)), 20);
  const t0 = performance.now();
  const out = await recon.reconcile(BILL_DATE, fs.createReadStream(file, { highWaterMark: 1 << 20 }), fs.statSync(file).size);
  const secs = (performance.now() - t0) / 1000;
  clearInterval(sampler);
  peak = Math.max(peak, process.memoryUsage().rss);
  console.log(
    `reconcile: ${secs.toFixed(2)} s, ${Math.round(ROWS / secs).toLocaleString('en')} rows/s; matched ${out.classes.matched}, discrepancies ${out.drafts.size}, summary ${out.summaryMatches ? 'equal' : 'DIFFERENT'}`,
  );
  console.log(`memory: RSS before ${mb(rssBefore)}, peak during ${mb(peak)} (process maxRSS ${mb(process.resourceUsage().maxRSS * 1024)}), heap used after ${mb(process.memoryUsage().heapUsed)}`);
  (global as any).gc?.();
  console.log(`heap: before ${mb(heapBefore)}, retained after GC ${mb(process.memoryUsage().heapUsed)} (the result only: matched entries are bits)`);
  console.log(`cpus: ${os.cpus().length}, node ${process.version}, load average ${os.loadavg().map((l) => l.toFixed(1)).join(' ')}`);
  await ds.destroy();
}

(process.env.BENCH_PHASE === 'reconcile' ? timedRun() : main()).catch((err) => {
  console.error(err);
  process.exit(1);
});
