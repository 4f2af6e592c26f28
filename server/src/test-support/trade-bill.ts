/**
 * WeChat trade-bill (交易账单) text for tests and benches, in the format the reconciliation reader
 * takes (wechat-protocols.md §4): the ALL bill's header, SUCCESS payment rows with every field
 * after a backtick, and the summary caption and row. Lines end in CRLF; the BOM goes before the header.
 */
export const TRADE_BILL_HEADER =
  '交易时间,公众账号ID,商户号,特约商户号,设备号,微信订单号,商户订单号,用户标识,交易类型,交易状态,付款银行,货币种类,应结订单金额,代金券金额,微信退款单号,商户退款单号,退款金额,充值券退款金额,退款类型,退款状态,商品名称,商户数据包,手续费,费率,订单金额,申请退款金额,费率备注';

const yuan = (fen: number) => (fen / 100).toFixed(2);
const fee5 = (fen: number) => (fen / 100).toFixed(5);
const ticked = (fields: string[]) => fields.map((v) => '`' + v).join(',') + '\r\n';

export interface BillPayment {
  /** 'YYYY-MM-DD HH:mm:ss', China time */
  time: string;
  appid: string;
  mchid: string;
  transactionId: string;
  outTradeNo: string;
  openid: string;
  fen: number;
  feeFen: number;
  description: string;
}

/** One SUCCESS payment row (0.60% rate). */
export function paymentRow(p: BillPayment): string {
  const amount = yuan(p.fen);
  return ticked([
    p.time,
    p.appid,
    p.mchid,
    '0',
    '',
    p.transactionId,
    p.outTradeNo,
    p.openid,
    'JSAPI',
    'SUCCESS',
    'OTHERS',
    'CNY',
    amount,
    '0.00',
    '0',
    '0',
    '0.00',
    '0.00',
    '',
    '',
    p.description,
    '',
    fee5(p.feeFen),
    '0.60%',
    amount,
    '0.00',
    '',
  ]);
}

/** The summary caption and row of a bill of `count` payments (no refunds). */
export function billSummary(count: number, totalFen: number, feeFen: number): string {
  return (
    '总交易单数,应结订单总金额,退款总金额,充值券退款总金额,手续费总金额,订单总金额,申请退款总金额\r\n' +
    ticked([String(count), yuan(totalFen), '0.00', '0.00', fee5(feeFen), yuan(totalFen), '0.00'])
  );
}
