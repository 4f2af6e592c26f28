/**
 * Streaming reader of WeChat Pay trade bills (交易账单, bill_type ALL): the bytes are decoded and
 * cut into lines chunk by chunk (a 64 KiB read buffer, never the whole file), each line parsed with
 * column positions fixed once from the header. Format: UTF-8 with BOM, CRLF, a header row in
 * Chinese without backticks, detail rows whose every field starts with a backtick, then a summary
 * caption (总交易单数,…) and one summary row. Columns are read by header name.
 *
 * `readTradeBillBatches` yields arrays of rows (what reconciliation consumes: one await per batch,
 * not per row); `readTradeBill` yields one event per row on top of it.
 */
import type { Readable } from 'node:stream';

export interface BillRow {
  /** 1-based line number in the file */
  line: number;
  kind: 'payment' | 'refund';
  tradeTime: string;
  transactionId: string;
  outTradeNo: string;
  tradeState: string;
  /** 应结订单金额 */
  settleFen: number;
  /** 订单金额 */
  orderFen: number;
  refundId: string;
  outRefundNo: string;
  refundFen: number;
  refundStatus: string;
  /** 手续费 in 1/100000 yuan (WeChat gives five decimals); refunds negative */
  feeMicro: number;
}

export interface BillSummary {
  rowCount: number;
  settleFen: number;
  refundFen: number;
  feeMicro: number;
  orderFen: number;
}

export type BillEvent = { type: 'row'; row: BillRow } | { type: 'summary'; summary: BillSummary };

export interface BillBatch {
  rows: BillRow[];
  /** set on the batch that read the summary row */
  summary?: BillSummary;
}

export class BillFormatError extends Error {
  constructor(
    message: string,
    public readonly line: number,
  ) {
    super(`line ${line}: ${message}`);
    this.name = 'BillFormatError';
  }
}

/** "12.34" / "-0.12000" -> integer in units of 10^-scale, exactly (no floats, no regex: hot path). */
export function parseDecimal(text: string, scale: number, line = 0): number {
  let i = 0;
  let n = text.length;
  while (i < n && text.charCodeAt(i) <= 32) i++;
  while (n > i && text.charCodeAt(n - 1) <= 32) n--;
  const neg = i < n && text.charCodeAt(i) === 45;
  if (neg) i++;
  let int = 0;
  let intDigits = 0;
  for (; i < n; i++) {
    const c = text.charCodeAt(i) - 48;
    if (c < 0 || c > 9) break;
    int = int * 10 + c;
    intDigits++;
  }
  let frac = 0;
  let fracDigits = 0;
  let excess = false;
  if (i < n && text.charCodeAt(i) === 46) {
    i++;
    let any = 0;
    for (; i < n; i++) {
      const c = text.charCodeAt(i) - 48;
      if (c < 0 || c > 9) break;
      any++;
      if (fracDigits < scale) {
        frac = frac * 10 + c;
        fracDigits++;
      } else if (c !== 0) excess = true;
    }
    if (!any) i = -1;
  }
  if (!intDigits || i !== n) throw new BillFormatError(`not a number: "${text}"`, line);
  if (excess) throw new BillFormatError(`more than ${scale} decimals: "${text}"`, line);
  for (; fracDigits < scale; fracDigits++) frac *= 10;
  const v = int * 10 ** scale + frac;
  return neg ? -v : v;
}

/** Split a detail row: every field starts with a backtick, so fields are separated by ",`". */
export function splitRow(line: string): string[] {
  if (!line.startsWith('`')) return line.split(',');
  return line.slice(1).split(',`');
}

const REQUIRED = ['交易时间', '微信订单号', '商户订单号', '交易状态', '应结订单金额', '手续费'];

/**
 * Decoded lines of a byte (or string) stream, a chunk's worth at a time; CRLF or LF. Bytes are cut
 * at newlines first and each line decoded on its own: a row's fields then pin only their line,
 * never a whole decoded chunk (megabytes of garbage only a full GC would free).
 */
async function* lineChunks(input: Readable): AsyncGenerator<string[]> {
  let restBytes = null as Buffer | null;
  let restText = '';
  const line = (buf: Buffer, a: number, b: number) => buf.toString('utf8', a, b > a && buf[b - 1] === 13 ? b - 1 : b);
  /** a chunk's complete lines; the partial last line is kept for the next chunk */
  const split = (chunk: Buffer | string): string[] => {
    const lines: string[] = [];
    if (typeof chunk === 'string') {
      const text = restText + chunk;
      let i = 0;
      let j: number;
      while ((j = text.indexOf('\n', i)) >= 0) {
        lines.push(text.charCodeAt(j - 1) === 13 && j > i ? text.slice(i, j - 1) : text.slice(i, j));
        i = j + 1;
      }
      restText = text.slice(i);
      return lines;
    }
    let i = 0;
    let j = chunk.indexOf(10);
    if (restBytes && j >= 0) {
      const first = Buffer.concat([restBytes, chunk.subarray(0, j)]);
      lines.push(line(first, 0, first.length));
      restBytes = null;
      i = j + 1;
      j = chunk.indexOf(10, i);
    }
    while (j >= 0) {
      lines.push(line(chunk, i, j));
      i = j + 1;
      j = chunk.indexOf(10, i);
    }
    if (i < chunk.length) restBytes = restBytes ? Buffer.concat([restBytes, chunk.subarray(i)]) : Buffer.from(chunk.subarray(i));
    return lines;
  };
  // no variable of this frame holds a read buffer while suspended at `yield` (the consumer may be
  // awaiting the database): the buffers die young instead of being promoted
  const it = input[Symbol.asyncIterator]();
  for (;;) {
    const lines = await it.next().then((r) => (r.done ? null : split(r.value)));
    if (!lines) break;
    if (lines.length) yield lines;
  }
  const tail = restBytes as Buffer | null;
  const last = tail ? line(tail, 0, tail.length) : restText.endsWith('\r') ? restText.slice(0, -1) : restText;
  if (last) yield [last];
}

/** Parse a trade bill from a stream of bytes, yielding rows in batches and the summary at the end. */
export async function* readTradeBillBatches(input: Readable, batchSize = 1000): AsyncGenerator<BillBatch> {
  let lineNo = 0;
  let parse: ((line: string, lineNo: number) => BillRow) | null = null;
  let inSummary = false;
  let sawSummary = false;
  let batch: BillRow[] = [];
  for await (const lines of lineChunks(input)) {
    for (const raw of lines) {
      lineNo++;
      const line = lineNo === 1 && raw.charCodeAt(0) === 0xfeff ? raw.slice(1) : raw;
      if (!line.trim()) continue;
      if (!parse) {
        const names = line.split(',').map((h) => h.trim());
        for (const r of REQUIRED) if (!names.includes(r)) throw new BillFormatError(`header lacks ${r}`, lineNo);
        parse = rowParser(names);
        continue;
      }
      if (line.startsWith('总交易单数')) {
        inSummary = true;
        continue;
      }
      if (inSummary) {
        const f = splitRow(line);
        if (sawSummary) throw new BillFormatError('a second summary row', lineNo);
        sawSummary = true;
        const summary: BillSummary = {
          rowCount: Number(f[0]),
          settleFen: parseDecimal(f[1] ?? '', 2, lineNo),
          refundFen: parseDecimal(f[2] ?? '', 2, lineNo),
          feeMicro: parseDecimal(f[4] ?? '', 5, lineNo),
          orderFen: parseDecimal(f[5] ?? '0', 2, lineNo),
        };
        yield { rows: batch, summary };
        batch = [];
        continue;
      }
      batch.push(parse(line, lineNo));
      if (batch.length >= batchSize) {
        yield { rows: batch };
        batch = [];
      }
    }
  }
  if (batch.length) yield { rows: batch };
}

/**
 * Column positions fixed once from the header. A detail row is cut at its ",`" separators by
 * hand and only the needed fields are sliced (27 columns, 11 read): the hot path of a 1M-row bill.
 */
function rowParser(names: string[]) {
  const at = (name: string) => names.indexOf(name);
  const iTime = at('交易时间');
  const iTx = at('微信订单号');
  const iOut = at('商户订单号');
  const iState = at('交易状态');
  const iSettle = at('应结订单金额');
  const iOrder = at('订单金额');
  const iRefundId = at('微信退款单号');
  const iOutRefund = at('商户退款单号');
  const iRefund = at('退款金额');
  const iRefundStatus = at('退款状态');
  const iFee = at('手续费');
  const last = Math.max(iTime, iTx, iOut, iState, iSettle, iOrder, iRefundId, iOutRefund, iRefund, iRefundStatus, iFee);
  const start = new Int32Array(last + 2);
  let line = '';
  let lineNo = 0;
  let nf = 0;
  let sepLen = 2;
  const get = (i: number): string => {
    if (i < 0 || i >= nf) return '';
    let a = start[i]!;
    let b = i + 1 < nf ? start[i + 1]! - sepLen : line.length;
    while (a < b && line.charCodeAt(a) <= 32) a++;
    while (b > a && line.charCodeAt(b - 1) <= 32) b--;
    return line.slice(a, b);
  };
  const money = (i: number) => {
    const v = get(i);
    return v === '' ? 0 : parseDecimal(v, 2, lineNo);
  };
  return (text: string, n: number): BillRow => {
    line = text;
    lineNo = n;
    // start[k] = index of field k's first character; a field ends sepLen before the next start
    const ticks = line.charCodeAt(0) === 96;
    const sep = ticks ? ',`' : ',';
    sepLen = sep.length;
    nf = 0;
    start[nf++] = ticks ? 1 : 0;
    let p = start[0]!;
    while (nf <= last + 1) {
      const j = line.indexOf(sep, p);
      if (j < 0) break;
      p = j + sepLen;
      start[nf++] = p;
    }
    const state = get(iState);
    const outRefundNo = get(iOutRefund);
    const isRefund = state === 'REFUND' || (outRefundNo !== '' && outRefundNo !== '0');
    const fee = get(iFee);
    return {
      line: lineNo,
      kind: isRefund ? 'refund' : 'payment',
      tradeTime: get(iTime),
      transactionId: get(iTx),
      outTradeNo: get(iOut),
      tradeState: state,
      settleFen: money(iSettle),
      orderFen: money(iOrder),
      refundId: isRefund ? get(iRefundId) : '',
      outRefundNo: isRefund ? outRefundNo : '',
      refundFen: money(iRefund),
      refundStatus: get(iRefundStatus),
      feeMicro: fee === '' ? 0 : parseDecimal(fee, 5, lineNo),
    };
  };
}

/** Parse a trade bill from a stream of bytes, yielding rows as they come and the summary at the end. */
export async function* readTradeBill(input: Readable): AsyncGenerator<BillEvent> {
  for await (const b of readTradeBillBatches(input)) {
    for (const row of b.rows) yield { type: 'row', row };
    if (b.summary) yield { type: 'summary', summary: b.summary };
  }
}

/** 1/100000 yuan -> fen, rounded half away from zero. */
export const microToFen = (micro: number) => Math.sign(micro) * Math.round(Math.abs(micro) / 1000);
