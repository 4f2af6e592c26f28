/**
 * Household import: 1,000,000 rows within the time goal, memory flat. An XLSX of ROWS households
 * (20 areas' worth of buildings, 2 units × 18 floors × 4 rooms each, 5% with arrears of last season)
 * is imported into an empty company (a prepared database: 20 areas, last season) by the production
 * command, compiled: `node dist/server/server/cli/import.js <file>` (what `npm run import` runs under
 * tsx; the admin page runs the same HouseholdImporter), built first when the sources are newer
 * (`npm run build`; BENCH_BUILD=<dir of main.js> uses another build). The time is the command's, start
 * to exit. The same is done in the same run with a file a tenth the size, so that "flat" is a ratio:
 * peak RSS (the command's VmHWM) at ROWS against peak RSS at ROWS/10. With --reimport the big file is
 * imported a second time (every row an update).
 *
 *   npm run bench:import [-- --rows 100000] [--reimport]
 *   BENCH_DB=sqlite npm run bench:import …    (temp SQLite files instead of MariaDB)
 *
 * MariaDB: TEST_DATABASE_URL (default mariadb://root@127.0.0.1:3306); a database hb_t_<random> per
 * import, created and dropped.
 * The command runs with --max-old-space-size=HEAP (--heap, default 256 MB), so that its RSS follows
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
import { HOUSEHOLD_COLUMNS, IMPORT_STATE_LABEL, arrearsHeader } from '@heat-butler/shared';
import { createDataSource } from '../server/src/db';
import { createTestDatabase } from '../server/src/test-support/db';
import { createLogger } from '../server/src/platform/logger';
import { CompanyService } from '../server/src/modules/company/service';
import { AccountsService } from '../server/src/modules/accounts/service';
import { DEFAULT_LIMITS, Limiter } from '../server/src/platform/limits';
import { EventBus } from '../server/src/platform/events';
import { OutboxWorker } from '../server/src/platform/outbox';
import { BillingService } from '../server/src/modules/billing/service';
import { ImportJob } from '../server/src/modules/admin/entities';
import { compiledServer, flag, fmt, mb, procRssBytes, run, summary, vmHwm } from './lib';

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
  /** the command's wall time, start to exit (node's start-up included) */
  secs: number;
  /** the child's peak RSS (VmHWM, read until it exits) */
  maxRss: number;
  /** seconds of each state the command reported (its progress lines) */
  phases: Record<string, number>;
  /** peak RSS sampled in each phase */
  phaseRss: Record<string, number>;
  summary: unknown;
}

const STATE_OF_LABEL = new Map(Object.entries(IMPORT_STATE_LABEL).map(([state, label]) => [label, state]));

/**
 * A fresh database with what an import needs first (as an operator has it before importing): the
 * schema, a company with 20 areas and last season. Set up here, not by the command measured.
 */
async function prepareDatabase(url: string | undefined, sqlitePath: string) {
  const ds = createDataSource({ url, sqlitePath: url ? undefined : sqlitePath, synchronize: true });
  await ds.initialize();
  try {
    const clock = () => new Date();
    const company = new CompanyService(ds);
    await company.ensure('基准热力', '0431-00000');
    for (let a = 1; a <= 20; a++) await company.createArea(`A${String(a).padStart(2, '0')}`, `基准片区${a}`);
    const events = new EventBus(new OutboxWorker(ds, createLogger('warn'), clock), clock);
    events.wire([]);
    const accounts = new AccountsService(ds, clock, new Limiter(ds, clock, DEFAULT_LIMITS, async () => ''), {
      identity: { lockResident: async () => undefined },
      company,
      events,
    });
    await new BillingService(ds, accounts, clock, events).createSeason({
      code: '2025-2026',
      startDate: '2025-11-01',
      endDate: '2026-04-01',
      dueDate: '2025-12-31',
      tariffs: { residential: 2700, commercial: 3800 },
      baseFeeRatioBp: 3000,
    });
  } finally {
    await ds.destroy();
  }
}

/**
 * The production import command on one file: `node --enable-source-maps <build>/cli/import.js
 * <file>` (what `npm run import` runs, compiled, as an operator runs it on a server), its heap
 * limited; phases from its progress lines, RSS from /proc while it runs.
 */
async function importCommand(build: string, file: string, env: Record<string, string>, readSummary: () => Promise<unknown>): Promise<Result> {
  const t0 = performance.now();
  const child = spawn(process.execPath, [`--max-old-space-size=${HEAP_MB}`, '--enable-source-maps', path.join(build, 'cli', 'import.js'), file], {
    stdio: ['ignore', 'pipe', 'pipe'],
    env: { ...process.env, NODE_OPTIONS: '', LOG_LEVEL: 'warn', ...env },
  });
  let phase = '';
  let phaseStart = t0;
  let maxRss = 0;
  const phases: Record<string, number> = {};
  const phaseRss: Record<string, number> = {};
  const sampler = setInterval(() => {
    maxRss = Math.max(maxRss, vmHwm(child.pid!));
    const rss = procRssBytes(child.pid!);
    phaseRss[phase || 'starting'] = Math.max(phaseRss[phase || 'starting'] ?? 0, rss);
  }, 20);
  let out = '';
  let err = '';
  child.stdout.on('data', (d) => (out += d));
  child.stderr.on('data', (d) => {
    err += d;
    // one line per state: "<中文 label> …"
    for (const line of String(d).split('\n')) {
      const state = STATE_OF_LABEL.get(line.replace(/ …$/, '').trim());
      if (!state || state === phase) continue;
      const at = performance.now();
      if (phase) phases[phase] = (at - phaseStart) / 1000;
      phase = state;
      phaseStart = at;
    }
  });
  const [code] = await once(child, 'exit');
  clearInterval(sampler);
  const secs = (performance.now() - t0) / 1000;
  if (phase && !(phase in phases)) phases[phase] = (performance.now() - phaseStart) / 1000;
  if (code !== 0) throw new Error(`the import command failed (exit ${code})\n${out}\n${err.slice(-2000)}`);
  return { secs, maxRss, phases, phaseRss, summary: await readSummary() };
}

/** Import `files` one after the other into one fresh, prepared database with the compiled command; the figures of each. */
async function importAll(build: string, files: string[]): Promise<Result[]> {
  const db = await createTestDatabase();
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'import-bench-db-'));
  const sqlitePath = path.join(tmp, 'bench.sqlite');
  try {
    await prepareDatabase(db.url, sqlitePath);
    const env: Record<string, string> = db.url ? { DATABASE_URL: db.url } : { SQLITE_PATH: sqlitePath };
    const readSummary = async () => {
      const ds = createDataSource({ url: db.url, sqlitePath: db.url ? undefined : sqlitePath });
      await ds.initialize();
      try {
        const [job] = await ds.getRepository(ImportJob).find({ order: { id: 'DESC' }, take: 1 });
        return job?.summary;
      } finally {
        await ds.destroy();
      }
    };
    const out: Result[] = [];
    for (const file of files) out.push(await importCommand(build, file, env, readSummary));
    return out;
  } finally {
    await db.drop();
    fs.rmSync(tmp, { recursive: true, force: true });
  }
}

run(async () => {
  const build = compiledServer();
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'import-bench-'));
  try {
    const small = Math.max(1000, Math.round(ROWS / 10));
    const files = { big: path.join(tmp, 'big.xlsx'), small: path.join(tmp, 'small.xlsx'), again: path.join(tmp, 'again.xlsx') };
    let t0 = performance.now();
    await writeFile(files.big, ROWS, '');
    await writeFile(files.small, small, '');
    if (REIMPORT) await writeFile(files.again, ROWS, '改');
    console.log(
      `files: ${fmt(ROWS)} rows (${mb(fs.statSync(files.big).size)}) and ${fmt(small)} rows written in ${((performance.now() - t0) / 1000).toFixed(1)} s; importing each with the compiled command (${DB})…`,
    );
    t0 = performance.now();
    const [s] = await importAll(build, [files.small]);
    console.log(`  ${fmt(small)} rows: ${s!.secs.toFixed(1)} s, peak RSS ${mb(s!.maxRss)}`);
    const [b, again] = await importAll(build, REIMPORT ? [files.big, files.again] : [files.big]);
    console.log(`  ${fmt(ROWS)} rows: ${b!.secs.toFixed(1)} s, peak RSS ${mb(b!.maxRss)}`);
    const phases = (r: Result) =>
      Object.entries(r.phases)
        .map(([k, v]) => `${k} ${v.toFixed(1)} s (peak ${mb(r.phaseRss[k] ?? 0)})`)
        .join(', ');
    summary(`household import (${DB}, XLSX, the compiled command, heap limit ${HEAP_MB} MB)`, [
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
