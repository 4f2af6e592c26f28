/**
 * `npm run import -- households.xlsx [--dry-run]`: import buildings, units and heating accounts
 * (with arrears) from the billing system's XLSX or CSV into the configured database, with a
 * progress line on stderr. Same checks and the same all-or-nothing write as the admin page: any
 * bad row → every problem is listed (row numbers as in Excel) and nothing is written.
 * Exit code 0 when imported (or the dry run found no problem), 1 when rejected or failed.
 */
import 'reflect-metadata';
import fs from 'node:fs';
import path from 'node:path';
import { IMPORT_STATE_LABEL } from '@heat-butler/shared';
import { loadConfig } from '../config';
import { createDataSource } from '../db';
import { createLogger } from '../platform/logger';
import { createServices } from '../app';
import { createClients } from '../host';
import { CLI_ACTOR } from '../modules/admin';
import { formatOf } from '../modules/admin';
import type { ImportProgress } from '../modules/admin';

function progressLine(p: ImportProgress) {
  const label = IMPORT_STATE_LABEL[p.state];
  if (!process.stderr.isTTY) return;
  if (p.state === 'writing' && p.total) {
    const ratio = Math.min(1, p.processed / p.total);
    const n = Math.round(ratio * 30);
    process.stderr.write(`\r${label} [${'#'.repeat(n)}${'.'.repeat(30 - n)}] ${(ratio * 100).toFixed(0).padStart(3)}%  ${p.processed}/${p.total} 户\x1b[K`);
  } else {
    process.stderr.write(`\r${label}  ${p.processed} 行\x1b[K`);
  }
}

async function main() {
  const args = process.argv.slice(2).filter((a) => a !== '--');
  const dryRun = args.includes('--dry-run');
  const arg = args.find((a) => !a.startsWith('--'));
  // npm runs scripts from the package root: resolve the path from where the command was typed
  const file = arg ? path.resolve(process.env.INIT_CWD ?? process.cwd(), arg) : undefined;
  if (!file) {
    console.error('用法：npm run import -- households.xlsx [--dry-run]');
    process.exit(2);
  }
  if (!fs.existsSync(file)) {
    console.error(`找不到文件：${file}`);
    process.exit(2);
  }
  // a command line is quieter than the server: LOG_LEVEL defaults to warn here
  const config = loadConfig({ LOG_LEVEL: 'warn', ...process.env });
  const log = createLogger(config.LOG_LEVEL);
  const ds = createDataSource({ url: config.DATABASE_URL, sqlitePath: config.SQLITE_PATH });
  await ds.initialize(); // the server migrates; this writes accounts, bills and the job
  const services = createServices({ config, ds, log, clock: () => new Date(), ...createClients(config, undefined, undefined, ds) });
  const job = await services.admin.imports.createJob({ fileName: path.basename(file), format: formatOf(file), dryRun, createdBy: null });
  let last = '';
  const done = await services.admin.imports.run(job.id, file, CLI_ACTOR, (p) => {
    if (process.stderr.isTTY) progressLine(p);
    else if (p.state !== last) process.stderr.write(`${IMPORT_STATE_LABEL[p.state]} …\n`);
    last = p.state;
  });
  if (process.stderr.isTTY) process.stderr.write('\r\x1b[K');
  const view = await services.admin.imports.view(done.id, 200);
  if (view.state === 'done' && view.summary) {
    const s = view.summary;
    console.log(
      `${dryRun ? '校验通过（未写入）' : '导入完成'}：${s.rows} 行，新建楼栋 ${s.buildingsCreated}、更新楼栋 ${s.buildingsUpdated}、新建单元 ${s.unitsCreated}、新建户 ${s.accountsCreated}、更新户 ${s.accountsUpdated}、欠费账单 ${s.arrearsBills}，用时 ${s.seconds} 秒`,
    );
  } else if (view.state === 'rejected') {
    console.log(
      `校验未通过，未写入任何数据：共 ${view.issueCount} 处问题${view.issueCount > view.issues.length ? `（以下列出前 ${view.issues.length} 处，完整报告见管理后台导入记录 #${view.id}）` : ''}`,
    );
    for (const i of view.issues) console.log(`第${i.row}行  ${i.column || '-'}  ${i.value ? `“${i.value}” ` : ''}${i.message}`);
  } else {
    console.log(`导入失败，未写入任何数据：${view.error ?? view.stateLabel}`);
  }
  await ds.destroy();
  process.exit(view.state === 'done' ? 0 : 1);
}

main().catch((err) => {
  console.error(err?.message ?? err);
  process.exit(1);
});
