/**
 * Reconciliation: memory flat in the number of discrepancies. The same WeChat trade bill of ROWS
 * payment rows is reconciled by `ReconciliationService.run()` (what the daily job and `npm run
 * reconcile` do: fetch, stream, look up, classify, save the day and its discrepancies), each run in
 * a fresh child process that reports its own peak RSS and CPU (the database server's CPU is read
 * from /proc meanwhile):
 *   - all matched: a ledger with one entry per bill row;
 *   - nothing matched: an empty ledger and no orders, so every row is a 长款 (surplus) discrepancy.
 * Runs alternate ABBA (`--rounds`, default 2: matched, nothing, nothing, matched): on a machine
 * whose speed drifts during the bench (a VM whose host is busy; a database server flushing what the
 * previous run wrote) both sides see the drift alike. The time ratio is of the totals. The matched
 * side runs again on its own database (the same work); each nothing-matched run gets a new one.
 * Then a floor: the same discrepancy rows written by a bare mysql2 pool as the run writes them, with
 * nothing else to do (bareWrites()); all matched + that floor, over all matched, is what the
 * nothing-matched run could reach at best if reading, matching and writing overlapped perfectly.
 *
 *   npm run bench:reconcile [-- --rows 100000] [--heap 0] [--rounds 2]
 *   BENCH_DB=sqlite npm run bench:reconcile …     (temp SQLite files instead of MariaDB)
 *   BENCH_CPU_PROF=<dir>                          (a V8 CPU profile of each child)
 *
 * MariaDB: TEST_DATABASE_URL (default mariadb://root@127.0.0.1:3306), databases hb_t_<random>
 * created and dropped (BENCH_KEEP_DB=1 keeps them). The bill is written once in WeChat's format
 * (BOM, backticks, CRLF, summary) to a temp dir; WeChat's download is a local copy of it (the only
 * stand-in: PayClient.downloadTradeBill), every other part is the project's code (createServices).
 * The child runs the BFF compiled, as production does (`npm run build`, plain `node`, no tsx: see
 * bench/reconcile-child.mjs); the bench builds it first into dist/server when any file of
 * server/src or shared/src is newer than the build (BENCH_BUILD=<dir of main.js> uses another build).
 * Under tsx the same child started 55 MB higher (174 vs 118 MB before run()): the TypeScript
 * loader's worker and the transpiled sources, which production does not carry.
 * The child's heap is limited like bench/import.ts's (--max-old-space-size, `--heap`, default 256 MB;
 * `--heap 0`: V8's default). With no limit V8 lets the old generation grow to ~3–4× what is live
 * before a full GC (it sizes that factor by the machine's memory, not by need), so peak RSS measures
 * V8's appetite more than the run: 200,000 rows nothing matched peaked at 313–333 MB with ~60 MB live.
 * Under the limit the factor is ~1.3 and RSS follows what the run holds; a run that held its
 * discrepancies would die of it. `npm run start:production` sets 512 MB (docs/DEPLOY.md); bench/RESULTS.md
 * gives the figures with `--heap 0` too.
 * Peak RSS: the child's VmHWM (the whole process, start-up included; not resourceUsage().maxRSS,
 * which Linux carries over from the parent across exec) and RSS sampled every 20 ms during run();
 * the parent also watches the child's VmHWM, for a child that dies of its memory.
 * Goals of issue 18 (2 cores): nothing matched ≤ 300 MB peak RSS and ≤ 2 × the all-matched time.
 */
import 'reflect-metadata';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { once } from 'node:events';
import { spawn, spawnSync } from 'node:child_process';

const DB = process.env.BENCH_DB ?? 'mariadb';
if (DB === 'mariadb') process.env.TEST_DATABASE_URL ??= 'mariadb://root@127.0.0.1:3306';

import mysql from 'mysql2/promise';
import { createDataSource } from '../server/src/db';
import { mysqlUrl, sqlLiteral } from '../server/src/platform/db/data-source';
import { createTestDatabase, type TestDatabase } from '../server/src/test-support/db';
import { billSummary, paymentRow, TRADE_BILL_HEADER } from '../server/src/test-support/trade-bill';
import { compiledServer, dbCpuMs, flag, fmt, mb, run, summary, vmHwm } from './lib';

const ROWS = flag('rows', 1_000_000, 'BENCH_ROWS');
/** the child's --max-old-space-size in MB (0: V8's default, which on this machine lets the heap grow to ~4× what is live) */
const HEAP_MB = flag('heap', 256);
/** runs of each side, alternating ABBA (default 2: matched, nothing, nothing, matched) */
const ROUNDS = flag('rounds', 2);
const GOAL_RSS = 300 * 1024 * 1024;
const GOAL_TIME = 2;

const BILL_DATE = '2026-11-20';
const amountOf = (i: number) => 100_00 + (i % 5000) * 7;
const outTradeNo = (i: number) => 'HB' + String(i).padStart(22, '0');
const txId = (i: number) => '4200' + String(i).padStart(24, '0');
const feeOf = (i: number) => Math.round(amountOf(i) * 0.006);
/** row i's trade time: the day's rows spread over its first 86,000 seconds */
const tradeTime = (i: number) => {
  const sec = Math.floor((i / ROWS) * 86_000);
  return `${BILL_DATE} ${String(Math.floor(sec / 3600)).padStart(2, '0')}:${String(Math.floor(sec / 60) % 60).padStart(2, '0')}:${String(sec % 60).padStart(2, '0')}`;
};
/** UTC 'YYYY-MM-DD HH:MM:SS.sss', how both drivers store instants */
const utc = (ms: number) => new Date(ms).toISOString().replace('T', ' ').replace('Z', '');

async function writeBill(file: string) {
  const out = fs.createWriteStream(file);
  const write = async (s: string) => {
    if (!out.write(s)) await once(out, 'drain');
  };
  await write('\uFEFF' + TRADE_BILL_HEADER + '\r\n');
  let sum = 0;
  let fees = 0;
  for (let i = 0; i < ROWS; i++) {
    const a = amountOf(i);
    const fee = feeOf(i);
    sum += a;
    fees += fee;
    await write(
      paymentRow({
        time: tradeTime(i),
        appid: 'wxbench',
        mchid: '1900000109',
        transactionId: txId(i),
        outTradeNo: outTradeNo(i),
        openid: 'o-bench',
        fen: a,
        feeFen: fee,
        description: '2026—2027采暖季供热费',
      }),
    );
  }
  await write(billSummary(ROWS, sum, fees));
  out.end();
  await once(out, 'finish');
}

interface Result {
  secs: number;
  /** the child's CPU during run() */
  cpuSecs: number;
  /** of which in the kernel (socket writes to the database, file reads) */
  sysSecs: number;
  /** the database server's CPU while the child ran (start-up included: a few ms) */
  dbSecs: number;
  peakRss: number;
  maxRss: number;
  rssBefore: number;
  matched: number;
  discrepancies: number;
  status: string;
}

async function insertLedger(url: string | undefined, sqlitePath: string | undefined) {
  const ds = createDataSource({ url, sqlitePath, synchronize: true });
  await ds.initialize();
  const dayStart = Date.parse(`${BILL_DATE}T00:00:00+08:00`);
  const CHUNK = 2000;
  for (let i = 0; i < ROWS; i += CHUNK) {
    const values: unknown[] = [];
    const rows: string[] = [];
    for (let j = i; j < Math.min(ROWS, i + CHUNK); j++) {
      rows.push('(?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)');
      values.push(
        `pay:${outTradeNo(j)}`,
        `pay:${outTradeNo(j)}`,
        'payment',
        amountOf(j),
        j + 1,
        j + 1,
        j + 1,
        outTradeNo(j),
        txId(j),
        utc(dayStart + Math.floor((j / ROWS) * 86_000_000)),
        utc(Date.now()),
      );
    }
    await ds.query(
      `INSERT INTO ledger_entry (ref, tradeRef, kind, amountFen, orderId, billId, accountId, outTradeNo, transactionId, at, createdAt) VALUES ${rows.join(',')}`,
      values,
    );
  }
  await ds.destroy();
}

/**
 * A floor for the nothing-matched run: the same 1,000,000 discrepancy rows written by a bare mysql2
 * pool the way the run writes them (3 connections, 500-row prepared INSERTs, 2,000 rows per
 * transaction; store.ts WRITERS, STATEMENT_ROWS, WRITE_BATCH) into a new database, with nothing
 * else to do: no bill to read, no lookups. MariaDB only. (Until 2026-11-29 14:13 UTC it wrote on 2
 * connections, as the run did before WRITERS became 3.)
 */
async function bareWrites(): Promise<{ secs: number; cpuSecs: number; dbSecs: number }> {
  const db = await createTestDatabase();
  try {
    const ds = createDataSource({ url: db.url, synchronize: true });
    await ds.initialize();
    await ds.destroy();
    const WRITERS = 3;
    const pool = mysql.createPool({ uri: mysqlUrl(db.url!), connectionLimit: WRITERS, charset: 'utf8mb4_unicode_ci' });
    const PER = 500;
    // as the run writes them: a difference's own columns as parameters, the run's constants (day,
    // status, run, time) written into the statement (BulkStatement)
    const COLUMNS = ['`key`', 'kind', 'outTradeNo', 'outRefundNo', 'wechat', 'ledger', 'diffFen'];
    const now = new Date();
    const CONSTANTS: [string, string][] = [
      ['billDate', sqlLiteral(BILL_DATE)],
      ['status', sqlLiteral('open')],
      ['seenRun', sqlLiteral(1)],
      ['createdAt', sqlLiteral(now)],
      ['updatedAt', sqlLiteral(now)],
    ];
    const row = `(${[...COLUMNS.map(() => '?'), ...CONSTANTS.map(([, v]) => v)].join(', ')})`;
    const insert = (rows: number) =>
      `INSERT INTO recon_discrepancy (${[...COLUMNS, ...CONSTANTS.map(([c]) => c)].join(', ')}) VALUES ` + Array.from({ length: rows }, () => row).join(', ');
    const full = insert(PER);
    const statement = (from: number) => {
      const params: (string | number | null)[] = [];
      for (let i = from; i < Math.min(ROWS, from + PER); i++) {
        const no = outTradeNo(i);
        const wechat = {
          line: i + 2,
          tradeTime: tradeTime(i),
          transactionId: txId(i),
          outTradeNo: no,
          tradeState: 'SUCCESS',
          amountFen: amountOf(i),
          feeFen: feeOf(i),
        };
        params.push(`pay:${no}`, 'surplus', no, null, JSON.stringify(wechat), null, amountOf(i));
      }
      return params;
    };
    let next = 0;
    const [db0, cpu0, t0] = [dbCpuMs(), process.cpuUsage(), performance.now()];
    await Promise.all(
      Array.from({ length: WRITERS }, async () => {
        const conn = await pool.getConnection();
        try {
          while (next < ROWS) {
            const from = next;
            next += 4 * PER;
            await conn.query('START TRANSACTION');
            for (let i = from; i < Math.min(ROWS, from + 4 * PER); i += PER) {
              const params = statement(i);
              const rows = params.length / COLUMNS.length;
              // as the run does: a full statement prepared, a remainder not
              if (rows === PER) await conn.execute(full, params);
              else await conn.query(insert(rows), params);
            }
            await conn.query('COMMIT');
          }
        } finally {
          conn.release();
        }
      }),
    );
    const cpu = process.cpuUsage(cpu0);
    const out = { secs: (performance.now() - t0) / 1000, cpuSecs: (cpu.user + cpu.system) / 1e6, dbSecs: (dbCpuMs() - db0) / 1000 };
    await pool.end();
    return out;
  } finally {
    await db.drop();
  }
}

/** run() of the bill date in a fresh process; its figures come back as one JSON line (or why it failed). */
async function timed(
  build: string,
  label: string,
  url: string | undefined,
  sqlitePath: string | undefined,
  file: string,
  tmp: string,
): Promise<Result | { failed: string; maxRss: number; secs: number }> {
  const t0 = performance.now();
  const db0 = dbCpuMs();
  // BENCH_CPU_PROF=<dir>: a V8 CPU profile of each child
  const prof = process.env.BENCH_CPU_PROF ? ['--cpu-prof', `--cpu-prof-dir=${path.resolve(process.env.BENCH_CPU_PROF)}`] : [];
  const child = spawn(process.execPath, [...(HEAP_MB ? [`--max-old-space-size=${HEAP_MB}`] : []), ...prof, path.join(__dirname, 'reconcile-child.mjs')], {
    stdio: ['ignore', 'pipe', 'inherit'],
    env: {
      ...process.env,
      NODE_OPTIONS: '',
      BENCH_BUILD: build,
      BENCH_BILL_DATE: BILL_DATE,
      BENCH_DB_URL: url ?? '',
      BENCH_SQLITE: sqlitePath ?? '',
      BENCH_FILE: file,
      BENCH_TMP: path.join(tmp, label),
    },
  });
  let hwm = 0;
  const watch = setInterval(() => (hwm = Math.max(hwm, vmHwm(child.pid!))), 100);
  let out = '';
  child.stdout.on('data', (d) => (out += d));
  const [code, signal] = await once(child, 'exit');
  clearInterval(watch);
  const line = out.split('\n').find((l) => l.startsWith('RESULT '));
  if (code !== 0 || !line)
    return { failed: `exit ${code ?? signal}${out.trim() ? `: ${out.trim().slice(-300)}` : ''}`, maxRss: hwm, secs: (performance.now() - t0) / 1000 };
  return { ...(JSON.parse(line.slice('RESULT '.length)) as Omit<Result, 'dbSecs'>), dbSecs: url ? (dbCpuMs() - db0) / 1000 : 0 };
}

run(async () => {
  const build = compiledServer();
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'recon-bench-'));
  const dbs: TestDatabase[] = [];
  try {
    const file = path.join(tmp, 'bill.csv');
    let t0 = performance.now();
    await writeBill(file);
    console.log(`bill: ${fmt(ROWS)} rows, ${mb(fs.statSync(file).size)} written in ${((performance.now() - t0) / 1000).toFixed(1)} s`);
    // ABBA: matched, nothing, nothing, matched, … (a machine slower in one half of the run slows both
    // sides alike). The matched side runs again on its database (the same work: the day's lease and
    // its totals; it has no discrepancies); each nothing-matched run gets a new, empty database.
    const order = Array.from({ length: ROUNDS }, (_, r) => (r % 2 === 0 ? (['matched', 'none'] as const) : (['none', 'matched'] as const))).flat();
    const results: Record<'matched' | 'none', Result[]> = { matched: [], none: [] };
    type Target = { db: TestDatabase; sqlitePath?: string };
    let matchedDb: Target | null = null;
    for (const [i, label] of order.entries()) {
      let target: Target | null = label === 'matched' ? matchedDb : null;
      if (!target) {
        const db = await createTestDatabase();
        dbs.push(db);
        target = { db, sqlitePath: db.url ? undefined : path.join(tmp, `db-${dbs.length}.sqlite`) };
        t0 = performance.now();
        if (label === 'matched') {
          await insertLedger(db.url, target.sqlitePath);
          matchedDb = target;
        } else {
          const ds = createDataSource({ url: db.url, sqlitePath: target.sqlitePath, synchronize: true });
          await ds.initialize();
          await ds.destroy();
        }
        console.log(`${label}: ledger of ${label === 'matched' ? fmt(ROWS) : 0} entries ready in ${((performance.now() - t0) / 1000).toFixed(1)} s (${DB})`);
      }
      const r = await timed(build, `${label}-${i}`, target.db.url, target.sqlitePath, file, tmp);
      if ('failed' in r) {
        console.log(`  ${label}: FAILED after ${r.secs.toFixed(1)} s (${r.failed}), peak RSS ${mb(r.maxRss)}`);
        summary(`reconciliation, ${fmt(ROWS)} rows (${DB})`, [
          {
            what: `${label === 'none' ? 'nothing' : 'all'} matched`,
            value: `FAILED after ${r.secs.toFixed(1)} s, peak RSS ${mb(r.maxRss)}: ${r.failed.slice(0, 120)}`,
          },
          { what: 'nothing matched', value: 'not measured', goal: '≤ 300 MB, ≤ 2 × all matched', pass: false },
        ]);
        return;
      }
      results[label].push(r);
      console.log(
        `  ${label}: ${r.secs.toFixed(2)} s (CPU ${r.cpuSecs.toFixed(1)} s node, ${r.sysSecs.toFixed(1)} s of it in the kernel, + ${r.dbSecs.toFixed(1)} s db), peak RSS ${mb(r.maxRss)}, matched ${fmt(r.matched)}, discrepancies ${fmt(r.discrepancies)}, day ${r.status}`,
      );
    }
    const floor = DB === 'mariadb' ? await bareWrites() : null;
    if (floor)
      console.log(
        `bare writes of the same discrepancies: ${floor.secs.toFixed(2)} s (CPU ${floor.cpuSecs.toFixed(1)} s node + ${floor.dbSecs.toFixed(1)} s db)`,
      );
    const { matched: ms, none: ns } = results;
    const secs = (rs: Result[]) => rs.reduce((t, r) => t + r.secs, 0);
    const each = (rs: Result[]) => rs.map((r) => r.secs.toFixed(2)).join(' / ');
    const cpu = (rs: Result[]) =>
      `${(rs.reduce((t, r) => t + r.cpuSecs, 0) / rs.length).toFixed(1)} s + ${(rs.reduce((t, r) => t + r.dbSecs, 0) / rs.length).toFixed(1)} s`;
    const worst = (rs: Result[]) => rs.reduce((a, b) => (b.maxRss > a.maxRss ? b : a));
    const [m, n] = [worst(ms), worst(ns)];
    const ratio = secs(ns) / secs(ms);
    summary(`reconciliation, ${fmt(ROWS)} rows (${DB}, ${ROUNDS} rounds ABBA)`, [
      { what: 'all matched: run() seconds', value: `${each(ms)} s (${fmt((ROWS * ms.length) / secs(ms))} rows/s)` },
      { what: '  CPU per run: node + database', value: cpu(ms) },
      { what: '  peak RSS (process / sampled in run)', value: `${mb(m.maxRss)} / ${mb(m.peakRss)} (before ${mb(m.rssBefore)})` },
      { what: '  matched / discrepancies', value: `${fmt(m.matched)} / ${fmt(m.discrepancies)}` },
      { what: 'nothing matched: run() seconds', value: `${each(ns)} s (${fmt((ROWS * ns.length) / secs(ns))} rows/s)` },
      { what: '  matched / discrepancies', value: `${fmt(n.matched)} / ${fmt(n.discrepancies)}` },
      { what: '  CPU per run: node + database', value: cpu(ns) },
      {
        what: '  peak RSS, worst run (process / sampled in run)',
        value: `${mb(n.maxRss)} / ${mb(n.peakRss)} (before ${mb(n.rssBefore)})`,
        goal: '≤ 300 MB',
        pass: n.maxRss <= GOAL_RSS,
      },
      { what: 'peak RSS nothing / all matched', value: `${fmt(n.maxRss / m.maxRss, 2)}×` },
      ...(floor
        ? [
            {
              what: 'bare mysql2 writes of the same rows (floor)',
              value: `${floor.secs.toFixed(2)} s (CPU ${floor.cpuSecs.toFixed(1)} s + ${floor.dbSecs.toFixed(1)} s)`,
            },
            { what: '(all matched + bare writes) / all matched', value: `${fmt((secs(ms) / ms.length + floor.secs) / (secs(ms) / ms.length), 2)}×` },
          ]
        : []),
      { what: 'time nothing / all matched (totals)', value: `${fmt(ratio, 2)}×`, goal: `≤ ${GOAL_TIME}×`, pass: ratio <= GOAL_TIME },
    ]);
  } finally {
    if (process.env.BENCH_KEEP_DB) console.log('kept databases', dbs.map((d) => d.url).join(' '));
    else for (const d of dbs) await d.drop();
    fs.rmSync(tmp, { recursive: true, force: true });
  }
});
