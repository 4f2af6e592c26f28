/**
 * Trade bills (交易账单) of the Pay simulator, built from the orders and refunds it holds, in
 * WeChat's CSV format (wechat-protocols.md §4): UTF-8 with BOM, CRLF lines, a header without
 * backticks, detail rows with every field prefixed by a backtick, then a summary caption and a
 * summary row. Apply: `GET /v3/bill/tradebill` (signed JSON); download:
 * `GET /v3/billdownload/file?token=` (signed request, UNSIGNED reply, text/plain or
 * application/x-gzip; the SHA1 of the decompressed bytes is the `hash_value`).
 *
 * Choices where the notes are [U]: refund rows appear in the bill of the day the refund
 * succeeded (or was accepted, while PROCESSING) and carry the payment's time in 交易时间; the fee
 * rate is 0.60% rounded to the fen, refunds return the proportional fee (negative); the REFUND
 * bill puts 退款申请时间,退款成功时间 before 微信退款单号 (v2 layout). Consumers must read
 * columns by header name.
 */
import crypto from 'node:crypto';
import zlib from 'node:zlib';
import type Router from '@koa/router';
import type Koa from 'koa';
import type { SandboxOptions } from './index';
import type { PayOrder, PayRefund } from './pay';

const FEE_RATE = 0.006;
const TOKEN_TTL_MS = 5 * 60_000;
const DAY_MS = 24 * 3600_000;

const HEADER_ALL = [
  '交易时间',
  '公众账号ID',
  '商户号',
  '特约商户号',
  '设备号',
  '微信订单号',
  '商户订单号',
  '用户标识',
  '交易类型',
  '交易状态',
  '付款银行',
  '货币种类',
  '应结订单金额',
  '代金券金额',
  '微信退款单号',
  '商户退款单号',
  '退款金额',
  '充值券退款金额',
  '退款类型',
  '退款状态',
  '商品名称',
  '商户数据包',
  '手续费',
  '费率',
  '订单金额',
  '申请退款金额',
  '费率备注',
];
const HEADER_SUCCESS = HEADER_ALL.filter(
  (h) => !['微信退款单号', '商户退款单号', '退款金额', '充值券退款金额', '退款类型', '退款状态', '申请退款金额'].includes(h),
);
const HEADER_REFUND = [...HEADER_ALL.slice(0, 14), '退款申请时间', '退款成功时间', ...HEADER_ALL.slice(14)];
const SUMMARY = '总交易单数,应结订单总金额,退款总金额,充值券退款总金额,手续费总金额,订单总金额,申请退款总金额';

const yuan = (fen: number) => (fen / 100).toFixed(2);
const fee5 = (fen: number) => (fen === 0 ? '0.00000' : (fen / 100).toFixed(5));
/** 'YYYY-MM-DD HH:mm:ss' in China time */
const chinaDateTime = (ms: number) => new Date(ms + 8 * 3600_000).toISOString().slice(0, 19).replace('T', ' ');
const chinaDate = (ms: number) => chinaDateTime(ms).slice(0, 10);

interface BillDeps {
  opts: SandboxOptions;
  orders: Map<string, PayOrder>;
  refunds: Map<string, PayRefund>;
  now: () => number;
  PayError: new (status: number, code: string, message: string, detail?: Record<string, unknown>) => Error;
  unsigned: (ctx: Koa.Context) => void;
}

type Row = Record<string, string>;

/** Build the bill CSV for one China-time date; null when there is nothing to bill. */
export function buildTradeBill(
  billDate: string,
  billType: 'ALL' | 'SUCCESS' | 'REFUND',
  orders: Iterable<PayOrder>,
  refunds: Iterable<PayRefund>,
): string | null {
  const byNo = new Map<string, PayOrder>();
  for (const o of orders) byNo.set(o.outTradeNo, o);
  const rows: { at: number; row: Row; settle: number; refund: number; fee: number; total: number; applied: number }[] = [];
  const base = (o: PayOrder): Row => ({
    公众账号ID: o.appid,
    商户号: o.mchid,
    特约商户号: '0',
    设备号: '',
    微信订单号: o.transactionId ?? '',
    商户订单号: o.outTradeNo,
    用户标识: o.openid,
    交易类型: 'JSAPI',
    付款银行: 'OTHERS',
    货币种类: 'CNY',
    代金券金额: '0.00',
    充值券退款金额: '0.00',
    商品名称: o.description,
    商户数据包: o.attach ?? '',
    费率: `${(FEE_RATE * 100).toFixed(2)}%`,
    费率备注: '',
  });
  if (billType !== 'REFUND') {
    for (const o of byNo.values()) {
      if (!o.successAt || chinaDate(o.successAt) !== billDate) continue;
      const fee = Math.round(o.total * FEE_RATE);
      rows.push({
        at: o.successAt,
        settle: o.total,
        refund: 0,
        fee,
        total: o.total,
        applied: 0,
        row: {
          ...base(o),
          交易时间: chinaDateTime(o.successAt),
          交易状态: 'SUCCESS',
          应结订单金额: yuan(o.total),
          微信退款单号: '0',
          商户退款单号: '0',
          退款金额: '0.00',
          退款类型: '',
          退款状态: '',
          手续费: fee5(fee),
          订单金额: yuan(o.total),
          申请退款金额: '0.00',
        },
      });
    }
  }
  if (billType !== 'SUCCESS') {
    for (const r of refunds) {
      const o = byNo.get(r.outTradeNo);
      if (!o?.successAt || chinaDate(r.successAt ?? r.createdAt) !== billDate) continue;
      const fee = -Math.round(r.refund * FEE_RATE);
      rows.push({
        at: r.successAt ?? r.createdAt,
        settle: 0,
        refund: r.refund,
        fee,
        total: 0,
        applied: r.refund,
        row: {
          ...base(o),
          交易时间: chinaDateTime(o.successAt),
          交易状态: 'REFUND',
          应结订单金额: '0.00',
          微信退款单号: r.refundId,
          商户退款单号: r.outRefundNo,
          退款金额: yuan(r.refund),
          退款类型: 'ORIGINAL',
          退款状态: r.status === 'SUCCESS' ? 'SUCCESS' : 'PROCESSING',
          退款申请时间: chinaDateTime(r.createdAt),
          退款成功时间: r.successAt ? chinaDateTime(r.successAt) : '',
          手续费: fee5(fee),
          订单金额: '0.00',
          申请退款金额: yuan(r.refund),
        },
      });
    }
  }
  if (!rows.length) return null;
  rows.sort((a, b) => a.at - b.at);
  const header = billType === 'ALL' ? HEADER_ALL : billType === 'SUCCESS' ? HEADER_SUCCESS : HEADER_REFUND;
  const sum = (k: 'settle' | 'refund' | 'fee' | 'total' | 'applied') => rows.reduce((s, r) => s + r[k], 0);
  const lines = [
    header.join(','),
    ...rows.map(({ row }) => header.map((h) => '`' + (row[h] ?? '')).join(',')),
    SUMMARY,
    ['' + rows.length, yuan(sum('settle')), yuan(sum('refund')), '0.00', fee5(sum('fee')), yuan(sum('total')), yuan(sum('applied'))]
      .map((v) => '`' + v)
      .join(','),
  ];
  return '\uFEFF' + lines.join('\r\n') + '\r\n';
}

export function tradeBillRoutes(r: Router, d: BillDeps): void {
  const tokens = new Map<string, { file: Buffer; gzip: boolean; expiresAt: number }>();

  r.get('/v3/bill/tradebill', (ctx) => {
    const date = String(ctx.query.bill_date ?? '');
    const type = String(ctx.query.bill_type ?? 'ALL');
    const tar = ctx.query.tar_type ? String(ctx.query.tar_type) : null;
    if (!/^\d{4}-\d{2}-\d{2}$/.test(date) || Number.isNaN(Date.parse(date))) {
      throw new d.PayError(400, 'PARAM_ERROR', '参数错误：bill_date 须为 YYYY-MM-DD', {
        field: 'bill_date',
        value: date,
        issue: '格式错误',
        location: 'query',
      });
    }
    if (!['ALL', 'SUCCESS', 'REFUND'].includes(type))
      throw new d.PayError(400, 'PARAM_ERROR', '参数错误：bill_type 须为 ALL、SUCCESS 或 REFUND', { field: 'bill_type', value: type, location: 'query' });
    if (tar !== null && tar !== 'GZIP')
      throw new d.PayError(400, 'PARAM_ERROR', '参数错误：tar_type 仅支持 GZIP', { field: 'tar_type', value: tar, location: 'query' });
    const now = d.now();
    const today = chinaDate(now);
    const dateMs = Date.parse(`${date}T00:00:00+08:00`);
    if (date > today) throw new d.PayError(400, 'INVALID_REQUEST', '账单日期不能晚于当前日期');
    if (now - dateMs > 92 * DAY_MS) throw new d.PayError(400, 'INVALID_REQUEST', '仅支持下载三个月以内的账单');
    // WeChat publishes a day's bill the next day from about 10:00 (China time)
    if (!d.opts.instantBills) {
      const hour = new Date(now + 8 * 3600_000).getUTCHours();
      const yesterday = chinaDate(now - DAY_MS);
      if (date === today || (date === yesterday && hour < 10)) throw new d.PayError(400, 'STATEMENT_CREATING', '账单生成中');
    }
    const csv = buildTradeBill(date, type as 'ALL' | 'SUCCESS' | 'REFUND', d.orders.values(), d.refunds.values());
    if (csv === null) throw new d.PayError(400, 'NO_STATEMENT_EXIST', '账单文件不存在');
    const plain = Buffer.from(csv, 'utf8');
    const token = crypto.randomBytes(24).toString('base64url');
    tokens.set(token, { file: tar ? zlib.gzipSync(plain) : plain, gzip: !!tar, expiresAt: now + TOKEN_TTL_MS });
    ctx.body = {
      hash_type: 'SHA1',
      hash_value: crypto.createHash('sha1').update(plain).digest('hex'),
      // always WeChat's host: the SDK strips exactly this prefix before signing
      download_url: `https://api.mch.weixin.qq.com/v3/billdownload/file?token=${token}${tar ? '&tartype=gzip' : ''}`,
    };
  });

  r.get('/v3/billdownload/file', (ctx) => {
    const t = tokens.get(String(ctx.query.token ?? ''));
    if (!t || t.expiresAt < d.now()) throw new d.PayError(400, 'INVALID_REQUEST', '下载链接已过期，请重新申请账单');
    d.unsigned(ctx); // the download reply carries no Wechatpay-* headers
    ctx.type = t.gzip ? 'application/x-gzip' : 'text/plain';
    ctx.body = t.file;
  });
}
