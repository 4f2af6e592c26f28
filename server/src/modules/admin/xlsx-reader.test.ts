/**
 * The household import's own XLSX reader (xlsx-reader.ts) against exceljs, the library it replaced
 * for speed: the same workbooks, written by exceljs both ways Excel files come (shared strings, and
 * inline strings from a streaming writer), read by both, give the same rows of text — numbers,
 * booleans, formulas' results, rich text, errors, XML's special characters, Chinese, whitespace,
 * line breaks, leading zeros, gaps between cells and rows, and only the first tab.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import ExcelJS from 'exceljs';
import { afterAll, describe, expect, it } from 'vitest';
import { readXlsxRows } from './xlsx-reader';

const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'hb-xlsx-'));
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

/** How the import turned an exceljs cell value into text before (households.ts, exceljs reader). */
function cellText(v: unknown): string {
  if (v === null || v === undefined) return '';
  if (typeof v === 'string') return v;
  if (typeof v === 'number') return Number.isInteger(v) ? String(v) : String(Math.round(v * 1e6) / 1e6);
  if (typeof v === 'boolean') return v ? 'TRUE' : 'FALSE';
  if (typeof v === 'object') {
    const o = v as any;
    if (Array.isArray(o.richText)) return o.richText.map((r: any) => r.text).join('');
    if ('result' in o) return cellText(o.result);
    if ('text' in o) return cellText(o.text);
    if ('error' in o) return String(o.error);
  }
  return String(v);
}

/** [row number, cell values] of the first sheet; the second sheet must never be read */
const ROWS: [number, unknown[]][] = [
  [1, ['户号', '业主姓名', '面积', '欠费', '备注']],
  [2, ['0012345', '张三', 89.5, 1234, '  前后有空格  ']],
  [3, ['HB-0002', '李四', 0.1 + 0.2, -42, 'A & B < C > D "引号" \'单引号\'']],
  [4, ['HB-0003', '王五', 1e15, true, '第一行\n第二行']],
  [5, ['HB-0004', null, 3.14159265358979, false, { richText: [{ text: '富' }, { font: { bold: true }, text: '文本' }] }]],
  [7, ['HB-0006', '赵六', { formula: '1+2', result: 3 }, { formula: '"甲"&"乙"', result: '甲乙' }, { error: '#N/A' }]],
  [8, [null, null, null, null, '只有最后一格']],
  [9, ['HB-0008', '钱七', 12345678.123456789, 1.5e-7, '😀 表情与生僻字𠀀']],
  [12, ['HB-0011', '孙八', 100, 0, '']],
];

function fill(ws: ExcelJS.Worksheet) {
  for (const [n, values] of ROWS) {
    const row = ws.getRow(n);
    values.forEach((v, i) => {
      if (v !== null) row.getCell(i + 1).value = v as ExcelJS.CellValue;
    });
    row.commit?.();
  }
}

/** Trailing empty cells are no cells (the import reads a missing cell as ''): an empty text cell at a row's end is kept by one reader, dropped by the other. */
const trimmed = (cells: string[]) => {
  const out = [...cells];
  while (out.length && out[out.length - 1] === '') out.pop();
  return out;
};

async function viaExceljs(file: string): Promise<{ row: number; cells: string[] }[]> {
  const wb = new ExcelJS.Workbook();
  await wb.xlsx.readFile(file);
  const out: { row: number; cells: string[] }[] = [];
  wb.worksheets[0]!.eachRow((row, n) => {
    const values = (row.values as unknown[]) ?? [];
    const cells: string[] = [];
    for (let i = 1; i < values.length; i++) cells.push(cellText(values[i]));
    out.push({ row: n, cells: trimmed(cells) });
  });
  return out;
}

async function viaReader(file: string): Promise<{ row: number; cells: string[] }[]> {
  const out: { row: number; cells: string[] }[] = [];
  for await (const r of readXlsxRows(file)) out.push({ row: r.row, cells: trimmed(r.cells) });
  return out;
}

describe('the import’s XLSX reader', () => {
  it('reads what exceljs reads from a workbook with shared strings (as Excel saves)', async () => {
    const file = path.join(dir, 'shared.xlsx');
    const wb = new ExcelJS.Workbook();
    fill(wb.addWorksheet('住户'));
    wb.addWorksheet('其他').getCell('A1').value = '不应读到';
    await wb.xlsx.writeFile(file);
    const mine = await viaReader(file);
    expect(mine).toEqual(await viaExceljs(file));
    expect(mine.map((r) => r.row)).toEqual(ROWS.map(([n]) => n));
    expect(mine[1]!.cells[0]).toBe('0012345');
    expect(mine.flatMap((r) => r.cells)).not.toContain('不应读到');
  });

  it('reads what exceljs reads from a workbook with inline strings (a streaming writer)', async () => {
    const file = path.join(dir, 'inline.xlsx');
    const wb = new ExcelJS.stream.xlsx.WorkbookWriter({ filename: file, useSharedStrings: false, useStyles: false });
    fill(wb.addWorksheet('住户'));
    const other = wb.addWorksheet('其他');
    other.getCell('A1').value = '不应读到';
    other.commit();
    await wb.commit();
    const mine = await viaReader(file);
    expect(mine).toEqual(await viaExceljs(file));
    expect(mine.flatMap((r) => r.cells)).toContain('A & B < C > D "引号" \'单引号\'');
  });

  it('reads a large sheet the same way, its rows in order', async () => {
    const file = path.join(dir, 'large.xlsx');
    const wb = new ExcelJS.stream.xlsx.WorkbookWriter({ filename: file, useSharedStrings: true });
    const ws = wb.addWorksheet('住户');
    for (let i = 1; i <= 20_000; i++) ws.addRow([`HB${String(i).padStart(8, '0')}`, `住户${i}号`, i / 7, i % 3 === 0 ? '欠费' : null]).commit();
    ws.commit();
    await wb.commit();
    const mine = await viaReader(file);
    expect(mine).toHaveLength(20_000);
    expect(mine).toEqual(await viaExceljs(file));
  });

  it('says a file that is not an XLSX file is not one', async () => {
    const file = path.join(dir, 'not.xlsx');
    fs.writeFileSync(file, '户号,业主姓名\n0012345,张三\n');
    await expect(viaReader(file)).rejects.toThrow();
  });
});
