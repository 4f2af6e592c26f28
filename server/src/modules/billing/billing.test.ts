import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestApp, type TestApp } from '../../test-support/app';
import { DEMO } from '../../demo/seed';

/** the demo's last and current seasons, and the one after, as of the test's clock (HB_TEST_NOW) */
const [LAST, CURRENT] = DEMO.seasons.map((s) => s.code) as [string, string];
const NY = Number(CURRENT.slice(0, 4)) + 1;
const NEXT = `${NY}-${NY + 1}`;

let t: TestApp;
let admin: string;

beforeAll(async () => {
  t = await startTestApp({ seedDemo: true });
  admin = await t.loginStaff('admin');
});
afterAll(async () => t?.close());

const season = {
  code: NEXT,
  startDate: `${NY}-11-01`,
  endDate: `${NY + 1}-04-01`,
  dueDate: `${NY}-12-31`,
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
    expect(created.body).toMatchObject({ code: NEXT, label: `${NY}—${NY + 1}采暖季`, tariffs: season.tariffs, baseFeeRatioBp: 2500, discountBp: 0 });
    const issued = await t.call('POST', `/api/v1/staff/seasons/${NEXT}/bills`, { token: admin });
    expect(issued.body.issued).toBeGreaterThan(200);
    const again = await t.call('POST', `/api/v1/staff/seasons/${NEXT}/bills`, { token: admin });
    expect(again.body).toEqual({ issued: 0, existing: issued.body.issued });
    const dup = await t.call('POST', '/api/v1/staff/seasons', { token: admin, body: season });
    expect(dup.status).toBe(409);
    expect(dup.body.error.code).toBe('SEASON_EXISTS');
    // the new tariff applies to later bills only; issued bills keep their price
    const upd = await t.call('PUT', `/api/v1/staff/seasons/${NEXT}`, { token: admin, body: { ...season, tariffs: { residential: 3000, commercial: 3900 } } });
    expect(upd.status).toBe(200);
    const bills = await t.services.billing.billsOfSeason(NEXT);
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
    expect(list.body.items.map((s: any) => s.code)).toEqual([NEXT, CURRENT, LAST]);
  });
});
