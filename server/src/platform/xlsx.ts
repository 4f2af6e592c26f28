/**
 * The one XLSX writer every export uses: sheets described as columns (Chinese header, width, a
 * value function, a format) over rows (an array or an async iterable, read as they are written),
 * written with exceljs's streaming writer, so a million-row export never holds a workbook in
 * memory. Formats:
 *  - `yuan`: the value is fen (integer) → a number in yuan shown as `#,##0.00` (sums work in Excel);
 *  - `text`: kept as typed (account numbers, phones: leading zeros stay), cell format `@`;
 *  - `chinaTime` / `chinaDate`: an instant (Date or ISO string) as China time text
 *    (`2026-11-20 09:05:00` / `2026-11-20`; Excel dates have no time zone);
 *  - `int`: a whole number.
 * Empty values (null, undefined, '') leave the cell empty.
 */
import { PassThrough, type Readable } from 'node:stream';
import { chinaDate, formatChinaTime } from '@heat-butler/shared';

export type XlsxFormat = 'yuan' | 'text' | 'chinaTime' | 'chinaDate' | 'int';

export interface XlsxColumn<T> {
  /** the header as staff read it (Chinese) */
  header: string;
  width: number;
  value: (row: T) => unknown;
  format?: XlsxFormat;
}

export interface XlsxSheet<T = any> {
  name: string;
  columns: XlsxColumn<T>[];
  /** read lazily, after the sheets before this one are written */
  rows: Iterable<T> | AsyncIterable<T> | (() => Iterable<T> | AsyncIterable<T>);
  /** keep the header row visible while scrolling (default true) */
  freezeHeader?: boolean;
  /** a line above the header (what the sheet covers: a period, when it was exported) */
  title?: string;
}

/** Typed sheet declaration (infers the row type for the column functions). */
export const sheet = <T>(s: XlsxSheet<T>): XlsxSheet<T> => s;

const NUM_FMT: Partial<Record<XlsxFormat, string>> = { yuan: '#,##0.00', text: '@', int: '0' };

/** The cell value of a column for a row, formatted. */
export function cellValue<T>(c: XlsxColumn<T>, row: T): string | number | boolean | null {
  const v = c.value(row);
  if (v === null || v === undefined || v === '') return null;
  switch (c.format) {
    case 'yuan': {
      const fen = Number(v);
      return Number.isFinite(fen) ? fen / 100 : null;
    }
    case 'chinaTime':
      return formatChinaTime(v as Date | string, true) || null;
    case 'chinaDate':
      return chinaDate(v as Date | string) || null;
    case 'int':
      return Number(v);
    case 'text':
      return String(v);
    default:
      return typeof v === 'number' || typeof v === 'boolean' ? v : String(v);
  }
}

export interface XlsxOptions {
  /** called with the error when writing fails after the stream was handed out (the stream is destroyed with it) */
  onError?: (err: unknown) => void;
  creator?: string;
}

/**
 * The workbook as a stream: rows are pulled from each sheet's source while the file is written.
 * Give it to Koa as the body; an error while writing destroys the stream (the download fails
 * visibly rather than ending in a truncated file that looks complete).
 */
export function xlsxStream(sheets: XlsxSheet[], opts: XlsxOptions = {}): Readable {
  const out = new PassThrough();
  void (async () => {
    try {
      const ExcelJS = (await import('exceljs')).default;
      const wb = new ExcelJS.stream.xlsx.WorkbookWriter({ stream: out, useStyles: true, useSharedStrings: false });
      wb.creator = opts.creator ?? '供热管家';
      for (const s of sheets) {
        const headerRow = s.title ? 2 : 1;
        const ws = wb.addWorksheet(s.name, s.freezeHeader === false ? {} : { views: [{ state: 'frozen', ySplit: headerRow }] });
        ws.columns = s.columns.map((c, i) => ({ key: `c${i}`, width: c.width, style: NUM_FMT[c.format!] ? { numFmt: NUM_FMT[c.format!] } : {} }));
        if (s.title) ws.addRow([s.title]).commit();
        const header = ws.addRow(s.columns.map((c) => c.header));
        header.font = { bold: true };
        header.commit();
        const rows = typeof s.rows === 'function' ? s.rows() : s.rows;
        for await (const row of rows as AsyncIterable<unknown>) {
          const values: Record<string, unknown> = {};
          s.columns.forEach((c, i) => (values[`c${i}`] = cellValue(c, row)));
          ws.addRow(values).commit();
        }
        ws.commit();
      }
      await wb.commit();
    } catch (err) {
      opts.onError?.(err);
      out.destroy(err as Error);
    }
  })();
  return out;
}

/** The workbook in memory (small exports: a template, one day's invoices). */
export async function xlsxBuffer(sheets: XlsxSheet[], opts: XlsxOptions = {}): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const c of xlsxStream(sheets, opts)) chunks.push(c as Buffer);
  return Buffer.concat(chunks);
}
