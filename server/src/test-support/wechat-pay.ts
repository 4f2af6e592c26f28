import crypto from 'node:crypto';
import type { TestApp } from './app';

/**
 * The plaintext of a WeChat Pay payment-success notification for `order` (a new transaction id,
 * paid now, in full); `over` replaces any of its fields. Sign it with the sandbox's buildNotification.
 */
export function transactionPlaintext(t: TestApp, order: { outTradeNo: string; amountFen: number }, over: Record<string, unknown> = {}) {
  return {
    mchid: t.config.WXPAY_MCHID,
    appid: t.config.WECHAT_APPID,
    out_trade_no: order.outTradeNo,
    transaction_id: '42000' + crypto.randomInt(1e9, 9e9) + crypto.randomInt(1e9, 9e9),
    trade_type: 'JSAPI',
    trade_state: 'SUCCESS',
    trade_state_desc: '支付成功',
    bank_type: 'OTHERS',
    attach: '',
    success_time: new Date().toISOString().replace(/\.\d+Z$/, '+00:00'),
    payer: { openid: 'o-test' },
    amount: { total: order.amountFen, payer_total: order.amountFen, currency: 'CNY', payer_currency: 'CNY' },
    ...over,
  };
}
