import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestApp, type TestApp } from '../../test-support/app';

let t: TestApp;
let admin: string;

beforeAll(async () => {
  t = await startTestApp({ seedDemo: true });
  admin = await t.loginStaff('admin');
});
afterAll(async () => t?.close());

const season = {
  code: '2027-2028',
  startDate: '2027-11-01',
  endDate: '2028-04-01',
  dueDate: '2027-12-31',
  tariffs: { residential: 2800, commercial: 3900 },
  baseFeeRatioBp: 2500,
};

describe('seasons and tariffs are data an admin sets', () => {
  it('lists every problem of a bad season at once', async () => {
    const res = await t.call('POST', '/api/v1/staff/seasons', {
      token: admin,
      body: { code: '2027-2029', startDate: '2027/11/01', endDate: '2027-10-01', dueDate: '2027-12-31', tariffs: { residential: 0, commercial: 3900 }, baseFeeRatioBp: 12000 },
    });
    expect(res.status).toBe(400);
    const fields = res.body.error.details.fields.map((f: any) => f.field).sort();
    expect(fields).toEqual(['baseFeeRatioBp', 'code', 'endDate', 'startDate', 'tariffs.residential']);
    for (const f of res.body.error.details.fields) expect(f.message).toMatch(/[\u4e00-\u9fa5]/);
  });

  it('creates a season, issues its bills once, and refuses a duplicate', async () => {
    const created = await t.call('POST', '/api/v1/staff/seasons', { token: admin, body: season });
    expect(created.status).toBe(201);
    expect(created.body).toMatchObject({ code: '2027-2028', label: '2027—2028采暖季', tariffs: season.tariffs, baseFeeRatioBp: 2500, discountBp: 0 });
    const issued = await t.call('POST', '/api/v1/staff/seasons/2027-2028/bills', { token: admin });
    expect(issued.body.issued).toBeGreaterThan(200);
    const again = await t.call('POST', '/api/v1/staff/seasons/2027-2028/bills', { token: admin });
    expect(again.body).toEqual({ issued: 0, existing: issued.body.issued });
    const dup = await t.call('POST', '/api/v1/staff/seasons', { token: admin, body: season });
    expect(dup.status).toBe(409);
    expect(dup.body.error.code).toBe('SEASON_EXISTS');
    // the new tariff applies to later bills only; issued bills keep their price
    const upd = await t.call('PUT', '/api/v1/staff/seasons/2027-2028', { token: admin, body: { ...season, tariffs: { residential: 3000, commercial: 3900 } } });
    expect(upd.status).toBe(200);
    const bills = await t.services.billing.billsOfSeason('2027-2028');
    expect((await t.services.billing.bill(bills[0]!.id))!.unitPriceFen).toBe(2800);
  });

  it('lets only admins change seasons; finance may read them', async () => {
    const finance = await t.loginStaff('finance1');
    const agent = await t.loginStaff('agent1');
    const resident = await t.loginResident();
    expect((await t.call('POST', '/api/v1/staff/seasons', { token: finance, body: season })).status).toBe(403);
    expect((await t.call('POST', '/api/v1/staff/seasons', { token: resident, body: season })).status).toBe(403);
    expect((await t.call('GET', '/api/v1/staff/seasons', { token: agent })).status).toBe(403);
    const list = await t.call('GET', '/api/v1/staff/seasons', { token: finance });
    expect(list.body.items.map((s: any) => s.code)).toEqual(['2027-2028', '2026-2027', '2025-2026']);
  });
});
