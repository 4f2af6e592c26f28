/**
 * `npm run reconcile -- 2026-11-20` (or a range `2026-11-01..2026-11-20`, or several arguments):
 * reconcile WeChat Pay trade bills against the ledger of the configured database, with a progress
 * line on stderr and a summary table on stdout. Same service as the daily job and the finance
 * page. Exit code 0 when every day ran (differences included), 1 when a day could not be fetched.
 * In sandbox mode WeChat is the running BFF's simulator (WXPAY_API_BASE, default the local port).
 */
import 'reflect-metadata';
import { DateTime } from 'luxon';
import { BillDate, DISCREPANCY_KIND_LABELS, fenToYuanString, RECON_DAY_STATUS_LABELS, type ReconDayDetail } from '@heat-butler/shared';
import { loadConfig } from '../config';
import { createDataSource } from '../db';
import { createLogger } from '../platform/logger';
import { AppError } from '../platform/errors';
import { createServices } from '../app';
import { createClients } from '../host';
import type { RunProgress } from '../modules/reconciliation';

function datesOf(args: string[]): string[] {
  const out: string[] = [];
  for (const arg of args) {
    const [a, b] = arg.split('..');
    for (const d of [a, b ?? a]) if (!BillDate.safeParse(d).success) throw new Error(`不是有效的日期：${d}（格式 YYYY-MM-DD 或 YYYY-MM-DD..YYYY-MM-DD）`);
    let d = DateTime.fromISO(a!);
    const end = DateTime.fromISO(b ?? a!);
    if (end < d) throw new Error(`日期范围颠倒：${arg}`);
    if (end.diff(d, 'days').days > 366) throw new Error(`日期范围不能超过一年：${arg}`);
    for (; d <= end; d = d.plus({ days: 1 })) out.push(d.toFormat('yyyy-LL-dd'));
  }
  return [...new Set(out)];
}

/** display width: CJK characters take two columns */
const width = (s: string) =>
  [...s].reduce((w, ch) => w + (/[\u1100-\u115f\u2e80-\ua4cf\uac00-\ud7a3\uf900-\ufaff\ufe30-\ufe4f\uff00-\uff60\uffe0-\uffe6]/.test(ch) ? 2 : 1), 0);
const pad = (s: string, w: number, right = false) => (right ? ' '.repeat(Math.max(0, w - width(s))) + s : s + ' '.repeat(Math.max(0, w - width(s))));

function table(head: string[], rows: string[][], rightAligned: number[]) {
  const w = head.map((h, i) => Math.max(width(h), ...rows.map((r) => width(r[i] ?? ''))));
  const line = (cells: string[]) => cells.map((c, i) => pad(c, w[i]!, rightAligned.includes(i))).join('  ');
  return [line(head), w.map((n) => '-'.repeat(n)).join('  '), ...rows.map(line)].join('\n');
}

function progressBar(date: string, p: RunProgress) {
  if (!process.stderr.isTTY) return;
  const ratio = p.totalBytes ? Math.min(1, p.bytesRead / p.totalBytes) : 1;
  const n = Math.round(ratio * 30);
  process.stderr.write(`\r${date} [${'#'.repeat(n)}${'.'.repeat(30 - n)}] ${(ratio * 100).toFixed(0).padStart(3)}%  ${p.rows} 行`);
}

async function main() {
  const args = process.argv.slice(2).filter((a) => a !== '--');
  if (!args.length) {
    console.error('用法：npm run reconcile -- 2026-11-20 | 2026-11-01..2026-11-20');
    process.exit(2);
  }
  const dates = datesOf(args);
  // a command line is quieter than the server: LOG_LEVEL defaults to warn here
  const config = loadConfig({ LOG_LEVEL: 'warn', ...process.env });
  const log = createLogger(config.LOG_LEVEL);
  const ds = createDataSource({ url: config.DATABASE_URL, sqlitePath: config.SQLITE_PATH });
  await ds.initialize(); // the server migrates; this only reads the ledger and writes reconciliation rows
  const services = createServices({ config, ds, log, clock: () => new Date(), ...createClients(config, undefined, undefined, ds) });

  const rows: string[][] = [];
  let failed = 0;
  for (const [i, date] of dates.entries()) {
    if (!process.stderr.isTTY) process.stderr.write(`[${i + 1}/${dates.length}] ${date} …\n`);
    const started = Date.now();
    let r: ReconDayDetail | null = null;
    let problem = '';
    try {
      r = await services.reconciliation.run(date, { onProgress: (p) => progressBar(`[${i + 1}/${dates.length}] ${date}`, p) });
    } catch (err) {
      failed++;
      problem = err instanceof AppError ? `${err.code}: ${err.message}` : String((err as Error)?.message ?? err);
    }
    if (process.stderr.isTTY) process.stderr.write('\r\x1b[K');
    const secs = ((Date.now() - started) / 1000).toFixed(1);
    if (!r) {
      rows.push([date, '未对账', '', '', '', '', '', '', problem.slice(0, 60), secs]);
      continue;
    }
    const w = r.wechat!;
    const open = r.discrepancies.filter((d) => d.status === 'open');
    const kinds = Object.entries(
      open.reduce<Record<string, number>>((m, d) => ((m[DISCREPANCY_KIND_LABELS[d.kind]] = (m[DISCREPANCY_KIND_LABELS[d.kind]] ?? 0) + 1), m), {}),
    )
      .map(([k, n]) => `${k}${n}`)
      .join(' ');
    rows.push([
      date,
      RECON_DAY_STATUS_LABELS[r.status],
      String(w.paymentCount),
      fenToYuanString(w.paymentFen),
      `${w.refundCount}/${fenToYuanString(w.refundFen)}`,
      fenToYuanString(w.feeFen),
      fenToYuanString(w.netFen),
      r.summaryMatches === null ? '无账单' : r.summaryMatches ? '一致' : '不一致',
      [r.classes!.healed ? `自愈${r.classes!.healed}` : '', kinds].filter(Boolean).join(' ') || '-',
      secs,
    ]);
  }
  console.log(table(['日期', '状态', '收款笔数', '收款(元)', '退款笔/元', '手续费', '净额', '汇总核对', '差异', '秒'], rows, [2, 3, 4, 5, 6, 9]));
  await ds.destroy();
  process.exit(failed ? 1 : 0);
}

main().catch((err) => {
  console.error(err.message ?? err);
  process.exit(1);
});
