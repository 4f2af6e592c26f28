/**
 * Household import benchmark: generate an XLSX of BENCH_ROWS households (default 100,000; 20 areas'
 * worth of buildings, 2 units, 5% with arrears of last season), import it into an empty company,
 * then import it again (every row an update). Prints time and rows/s of each run. Asserts nothing.
 *
 *   npm run bench:import                                   # SQLite temp file
 *   BENCH_DB=mariadb npm run bench:import                  # TEST_DATABASE_URL, default mariadb://root@127.0.0.1:3306
 *
 * Goal of the issue: 100,000 rows in under 60 s on MariaDB.
 *
 * Figures (2 cores, node 20, 2026-11-25), 100,000 rows, 5.8 MB XLSX:
 *   MariaDB  first import 9.6 s (~10,500 rows/s: reading 3.2 s, validating 0.6 s, writing 5.8 s); re-import 10.4 s
 *   SQLite   first import 11.8 s (~8,500 rows/s); re-import 8.7 s
 */
import 'reflect-metadata';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';

const ROWS = Number(process.env.BENCH_ROWS ?? 100_000);
const DB = process.env.BENCH_DB ?? 'sqlite';
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

const SURNAMES = '王李张刘陈杨赵黄周吴徐孙胡朱高林何郭马罗';
const GIVEN = ['建国', '秀英', '桂兰', '志强', '海燕', '丽华', '明', '伟', '静', '磊'];

async function writeFile(file: string, ownerSuffix: string) {
  const wb = new ExcelJS.stream.xlsx.WorkbookWriter({ filename: file, useSharedStrings: false, useStyles: false });
  const ws = wb.addWorksheet('住户');
  ws.columns = [...HOUSEHOLD_COLUMNS.map((c) => ({ header: c.header, key: c.key })), { header: arrearsHeader('2025-2026'), key: 'arrears' }];
  // 2 units × 18 floors × 4 rooms = 144 households per building
  for (let i = 0; i < ROWS; i++) {
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

async function main() {
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'import-bench-'));
  const db = await createTestDatabase();
  const ds = createDataSource({ url: db.url, sqlitePath: db.url ? undefined : path.join(tmp, 'bench.sqlite'), synchronize: true });
  await ds.initialize();
  try {
    const clock = () => new Date();
    const company = new CompanyService(ds);
    await company.ensure('基准热力', '0431-00000');
    for (let a = 1; a <= 20; a++) await company.createArea(`A${String(a).padStart(2, '0')}`, `基准片区${a}`);
    // the bench binds no resident: no identity needed
    // no module reacts to the import's events here (no groups): a bus with no reactions
    const events = new EventBus(new OutboxWorker(ds, createLogger('warn'), clock), clock);
    events.wire([]);
    const accounts = new AccountsService(ds, clock, new Limiter(ds, clock, DEFAULT_LIMITS, async () => ''), { identity: { lockResident: async () => undefined }, company, events });
    const billing = new BillingService(ds, accounts, clock, events);
    await billing.createSeason({ code: '2025-2026', startDate: '2025-11-01', endDate: '2026-04-01', dueDate: '2025-12-31', tariffs: { residential: 2700, commercial: 3800 }, baseFeeRatioBp: 3000 });
    const importer = new HouseholdImporter({ ds, clock, log: createLogger('warn'), company, accounts, billing });

    for (const [run, suffix] of [['first import (all new)', ''], ['re-import (all updates)', '改']] as const) {
      const file = path.join(tmp, `households-${suffix || 'a'}.xlsx`);
      let t0 = performance.now();
      await writeFile(file, suffix);
      const genS = (performance.now() - t0) / 1000;
      const job = await importer.createJob({ fileName: path.basename(file), format: 'xlsx', dryRun: false, createdBy: null });
      let phase = '';
      const phases: Record<string, number> = {};
      let phaseStart = performance.now();
      t0 = performance.now();
      const done = await importer.run(job.id, file, CLI_ACTOR, (p) => {
        if (p.state !== phase) {
          if (phase) phases[phase] = (performance.now() - phaseStart) / 1000;
          phase = p.state;
          phaseStart = performance.now();
        }
      });
      if (phase) phases[phase] = (performance.now() - phaseStart) / 1000;
      const s = (performance.now() - t0) / 1000;
      if (done.state !== "done") throw new Error(`${run}: ${done.state} ${done.error ?? ""} ${JSON.stringify(await importer.issues(done.id, 5))}`);
      console.log(
        `${DB} ${run}: ${ROWS} rows (${(fs.statSync(file).size / 1e6).toFixed(1)} MB xlsx, generated in ${genS.toFixed(1)} s) imported in ${s.toFixed(1)} s = ${Math.round(ROWS / s)} rows/s` +
          `  [${Object.entries(phases).map(([k, v]) => `${k} ${v.toFixed(1)}s`).join(', ')}]  ${JSON.stringify(done.summary)}`,
      );
    }
  } finally {
    await ds.destroy();
    await db.drop();
    fs.rmSync(tmp, { recursive: true, force: true });
  }
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
