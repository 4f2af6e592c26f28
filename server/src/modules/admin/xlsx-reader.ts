/**
 * The rows of an XLSX file's first worksheet as text, streamed, for the household import.
 *
 * Not exceljs's streaming reader: it builds a SAX event and a Row/Cell object per cell (two thirds
 * of the import's reading time at 1,000,000 rows), and when the worksheet comes before the shared
 * strings in the ZIP (Excel's order) it first copies the whole worksheet to a temporary file. This
 * reads the ZIP's central directory (the file is on disk), loads the workbook, its relationships
 * and the shared strings first, then inflates the first worksheet (the first tab, as the admin
 * sees it) and cuts its XML into rows and cells with plain string scanning. Only what the import
 * needs: cell text (shared, inline, formula results, numbers, booleans, errors); no styles, no
 * dates (as before: without styles a date is its serial number), no hyperlinks.
 * Memory: one inflated chunk and the shared strings (as exceljs's 'cache' option held them).
 */
import fs from 'node:fs';
import { Readable } from 'node:stream';
import { StringDecoder } from 'node:string_decoder';
import zlib from 'node:zlib';

export interface XlsxRow {
  /** the row number Excel shows */
  row: number;
  cells: string[];
}

interface ZipEntry {
  name: string;
  method: number;
  compressedSize: number;
  headerOffset: number;
}

/** The entries of a ZIP file from its central directory (ZIP64 included). */
async function zipEntries(fh: fs.promises.FileHandle): Promise<Map<string, ZipEntry>> {
  const { size } = await fh.stat();
  const tailLen = Math.min(size, 65_557); // end-of-central-directory record (22) + the longest comment
  const tail = Buffer.alloc(tailLen);
  await fh.read(tail, 0, tailLen, size - tailLen);
  let eocd = -1;
  for (let i = tailLen - 22; i >= 0; i--) {
    if (tail.readUInt32LE(i) === 0x06054b50) {
      eocd = i;
      break;
    }
  }
  if (eocd < 0) throw new Error('not an XLSX file (no ZIP directory)');
  let count = tail.readUInt16LE(eocd + 10);
  let cdSize = tail.readUInt32LE(eocd + 12);
  let cdOffset = tail.readUInt32LE(eocd + 16);
  if (cdOffset === 0xffffffff || count === 0xffff) {
    // ZIP64: the locator sits just before the end record
    const loc = eocd - 20;
    if (loc < 0 || tail.readUInt32LE(loc) !== 0x07064b50) throw new Error('broken ZIP64 directory');
    const rec = Buffer.alloc(56);
    await fh.read(rec, 0, 56, Number(tail.readBigUInt64LE(loc + 8)));
    if (rec.readUInt32LE(0) !== 0x06064b50) throw new Error('broken ZIP64 directory');
    count = Number(rec.readBigUInt64LE(32));
    cdSize = Number(rec.readBigUInt64LE(40));
    cdOffset = Number(rec.readBigUInt64LE(48));
  }
  const cd = Buffer.alloc(cdSize);
  await fh.read(cd, 0, cdSize, cdOffset);
  const out = new Map<string, ZipEntry>();
  let p = 0;
  for (let n = 0; n < count && p + 46 <= cd.length; n++) {
    if (cd.readUInt32LE(p) !== 0x02014b50) throw new Error('broken ZIP directory');
    const method = cd.readUInt16LE(p + 10);
    let compressedSize = cd.readUInt32LE(p + 20);
    const uncompressedSize = cd.readUInt32LE(p + 24);
    const nameLen = cd.readUInt16LE(p + 28);
    const extraLen = cd.readUInt16LE(p + 30);
    const commentLen = cd.readUInt16LE(p + 32);
    let headerOffset = cd.readUInt32LE(p + 42);
    const name = cd.toString('utf8', p + 46, p + 46 + nameLen);
    // ZIP64 extra field: the 64-bit values of the fields set to 0xffffffff, in this order
    let e = p + 46 + nameLen;
    const extraEnd = e + extraLen;
    while (e + 4 <= extraEnd) {
      const id = cd.readUInt16LE(e);
      const len = cd.readUInt16LE(e + 2);
      if (id === 0x0001) {
        let q = e + 4;
        if (uncompressedSize === 0xffffffff) q += 8;
        if (compressedSize === 0xffffffff) {
          compressedSize = Number(cd.readBigUInt64LE(q));
          q += 8;
        }
        if (headerOffset === 0xffffffff) headerOffset = Number(cd.readBigUInt64LE(q));
      }
      e += 4 + len;
    }
    out.set(name.replace(/^\/+/, ''), { name, method, compressedSize, headerOffset });
    p = extraEnd + commentLen;
  }
  return out;
}

/** An entry's bytes, inflated, as a stream. */
async function entryStream(file: string, fh: fs.promises.FileHandle, entry: ZipEntry): Promise<NodeJS.ReadableStream> {
  const head = Buffer.alloc(30);
  await fh.read(head, 0, 30, entry.headerOffset);
  if (head.readUInt32LE(0) !== 0x04034b50) throw new Error('broken ZIP entry');
  const start = entry.headerOffset + 30 + head.readUInt16LE(26) + head.readUInt16LE(28);
  if (!entry.compressedSize) return Readable.from([]);
  const raw = fs.createReadStream(file, { start, end: start + entry.compressedSize - 1, highWaterMark: 256 * 1024 });
  if (entry.method === 0) return raw;
  if (entry.method !== 8) throw new Error(`unsupported ZIP compression ${entry.method}`);
  const inflate = zlib.createInflateRaw({ chunkSize: 256 * 1024 });
  raw.on('error', (err) => inflate.destroy(err));
  return raw.pipe(inflate);
}

/** An entry as text, streamed (UTF-8; a character cut between two chunks is kept whole). */
async function* entryText(file: string, fh: fs.promises.FileHandle, entry: ZipEntry): AsyncGenerator<string> {
  const decoder = new StringDecoder('utf8');
  for await (const chunk of await entryStream(file, fh, entry)) {
    const s = decoder.write(chunk as Buffer);
    if (s) yield s;
  }
  const tail = decoder.end();
  if (tail) yield tail;
}

async function entryWhole(file: string, fh: fs.promises.FileHandle, entry: ZipEntry): Promise<string> {
  let s = '';
  for await (const t of entryText(file, fh, entry)) s += t;
  return s;
}

const ENTITY: Record<string, string> = { lt: '<', gt: '>', amp: '&', quot: '"', apos: "'" };
/** XML text → string (the five entities and character references). */
export function xmlText(s: string): string {
  if (s.indexOf('&') < 0) return s;
  return s.replace(/&(#x[0-9a-fA-F]+|#[0-9]+|lt|gt|amp|quot|apos);/g, (m, e: string) => {
    if (e[0] !== '#') return ENTITY[e]!;
    const code = e[1] === 'x' ? parseInt(e.slice(2), 16) : parseInt(e.slice(1), 10);
    return code <= 0x10ffff ? String.fromCodePoint(code) : m;
  });
}

const attrRe = (name: string) => new RegExp(`(?:^|\\s)${name}\\s*=\\s*(?:"([^"]*)"|'([^']*)')`);
const A = { r: attrRe('r'), t: attrRe('t'), rid: attrRe('r:id'), id: attrRe('Id'), target: attrRe('Target') };
/** An attribute's value in a tag's text (`re` from attrRe). */
const attr = (tag: string, re: RegExp): string | undefined => {
  const m = re.exec(tag);
  return m ? xmlText(m[1] ?? m[2] ?? '') : undefined;
};

/**
 * The text of the <t> elements in `xml` (a shared string's <si> or an inline string's <is>), rich
 * text runs joined; phonetic runs (<rPh>) left out, as Excel shows the cell.
 */
function runsText(xml: string): string {
  if (xml.indexOf('<rPh') >= 0) xml = xml.replace(/<rPh\b[\s\S]*?<\/rPh>/g, '');
  let out = '';
  let p = 0;
  for (;;) {
    const i = xml.indexOf('<t', p);
    if (i < 0) return out;
    const c = xml.charCodeAt(i + 2);
    const end = xml.indexOf('>', i);
    if (end < 0) return out;
    // <t>, <t xml:space="preserve">; not <tag…>
    if (c !== 62 /* > */ && c !== 32 && c !== 9 && c !== 10 && c !== 13 && c !== 47 /* / */) {
      p = end + 1;
      continue;
    }
    if (xml.charCodeAt(end - 1) === 47) {
      p = end + 1; // <t/>
      continue;
    }
    const close = xml.indexOf('</t>', end);
    if (close < 0) return out;
    out += xmlText(xml.slice(end + 1, close));
    p = close + 4;
  }
}

/** The shared strings table (xl/sharedStrings.xml), each string as its text. */
async function sharedStrings(file: string, fh: fs.promises.FileHandle, entry: ZipEntry | undefined): Promise<string[]> {
  const out: string[] = [];
  if (!entry) return out;
  let buf = '';
  for await (const chunk of entryText(file, fh, entry)) {
    buf = buf ? buf + chunk : chunk;
    let p = 0;
    for (;;) {
      const i = buf.indexOf('<si', p);
      if (i < 0) break;
      const end = buf.indexOf('>', i);
      if (end < 0) break;
      if (buf.charCodeAt(end - 1) === 47) {
        out.push(''); // <si/>
        p = end + 1;
        continue;
      }
      const close = buf.indexOf('</si>', end);
      if (close < 0) break;
      out.push(runsText(buf.slice(end + 1, close)));
      p = close + 5;
    }
    buf = p ? buf.slice(p) : buf;
  }
  return out;
}

/** A cell's text as the admin sees it (what cellText() gave for exceljs's values). */
function numberText(v: string): string {
  const n = parseFloat(v);
  if (Number.isNaN(n)) return v;
  return Number.isInteger(n) ? String(n) : String(Math.round(n * 1e6) / 1e6);
}

/** Column index (0-based) of a cell reference like "AB12"; -1 if there is none. */
function columnOf(ref: string | undefined): number {
  if (!ref) return -1;
  let col = 0;
  let i = 0;
  for (; i < ref.length; i++) {
    const c = ref.charCodeAt(i) | 0x20; // lower case
    if (c < 97 || c > 122) break;
    col = col * 26 + (c - 96);
  }
  return i ? col - 1 : -1;
}

/** <c …>inner</c> (inner: buf[from, to)) → its text. */
function cellValue(tag: string, buf: Buffer, from: number, to: number, shared: string[]): string {
  const t = attr(tag, A.t);
  if (t === 'inlineStr') return runsText(buf.toString('utf8', from, to));
  let v = buf.indexOf(B.v, from);
  // <v>, <v …>; not <vm…>
  while (v >= 0 && v < to && !isTagEnd(buf[v + 2]!)) v = buf.indexOf(B.v, v + 2);
  if (v < 0 || v >= to) return '';
  const vStart = buf.indexOf(62 /* > */, v);
  if (vStart < 0 || vStart >= to || buf[vStart - 1] === 47) return '';
  const vEnd = buf.indexOf(B.vEnd, vStart);
  if (vEnd < 0 || vEnd > to) return '';
  const text = buf.toString('utf8', vStart + 1, vEnd);
  switch (t) {
    case 's': {
      const s = shared[parseInt(text, 10)];
      return s ?? '';
    }
    case 'str':
    case 'e':
    case 'd':
      return xmlText(text);
    case 'b':
      return parseInt(text, 10) !== 0 ? 'TRUE' : 'FALSE';
    default:
      return numberText(xmlText(text).trim());
  }
}

const isTagEnd = (c: number) => c === 62 /* > */ || c === 47 /* / */ || c === 32 || c === 9 || c === 10 || c === 13;

const B = {
  row: Buffer.from('<row'),
  rowEnd: Buffer.from('</row>'),
  c: Buffer.from('<c'),
  cEnd: Buffer.from('</c>'),
  v: Buffer.from('<v'),
  vEnd: Buffer.from('</v>'),
};

/**
 * The cells of the row XML in buf[from, to), as text; missing cells are ''. Works on the bytes:
 * only the values are decoded (tags and attributes are ASCII), not the whole sheet.
 */
function rowCells(buf: Buffer, from: number, to: number, shared: string[]): string[] {
  const cells: string[] = [];
  let p = from;
  for (;;) {
    const i = buf.indexOf(B.c, p);
    if (i < 0 || i >= to) return cells;
    if (!isTagEnd(buf[i + 2]!)) {
      p = i + 2;
      continue;
    }
    const end = buf.indexOf(62 /* > */, i);
    if (end < 0 || end >= to) return cells;
    const selfClosing = buf[end - 1] === 47;
    const tag = buf.toString('latin1', i + 2, selfClosing ? end - 1 : end);
    let value = '';
    if (selfClosing) p = end + 1;
    else {
      const close = buf.indexOf(B.cEnd, end);
      if (close < 0 || close >= to) return cells;
      value = cellValue(tag, buf, end + 1, close, shared);
      p = close + 4;
    }
    let col = columnOf(attr(tag, A.r));
    if (col < 0) col = cells.length;
    while (cells.length < col) cells.push('');
    cells[col] = value;
  }
}

/** The first worksheet's path: the workbook's first <sheet>, through the workbook's relationships. */
function firstSheetPath(workbook: string, rels: string, entries: Map<string, ZipEntry>): string | undefined {
  const sheet = /<(?:\w+:)?sheet\s[^>]*>/.exec(workbook)?.[0];
  const rid = sheet ? attr(sheet, A.rid) : undefined;
  if (rid) {
    for (const rel of rels.match(/<(?:\w+:)?Relationship\s[^>]*>/g) ?? []) {
      if (attr(rel, A.id) !== rid) continue;
      const target = attr(rel, A.target) ?? '';
      const path = target.startsWith('/') ? target.slice(1) : `xl/${target}`;
      const norm = path.replace(/\/\.\//g, '/');
      if (entries.has(norm)) return norm;
    }
  }
  // no workbook to go by: the lowest-numbered sheet
  return [...entries.keys()]
    .filter((n) => /^xl\/worksheets\/sheet\d+\.xml$/.test(n))
    .sort((a, b) => parseInt(a.replace(/\D/g, ''), 10) - parseInt(b.replace(/\D/g, ''), 10))[0];
}

/** Rows of the first worksheet of an XLSX file, streamed. */
export async function* readXlsxRows(file: string): AsyncGenerator<XlsxRow> {
  const fh = await fs.promises.open(file, 'r');
  try {
    const entries = await zipEntries(fh);
    const get = (n: string) => entries.get(n);
    const workbook = get('xl/workbook.xml');
    const rels = get('xl/_rels/workbook.xml.rels');
    const sheetPath = firstSheetPath(workbook ? await entryWhole(file, fh, workbook) : '', rels ? await entryWhole(file, fh, rels) : '', entries);
    if (!sheetPath) return;
    const shared = await sharedStrings(file, fh, get('xl/sharedStrings.xml'));
    let buf: Buffer = Buffer.alloc(0);
    let lastRow = 0;
    for await (const chunk of await entryStream(file, fh, get(sheetPath)!)) {
      // the bytes left of the last chunk (a row cut in two) and this one
      buf = buf.length ? Buffer.concat([buf, chunk as Buffer]) : (chunk as Buffer);
      let p = 0;
      const rows: XlsxRow[] = [];
      for (;;) {
        const i = buf.indexOf(B.row, p);
        if (i < 0 || i + 4 >= buf.length) break;
        if (!isTagEnd(buf[i + 4]!)) {
          // <rowBreaks> and the like
          p = i + 4;
          continue;
        }
        const end = buf.indexOf(62 /* > */, i);
        if (end < 0) break;
        const selfClosing = buf[end - 1] === 47;
        let cells: string[] = [];
        let next = end + 1;
        if (!selfClosing) {
          const close = buf.indexOf(B.rowEnd, end);
          if (close < 0) break;
          cells = rowCells(buf, end + 1, close, shared);
          next = close + 6;
        }
        const r = parseInt(attr(buf.toString('latin1', i + 4, end), A.r) ?? '', 10);
        lastRow = Number.isFinite(r) && r > 0 ? r : lastRow + 1;
        rows.push({ row: lastRow, cells });
        p = next;
      }
      // copied: a view would keep the whole chunk alive
      buf = p ? Buffer.from(buf.subarray(p)) : buf;
      yield* rows;
    }
  } finally {
    await fh.close();
  }
}
