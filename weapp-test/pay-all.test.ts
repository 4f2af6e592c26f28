/**
 * 一键缴清 in the compiled WeChat build (dist/weapp) against the real BFF: the bill page's button
 * creates one order for the household's bills and pays it with wx.requestPayment (the harness pays
 * it at the WeChat Pay simulator, which notifies the BFF), then opens the receipt. And finance, on
 * the 对账 page of the same build, reconciles today and sees a bill paid at the counter and again
 * by a 一键缴清 order as a pair, with the refund of that part.
 */
import { afterAll, beforeAll, expect, it } from 'vitest';
import { formatFen } from '@heat-butler/shared';
import { startTestApp, type TestApp } from '../server/src/test-support/app';
import { DEMO } from '../server/src/demo/seed';
import { keepOneChinaDay } from '../server/src/test-support/clock';
import { confirmRefunds } from '../server/src/test-support/refunds';
import { WEAPP_DIR, ensureWeappBuild } from './build';
import { Weapp } from './harness';

// the reconciliation below happens on one China calendar day
keepOneChinaDay();

let app: TestApp;
beforeAll(async () => {
  ensureWeappBuild();
  // the Pay sandbox serves today's trade bill at once: finance can reconcile today
  app = await startTestApp({ seedDemo: true, instantBills: true });
}, 120_000);
afterAll(async () => app?.close());

it('pays a household’s arrears and this season’s bill with one wx.requestPayment', async () => {
  const user = 'weapp-pay-all';
  const token = await app.loginResident(user);
  const acc = DEMO.arrearsAccounts[2]!;
  const bound = await app.call('POST', '/api/v1/accounts/bind', { token, body: { accountNo: acc.accountNo, ownerName: acc.ownerName } });
  expect(bound.status).toBe(201);
  const w = new Weapp({ dist: WEAPP_DIR, server: app.url, wechatUser: user, storage: { 'hb.token': token, 'hb.kind': 'resident' } });
  w.start();
  try {
    await w.open('pages/bills/index');
    const button = () => w.clickables().find((c) => c.text.startsWith('一键缴清 '));
    expect(button(), JSON.stringify(w.clickables().map((c) => c.text))).toBeDefined();
    const bills = (await app.call('GET', '/api/v1/bills', { token })).body;
    expect(bills.items.map((b: { season: string }) => b.season)).toEqual(DEMO.seasons.map((s) => s.code));
    expect(button()!.text).toBe(`一键缴清 ${formatFen(bills.totalDueFen)}`);
    await w.tap(button()!.sid);
    await expect.poll(() => w.navigations.at(-1)?.url ?? '', { timeout: 10_000 }).toMatch(/^\/pages\/payments\/detail\?id=\d+/);
    expect(w.calls.get('requestPayment')).toBe(1);
    for (const b of bills.items) expect((await app.services.billing.bill(b.id))!.status).toBe('paid');
    expect(w.errors()).toEqual([]);
  } finally {
    await w.close();
  }
}, 60_000);

it('finance reconciles today on the 对账 page and sees the bill paid at the counter and again by 一键缴清, refunded', async () => {
  // a household's 一键缴清 order of two seasons, the older one paid at the counter while it was open:
  // that bill is paid twice and its part refunded automatically (the sandbox confirms at once)
  const owing = DEMO.arrearsAccounts[0]!;
  const user = 'weapp-recon-payall';
  const { token, accountId } = await app.residentWith(owing, user);
  const due = (await app.call('GET', '/api/v1/bills', { token })).body.items.filter((b: { status: string }) => b.status === 'unpaid');
  expect(due).toHaveLength(2);
  const all = (await app.call('POST', '/api/v1/payments/pay-all', { token, body: { accountId, billIds: due.map((b: { id: number }) => b.id) } })).body;
  await app.services.billing.settleAtCounter(due[0].id, new Date());
  const paid = await app.call('POST', '/sandbox/device/pay', { body: { ...all.requestPayment, user, action: 'confirm' } });
  expect(paid.body.errMsg).toBe('requestPayment:ok');
  await app.sandbox!.state.settleNotifications();
  await confirmRefunds(app, { orderId: all.id }); // the refund of the part paid twice, confirmed by WeChat
  const part = `${(due[0].dueFen / 100).toFixed(2)}元`;

  const staff = await app.loginStaff('finance1');
  const w = new Weapp({ dist: WEAPP_DIR, server: app.url, wechatUser: 'weapp-finance', storage: { 'hb.token': staff, 'hb.kind': 'staff' } });
  w.start();
  try {
    await w.open('staff/reconciliation/index');
    const today = () => w.clickables().find((c) => c.className.includes('recon-cal-today'));
    await expect.poll(() => today()?.sid ?? null, { timeout: 10_000 }).not.toBeNull();
    await w.tap(today()!.sid);
    const run = () => w.clickables().find((c) => c.text === '对账' && c.className.includes('btn-primary'));
    await expect.poll(() => run()?.sid ?? null, { timeout: 10_000 }).not.toBeNull();
    await w.tap(run()!.sid);
    const text = () => w.texts().join(' ');
    await expect.poll(text, { timeout: 15_000 }).toContain('重复支付');
    await expect.poll(text).toMatch(/入账：\s*柜台缴费 \d{4}-\d{2}-\d{2} \d{2}:\d{2}/);
    await expect.poll(text).toContain(`重复： ${all.outTradeNo} ${part}`);
    await expect.poll(text).toContain(`退款： ${all.outTradeNo}R1 −${part}（已退款）`);
    expect(text()).toContain('已原路退回');
    expect(w.errors()).toEqual([]);
  } finally {
    await w.close();
  }
}, 60_000);
