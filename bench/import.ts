/**
 * Household import: 1,000,000 rows within the time goal, memory flat. An XLSX of ROWS households
 * (20 areas' worth of buildings, 2 units × 18 floors × 4 rooms each, 5% with arrears of last season)
 * is imported into an empty company by HouseholdImporter.run() (what the admin page and
 * `npm run import` do) in a fresh child process that reports its own peak RSS; the same is done in
 * the same run with a file a tenth the size (peak RSS: the child's VmHWM), so that "flat" is a ratio: peak RSS at ROWS against
 * peak RSS at ROWS/10. With --reimport the big file is imported a second time (every row an update).
 *
 *   npm run bench:import [-- --rows 100000] [--reimport]
 *   BENCH_DB=sqlite npm run bench:import …    (temp SQLite files instead of MariaDB)
 *
 * MariaDB: TEST_DATABASE_URL (default mariadb://root@127.0.0.1:3306); a database hb_t_<random> per
 * import, created and dropped.
 * Each child runs with --max-old-space-size=HEAP (--heap, default 256 MB), so that its RSS follows
 * what it holds rather than how lazily V8 collects (without it, RSS wanders by ~100 MB with GC
 * timing alone); an import that held every row would run out of that heap at 1,000,000 rows.
 * Goals of issue 18 (2 cores): ROWS = 1,000,000 imported in ≤ 120 s; memory flat, read here as peak
 * RSS at ROWS ≤ 1.25 × peak RSS at ROWS/10.
 */
import 'reflect-metadata';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { once } from 'node:events';
import { spawn } from 'node:child_process';

const DB = process.env.BENCH_DB ?? 'mariadb';
if (DB === 'mariadb') process.env.TEST_DATABASE_URL ??= 'mariadb://root@127.0.0.1:3306';

import ExcelJS from 'exceljs';
import { HOUSEHOLD_COLUMNS, arrearsHeader } from '@heat-butler/shared';
import { createDataSource } from '../server/src/db';
import { createTestDatabase } from '../server/src/test-support/db';
import { createLogger } from '../server/src/platform/logger';
import { CompanyService } from '../server/src/modules/company/service';
import { AccountsService } from '../server/src/modules/accounts/service';
import { DEFAULT_LIMITS, Limiter } from '../server/src/platform/limits';
import { EventBus } from '../server/src/platform/events';
import { OutboxWorker } from '../server/src/platform/outbox';
import { BillingService } from '../server/src/modules/billing/service';
import { HouseholdImporter } from '../server/src/modules/admin/import';
import { CLI_ACTOR } from '../server/src/modules/admin/audit';
import { flag, fmt, mb, peakRss, run, summary } from './lib';

const ROWS = flag('rows', 1_000_000, 'BENCH_ROWS');
const REIMPORT = process.argv.includes('--reimport');
const GOAL_SECONDS = 120;
const GOAL_FLAT = 1.25;
/** the child's V8 old-space limit (MB): RSS then follows live memory, not GC slack; an import holding its rows would run out of it */
const HEAP_MB = flag('heap', 256);

const SURNAMES = '王李张刘陈杨赵黄周吴徐孙胡朱高林何郭马罗';
const GIVEN = ['建国', '秀英', '桂兰', '志强', '海燕', '丽华', '明', '伟', '静', '磊'];

async function writeFile(file: string, rows: number, ownerSuffix: string) {
  const wb = new ExcelJS.stream.xlsx.WorkbookWriter({ filename: file, useSharedStrings: false, useStyles: false });
  const ws = wb.addWorksheet('住户');
  ws.columns = [...HOUSEHOLD_COLUMNS.map((c) => ({ header: c.header, key: c.key })), { header: arrearsHeader('2025-2026'), key: 'arrears' }];
  // 2 units × 18 floors × 4 rooms = 144 households per building
  for (let i = 0; i < rows; i++) {
    const b = Math.floor(i / 144);
    const inB = i % 144;
    const unit = 1 + Math.floor(inB / 72);
    const floor = 1 + Math.floor((inB % 72) / 4);
    const room = `${floor}${String(1 + (inB % 4)).padStart(2, '0')}`;
    ws.addRow({
      accountNo: `B${String(i).padStart(9, '0')}`,
      areaCode: `A${String(1 + (b % 20)).padStart(2, '0')}`,
      buildingName: `${b + 1}号楼`,
      buildingAddress: `长春市朝阳区基准路${1 + (b % 20)}号基准小区`,
      unitNo: String(unit),
      roomNo: room,
      ownerName: SURNAMES[i % SURNAMES.length]! + GIVEN[i % GIVEN.length]! + ownerSuffix,
      contactPhone: `139${String(i).padStart(8, '0')}`,
      heatedArea: (60 + (i % 9000) / 100).toFixed(2),
      use: i % 50 === 0 ? '非居民' : '居民',
      status: i % 33 === 0 ? '已报停' : '正常供热',
      arrears: i % 20 === 0 ? (1000 + (i % 3000) / 100).toFixed(2) : '',
    }).commit();
  }
  ws.commit();
  await wb.commit();
}

interface Result {
  secs: number;
  maxRss: number;
  rssBefore: number;
  phases: Record<string, number>;
  /** peak RSS sampled in each phase */
  phaseRss: Record<string, number>;
  summary: unknown;
}

/** Import `files` one after the other into one fresh database, in a child process; its figures back. */
async function importInChild(files: string[]): Promise<Result[]> {
  const db = await createTestDatabase();
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'import-bench-db-'));
  try {
    const child = spawn(process.execPath, [...process.execArgv, `--max-old-space-size=${HEAP_MB}`, __filename], {
      stdio: ['ignore', 'pipe', 'inherit'],
      env: {
        ...process.env,
        BENCH_PHASE: 'import',
        BENCH_DB_URL: db.url ?? '',
        BENCH_SQLITE: path.join(tmp, 'bench.sqlite'),
        BENCH_FILES: JSON.stringify(files),
      },
    });
    let out = '';
    child.stdout.on('data', (d) => (out += d));
    const [code] = await once(child, 'exit');
    const results = out
      .split('\n')
      .filter((l) => l.startsWith('RESULT '))
      .map((l) => JSON.parse(l.slice('RESULT '.length)) as Result);
    if (code !== 0 || results.length !== files.length) throw new Error(`the import failed (exit ${code})\n${out}`);
    return results;
  } finally {
    await db.drop();
    fs.rmSync(tmp, { recursive: true, force: true });
  }
}

run(async () => {
  if (process.env.BENCH_PHASE === 'import') return importPhase();
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'import-bench-'));
  try {
    const small = Math.max(1000, Math.round(ROWS / 10));
    const files = { big: path.join(tmp, 'big.xlsx'), small: path.join(tmp, 'small.xlsx'), again: path.join(tmp, 'again.xlsx') };
    let t0 = performance.now();
    await writeFile(files.big, ROWS, '');
    await writeFile(files.small, small, '');
    if (REIMPORT) await writeFile(files.again, ROWS, '改');
    console.log(
      `files: ${fmt(ROWS)} rows (${mb(fs.statSync(files.big).size)}) and ${fmt(small)} rows written in ${((performance.now() - t0) / 1000).toFixed(1)} s; importing each in a child process (${DB})…`,
    );
    t0 = performance.now();
    const [s] = await importInChild([files.small]);
    console.log(`  ${fmt(small)} rows: ${s!.secs.toFixed(1)} s, peak RSS ${mb(s!.maxRss)}`);
    const [b, again] = await importInChild(REIMPORT ? [files.big, files.again] : [files.big]);
    console.log(`  ${fmt(ROWS)} rows: ${b!.secs.toFixed(1)} s, peak RSS ${mb(b!.maxRss)}`);
    const phases = (r: Result) =>
      Object.entries(r.phases)
        .map(([k, v]) => `${k} ${v.toFixed(1)} s (peak ${mb(r.phaseRss[k] ?? 0)})`)
        .join(', ');
    summary(`household import (${DB}, XLSX, child heap limit ${HEAP_MB} MB)`, [
      { what: `${fmt(small)} rows`, value: `${s!.secs.toFixed(1)} s (${fmt(small / s!.secs)} rows/s), peak RSS ${mb(s!.maxRss)}` },
      { what: `${fmt(ROWS)} rows`, value: `${b!.secs.toFixed(1)} s (${fmt(ROWS / b!.secs)} rows/s), peak RSS ${mb(b!.maxRss)}` },
      { what: '  phases', value: phases(s!) },
      { what: '  phases', value: phases(b!) },
      { what: '  summary', value: JSON.stringify(b!.summary) },
      ...(again ? [{ what: `re-import ${fmt(ROWS)} rows (updates)`, value: `${again.secs.toFixed(1)} s, ${phases(again)}` }] : []),
      { what: `${fmt(ROWS)} rows time`, value: `${b!.secs.toFixed(1)} s`, goal: `≤ ${GOAL_SECONDS} s`, pass: b!.secs <= GOAL_SECONDS },
      {
        what: `peak RSS ${fmt(ROWS)} / ${fmt(small)} rows`,
        value: `${fmt(b!.maxRss / s!.maxRss, 2)}×`,
        goal: `≤ ${GOAL_FLAT}× (flat)`,
        pass: b!.maxRss / s!.maxRss <= GOAL_FLAT,
      },
    ]);
  } finally {
    fs.rmSync(tmp, { recursive: true, force: true });
  }
});

/** In the child: an empty company with 20 areas and last season, then HouseholdImporter.run() of each file. */
async function importPhase() {
  const url = process.env.BENCH_DB_URL || undefined;
  const ds = createDataSource({ url, sqlitePath: url ? undefined : process.env.BENCH_SQLITE, synchronize: true });
  await ds.initialize();
  const clock = () => new Date();
  const company = new CompanyService(ds);
  await company.ensure('基准热力', '0431-00000');
  for (let a = 1; a <= 20; a++) await company.createArea(`A${String(a).padStart(2, '0')}`, `基准片区${a}`);
  // the bench binds no resident: no identity needed; no module reacts to the import's events here
  // (no groups): a bus with no reactions
  const events = new EventBus(new OutboxWorker(ds, createLogger('warn'), clock), clock);
  events.wire([]);
  const accounts = new AccountsService(ds, clock, new Limiter(ds, clock, DEFAULT_LIMITS, async () => ''), {
    identity: { lockResident: async () => undefined },
    company,
    events,
  });
  const billing = new BillingService(ds, accounts, clock, events);
  await billing.createSeason({
    code: '2025-2026',
    startDate: '2025-11-01',
    endDate: '2026-04-01',
    dueDate: '2025-12-31',
    tariffs: { residential: 2700, commercial: 3800 },
    baseFeeRatioBp: 3000,
  });
  const importer = new HouseholdImporter({ ds, clock, log: createLogger('warn'), company, accounts, billing });
  (global as any).gc?.();
  const rssBefore = process.memoryUsage().rss;
  for (const file of JSON.parse(process.env.BENCH_FILES!) as string[]) {
    const job = await importer.createJob({ fileName: path.basename(file), format: 'xlsx', dryRun: false, createdBy: null });
    let phase = '';
    const phases: Record<string, number> = {};
    const phaseRss: Record<string, number> = {};
    let ticks = 0;
    const sampler = setInterval(() => {
      const m = process.memoryUsage();
      phaseRss[phase] = Math.max(phaseRss[phase] ?? 0, m.rss);
      // BENCH_MEMLOG=1: where the memory is, every 2 s (stderr)
      if (process.env.BENCH_MEMLOG && ++ticks % 100 === 0)
        console.error(`  [${phase}] rss ${mb(m.rss)} heap ${mb(m.heapUsed)}/${mb(m.heapTotal)} external ${mb(m.external)} buffers ${mb(m.arrayBuffers)}`);
    }, 20);
    let phaseStart = performance.now();
    const t0 = performance.now();
    const done = await importer.run(job.id, file, CLI_ACTOR, (p) => {
      if (p.state === phase) return;
      if (phase) phases[phase] = (performance.now() - phaseStart) / 1000;
      phase = p.state;
      phaseStart = performance.now();
    });
    if (phase) phases[phase] = (performance.now() - phaseStart) / 1000;
    clearInterval(sampler);
    const secs = (performance.now() - t0) / 1000;
    if (done.state !== 'done') throw new Error(`${file}: ${done.state} ${done.error ?? ''} ${JSON.stringify(await importer.issues(done.id, 5))}`);
    const result: Result = { secs, maxRss: peakRss(), rssBefore, phases, phaseRss, summary: done.summary };
    process.stdout.write(`RESULT ${JSON.stringify(result)}\n`);
  }
  await ds.destroy();
}
