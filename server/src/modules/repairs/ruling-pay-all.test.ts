/**
 * A three-party measurement ruling (Changchun seed 000: paid for the season measured × days below ÷
 * season days × percent, capped at what was paid for that season) when the household paid that
 * season together with its arrears in one 一键缴清 order: only the season's part counts, and the
 * refund comes off the season's bill. The real BFF, the real WeChat Pay client against the
 * simulator, a real database.
 */
import crypto from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CompanyRules, rulingRefund, seasonWindow } from '@heat-butler/shared';
import { startTestApp, type TestApp } from '../../test-support/app';
import { DEMO } from '../../demo/seed';

const [LAST, CURRENT] = DEMO.seasons.map((s) => s.code) as [string, string];
const Y = Number(CURRENT.slice(0, 4));
const china = (s: string) => new Date(s + '+08:00');
// households in arrears (last season unpaid) of the areas finance1 serves
const owing = DEMO.arrearsAccounts.filter((a) => a.accountNo.startsWith('01') || a.accountNo.startsWith('02'));
const checks = { doorsWindowsClosed30Min: true, midRoom: true, height1_4m: true, stable5Min: true };

let t: TestApp;
// null: the real clock (the WeChat Pay simulator checks expiry in real time)
let fixed: Date | null = null;

beforeAll(async () => {
  t = await startTestApp({ seedDemo: true, clock: () => fixed ?? new Date() });
  // refunds paid at once, the whole daily fee per day below (the company's settings)
  const admin = await t.loginStaff('admin');
  const cur = (await t.call('GET', '/api/v1/admin/settings', { token: admin })).body;
  const put = await t.call('PUT', '/api/v1/admin/settings', {
    token: admin,
    body: { ...cur, rules: { ...cur.rules, measurementRefund: { percent: 100, payAfterSeason: false } } },
  });
  expect(put.status).toBe(200);
});
afterAll(async () => t?.close());

async function household(account: { accountNo: string; ownerName: string }) {
  const user = 'rp-' + crypto.randomUUID().slice(0, 8);
  const token = await t.loginResident(user);
  const res = await t.call('POST', '/api/v1/accounts/bind', { token, body: { accountNo: account.accountNo, ownerName: account.ownerName } });
  expect(res.status).toBe(201);
  const bills = ((await t.call('GET', '/api/v1/bills', { token })).body.items as any[]).filter(
    (b) => b.accountNo === account.accountNo && b.status === 'unpaid',
  );
  expect(bills.map((b) => b.season)).toEqual([LAST, CURRENT]);
  return { user, token, accountId: res.body.accountId as number, bills };
}

async function pay(user: string, token: string, order: any) {
  await t.call('POST', '/sandbox/device/pay', { body: { ...order.requestPayment, user, action: 'confirm' } });
  await t.sandbox!.state.settleNotifications();
  expect((await t.call('POST', `/api/v1/payments/${order.id}/confirm`, { token })).body.status).toBe('paid');
}

/** A three-party measurement of this season below 18 ℃ (Nov 5, 16:40), recorded by the area's staff; ruled on the real day. */
async function belowStandard(user: string, accountId: number) {
  fixed = china(`${Y}-11-05T16:30:00`);
  const token = await t.loginResident(user);
  const admin = await t.loginStaff('admin');
  const booked = await t.call('POST', '/api/v1/measurements', {
    token,
    body: { accountId, scheduledAt: china(`${Y}-11-05T16:35:00`).toISOString(), threeParty: true },
  });
  expect(booked.status, JSON.stringify(booked.body)).toBe(201);
  fixed = china(`${Y}-11-05T16:40:00`);
  const recorded = await t.call('POST', `/api/v1/staff/measurements/${booked.body.id}/readings`, {
    token: admin,
    body: { readings: [{ room: '主卧', readingC: 16.8, checks }], parties: { company: '吴站长', resident: '住户', community: '社区王主任' } },
  });
  expect(recorded.body.compliance).toBe('below_legal');
  fixed = null;
  return { id: booked.body.id as number, measuredAt: new Date(recorded.body.measuredAt) };
}

/** The stated refund (Changchun 000) on `paidFen` for a shortfall from `measuredAt` to the season's end. */
function stated(paidFen: number, measuredAt: Date) {
  const season = seasonWindow(Y, CompanyRules.parse({}));
  return rulingRefund({ paidFen, refundedFen: 0, belowFrom: measuredAt, belowUntil: season.end, season, percent: 100 });
}

describe('three-party ruling refunds of a pay-all payment (Changchun 000)', () => {
  it('refunds only this season’s share of an order that also paid the arrears, off this season’s bill', async () => {
    const h = await household(owing[0]!);
    const [arrears, current] = h.bills as [any, any];
    const m = await belowStandard(h.user, h.accountId);
    const created = await t.call('POST', '/api/v1/payments/pay-all', { token: h.token, body: { accountId: h.accountId, billIds: [arrears.id, current.id] } });
    expect(created.status).toBe(201);
    const order = created.body;
    expect(order.amountFen).toBe(arrears.dueFen + current.dueFen);
    await pay(h.user, h.token, order);

    // the estimate is on this season's part, not the order's total
    const admin = await t.loginStaff('admin');
    const ruled = await t.call('POST', `/api/v1/staff/measurements/${m.id}/ruling`, { token: admin, body: { note: '主卧低于18℃，按天退费' } });
    expect(ruled.body.status).toBe('ruled');
    const due = stated(current.dueFen, m.measuredAt);
    expect(due.refundFen).toBeGreaterThan(0);
    expect(due.refundFen).toBeLessThan(stated(order.amountFen, m.measuredAt).refundFen);
    expect(ruled.body.rulingRefundFen).toBe(due.refundFen);

    // the orders finance can refund from: this order, with this season's part
    const finance = await t.loginStaff('finance1');
    const orders = await t.call('GET', `/api/v1/staff/measurements/${m.id}/orders`, { token: finance });
    expect(orders.body.items).toEqual([
      expect.objectContaining({ id: order.id, amountFen: order.amountFen, billId: current.id, seasonFen: current.dueFen, refundableFen: current.dueFen }),
    ]);

    const refund = await t.call('POST', `/api/v1/staff/measurements/${m.id}/refund`, { token: finance, body: { orderId: order.id } });
    expect(refund.status, JSON.stringify(refund.body)).toBe(201);
    expect(refund.body.refund).toMatchObject({ amountFen: due.refundFen, kind: 'ruling', lines: [{ billId: current.id, amountFen: due.refundFen }] });
    expect(refund.body.refund.reason).toContain(`¥${(current.dueFen / 100).toFixed(2)} × 不达标${due.days}天`);
    const after = await t.call('GET', `/api/v1/staff/measurements/${m.id}/orders`, { token: finance });
    expect(after.body.items[0].refundableFen).toBe(current.dueFen - due.refundFen);

    // WeChat pays it back: the ledger shows it on this season's bill; the arrears stay paid
    await t.services.outbox.drain();
    await t.sandbox!.state.completeRefund(refund.body.refund.outRefundNo);
    await t.sandbox!.state.settleNotifications();
    const ledger = await t.services.payments.ledger(order.id);
    expect(ledger.map((l) => [l.kind, l.billId, l.amountFen])).toEqual([
      ['payment', arrears.id, arrears.dueFen],
      ['payment', current.id, current.dueFen],
      ['refund', current.id, -due.refundFen],
    ]);
  });

  it('an order that paid only the arrears is not a ruling’s order; finance cannot refund off a bill the order did not pay', async () => {
    const h = await household(owing[1]!);
    const [arrears, current] = h.bills as [any, any];
    const m = await belowStandard(h.user, h.accountId);
    const created = await t.call('POST', '/api/v1/payments', { token: h.token, body: { billId: arrears.id } });
    expect(created.status, JSON.stringify(created.body)).toBe(201);
    await pay(h.user, h.token, created.body);
    const admin = await t.loginStaff('admin');
    const ruled = await t.call('POST', `/api/v1/staff/measurements/${m.id}/ruling`, { token: admin, body: { note: '主卧低于18℃' } });
    // nothing paid for this season yet: nothing estimated
    expect(ruled.body.rulingRefundFen).toBe(0);
    const finance = await t.loginStaff('finance1');
    expect((await t.call('GET', `/api/v1/staff/measurements/${m.id}/orders`, { token: finance })).body.items).toEqual([]);
    const refused = await t.call('POST', `/api/v1/staff/measurements/${m.id}/refund`, { token: finance, body: { orderId: created.body.id } });
    expect(refused.body.error.code).toBe('RULING_ORDER_NOT_FOR_SEASON');
    const offOther = await t.call('POST', `/api/v1/staff/payments/${created.body.id}/refunds`, {
      token: finance,
      body: { amountFen: 100, kind: 'other', reason: '测试退费', billId: current.id },
    });
    expect(offOther.body.error.code).toBe('REFUND_BILL_NOT_IN_ORDER');
  });
});
