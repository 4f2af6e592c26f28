/**
 * Streaming reader of WeChat Pay trade bills (交易账单, bill_type ALL): one line at a time through
 * node:readline, never the whole file as an array. Format: UTF-8 with BOM, CRLF, a header row in
 * Chinese without backticks, detail rows whose every field starts with a backtick, then a summary
 * caption (总交易单数,…) and one summary row. Columns are read by header name.
 */
import readline from 'node:readline';
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

export class BillFormatError extends Error {
  constructor(
    message: string,
    public readonly line: number,
  ) {
    super(`line ${line}: ${message}`);
    this.name = 'BillFormatError';
  }
}

/** "12.34" / "-0.12000" -> integer in units of 10^-scale, exactly (no floats). */
export function parseDecimal(text: string, scale: number, line = 0): number {
  const s = text.trim();
  const m = /^(-)?(\d+)(?:\.(\d+))?$/.exec(s);
  if (!m) throw new BillFormatError(`not a number: "${text}"`, line);
  const frac = (m[3] ?? '').padEnd(scale, '0');
  if (frac.length > scale && /[1-9]/.test(frac.slice(scale))) throw new BillFormatError(`more than ${scale} decimals: "${text}"`, line);
  const v = Number(m[2]) * 10 ** scale + Number(frac.slice(0, scale) || '0');
  return m[1] ? -v : v;
}

/** Split a detail row: every field starts with a backtick, so fields are separated by ",`". */
export function splitRow(line: string): string[] {
  if (!line.startsWith('`')) return line.split(',');
  return line.slice(1).split(',`');
}

const REQUIRED = ['交易时间', '微信订单号', '商户订单号', '交易状态', '应结订单金额', '手续费'];

/** Parse a trade bill from a stream of bytes, yielding rows as they come and the summary at the end. */
export async function* readTradeBill(input: Readable): AsyncGenerator<BillEvent> {
  const rl = readline.createInterface({ input, crlfDelay: Infinity });
  let lineNo = 0;
  let col: Map<string, number> | null = null;
  let inSummary = false;
  let sawSummary = false;
  try {
    for await (const raw of rl) {
      lineNo++;
      const line = lineNo === 1 ? raw.replace(/^\uFEFF/, '') : raw;
      if (!line.trim()) continue;
      if (!col) {
        const names = line.split(',').map((h) => h.trim());
        for (const r of REQUIRED) if (!names.includes(r)) throw new BillFormatError(`header lacks ${r}`, lineNo);
        col = new Map(names.map((n, i) => [n, i]));
        continue;
      }
      if (line.startsWith('总交易单数')) {
        inSummary = true;
        continue;
      }
      const f = splitRow(line);
      if (inSummary) {
        if (sawSummary) throw new BillFormatError('a second summary row', lineNo);
        sawSummary = true;
        yield {
          type: 'summary',
          summary: {
            rowCount: Number(f[0]),
            settleFen: parseDecimal(f[1] ?? '', 2, lineNo),
            refundFen: parseDecimal(f[2] ?? '', 2, lineNo),
            feeMicro: parseDecimal(f[4] ?? '', 5, lineNo),
            orderFen: parseDecimal(f[5] ?? '0', 2, lineNo),
          },
        };
        continue;
      }
      const get = (name: string) => {
        const i = col!.get(name);
        return i === undefined ? '' : (f[i] ?? '').trim();
      };
      const outRefundNo = get('商户退款单号');
      const isRefund = get('交易状态') === 'REFUND' || (outRefundNo !== '' && outRefundNo !== '0');
      const money = (name: string) => {
        const v = get(name);
        return v === '' ? 0 : parseDecimal(v, 2, lineNo);
      };
      yield {
        type: 'row',
        row: {
          line: lineNo,
          kind: isRefund ? 'refund' : 'payment',
          tradeTime: get('交易时间'),
          transactionId: get('微信订单号'),
          outTradeNo: get('商户订单号'),
          tradeState: get('交易状态'),
          settleFen: money('应结订单金额'),
          orderFen: money('订单金额'),
          refundId: isRefund ? get('微信退款单号') : '',
          outRefundNo: isRefund ? outRefundNo : '',
          refundFen: money('退款金额'),
          refundStatus: get('退款状态'),
          feeMicro: get('手续费') === '' ? 0 : parseDecimal(get('手续费'), 5, lineNo),
        },
      };
    }
  } finally {
    rl.close();
  }
}

/** 1/100000 yuan -> fen, rounded half away from zero. */
export const microToFen = (micro: number) => Math.sign(micro) * Math.round(Math.abs(micro) / 1000);
