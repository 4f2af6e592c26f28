/**
 * A resident's measurement bookings (issue 17 item 12): one visit a day per household, cancel and
 * reschedule inside the company's windows (Harbin 003: 06:00–08:00 or 16:00–20:00 China time).
 */
import crypto from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestApp, type TestApp } from '../../test-support/app';
import { DEMO } from '../../demo/seed';
import { TemperatureMeasurement } from './entities';

const china = (s: string) => new Date(s + '+08:00');

describe('measurement bookings: one a day, cancel, reschedule', () => {
  let t: TestApp;
  let now = china('2026-11-25T10:00:00');

  beforeAll(async () => {
    t = await startTestApp({ seedDemo: true, clock: () => now });
  });
  afterAll(async () => t?.close());

  async function resident(account: { accountNo: string; ownerName: string }) {
    const token = await t.loginResident('m-' + crypto.randomUUID().slice(0, 8));
    const res = await t.call('POST', '/api/v1/accounts/bind', { token, body: { accountNo: account.accountNo, ownerName: account.ownerName } });
    expect(res.status, JSON.stringify(res.body)).toBe(201);
    return { token, accountId: res.body.accountId as number };
  }

  it('the same day can’t be booked twice for a household; a cancelled visit frees its day', async () => {
    const r = await resident(DEMO.accounts[7]!);
    const book = (at: string) =>
      t.call('POST', '/api/v1/measurements', { token: r.token, body: { accountId: r.accountId, scheduledAt: china(at).toISOString() } });
    const first = await book('2026-11-26T07:00:00');
    expect(first.status, JSON.stringify(first.body)).toBe(201);
    // the evening of the same day: refused with a clear message
    const again = await book('2026-11-26T17:30:00');
    expect(again.status).toBe(409);
    expect(again.body.error).toMatchObject({ code: 'MEASUREMENT_DAY_TAKEN', message: '该户号当天已有测温预约，如需换时间请在预约记录中改约' });
    // the next day is free
    const other = await book('2026-11-27T16:00:00');
    expect(other.status).toBe(201);

    // two bookings at once for one free day: one goes through (the unique household-day guards the race)
    const racing = await Promise.all([book('2026-11-28T06:30:00'), book('2026-11-28T19:00:00')]);
    expect(racing.map((x) => x.status).sort()).toEqual([201, 409]);
    expect(racing.find((x) => x.status === 409)!.body.error.code).toBe('MEASUREMENT_DAY_TAKEN');

    const cancelled = await t.call('POST', `/api/v1/measurements/${first.body.id}/cancel`, { token: r.token });
    expect(cancelled.status, JSON.stringify(cancelled.body)).toBe(200);
    expect(cancelled.body.status).toBe('cancelled');
    expect((await book('2026-11-26T17:30:00')).status).toBe(201);
    // a cancelled visit can't be cancelled or moved again
    const twice = await t.call('POST', `/api/v1/measurements/${first.body.id}/cancel`, { token: r.token });
    expect(twice.body.error).toMatchObject({ code: 'MEASUREMENT_NOT_CHANGEABLE', message: '该测温已上门完成或已取消，不能再取消或改约' });
    const list = (await t.call('GET', '/api/v1/measurements', { token: r.token })).body.items;
    expect(list.find((m: any) => m.id === first.body.id).status).toBe('cancelled');
  });

  it('a booked visit is rescheduled only into the windows, to a free day; visits already made can’t move', async () => {
    const r = await resident(DEMO.accounts[9]!);
    const book = (at: string) =>
      t.call('POST', '/api/v1/measurements', { token: r.token, body: { accountId: r.accountId, scheduledAt: china(at).toISOString() } });
    const move = (id: number, at: string, token = r.token) =>
      t.call('POST', `/api/v1/measurements/${id}/reschedule`, { token, body: { scheduledAt: china(at).toISOString() } });
    const a = (await book('2026-11-26T16:00:00')).body;
    const b = (await book('2026-11-27T07:30:00')).body;

    // outside 06:00–08:00 / 16:00–20:00 (10:00, 20:00, 08:00), or in the past: refused, the booking unchanged
    for (const at of ['2026-11-26T10:00:00', '2026-11-26T20:00:00', '2026-11-26T08:00:00', '2026-11-24T07:00:00']) {
      const res = await move(a.id, at);
      expect(res.body.error?.code, at).toBe('MEASUREMENT_OUTSIDE_WINDOW');
      expect(res.body.error.message).toBe('测温只能预约在 06:00-08:00 或 16:00-20:00');
    }
    // onto the day of the household's other visit: refused
    expect((await move(a.id, '2026-11-27T17:00:00')).body.error.code).toBe('MEASUREMENT_DAY_TAKEN');
    // within its own day, and to another free day: fine, with the move in the timeline
    const sameDay = await move(a.id, '2026-11-26T19:30:00');
    expect(sameDay.status, JSON.stringify(sameDay.body)).toBe(200);
    expect(sameDay.body).toMatchObject({ status: 'booked', scheduledAt: china('2026-11-26T19:30:00').toISOString() });
    const moved = await move(a.id, '2026-11-29T06:00:00');
    expect(moved.body.scheduledAt).toBe(china('2026-11-29T06:00:00').toISOString());
    expect((await t.ds.getRepository(TemperatureMeasurement).findOneByOrFail({ id: a.id })).activeDay).toBe('2026-11-29');
    // the day it left is free again
    expect((await book('2026-11-26T17:00:00')).status).toBe(201);

    // another resident's booking is not found (not "not changeable")
    const stranger = await resident(DEMO.accounts[10] ?? DEMO.accounts[2]!);
    expect((await move(b.id, '2026-11-30T07:00:00', stranger.token)).body.error.code).toBe('MEASUREMENT_NOT_FOUND');
    expect((await t.call('POST', `/api/v1/measurements/${b.id}/cancel`, { token: stranger.token })).body.error.code).toBe('MEASUREMENT_NOT_FOUND');

    // once the readings are recorded the visit stays where it was
    now = china('2026-11-27T07:40:00');
    const station = await t.loginStaff('station1');
    const checks = { doorsWindowsClosed30Min: true, midRoom: true, height1_4m: true, stable5Min: true };
    const recorded = await t.call('POST', `/api/v1/staff/measurements/${b.id}/readings`, {
      token: station,
      body: { readings: [{ room: '主卧', readingC: 20.5, checks }] },
    });
    expect(recorded.body.status, JSON.stringify(recorded.body)).toBe('recorded');
    expect((await move(b.id, '2026-11-30T07:00:00')).body.error.code).toBe('MEASUREMENT_NOT_CHANGEABLE');
    expect((await t.call('POST', `/api/v1/measurements/${b.id}/cancel`, { token: r.token })).body.error.code).toBe('MEASUREMENT_NOT_CHANGEABLE');
  });
});
