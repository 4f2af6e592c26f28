/**
 * 一键缴清 in the compiled WeChat build (dist/weapp) against the real BFF: the bill page's button
 * creates one order for the household's bills and pays it with wx.requestPayment (the harness pays
 * it at the WeChat Pay simulator, which notifies the BFF), then opens the receipt.
 */
import { afterAll, beforeAll, expect, it } from 'vitest';
import { formatFen } from '@heat-butler/shared';
import { startTestApp, type TestApp } from '../server/src/test-support/app';
import { DEMO } from '../server/src/demo/seed';
import { WEAPP_DIR, ensureWeappBuild } from './build';
import { Weapp } from './harness';

let app: TestApp;
beforeAll(async () => {
  ensureWeappBuild();
  app = await startTestApp({ seedDemo: true });
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
