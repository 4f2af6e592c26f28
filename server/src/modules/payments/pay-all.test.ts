/**
 * 一键缴清 (issue 16): one WeChat Pay order for every unpaid bill of a household, oldest first, the
 * ledger split per bill. The real BFF on loopback, the real wechatpay-node-v3 client, the WeChat
 * Pay simulator (signatures, notifications, trade bills) and a real database. Seed: the demo's
 * households in arrears (last season unpaid, ¥ with the late fee at its cap) and this season's bill.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { chinaDate } from '@heat-butler/shared';
import { startTestApp, type TestApp } from '../../test-support/app';
import { keepOneChinaDay } from '../../test-support/clock';
import { transactionPlaintext } from '../../test-support/wechat-pay';
import { DEMO } from '../../demo/seed';
import { LedgerEntry, PaymentAnomaly, PaymentOrder, PaymentOrderLine, Refund } from './entities';

// the reconciliation below runs today's bill
keepOneChinaDay();

const [LAST, CURRENT] = DEMO.seasons.map((s) => s.code) as [string, string];
const owing = DEMO.arrearsAccounts;

let t: TestApp;
let finance: string;

beforeAll(async () => {
  t = await startTestApp({ seedDemo: true, instantBills: true });
  finance = await t.loginStaff('finance1');
});
afterAll(async () => t?.close());

const sandbox = () => t.sandbox!.state;

/** The household's unpaid bills as the bill page shows them, oldest first. */
async function unpaid(token: string, accountNo: string) {
  const res = await t.call('GET', '/api/v1/bills', { token });
  return (res.body.items as any[]).filter((b) => b.accountNo === accountNo && b.status === 'unpaid');
}

const payAll = (token: string, accountId: number, billIds: number[]) => t.call('POST', '/api/v1/payments/pay-all', { token, body: { accountId, billIds } });

async function payOnDevice(user: string, requestPayment: Record<string, string>) {
  const res = await t.call('POST', '/sandbox/device/pay', { body: { ...requestPayment, user, action: 'confirm' } });
  await sandbox().settleNotifications();
  return res.body.errMsg as string;
}

const ledgerOf = (outTradeNo: string) => t.ds.getRepository(LedgerEntry).find({ where: { outTradeNo }, order: { id: 'ASC' } });

/** A household in arrears with its two unpaid bills (last season's arrears, this season's) and a pay-all order for them. */
async function payAllOrder(account: (typeof owing)[number]) {
  const r = await t.residentWith(account);
  const bills = await unpaid(r.token, account.accountNo);
  expect(bills.map((b) => b.season)).toEqual([LAST, CURRENT]);
  const created = await payAll(
    r.token,
    r.accountId,
    bills.map((b) => b.id),
  );
  expect(created.status).toBe(201);
  return { ...r, bills, order: created.body };
}

describe('一键缴清: one order for every unpaid bill of a household', () => {
  it('pays the arrears and this season in one WeChat order, oldest first; the ledger split per bill sums to the trade', async () => {
    const { token, user, accountId, bills, order } = await payAllOrder(owing[0]!);
    const total = bills[0].dueFen + bills[1].dueFen;
    expect(order).toMatchObject({ status: 'pending', amountFen: total, billId: bills[0].id });
    expect(order.bills).toEqual([
      { billId: bills[0].id, season: LAST, seasonLabel: bills[0].seasonLabel, amountFen: bills[0].dueFen },
      { billId: bills[1].id, season: CURRENT, seasonLabel: bills[1].seasonLabel, amountFen: bills[1].dueFen },
    ]);
    expect(order.description).toContain('热费2期');
    expect(sandbox().orders.get(order.outTradeNo)!.total).toBe(total);
    // a second tap: the same order
    const again = await payAll(token, accountId, [bills[1].id, bills[0].id]);
    expect(again.body.id).toBe(order.id);
    expect(again.body.requestPayment.package).toBe(order.requestPayment.package);

    // the payer keeps a default invoice title: invoiced automatically after payment
    const title = await t.call('POST', '/api/v1/invoice-titles', { token, body: { kind: 'personal', name: owing[0]!.ownerName, isDefault: true } });
    expect(title.status).toBe(201);
    expect(await payOnDevice(user, order.requestPayment)).toBe('requestPayment:ok');
    const confirmed = await t.call('POST', `/api/v1/payments/${order.id}/confirm`, { token });
    expect(confirmed.body).toMatchObject({ status: 'paid', amountFen: total, duplicate: false });
    // each bill paid with its own due; arrears first holds (the oldest is paid in the same order)
    for (const b of bills)
      expect(await t.services.billing.bill(b.id)).toMatchObject({ status: 'paid', paidVia: 'wechat', paidOrderId: order.id, paidFen: b.dueFen });
    expect(await unpaid(token, owing[0]!.accountNo)).toEqual([]);
    const ledger = await ledgerOf(order.outTradeNo);
    expect(ledger.map((l) => [l.ref, l.tradeRef, l.billId, l.amountFen])).toEqual([
      [`pay:${order.outTradeNo}:${bills[0].id}`, `pay:${order.outTradeNo}`, bills[0].id, bills[0].dueFen],
      [`pay:${order.outTradeNo}:${bills[1].id}`, `pay:${order.outTradeNo}`, bills[1].id, bills[1].dueFen],
    ]);
    expect(ledger.reduce((s, l) => s + l.amountFen, 0)).toBe(sandbox().orders.get(order.outTradeNo)!.total);

    // a replayed notification credits nothing more
    const event = [...sandbox().notificationEvents.values()].find((e) => e.outTradeNo === order.outTradeNo)!;
    const attempts = await sandbox().redeliverNotification(event.id, 5);
    expect(attempts.map((a) => a.status)).toEqual(Array(5).fill(204));
    expect(await ledgerOf(order.outTradeNo)).toHaveLength(2);
    expect((await t.services.billing.bill(bills[0].id))!.paidFen).toBe(bills[0].dueFen);

    // one invoice per payment, for the lines' total (payment.credited names each bill; invoices take the order once)
    await t.services.outbox.drain();
    const invoices = await t.call('GET', '/api/v1/invoices', { token });
    expect(invoices.body.items.map((i: any) => [i.orderId, i.amountFen])).toEqual([[order.id, total]]);

    // 缴费记录: one payment, with the bills it paid
    const history = await t.call('GET', '/api/v1/payments', { token });
    expect(history.body.items.filter((o: any) => o.id === order.id)).toHaveLength(1);
    expect(history.body.items.find((o: any) => o.id === order.id).bills.map((b: any) => b.season)).toEqual([LAST, CURRENT]);
  });

  it('refuses when the bills changed meanwhile (paid at the counter) with the bills due now; one bill left is an ordinary order', async () => {
    const acc = owing[1]!;
    const r = await t.residentWith(acc);
    const bills = await unpaid(r.token, acc.accountNo);
    await t.services.billing.settleAtCounter(bills[0].id, new Date());
    const res = await payAll(
      r.token,
      r.accountId,
      bills.map((b: any) => b.id),
    );
    expect(res.status).toBe(409);
    expect(res.body.error).toMatchObject({
      code: 'PAY_ALL_CHANGED',
      details: { bills: [{ billId: bills[1].id, season: CURRENT, dueFen: bills[1].dueFen }], totalFen: bills[1].dueFen },
    });
    expect(res.body.error.message).toMatch(/^待缴账单有变化，现需缴/);
    // a bill of another household cannot be slipped in, nor another household's account used
    expect((await payAll(r.token, r.accountId, [bills[1].id, 999999])).body.error.code).toBe('PAY_ALL_CHANGED');
    const stranger = await t.residentWith(DEMO.accounts[0]!);
    expect((await payAll(stranger.token, r.accountId, [bills[1].id])).body.error.code).toBe('BINDING_NOT_FOUND');
    // the page shows the one bill left: its ordinary order
    const one = await payAll(r.token, r.accountId, [bills[1].id]);
    expect(one.status).toBe(201);
    expect(one.body).toMatchObject({ billId: bills[1].id, amountFen: bills[1].dueFen, bills: [{ billId: bills[1].id, amountFen: bills[1].dueFen }] });
    expect((await t.ds.getRepository(PaymentOrder).findOneByOrFail({ id: one.body.id })).billCount).toBe(1);
  });

  it('a bill in another payer’s pending pay-all order is refused with a clear message; the payer’s own order of one bill replaces it', async () => {
    const acc = owing[2]!;
    const a = await payAllOrder(acc);
    const b = await t.residentWith(acc);
    const other = await t.call('POST', '/api/v1/payments', { token: b.token, body: { billId: a.bills[0].id } });
    expect(other.status).toBe(409);
    expect(other.body.error).toMatchObject({ code: 'BILL_IN_PENDING_ORDER', message: expect.stringContaining('待支付的订单') });
    expect(
      (
        await payAll(
          b.token,
          b.accountId,
          a.bills.map((x: any) => x.id),
        )
      ).body.error.code,
    ).toBe('BILL_IN_PENDING_ORDER');
    // the payer changes their mind and pays the arrears alone: the pay-all order is closed (also at WeChat)
    const single = await t.call('POST', '/api/v1/payments', { token: a.token, body: { billId: a.bills[0].id } });
    expect(single.status).toBe(201);
    expect((await t.ds.getRepository(PaymentOrder).findOneByOrFail({ id: a.order.id })).status).toBe('closed');
    expect(sandbox().orders.get(a.order.outTradeNo)!.tradeState).toBe('CLOSED');
  });

  it('a bill paid at the counter after the order was made: the rest is settled, that bill’s part refunded automatically', async () => {
    const acc = owing[3]!;
    const { user, bills, order } = await payAllOrder(acc);
    await t.services.billing.settleAtCounter(bills[0].id, new Date());
    await payOnDevice(user, order.requestPayment);
    const row = await t.ds.getRepository(PaymentOrder).findOneByOrFail({ id: order.id });
    expect(row).toMatchObject({ status: 'paid', duplicate: false });
    expect(await t.services.billing.bill(bills[0].id)).toMatchObject({ status: 'paid', paidVia: 'counter' });
    expect(await t.services.billing.bill(bills[1].id)).toMatchObject({ status: 'paid', paidVia: 'wechat', paidOrderId: order.id, paidFen: bills[1].dueFen });
    const refund = await t.ds.getRepository(Refund).findOneByOrFail({ orderId: order.id });
    expect(refund).toMatchObject({ kind: 'duplicate', amountFen: bills[0].dueFen, lines: [{ billId: bills[0].id, amountFen: bills[0].dueFen }] });
    // nothing lost: WeChat gives the arrears part back, the ledger nets to this season's bill
    await t.services.outbox.drain();
    await sandbox().completeRefund(refund.outRefundNo);
    await sandbox().settleNotifications();
    const ledger = await ledgerOf(order.outTradeNo);
    expect(ledger.map((l) => [l.kind, l.billId, l.amountFen])).toEqual([
      ['payment', bills[0].id, bills[0].dueFen],
      ['payment', bills[1].id, bills[1].dueFen],
      ['refund', bills[0].id, -bills[0].dueFen],
    ]);
    expect(ledger.reduce((s, l) => s + l.amountFen, 0)).toBe(bills[1].dueFen);
  });

  it('does not credit a notification whose amount differs from the order, and flags it for finance', async () => {
    const { bills, order } = await payAllOrder(owing[4]!);
    const n = sandbox().buildNotification({
      plaintext: transactionPlaintext(t, order, { amount: { total: bills[1].dueFen, payer_total: bills[1].dueFen, currency: 'CNY', payer_currency: 'CNY' } }),
    });
    expect((await t.call('POST', '/api/v1/wechat/pay/notify', { rawBody: n.body, headers: n.headers })).status).toBe(204);
    expect(await ledgerOf(order.outTradeNo)).toEqual([]);
    for (const b of bills) expect((await t.services.billing.bill(b.id))!.status).toBe('unpaid');
    expect(await t.ds.getRepository(PaymentAnomaly).findOneBy({ key: `amount_mismatch:${order.outTradeNo}` })).toMatchObject({
      detail: { orderFen: order.amountFen, wechatFen: bills[1].dueFen },
    });
  });

  it('finance refunds a pay-all payment newest bill first, split per bill in the ledger; never more than was paid', async () => {
    const { user, bills, order } = await payAllOrder(owing[5]!);
    await payOnDevice(user, order.requestPayment);
    const url = `/api/v1/staff/payments/${order.id}/refunds`;
    const amount = bills[1].dueFen + 100;
    const res = await t.call('POST', url, { token: finance, body: { amountFen: amount, reason: '停热退费', kind: 'other' } });
    expect(res.status).toBe(201);
    const refund = await t.ds.getRepository(Refund).findOneByOrFail({ id: res.body.id });
    expect(refund.lines).toEqual([
      { billId: bills[1].id, amountFen: bills[1].dueFen },
      { billId: bills[0].id, amountFen: 100 },
    ]);
    const tooMuch = await t.call('POST', url, { token: finance, body: { amountFen: bills[0].dueFen, reason: '重复申请', kind: 'other' } });
    expect(tooMuch.status).toBe(409);
    expect(tooMuch.body.error).toMatchObject({ code: 'REFUND_EXCEEDS_PAID', details: { refundableFen: bills[0].dueFen - 100 } });
    await sandbox().completeRefund(res.body.outRefundNo);
    await sandbox().settleNotifications();
    const entries = (await ledgerOf(order.outTradeNo)).filter((l) => l.kind === 'refund');
    expect(entries.map((l) => [l.ref, l.tradeRef, l.billId, l.amountFen])).toEqual([
      [`refund:${res.body.outRefundNo}:${bills[1].id}`, `refund:${res.body.outRefundNo}`, bills[1].id, -bills[1].dueFen],
      [`refund:${res.body.outRefundNo}:${bills[0].id}`, `refund:${res.body.outRefundNo}`, bills[0].id, -100],
    ]);
    expect((await t.ds.getRepository(PaymentOrder).findOneByOrFail({ id: order.id })).refundedFen).toBe(amount);
  });

  it('reconciliation: one WeChat trade is one order; its per-bill entries match the one bill row, and a lost notification heals every line', async () => {
    // paid at WeChat, notification never arrived
    const lost = await payAllOrder(owing[6]!);
    sandbox().markOrderPaid(lost.order.outTradeNo);
    const res = await t.call('POST', '/api/v1/staff/reconciliation/runs', { token: finance, body: { date: chinaDate(new Date()) } });
    expect(res.status).toBe(200);
    expect(res.body.discrepancies).toEqual([]);
    expect(res.body).toMatchObject({ status: 'balanced', summaryMatches: true, classes: { healed: 1, shortage: 0, surplus: 0, amount_mismatch: 0 } });
    // the ledger counts a trade once, however many bills it paid
    expect(res.body.ledger).toMatchObject({
      paymentCount: res.body.wechat.paymentCount,
      paymentFen: res.body.wechat.paymentFen,
      refundCount: res.body.wechat.refundCount,
      refundFen: res.body.wechat.refundFen,
    });
    expect(res.body.healed).toEqual([expect.objectContaining({ outTradeNo: lost.order.outTradeNo, amountFen: lost.order.amountFen, result: 'credited' })]);
    expect((await ledgerOf(lost.order.outTradeNo)).map((l) => l.billId)).toEqual(lost.bills.map((b: any) => b.id));
    for (const b of lost.bills) expect((await t.services.billing.bill(b.id))!.status).toBe('paid');
    expect(await t.ds.getRepository(PaymentOrderLine).countBy({ orderId: lost.order.id })).toBe(2);
  });

  it('reconciliation: a bill paid at the counter while its 一键缴清 payment was open is a bill paid twice, with the part refunded', async () => {
    const { user, bills, order } = await payAllOrder(owing[7]!);
    await t.services.billing.settleAtCounter(bills[0].id, new Date());
    await payOnDevice(user, order.requestPayment);
    await t.services.outbox.drain(); // the automatic refund of the arrears part goes to WeChat
    const refund = await t.ds.getRepository(Refund).findOneByOrFail({ orderId: order.id });
    const runToday = async () => (await t.call('POST', '/api/v1/staff/reconciliation/runs', { token: finance, body: { date: chinaDate(new Date()) } })).body;
    const pairOf = (day: any) => day.duplicatePayments.filter((p: any) => p.duplicate.outTradeNo === order.outTradeNo);

    // asked, not yet confirmed: the pair 退款中 with the counter as the first settlement and only the arrears part as paid twice
    let day = await runToday();
    expect(pairOf(day)).toEqual([
      expect.objectContaining({
        billId: bills[0].id,
        keptVia: 'counter',
        kept: null,
        counterPaidAt: expect.any(String),
        duplicate: expect.objectContaining({ outTradeNo: order.outTradeNo, amountFen: bills[0].dueFen, transactionId: expect.any(String) }),
        refund: expect.objectContaining({ outRefundNo: refund.outRefundNo, amountFen: bills[0].dueFen, status: 'processing' }),
        outstandingFen: bills[0].dueFen,
        state: 'refunding',
      }),
    ]);
    expect(day.discrepancies.filter((d: any) => d.outTradeNo === order.outTradeNo)).toEqual([]);

    // WeChat closed the refund: a 重复支付未退回 difference for the arrears part, naming the counter
    await t.ds.getRepository(Refund).update(refund.id, { status: 'closed' });
    day = await runToday();
    expect(pairOf(day)).toEqual([expect.objectContaining({ state: 'open', outstandingFen: bills[0].dueFen })]);
    expect(day.discrepancies.filter((d: any) => d.outTradeNo === order.outTradeNo)).toEqual([
      expect.objectContaining({
        key: `duppay:${order.outTradeNo}`,
        kind: 'double_payment',
        status: 'open',
        diffFen: bills[0].dueFen,
        wechat: expect.objectContaining({ keptVia: 'counter', kept: null, duplicate: expect.objectContaining({ amountFen: bills[0].dueFen }) }),
      }),
    ]);
  });
});
