/**
 * The household sheet: reading XLSX (xlsx-reader.ts) or CSV (csv-parse, UTF-8 or GBK)
 * row by row, and checking each row on its own. Checks that need other rows or the database are
 * in the import service.
 */
import fs from 'node:fs';
import { Transform } from 'node:stream';
import {
  ACCOUNT_NO_RE,
  ACCOUNT_STATUS_LABEL,
  ACCOUNT_USE_LABEL,
  ARREARS_HEADER_RE,
  HOUSEHOLD_COLUMNS,
  HOUSEHOLD_HEADER_ALIASES,
  normalizeMobile,
  yuanToFen,
  type AccountStatus,
  type AccountUse,
  type HouseholdColumnKey,
  type ImportIssueView,
} from '@heat-butler/shared';
import { readXlsxRows } from './xlsx-reader';

export interface RawRow {
  /** row number as the admin sees it (Excel row, or CSV line) */
  row: number;
  cells: string[];
}

export interface HouseholdRow {
  row: number;
  accountNo: string;
  areaCode: string;
  buildingName: string;
  buildingAddress: string;
  unitNo: string;
  roomNo: string;
  ownerName: string;
  contactPhone: string | null;
  /** hundredths of m² */
  heatedArea: number;
  use: AccountUse;
  status: AccountStatus;
  arrears: { season: string; fen: number }[];
}

export interface SheetLayout {
  columns: Map<HouseholdColumnKey, number>;
  arrears: { season: string; index: number; header: string }[];
  headers: string[];
}

const HEADER_OF = Object.fromEntries(HOUSEHOLD_COLUMNS.map((c) => [c.key, c.header])) as Record<HouseholdColumnKey, string>;
const REQUIRED: HouseholdColumnKey[] = ['accountNo', 'areaCode', 'buildingName', 'buildingAddress', 'unitNo', 'roomNo', 'ownerName', 'heatedArea', 'use'];
const USE_OF = new Map<string, AccountUse>(Object.entries(ACCOUNT_USE_LABEL).map(([k, v]) => [v, k as AccountUse]));
const STATUS_OF = new Map<string, AccountStatus>(Object.entries(ACCOUNT_STATUS_LABEL).map(([k, v]) => [v, k as AccountStatus]));
// what billing systems also write
for (const [k, v] of [
  ['民用', 'residential'],
  ['住宅', 'residential'],
  ['商用', 'commercial'],
  ['公建', 'commercial'],
  ['非民用', 'commercial'],
] as const)
  USE_OF.set(k, v);
for (const [k, v] of [
  ['正常', 'active'],
  ['供热', 'active'],
  ['报停', 'stopped'],
  ['停供', 'stopped'],
  ['封阀', 'sealed'],
  ['销户', 'closed'],
] as const)
  STATUS_OF.set(k, v);

const FULL_WIDTH = /[\uFF01-\uFF5E\u3000]/;
/** Full-width digits/letters/space → half-width; trim. */
export function cleanCell(s: string): string {
  if (!FULL_WIDTH.test(s)) return s.trim();
  return s
    .replace(/[\uFF01-\uFF5E]/g, (ch) => String.fromCharCode(ch.charCodeAt(0) - 0xfee0))
    .replace(/\u3000/g, ' ')
    .trim();
}

/** Map the header row to columns; problems are reported on row 1. */
export function layoutOf(headerCells: string[], headerRow: number): { layout: SheetLayout; issues: ImportIssueView[] } {
  const columns = new Map<HouseholdColumnKey, number>();
  const arrears: SheetLayout['arrears'] = [];
  const issues: ImportIssueView[] = [];
  headerCells.forEach((raw, index) => {
    const h = cleanCell(raw).replace(/\s+/g, '');
    if (!h) return;
    const key = HOUSEHOLD_HEADER_ALIASES[h] ?? HOUSEHOLD_HEADER_ALIASES[cleanCell(raw)];
    const m = ARREARS_HEADER_RE.exec(h);
    if (key) {
      if (columns.has(key)) issues.push({ row: headerRow, column: h, value: h, message: `表头“${HEADER_OF[key]}”重复出现` });
      else columns.set(key, index);
    } else if (m) {
      if (arrears.some((a) => a.season === m[1])) issues.push({ row: headerRow, column: h, value: h, message: `欠费列“${m[1]}”重复出现` });
      else arrears.push({ season: m[1]!, index, header: raw.trim() });
    }
    // other columns are ignored (billing-system exports carry more)
  });
  for (const key of REQUIRED) {
    if (!columns.has(key)) issues.push({ row: headerRow, column: HEADER_OF[key], value: '', message: `缺少必需的列“${HEADER_OF[key]}”（请使用导入模板）` });
  }
  return { layout: { columns, arrears, headers: headerCells }, issues };
}

const MAX_LEN: Partial<Record<HouseholdColumnKey, number>> = {
  areaCode: 16,
  buildingName: 50,
  buildingAddress: 200,
  unitNo: 10,
  roomNo: 10,
  ownerName: 32,
};

/** Check one row on its own: every problem of the row, or the parsed household. */
export function parseRow(
  raw: RawRow,
  layout: SheetLayout,
  known?: { areaCodes: Set<string>; seasons: Set<string> },
): { row?: HouseholdRow; issues: ImportIssueView[] } {
  const issues: ImportIssueView[] = [];
  const cell = (key: HouseholdColumnKey) => {
    const i = layout.columns.get(key);
    return i === undefined ? '' : cleanCell(raw.cells[i] ?? '');
  };
  const bad = (key: HouseholdColumnKey | string, value: string, message: string) =>
    issues.push({ row: raw.row, column: (HEADER_OF as Record<string, string>)[key] ?? key, value: value.slice(0, 100), message });

  const text = (key: HouseholdColumnKey, required = true) => {
    const v = cell(key);
    if (!v) {
      if (required) bad(key, v, `${HEADER_OF[key]}不能为空`);
      return '';
    }
    const max = MAX_LEN[key];
    if (max && [...v].length > max) bad(key, v, `${HEADER_OF[key]}不能超过${max}个字`);
    return v;
  };

  const accountNoRaw = cell('accountNo');
  const accountNo = accountNoRaw.replace(/[\s-]/g, '').toUpperCase();
  if (!accountNoRaw) bad('accountNo', '', '户号不能为空');
  else if (!ACCOUNT_NO_RE.test(accountNo)) bad('accountNo', accountNoRaw, '户号应为6-20位数字或大写字母');

  const areaCode = text('areaCode');
  if (areaCode && !/^[A-Za-z0-9_-]+$/.test(areaCode)) bad('areaCode', areaCode, '片区编码只能包含字母和数字');
  else if (areaCode && known && !known.areaCodes.has(areaCode.toUpperCase())) bad('areaCode', areaCode, `片区编码“${areaCode}”不存在，请先在片区管理中添加`);
  const buildingName = text('buildingName');
  const buildingAddress = text('buildingAddress');
  let unitNo = text('unitNo');
  unitNo = unitNo.replace(/单元$/, '');
  if (unitNo && !/^[0-9A-Za-z]{1,10}$/.test(unitNo)) bad('unitNo', cell('unitNo'), '单元应为数字或字母，如 1 或 1单元');
  let roomNo = text('roomNo');
  roomNo = roomNo.replace(/[室号]$/, '');
  if (roomNo && !/^[0-9A-Za-z-]{1,10}$/.test(roomNo)) bad('roomNo', cell('roomNo'), '房号应为数字或字母，如 1202');
  const ownerName = text('ownerName');

  const phoneRaw = cell('contactPhone');
  let contactPhone: string | null = null;
  if (phoneRaw) {
    const mobile = normalizeMobile(phoneRaw);
    const landline = /^0\d{2,3}-?\d{7,8}$/.test(phoneRaw.replace(/\s/g, ''));
    if (mobile) contactPhone = mobile;
    else if (landline) contactPhone = phoneRaw.replace(/\s/g, '');
    else bad('contactPhone', phoneRaw, '联系电话应为11位手机号或带区号的座机号');
  }

  const areaRaw = cell('heatedArea').replace(/\s*(㎡|m²|m2|平方米|平米)$/i, '');
  let heatedArea = 0;
  if (!areaRaw) bad('heatedArea', '', '供热面积不能为空');
  else {
    const n = yuanToFen(areaRaw);
    if (n === null) bad('heatedArea', cell('heatedArea'), /^\d+\.\d{3,}$/.test(areaRaw) ? '供热面积最多保留两位小数' : '供热面积应为数字，如 89.50');
    else if (n <= 0) bad('heatedArea', cell('heatedArea'), '供热面积必须大于0');
    else if (n > 10_000_000) bad('heatedArea', cell('heatedArea'), '供热面积不能超过100000㎡');
    else heatedArea = n;
  }

  const useRaw = cell('use');
  const use = USE_OF.get(useRaw);
  if (!useRaw) bad('use', '', '用途不能为空（居民或非居民）');
  else if (!use) bad('use', useRaw, '用途只能是“居民”或“非居民”');

  const statusRaw = cell('status');
  const status = statusRaw ? STATUS_OF.get(statusRaw) : 'active';
  if (!status)
    bad(
      'status',
      statusRaw,
      `状态只能是${Object.values(ACCOUNT_STATUS_LABEL)
        .map((s) => `“${s}”`)
        .join('、')}`,
    );

  const arrears: HouseholdRow['arrears'] = [];
  for (const a of layout.arrears) {
    const v = cleanCell(raw.cells[a.index] ?? '')
      .replace(/^[¥￥]/, '')
      .replace(/,/g, '');
    if (!v) continue;
    const fen = yuanToFen(v);
    if (fen === null)
      issues.push({
        row: raw.row,
        column: a.header,
        value: v.slice(0, 100),
        message: /^\d+\.\d{3,}$/.test(v) ? '欠费金额最多保留两位小数（分）' : '欠费金额应为数字（元），如 2430.50',
      });
    else if (fen < 0) issues.push({ row: raw.row, column: a.header, value: v, message: '欠费金额不能为负数' });
    else if (fen > 0 && known && !known.seasons.has(a.season))
      issues.push({ row: raw.row, column: a.header, value: v.slice(0, 100), message: `采暖季${a.season}不存在，请先添加该采暖季再导入欠费` });
    else if (fen > 0) arrears.push({ season: a.season, fen });
  }

  if (issues.length) return { issues };
  return {
    issues,
    row: {
      row: raw.row,
      accountNo,
      areaCode: areaCode.toUpperCase(),
      buildingName,
      buildingAddress,
      unitNo,
      roomNo,
      ownerName,
      contactPhone,
      heatedArea,
      use: use!,
      status: status!,
      arrears,
    },
  };
}

// ---- readers ------------------------------------------------------------------------------------

/** Rows of the first worksheet of an XLSX file, streamed (xlsx-reader.ts). */
export function readXlsx(file: string): AsyncGenerator<RawRow> {
  return readXlsxRows(file);
}

/** UTF-8 (with or without BOM) or, when the bytes are not UTF-8, GB18030 (Excel's "CSV" in China). */
export function sniffEncoding(file: string): 'utf-8' | 'gb18030' {
  const fd = fs.openSync(file, 'r');
  try {
    const buf = Buffer.alloc(64 * 1024);
    const n = fs.readSync(fd, buf, 0, buf.length, 0);
    let head = buf.subarray(0, n);
    // don't judge a multibyte character cut at the end of the sample
    let cut = head.length;
    for (let i = Math.max(0, cut - 3); i < cut; i++) if ((head[i]! & 0xc0) === 0xc0) cut = i;
    if (n === buf.length) head = head.subarray(0, cut);
    try {
      new TextDecoder('utf-8', { fatal: true }).decode(head);
      return 'utf-8';
    } catch {
      return 'gb18030';
    }
  } finally {
    fs.closeSync(fd);
  }
}

/** Rows of a CSV file, streamed; row numbers are the lines Excel shows. */
export async function* readCsv(file: string): AsyncGenerator<RawRow> {
  const { parse } = await import('csv-parse');
  const encoding = sniffEncoding(file);
  const decoder = new TextDecoder(encoding);
  const decode = new Transform({
    transform(chunk: Buffer, _enc, cb) {
      cb(null, decoder.decode(chunk, { stream: true }));
    },
    flush(cb) {
      cb(null, decoder.decode());
    },
  });
  const parser = fs
    .createReadStream(file)
    .pipe(decode)
    .pipe(parse({ bom: true, relax_column_count: true, relax_quotes: true, skip_empty_lines: true, info: true }));
  for await (const rec of parser as AsyncIterable<{ record: string[]; info: { lines: number } }>) {
    yield { row: rec.info.lines, cells: rec.record };
  }
}

export function readRows(file: string, format: 'xlsx' | 'csv'): AsyncGenerator<RawRow> {
  return format === 'xlsx' ? readXlsx(file) : readCsv(file);
}

/** The format of an uploaded file from its first bytes (a ZIP is XLSX). */
export function formatOf(file: string): 'xlsx' | 'csv' {
  const fd = fs.openSync(file, 'r');
  try {
    const buf = Buffer.alloc(4);
    fs.readSync(fd, buf, 0, 4, 0);
    return buf[0] === 0x50 && buf[1] === 0x4b ? 'xlsx' : 'csv';
  } finally {
    fs.closeSync(fd);
  }
}
