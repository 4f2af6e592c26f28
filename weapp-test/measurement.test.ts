/**
 * 测温 in the compiled WeChat build (dist/weapp) against the real BFF: a resident books tomorrow
 * 07:00, sees the day marked 已约, reschedules to the day after at 17:30 (pageScrollTo, the typed
 * client) and cancels after the confirmation dialog (showModal), with no error on the page.
 */
import { afterAll, beforeAll, expect, it } from 'vitest';
import { chinaDayStart, chinaParts, chinaTime } from '@heat-butler/shared';
import { startTestApp, type TestApp } from '../server/src/test-support/app';
import { DEMO } from '../server/src/demo/seed';
import { TemperatureMeasurement } from '../server/src/modules/repairs/entities';
import { WEAPP_DIR, ensureWeappBuild } from './build';
import { Weapp } from './harness';
import { keepOneChinaDay } from '../server/src/test-support/clock';

// the bookings are for "tomorrow": this file's story happens on one China calendar day (run at
// 23:59, as the soak's Sept 20 run does, the page's tomorrow and the test's differed by midnight)
keepOneChinaDay();

let app: TestApp;
beforeAll(async () => {
  ensureWeappBuild();
  app = await startTestApp({ seedDemo: true });
}, 120_000);
afterAll(async () => app?.close());

const at = (days: number, h: number, m: number) => {
  const d = chinaParts(chinaDayStart(new Date(), days));
  return chinaTime(d.year, d.month, d.day, h, m).getTime();
};

it('books, reschedules and cancels a measurement in the WeChat build', async () => {
  const token = await app.loginResident('weapp-measure');
  const acc = DEMO.accounts[6]!;
  expect((await app.call('POST', '/api/v1/accounts/bind', { token, body: { accountNo: acc.accountNo, ownerName: acc.ownerName } })).status).toBe(201);
  const rows = () => app.ds.getRepository(TemperatureMeasurement).find({ order: { id: 'ASC' } });
  const w = new Weapp({ dist: WEAPP_DIR, server: app.url, wechatUser: 'weapp-measure', storage: { 'hb.token': token, 'hb.kind': 'resident' } });
  w.start();
  try {
    await w.open('pages/measurements/index');
    const find = (pred: (text: string) => boolean) => w.clickables().find((c) => pred(c.text));
    const tapText = async (text: string | RegExp) => {
      const pred = (t: string) => (typeof text === 'string' ? t === text : text.test(t));
      await expect.poll(() => !!find(pred), { timeout: 10_000 }).toBe(true);
      await w.tap(find(pred)!.sid);
    };
    await tapText('明天');
    await tapText('07:00');
    await tapText('提交预约');
    await expect.poll(async () => (await rows()).map((r) => r.scheduledAt.getTime()), { timeout: 10_000 }).toEqual([at(1, 7, 0)]);
    // the booked day is marked, and offers no time
    await expect.poll(() => !!find((t) => t === '明天（已约）'), { timeout: 10_000 }).toBe(true);

    await tapText('改约');
    const d2 = chinaParts(chinaDayStart(new Date(), 2));
    await tapText(`${d2.month}月${d2.day}日`);
    await tapText('17:30');
    await tapText('确认改约');
    await expect.poll(async () => (await rows())[0]!.scheduledAt.getTime(), { timeout: 10_000 }).toBe(at(2, 17, 30));
    expect(w.calls.get('pageScrollTo')).toBe(1);

    await tapText('取消预约');
    await expect.poll(async () => (await rows())[0]!.status, { timeout: 10_000 }).toBe('cancelled');
    expect(w.modals.map((m) => m.title)).toContain('取消测温预约');
    expect(w.errors()).toEqual([]);
  } finally {
    await w.close();
  }
}, 90_000);
