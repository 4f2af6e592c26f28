/**
 * The test clock (HB_TEST_NOW) and the app-side timestamps that make it hold in the database.
 */
import { afterAll, describe, expect, it } from 'vitest';
import { chinaDate } from '@heat-butler/shared';
import { installedClockOffset, installShiftedDate, keepOneChinaDay } from './clock';
import { startTestApp, type TestApp } from './app';
import { OutboxMessage } from '../platform/entities';

const base = installedClockOffset();
let t: TestApp | undefined;
afterAll(async () => {
  installShiftedDate(base);
  await t?.close();
});

describe('the test clock', () => {
  it('moves every Date of the process to the chosen instant and keeps ticking', async () => {
    const real = Date.now() - base;
    installShiftedDate(Date.parse('2028-02-29T15:59:00Z') - real);
    expect(new Date().toISOString().slice(0, 16)).toBe('2028-02-29T15:59');
    const a = Date.now();
    await new Promise((r) => setTimeout(r, 20));
    expect(Date.now()).toBeGreaterThan(a);
    expect(new Date(0).toISOString()).toBe('1970-01-01T00:00:00.000Z');
    expect(new Date() instanceof Date).toBe(true);
  });

  it('keepOneChinaDay moves a clock 1 minute before China midnight to just after it', () => {
    const real = Date.now() - installedClockOffset();
    installShiftedDate(Date.parse('2026-09-20T15:59:00Z') - real); // 23:59 China time
    expect(chinaDate(new Date())).toBe('2026-09-20');
    keepOneChinaDay(30);
    expect(chinaDate(new Date())).toBe('2026-09-21');
    const before = Date.now();
    keepOneChinaDay(30); // far from midnight now: no change
    expect(Date.now() - before).toBeLessThan(1000);
  });

  it('rows get their creation time from the app clock, not the database server', async () => {
    const real = Date.now() - installedClockOffset();
    installShiftedDate(Date.parse('2027-12-31T15:00:00Z') - real);
    t = await startTestApp();
    const id = (
      await t.ds.getRepository(OutboxMessage).save({ topic: 'test.clock', payload: {}, dedupeKey: 'clock-' + Date.now(), nextAttemptAt: new Date() } as any)
    ).id;
    const row = await t.ds.getRepository(OutboxMessage).findOneByOrFail({ id });
    expect(Math.abs(row.createdAt.getTime() - Date.now())).toBeLessThan(60_000);
    expect(row.createdAt.toISOString().slice(0, 10)).toBe('2027-12-31');
  });
});
