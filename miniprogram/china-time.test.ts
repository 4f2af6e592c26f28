/**
 * Payment times are shown in China time (issue 17, item 9): a payment made before 08:00 China
 * time is stored as the previous day in UTC, so taking the first 10 characters of the ISO
 * timestamp showed the day before. The shared formatter gives the China date and time, and a
 * guard keeps timestamps from being cut by hand again anywhere the resident or staff read them.
 */
import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { billDueNote, chinaDate, formatChinaTime } from '@heat-butler/shared';

describe('payment times in China time', () => {
  it('shows a 07:30 payment (23:30 UTC the day before) on its China day', () => {
    const paidAt = '2026-11-23T23:30:05.000Z';
    expect(formatChinaTime(paidAt)).toBe('2026-11-24 07:30');
    expect(formatChinaTime(paidAt, true)).toBe('2026-11-24 07:30:05');
    expect(chinaDate(paidAt)).toBe('2026-11-24');
    // what the bill page used to show
    expect(paidAt.slice(0, 10)).toBe('2026-11-23');
    // the last minute of a China day and the first of the next
    expect(formatChinaTime('2026-12-31T15:59:00Z')).toBe('2026-12-31 23:59');
    expect(formatChinaTime('2026-12-31T16:00:00Z')).toBe('2027-01-01 00:00');
  });
});

describe('the due sentence of a bill (issue 17, item 9)', () => {
  const rule = { dailyBp: 10, capBp: 1000 };
  it('says when to pay by before the due date, with the late-fee rule and its 10% cap', () => {
    expect(billDueNote({ status: 'unpaid', dueDate: '2025-12-31', lateFeeFen: 0, lateFeeRule: rule }, '2025-12-31')).toBe(
      '请于 2025-12-31 前缴清，逾期每日加收欠费的1‰滞纳金，累计不超过欠费的10%',
    );
  });
  it('says a bill overdue for months is overdue, since when, the late fee so far and the cap — not "请于 … 前缴清"', () => {
    const note = billDueNote({ status: 'unpaid', dueDate: '2025-12-31', lateFeeFen: 20_080, lateFeeRule: rule }, '2026-11-28')!;
    expect(note).toBe('已逾期 332 天（缴费截止 2025-12-31，自 2026-01-01 起计滞纳金），截至今日滞纳金 ¥200.80（每日1‰，累计不超过欠费的10%），请尽快缴清');
    expect(note).not.toContain('请于');
  });
  it('says nothing under a paid bill', () => {
    expect(billDueNote({ status: 'paid', dueDate: '2025-12-31', lateFeeFen: 0, lateFeeRule: rule }, '2026-11-28')).toBeNull();
  });
});

const ROOT = path.join(__dirname, '..');
/** where timestamps are turned into text for people: the mini-program and the server's views and exports */
const DIRS = ['miniprogram/pages', 'miniprogram/staff', 'miniprogram/components', 'miniprogram/services', 'server/src/modules'];
/** an ISO timestamp cut by hand: `x.paidAt.slice(0, 10)`, `.toISOString().substring(0, 16)`, `createdAt?.slice(0, 19)` */
const CUT_TIMESTAMP = /(At|Time|time|toISOString\(\))\??\.(slice|substring|substr)\(0,\s*(10|16|19)\)/;

function sources(dir: string): string[] {
  return fs.readdirSync(dir, { withFileTypes: true }).flatMap((e) => {
    const p = path.join(dir, e.name);
    if (e.isDirectory()) return sources(p);
    return /\.tsx?$/.test(e.name) && !/\.test\.tsx?$/.test(e.name) ? [p] : [];
  });
}

describe('no timestamp is cut to a UTC date or time by hand', () => {
  it('the guard catches the old bill-page code', () => {
    expect(CUT_TIMESTAMP.test('缴费时间 {bill.paidAt.slice(0, 10)}')).toBe(true);
    expect(CUT_TIMESTAMP.test("{d.resolvedAt?.slice(0, 16).replace('T', ' ')}")).toBe(true);
    expect(CUT_TIMESTAMP.test('new Date().toISOString().slice(0, 10)')).toBe(true);
    expect(CUT_TIMESTAMP.test('formatChinaTime(bill.paidAt)')).toBe(false);
  });

  it('the mini-program and the server modules use the shared China-time formatters', () => {
    const found = DIRS.flatMap((d) => sources(path.join(ROOT, d))).flatMap((file) =>
      fs
        .readFileSync(file, 'utf8')
        .split('\n')
        .flatMap((line, i) => (CUT_TIMESTAMP.test(line.replace(/\/\/.*$/, '')) ? [`${path.relative(ROOT, file)}:${i + 1}: ${line.trim()}`] : [])),
    );
    // an Excel date cell has no zone (exceljs gives UTC midnight): its UTC date is the date typed
    expect(found.filter((f) => !f.startsWith('server/src/modules/admin/households.ts'))).toEqual([]);
  });
});
