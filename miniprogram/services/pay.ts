/**
 * Paying an order. In WeChat: ask for the payment-result messages (synchronously in the tap, before
 * any await: WeChat opens that dialog only from a tap), create the order, wx.requestPayment, then
 * ask the BFF to confirm (it queries WeChat if the notification has not arrived yet). In the H5
 * build WeChat's payment sheet doesn't exist: the sandbox sheet page stands in for it.
 */
import Taro from '@tarojs/taro';
import type { PaymentOrderView } from '@heat-butler/shared';
import { paymentsApi } from './api/billing';
import { nav, PAGES } from './pages';
import { IS_H5 } from './session';
import { askSubscribe } from './subscribe';

export type PayOutcome = 'paid' | 'cancelled' | 'pending';

export async function createOrder(billId: number): Promise<PaymentOrderView> {
  return paymentsApi.create({ billId });
}

/** 一键缴清: one order for every unpaid bill of an account; billIds are the bills the page showed (the server re-checks them). */
export async function createPayAllOrder(accountId: number, billIds: readonly number[]): Promise<PaymentOrderView> {
  return paymentsApi.payAll({ accountId, billIds: [...billIds] });
}

export async function confirmOrder(orderId: number): Promise<PaymentOrderView> {
  return paymentsApi.confirm({ orderId }, { quiet: true });
}

/**
 * Pay a bill; resolves with what happened. A cancel is not an error. Call it synchronously in the
 * tap handler (no await before it): it opens the subscription dialog first.
 */
export function payBill(billId: number): Promise<{ outcome: PayOutcome; order: PaymentOrderView | null }> {
  return pay(() => createOrder(billId), { billId });
}

/**
 * 一键缴清: pay every unpaid bill of an account (oldest first) in one WeChat payment. Like payBill:
 * call it synchronously in the tap handler. A changed set of bills is refused (PAY_ALL_CHANGED,
 * an ApiError with the bills due now): reload and show them again.
 */
export function payAll(accountId: number, billIds: readonly number[]): Promise<{ outcome: PayOutcome; order: PaymentOrderView | null }> {
  return pay(() => createPayAllOrder(accountId, billIds), { accountId, billIds: billIds.join(',') });
}

async function pay(
  create: () => Promise<PaymentOrderView>,
  sandboxQuery: Record<string, string | number>,
): Promise<{ outcome: PayOutcome; order: PaymentOrderView | null }> {
  // still inside the tap: payment result, refund and invoice messages (one grant = one message)
  const asked = askSubscribe('pay');
  if (IS_H5) {
    void nav.to(PAGES.paySandbox, sandboxQuery);
    return { outcome: 'pending', order: null };
  }
  await asked; // the payment sheet opens after the dialog closed
  const order = await create();
  const p = order.requestPayment!;
  let cancelled = false;
  try {
    await Taro.requestPayment({ timeStamp: p.timeStamp, nonceStr: p.nonceStr, package: p.package, signType: p.signType, paySign: p.paySign });
  } catch {
    cancelled = true;
  }
  const after = await confirmOrder(order.id).catch(() => order);
  if (after.status === 'paid') return { outcome: 'paid', order: after };
  return { outcome: cancelled ? 'cancelled' : 'pending', order: after };
}
